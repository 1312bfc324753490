r"""Optimisers that match ``torch.optim`` step for step: SGD, Adam and AdamW.

Each update is first a pure function of arrays, CS231n style
(:func:`sgd_update`, :func:`adam_update`, :func:`adamw_update`): read it to see
the whole algorithm. The classes :class:`SGD`, :class:`Adam` and :class:`AdamW`
hold the per-parameter state, walk the parameters of a model and call those
functions.

Weight decay comes in two forms, and chapter 2 shows where they differ:

* coupled (``SGD`` and ``Adam`` with ``weight_decay``): ``wd * theta`` is
  added to the gradient, i.e. an L2 penalty ``(wd / 2) * ||theta||^2``;
* decoupled (``AdamW``): ``theta <- theta - lr * wd * theta`` before the
  Adam update, independent of the adaptive scaling (Loshchilov & Hutter, 2019).

For plain SGD the two are the same; for Adam they are not.

``params`` is a list of :class:`regcode.layers.Parameter` or a list of
parameter groups (dicts with a ``"params"`` list and per-group options), as
in PyTorch; :func:`decay_groups` builds groups that exempt biases and
normalisation parameters from decay.

The max-norm constraint (Srivastava et al., 2014) is a projection, not a
penalty: :func:`max_norm_` rescales every unit's incoming weights into a ball,
and :class:`MaxNormSGD` is SGD whose every step ends with that projection
(chapters 2 and 3).

Every update keeps the dtype of ``theta``: float32 parameters are updated in
float32 arithmetic (the bias corrections are Python floats, which numpy does
not let promote an array).
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_array, check_dtype, check_int, check_scalar
from .layers import Parameter


def _check_same_shape(theta, **arrays):
    theta = check_array(theta, "theta")
    out = []
    for name, arr in arrays.items():
        arr = check_array(arr, name)
        if arr.shape != theta.shape:
            raise ValueError(f"{name} must have the shape of theta {theta.shape}, got {arr.shape}")
        out.append(arr)
    return theta, out


def sgd_update(theta, grad, buf, lr, momentum=0.0, weight_decay=0.0):
    r"""One step of SGD with momentum and coupled weight decay, as ``torch.optim.SGD``.

    .. math::
        g = \nabla + \mathrm{wd}\,\theta,\qquad
        b \leftarrow \mu b + g\ \ (b = g \text{ at the first step}),\qquad
        \theta \leftarrow \theta - \eta\, b

    Parameters
    ----------
    theta, grad : ndarray of the same shape
        Parameters and the gradient of the loss with respect to them.
    buf : ndarray of theta's shape, or None
        Momentum buffer :math:`b`; ``None`` at the first step.
    lr : float > 0
        Learning rate :math:`\eta`.
    momentum : float >= 0
        :math:`\mu`; 0 gives plain SGD.
    weight_decay : float >= 0
        :math:`\mathrm{wd}`, an L2 penalty :math:`\frac{\mathrm{wd}}{2}\|\theta\|^2`.

    Returns
    -------
    theta, buf : ndarray
        The updated parameters and momentum buffer (``buf`` is ``None`` when ``momentum == 0``).

    Examples
    --------
    >>> import numpy as np
    >>> theta, buf = sgd_update(np.array([1.0]), np.array([0.5]), None, lr=0.1, momentum=0.9)
    >>> theta, buf
    (array([0.95]), array([0.5]))
    """
    theta, (grad,) = _check_same_shape(theta, grad=grad)
    if buf is not None:
        buf = _check_same_shape(theta, buf=buf)[1][0]
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    momentum = check_scalar(momentum, "momentum", low=0)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    return _sgd(theta, grad, buf, lr, momentum, weight_decay)


def _sgd(theta, grad, buf, lr, momentum, weight_decay):
    """The arithmetic of :func:`sgd_update`, without input checks (the optimisers check once)."""
    g = grad + weight_decay * theta if weight_decay else grad
    if momentum:
        buf = g.copy() if buf is None else momentum * buf + g
        g = buf
    else:
        buf = None
    return theta - lr * g, buf


def adam_update(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    r"""One Adam step (Kingma & Ba, 2015) with coupled L2 weight decay, as ``torch.optim.Adam``.

    .. math::
        g = \nabla + \mathrm{wd}\,\theta,\quad
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \theta \leftarrow \theta - \eta\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    The decay term passes through the division by :math:`\sqrt v`, so weights
    with large gradients are decayed less: see :func:`adamw_update`.

    Parameters
    ----------
    theta, grad, m, v : ndarray of the same shape
        Parameters, gradient, first and second moment estimates (zeros before the first step).
    t : int >= 1
        Number of this step (1 at the first), for the bias corrections.
    lr : float > 0
    beta1, beta2 : float in [0, 1)
    eps : float >= 0
    weight_decay : float >= 0

    Returns
    -------
    theta, m, v : ndarray
        Updated copies; the inputs are not modified.
    """
    args = _check_adam(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)
    return _adam(*args, decoupled=False)


def adamw_update(theta, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
    r"""One AdamW step (Loshchilov & Hutter, 2019): decoupled decay, then Adam on the loss gradient.

    .. math::
        \theta \leftarrow \theta - \eta\,\mathrm{wd}\,\theta,\quad
        m \leftarrow \beta_1 m + (1-\beta_1) \nabla,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) \nabla^2,\quad
        \theta \leftarrow \theta - \eta\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    Every weight shrinks by the same factor :math:`1 - \eta\,\mathrm{wd}` whatever
    its gradient history. Same as ``torch.optim.AdamW`` (default ``weight_decay=0.01``).

    Parameters
    ----------
    theta, grad, m, v : ndarray of the same shape
    t : int >= 1
    lr : float > 0
    beta1, beta2 : float in [0, 1)
    eps : float >= 0
    weight_decay : float >= 0

    Returns
    -------
    theta, m, v : ndarray
        Updated copies; the inputs are not modified.

    Examples
    --------
    >>> import numpy as np
    >>> theta, m, v = adamw_update(np.array([1.0]), np.array([0.5]), np.zeros(1), np.zeros(1),
    ...                            t=1, lr=0.1, weight_decay=0.1)
    >>> np.round(theta, 6)  # 1 * (1 - 0.01), then a step of lr * sign(grad)
    array([0.89])
    """
    args = _check_adam(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)
    return _adam(*args, decoupled=True)


def _check_adam(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    theta, (grad, m, v) = _check_same_shape(theta, grad=grad, m=m, v=v)
    return (
        theta, grad, m, v,
        check_int(t, "t", low=1),
        check_scalar(lr, "lr", low=0, low_inclusive=False),
        check_scalar(beta1, "beta1", low=0, high=1, high_inclusive=False),
        check_scalar(beta2, "beta2", low=0, high=1, high_inclusive=False),
        check_scalar(eps, "eps", low=0),
        check_scalar(weight_decay, "weight_decay", low=0),
    )  # fmt: skip


def _adam(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay, *, decoupled):
    """The arithmetic of :func:`adam_update` and :func:`adamw_update`, without input checks."""
    g = grad
    if weight_decay:
        if decoupled:
            theta = theta * (1.0 - lr * weight_decay)
        else:
            g = grad + weight_decay * theta
    m = beta1 * m + (1.0 - beta1) * g
    v = beta2 * v + (1.0 - beta2) * (g * g)
    # Python floats: numpy does not let them promote a float32 array to float64.
    bias_correction1 = 1.0 - beta1**t
    bias_correction2 = math.sqrt(1.0 - beta2**t)
    denom = np.sqrt(v) / bias_correction2 + eps
    return theta - (lr / bias_correction1) * (m / denom), m, v


def decay_groups(params, weight_decay):
    """Split parameters into a decayed group and an undecayed one by ``Parameter.decay``.

    Linear weights have ``decay=True``; biases and batch/layer-norm ``gamma``
    and ``beta`` have ``decay=False``.

    Parameters
    ----------
    params : iterable of Parameter
    weight_decay : float >= 0
        Decay of the first group.

    Returns
    -------
    list of two dicts, usable as ``params`` of any optimiser here.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import mlp
    >>> groups = decay_groups(mlp((4, 8, 2), np.random.default_rng(0)).parameters(), 1e-2)
    >>> [len(g["params"]) for g in groups], [g["weight_decay"] for g in groups]
    ([2, 2], [0.01, 0.0])
    """
    params = list(params)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    return [
        {"params": [p for p in params if p.decay], "weight_decay": weight_decay},
        {"params": [p for p in params if not p.decay], "weight_decay": 0.0},
    ]


class Optimizer:
    """Base class: parameter groups, ``zero_grad`` and per-parameter state.

    Parameters
    ----------
    params : iterable of Parameter, or of dicts with a ``"params"`` list and per-group options
    defaults : dict
        Options of every group that does not set them.
    dtype : float32 or float64, optional
        If given, every parameter must have this dtype.

    Attributes
    ----------
    param_groups : list of dict
        Each with a ``"params"`` list and the group's options.
    state : dict
        Per-parameter state (momentum buffers, moment estimates), keyed by ``id(param)``.
    """

    def __init__(self, params, defaults, dtype=None):
        params = list(params)
        if not params:
            raise ValueError("params must not be empty")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        dtype = None if dtype is None else check_dtype(dtype)
        self.param_groups = []
        for i, group in enumerate(groups):
            if not isinstance(group, dict) or "params" not in group:
                raise TypeError(f"params[{i}] must be a dict with a 'params' list when groups are used")
            unknown = set(group) - set(defaults) - {"params"}
            if unknown:
                raise ValueError(f"params[{i}] has unknown options {sorted(unknown)}")
            merged = {**defaults, **group, "params": list(group["params"])}
            for p in merged["params"]:
                if not isinstance(p, Parameter):
                    raise TypeError(f"params must hold regcode Parameter objects, got {type(p).__name__}")
                if dtype is not None and p.data.dtype != dtype:
                    raise TypeError(f"every parameter must have dtype {dtype}, got {p.data.dtype}")
            self._check_group(merged)
            self.param_groups.append(merged)
        self.state = {}
        self._scratch = {}  # id(param) -> work arrays of the in-place step, kept between steps

    @staticmethod
    def _check_group(group):
        group["lr"] = check_scalar(group["lr"], "lr", low=0, low_inclusive=False)
        group["weight_decay"] = check_scalar(group["weight_decay"], "weight_decay", low=0)

    def parameters(self):
        """Every parameter this optimiser updates, in group order.

        Returns
        -------
        list of Parameter
        """
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self):
        """Forget all gradients (set ``grad`` to ``None``), as PyTorch does by default."""
        for p in self.parameters():
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient, in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if (
                    type(p.grad) is np.ndarray
                    and p.grad.dtype == p.data.dtype
                    and p.grad.shape == p.data.shape
                ):
                    self._update_in_place(group, p)
                else:  # e.g. a float64 gradient for float32 weights: the functional update, then a cast
                    p.grad = check_array(p.grad, "grad")
                    p.data[...] = self._update(group, p)

    def _update(self, group, p):  # pragma: no cover - abstract
        """The new value of ``p.data``, from the functional update."""
        raise NotImplementedError

    def _update_in_place(self, group, p):  # pragma: no cover - abstract
        """The same update, written into ``p.data`` and the state without allocating new arrays."""
        raise NotImplementedError

    def _work(self, p, name):
        """A work array shaped like ``p.data``, allocated once and reused at every step."""
        arrays = self._scratch.setdefault(id(p), {})
        if name not in arrays or arrays[name].shape != p.data.shape or arrays[name].dtype != p.data.dtype:
            arrays[name] = np.empty_like(p.data)
        return arrays[name]


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum and coupled weight decay (:func:`sgd_update`).

    As ``torch.optim.SGD`` (no dampening, no Nesterov). With ``momentum=0`` one
    step is :math:`\theta \leftarrow (1 - \eta\,\mathrm{wd})\theta - \eta\nabla`,
    the "weight decay" form of L2 regularisation.

    Parameters
    ----------
    params : list of Parameter or of parameter-group dicts
    lr : float > 0
    momentum : float >= 0
    weight_decay : float >= 0
    dtype : float32 or float64, optional
        If given, every parameter must have this dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import Parameter
    >>> w = Parameter(np.array([1.0, -2.0]))
    >>> opt = SGD([w], lr=0.1)
    >>> w.grad = np.array([1.0, 1.0])
    >>> opt.step()
    >>> w.data
    array([ 0.9, -2.1])
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, *, dtype=None):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}, dtype)

    @staticmethod
    def _check_group(group):
        Optimizer._check_group(group)
        group["momentum"] = check_scalar(group["momentum"], "momentum", low=0)

    def _update(self, group, p):
        theta, self.state[id(p)] = _sgd(
            p.data, p.grad, self.state.get(id(p)), group["lr"], group["momentum"], group["weight_decay"]
        )
        return theta

    def _update_in_place(self, group, p):
        # The operations of sgd_update, in its order (so the same bits), into reused arrays.
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        g, tmp = p.grad, self._work(p, "tmp")
        if wd:
            g = np.add(g, np.multiply(p.data, wd, out=tmp), out=tmp)
        if momentum:
            buf = self.state.get(id(p))
            if buf is None:
                buf = self.state[id(p)] = g.copy()
            else:
                buf *= momentum
                buf += g
            g = buf
        p.data -= np.multiply(g, lr, out=tmp)


class Adam(Optimizer):
    r"""Adam with coupled L2 weight decay (:func:`adam_update`), as ``torch.optim.Adam``.

    Parameters
    ----------
    params : list of Parameter or of parameter-group dicts
    lr : float > 0
    betas : (float, float), each in [0, 1)
    eps : float >= 0
    weight_decay : float >= 0
    dtype : float32 or float64, optional

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = Adam([w], lr=0.1)
    >>> w.grad = np.array([3.0])
    >>> opt.step()  # the first Adam step moves each weight by lr, whatever the gradient's size
    >>> np.round(w.data, 6)
    array([0.9])
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, dtype=None):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}, dtype)

    @staticmethod
    def _check_group(group):
        Optimizer._check_group(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of floats, got {betas!r}")
        group["betas"] = tuple(
            check_scalar(b, f"betas[{i}]", low=0, high=1, high_inclusive=False) for i, b in enumerate(betas)
        )
        group["eps"] = check_scalar(group["eps"], "eps", low=0)

    def _state(self, p):
        state = self.state.get(id(p))
        if state is None:
            state = self.state[id(p)] = {"step": 0, "m": np.zeros_like(p.data), "v": np.zeros_like(p.data)}
        state["step"] += 1
        return state

    def _update(self, group, p):
        state = self._state(p)
        beta1, beta2 = group["betas"]
        theta, state["m"], state["v"] = _adam(
            p.data, p.grad, state["m"], state["v"], state["step"], group["lr"],
            beta1, beta2, group["eps"], group["weight_decay"], decoupled=self._decoupled,
        )  # fmt: skip
        return theta

    def _update_in_place(self, group, p):
        # The operations of adam_update/adamw_update, in their order (so the same bits), written
        # into the moment buffers, p.data and two work arrays kept between steps: the optimiser
        # step is 40 % of a training step of the book's MLP, and new temporaries each step cost
        # more than the arithmetic (tests/core/test_optim.py checks that both paths agree).
        state = self._state(p)
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        g, m, v, t = p.grad, state["m"], state["v"], state["step"]
        tmp, denom = self._work(p, "tmp"), self._work(p, "denom")
        if wd:
            if self._decoupled:
                p.data *= 1.0 - lr * wd
            else:
                g = np.add(g, np.multiply(p.data, wd, out=denom), out=denom)
        m *= beta1
        m += np.multiply(g, 1.0 - beta1, out=tmp)
        v *= beta2
        v += np.multiply(np.multiply(g, g, out=tmp), 1.0 - beta2, out=tmp)
        np.divide(np.sqrt(v, out=denom), math.sqrt(1.0 - beta2**t), out=denom)
        denom += eps
        p.data -= np.multiply(np.divide(m, denom, out=tmp), lr / (1.0 - beta1**t), out=tmp)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (:func:`adamw_update`), as ``torch.optim.AdamW``.

    Each step first shrinks the weights, :math:`\theta \leftarrow \theta - \eta\,\mathrm{wd}\,\theta`,
    then applies the Adam update of the loss gradient alone. Every weight is
    decayed at the same relative rate whatever its gradient history.
    Default ``weight_decay=1e-2`` as in PyTorch.

    Parameters
    ----------
    params : list of Parameter or of parameter-group dicts
    lr : float > 0
    betas : (float, float), each in [0, 1)
    eps : float >= 0
    weight_decay : float >= 0
    dtype : float32 or float64, optional

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import Parameter
    >>> w = Parameter(np.array([1.0]))
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.1)
    >>> w.grad = np.array([3.0])
    >>> opt.step()
    >>> np.round(w.data, 6)
    array([0.89])
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, *, dtype=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, dtype=dtype)


