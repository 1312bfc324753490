"""Optimisers that match ``torch.optim`` step for step: SGD, Adam and AdamW.

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
"""

from __future__ import annotations

import numpy as np

from ._validation import check_dtype, check_scalar
from .layers import Parameter


def decay_groups(params, weight_decay):
    """Split parameters into a decayed group and an undecayed one by ``Parameter.decay``.

    Linear weights have ``decay=True``; biases and batch/layer-norm ``gamma``
    and ``beta`` have ``decay=False``.

    Returns
    -------
    list of two dicts, usable as ``params`` of any optimiser here.
    """
    params = list(params)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    return [
        {"params": [p for p in params if p.decay], "weight_decay": weight_decay},
        {"params": [p for p in params if not p.decay], "weight_decay": 0.0},
    ]


class Optimizer:
    """Base class: parameter groups, ``zero_grad`` and per-parameter state."""

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
        self._scratch = {}  # id(param) -> preallocated work arrays of the in-place fast paths

    def _work_array(self, p, slot, dtype=None):
        """A reusable array shaped like ``p.data`` (``slot`` names it; ``dtype`` defaults to p's)."""
        dtype = p.data.dtype if dtype is None else np.dtype(dtype)
        arrays = self._scratch.setdefault(id(p), {})
        arr = arrays.get(slot)
        if arr is None or arr.shape != p.data.shape or arr.dtype != dtype:
            arr = arrays[slot] = np.empty(p.data.shape, dtype=dtype)
        return arr

    @staticmethod
    def _fast_path_ok(p):
        """In-place updates give the reference's exact bits only when grad matches data."""
        g = p.grad
        return type(g) is np.ndarray and g.dtype == p.data.dtype and g.shape == p.data.shape

    @staticmethod
    def _check_group(group):
        group["lr"] = check_scalar(group["lr"], "lr", low=0)
        group["weight_decay"] = check_scalar(group["weight_decay"], "weight_decay", low=0)

    def zero_grad(self):
        """Forget all gradients (set ``grad`` to ``None``), as PyTorch does by default."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def _params_with_grad(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield group, p


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum and coupled weight decay.

    As ``torch.optim.SGD`` (no dampening, no Nesterov):

    .. math::
        g \leftarrow \nabla + \mathrm{wd}\,\theta,\quad
        b \leftarrow \mu b + g \ (b = g \text{ at the first step}),\quad
        \theta \leftarrow \theta - \eta b

    With ``momentum=0`` one step is :math:`\theta \leftarrow (1 - \eta\,\mathrm{wd})\theta - \eta\nabla`,
    the "weight decay" form of L2 regularisation.

    Parameters
    ----------
    params : list of Parameter or of parameter-group dicts
    lr : float >= 0
    momentum : float >= 0
    weight_decay : float >= 0
    dtype : float32 or float64, optional
        If given, every parameter must have this dtype.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, *, dtype=None):
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay}, dtype)

    @staticmethod
    def _check_group(group):
        Optimizer._check_group(group)
        group["momentum"] = check_scalar(group["momentum"], "momentum", low=0)

    def step(self):
        for group, p in self._params_with_grad():
            if self._fast_path_ok(p):
                self._update_inplace(group, p)
            else:
                self._update_reference(group, p)

    def _update_reference(self, group, p):
        """One SGD update, written as the formulas read (the fast path is tested against it)."""
        g = p.grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p.data
        if group["momentum"]:
            buf = self.state.get(id(p))
            if buf is None:
                buf = self.state[id(p)] = np.array(g, copy=True)
            else:
                buf *= group["momentum"]
                buf += g
            g = buf
        p.data -= group["lr"] * g

    def _update_inplace(self, group, p):
        """:meth:`_update_reference` with the same floating-point operations, into reused arrays."""
        g, tmp = p.grad, self._work_array(p, "tmp")
        if group["weight_decay"]:
            np.multiply(p.data, group["weight_decay"], out=tmp)
            g = np.add(g, tmp, out=tmp)
        if group["momentum"]:
            buf = self.state.get(id(p))
            if buf is None:
                buf = self.state[id(p)] = np.array(g, copy=True)
            else:
                buf *= group["momentum"]
                buf += g
            g = buf
        p.data -= np.multiply(g, group["lr"], out=tmp)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with coupled L2 weight decay, as ``torch.optim.Adam``.

    .. math::
        g \leftarrow \nabla + \mathrm{wd}\,\theta,\quad
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,

        \theta \leftarrow \theta - \eta\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    Because the decay term passes through the division by :math:`\sqrt v`,
    weights with large gradients are decayed less: see :class:`AdamW`.

    Parameters
    ----------
    params : list of Parameter or of parameter-group dicts
    lr : float >= 0
    betas : (float, float), each in [0, 1)
    eps : float >= 0
    weight_decay : float >= 0
    dtype : float32 or float64, optional
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

    def step(self):
        for group, p in self._params_with_grad():
            state = self.state.get(id(p))
            if state is None:
                state = self.state[id(p)] = {
                    "step": 0,
                    "m": np.zeros_like(p.data),
                    "v": np.zeros_like(p.data),
                }
            state["step"] += 1
            if self._fast_path_ok(p):
                self._update_inplace(group, p, state)
            else:
                self._update_reference(group, p, state)

    def _update_reference(self, group, p, state):
        """One Adam(W) update, written as the formulas read (the fast path is tested against it)."""
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        t = state["step"]
        g = p.grad
        if wd:
            if self._decoupled:
                p.data *= 1.0 - lr * wd
            else:
                g = g + wd * p.data
        m, v = state["m"], state["v"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        denom = np.sqrt(v) / np.sqrt(1.0 - beta2**t) + eps
        p.data -= (lr / (1.0 - beta1**t)) * (m / denom)

    def _update_inplace(self, group, p, state):
        """:meth:`_update_reference` with the same floating-point operations, into reused arrays.

        No temporaries are allocated. ``denom`` has the dtype the reference
        gives it: float64 even for float32 parameters, because
        ``np.sqrt(1.0 - beta2**t)`` is a float64 scalar.
        """
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        t = state["step"]
        g, m, v = p.grad, state["m"], state["v"]
        bias_correction2 = np.sqrt(1.0 - beta2**t)
        tmp = self._work_array(p, "tmp")
        denom = self._work_array(p, "denom", np.result_type(tmp, bias_correction2))
        if wd:
            if self._decoupled:
                p.data *= 1.0 - lr * wd
            else:
                g_decayed = self._work_array(p, "g")
                np.multiply(p.data, wd, out=g_decayed)
                g = np.add(g, g_decayed, out=g_decayed)
        m *= beta1
        m += np.multiply(g, 1.0 - beta1, out=tmp)
        v *= beta2
        tmp = np.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp
        np.divide(np.sqrt(v, out=tmp), bias_correction2, out=denom)
        denom += eps
        update = np.divide(m, denom, out=denom)
        update *= lr / (1.0 - beta1**t)
        p.data -= update


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Each step first shrinks the weights, :math:`\theta \leftarrow \theta - \eta\,\mathrm{wd}\,\theta`,
    then applies the Adam update of the loss gradient alone. Every weight is
    decayed at the same relative rate whatever its gradient history.
    Default ``weight_decay=1e-2`` as in PyTorch.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, *, dtype=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, dtype=dtype)