def max_norm_(params, c):
    r"""Max-norm constraint, in place: project each unit's incoming weights onto the ball of radius ``c``.

    For a weight matrix :math:`W` of shape (in_features, out_features), column
    :math:`w_k` holds the incoming weights of unit :math:`k`, and

    .. math:: w_k \leftarrow w_k \cdot \min\Big(1, \frac{c}{\lVert w_k \rVert_2}\Big).

    Called after every optimiser step, it keeps every unit's weight vector inside
    the ball: the constrained form of an L2 penalty, which caps the norm instead
    of pulling every weight towards 0 (Srivastava et al., 2014, §5.1, combine it
    with dropout and a large learning rate). ``torch.renorm(W.T, 2, 0, c)`` does the
    same for torch's (out_features, in_features) layout.

    Parameters
    ----------
    params : iterable of regcode.layers.Parameter
        2-D weights only (for example ``[p for p in model.parameters() if p.decay]``).
    c : float > 0
        The radius.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If an element of ``params`` is not a Parameter.
    ValueError
        If ``c <= 0`` or a parameter is not 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import Parameter
    >>> w = Parameter(np.array([[3.0, 0.3], [4.0, 0.4]]))  # column norms 5 and 0.5
    >>> max_norm_([w], c=1.0)
    >>> w.data  # the first unit is scaled down to norm 1, the second is left alone
    array([[0.6, 0.3],
           [0.8, 0.4]])
    """
    params = list(params)
    c = check_scalar(c, "c", low=0, low_inclusive=False)
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"params[{i}] must be a regcode Parameter, got {type(p).__name__}")
        if p.data.ndim != 2:
            raise ValueError(f"params[{i}] must be a 2-D weight matrix, got shape {p.data.shape}")
    for p in params:
        norms = np.sqrt(np.sum(p.data * p.data, axis=0))
        with np.errstate(divide="ignore"):
            p.data *= np.minimum(1.0, c / norms).astype(p.data.dtype, copy=False)


class MaxNormSGD(SGD):
    r"""SGD that projects every weight matrix onto the max-norm constraint after every step.

    One :meth:`step` is the :class:`SGD` step (momentum and
    weight decay included), then :func:`max_norm_` on every 2-D
    parameter: each unit's incoming weights :math:`w_k` (a column of an
    (in_features, out_features) matrix) become
    :math:`w_k \min(1, c / \lVert w_k\rVert)`. Biases and normalisation
    parameters (1-D) are not constrained. The projection must follow every
    step; a ``fit`` callback runs once per epoch, too rarely.

    Parameters
    ----------
    params : list of Parameter or of parameter-group dicts
    lr : float > 0
    c : float > 0
        The radius of every unit's ball.
    momentum : float >= 0
    weight_decay : float >= 0
    dtype : float32 or float64, optional
        If given, every parameter must have this dtype.

    Attributes
    ----------
    c : float
    constrained : list of Parameter
        The 2-D parameters that are projected.

    Raises
    ------
    TypeError
        If ``c`` is not a real number (and as :class:`SGD`).
    ValueError
        If ``c <= 0`` (and as :class:`SGD`).

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import Parameter
    >>> w = Parameter(np.array([[3.0, 0.3], [4.0, 0.4]]))  # column norms 5 and 0.5
    >>> opt = MaxNormSGD([w], lr=0.1, c=1.0)
    >>> w.grad = np.zeros((2, 2))
    >>> opt.step()
    >>> np.linalg.norm(w.data, axis=0).round(6).tolist()
    [1.0, 0.5]
    """

    def __init__(self, params, lr, c, momentum=0.0, weight_decay=0.0, *, dtype=None):
        super().__init__(params, lr, momentum=momentum, weight_decay=weight_decay, dtype=dtype)
        self.c = check_scalar(c, "c", low=0, low_inclusive=False)
        self.constrained = [p for p in self.parameters() if p.data.ndim == 2]

    def step(self):
        """The SGD step, then the projection of every weight matrix onto the max-norm balls."""
        super().step()
        max_norm_(self.constrained, self.c)
