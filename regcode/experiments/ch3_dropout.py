"""Chapter 3's experiments: training runs with dropout and its variants, ensembles, Monte Carlo dropout,
and two wrong backward passes.

The dropout kernels are in :mod:`regcode.dropout` and the layer in
:class:`regcode.layers.Dropout`. This module holds what chapter 3 builds
around them:

- :func:`train_mlp` and :func:`train_regressor` build a network with dropout,
  train it and return it, with the initial weights, the masks and the batch
  order drawn from separate streams of one seed (:func:`regcode.seeds.streams`);
  :func:`gal_weight_decay` gives the L2 strength that makes dropout training
  Gal & Ghahramani's approximate inference;
- :class:`GaussianDropout` and :class:`DropConnectLinear` are layers around the
  Gaussian-dropout and DropConnect kernels, so that :func:`train_mlp` can train
  the variants of dropout, and its companion max-norm
  (:class:`regcode.optim.MaxNormSGD`);
- :func:`member_streams` and :func:`bootstrap_indices` give the members of a deep
  ensemble and of a bagged ensemble their own random streams and resamples;
- :func:`mc_dropout_samples` and :func:`mc_dropout_predict` run a trained
  network with its dropout masks still on, to average over sampled
  sub-networks and to measure how much their outputs disagree (Gal &
  Ghahramani, 2016);
- :func:`dropout_backward_resampled` and :func:`dropout_backward_unmasked` are
  wrong on purpose: the chapter runs them beside the correct backward pass and
  shows that a gradient check catches them.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_bool, check_int, check_rng, check_scalar
from ..dropout import (
    dropconnect_backward,
    dropconnect_forward,
    dropout_mask,
    gaussian_dropout_backward,
    gaussian_dropout_forward,
)
from ..layers import Dropout, Linear, Module, mlp
from ..losses import half_mse, softmax_cross_entropy
from ..optim import SGD, Adam, MaxNormSGD, decay_groups
from ..seeds import Streams, streams
from ..train import ParameterPenalty, fit


def _dropout_layers(model):
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, Dropout) and m.p > 0]
    if not layers:
        raise ValueError("model must contain at least one Dropout layer with p > 0")
    return layers


def mc_dropout_samples(model, X, n_samples, rng):
    r"""Outputs of ``n_samples`` stochastic forward passes: dropout on, everything else in eval mode.

    Each pass draws fresh dropout masks from ``rng``; every other layer
    (batch norm in particular) is in evaluation mode. The modes and the
    dropout layers' own generators are restored afterwards, so the call does
    not change the model or disturb its training stream of masks.

    Parameters
    ----------
    model : regcode.layers.Module
        Must contain at least one :class:`regcode.layers.Dropout` with ``p > 0``.
    X : ndarray of shape (N, D)
    n_samples : int >= 1
        Number of passes T (sampled masks).
    rng : numpy.random.Generator
        Source of the masks.

    Returns
    -------
    samples : ndarray of shape (T, N, K)
        ``samples[t]`` is the model output for the t-th set of masks.

    Raises
    ------
    TypeError
        If ``model`` is not a regcode Module, ``X`` not a float array, ``n_samples``
        not an integer or ``rng`` not a Generator.
    ValueError
        If ``model`` has no dropout layer with ``p > 0`` (every pass would be
        identical), or ``X`` is not 2-D and finite.
    """
    layers = _dropout_layers(model)
    X = check_array(X, "X", ndim=2, min_rows=1)
    n_samples = check_int(n_samples, "n_samples", low=1)
    check_rng(rng)
    modes = [(m, m.training) for m in model.modules()]
    own_rngs = [layer.rng for layer in layers]
    model.eval()
    for layer in layers:
        layer.training, layer.rng = True, rng
    try:
        return np.stack([model.forward(X) for _ in range(n_samples)])
    finally:
        for m, mode in modes:
            m.training = mode
        for layer, own in zip(layers, own_rngs, strict=True):
            layer.rng = own


def mc_dropout_predict(model, X, n_samples, rng, *, softmax=False):
    r"""Monte Carlo dropout (Gal & Ghahramani, 2016): mean and spread over T sampled masks.

    .. math:: \hat\mu(x) = \frac1T \sum_{t=1}^T f_{m_t}(x),\qquad
              \hat\sigma(x) = \Big(\frac1T \sum_{t=1}^T \big(f_{m_t}(x) - \hat\mu(x)\big)^2\Big)^{1/2}

    where :math:`f_{m_t}` is the network with the t-th set of dropout masks
    (see :func:`mc_dropout_samples`). With ``softmax=True`` the outputs are
    turned into class probabilities before averaging (the arithmetic mean of
    the ensemble of sampled sub-networks).

    Parameters
    ----------
    model : regcode.layers.Module
    X : ndarray of shape (N, D)
    n_samples : int >= 1
    rng : numpy.random.Generator
    softmax : bool
        Average softmax probabilities instead of raw outputs (classification).

    Returns
    -------
    mean, std : ndarrays of shape (N, K)
        Sample mean and (population, ``ddof=0``) standard deviation over the T passes.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import mlp
    >>> rng = np.random.default_rng(0)
    >>> model = mlp((1, 16, 1), rng, drop_prob=0.5)
    >>> mean, std = mc_dropout_predict(model, np.zeros((3, 1)) + 1.0, n_samples=20, rng=rng)
    >>> mean.shape, std.shape, bool(np.all(std > 0))
    ((3, 1), (3, 1), True)
    """
    softmax = check_bool(softmax, "softmax")
    samples = mc_dropout_samples(model, X, n_samples, rng)
    if softmax:
        samples = np.exp(samples - samples.max(axis=-1, keepdims=True))
        samples /= samples.sum(axis=-1, keepdims=True)
    return samples.mean(axis=0), samples.std(axis=0)


# --- variants of dropout, as layers to train with -------------------------------------------


class GaussianDropout(Dropout):
    r"""Gaussian dropout layer (Srivastava et al., 2014, §10): multiplicative noise :math:`N(1, p/(1-p))`.

    Wraps :func:`regcode.dropout.gaussian_dropout_forward` and
    :func:`regcode.dropout.gaussian_dropout_backward`. In training every entry is
    multiplied by independent noise of mean 1 and variance :math:`p/(1-p)`, the mean
    and variance of inverted dropout's scaled mask :math:`m/(1-p)`; in evaluation the
    layer is the identity. It is a :class:`regcode.layers.Dropout` with another noise
    (same ``p``, ``rng``, modes, ``forward`` and ``backward``; only the pair of
    kernels differs), so ``train_mlp(..., dropout_layer=GaussianDropout)``
    trains a network with it and :func:`mc_dropout_samples` samples its noise.

    Parameters
    ----------
    p : float in [0, 1)
        Drop probability of the Bernoulli dropout whose variance the noise matches.
    rng : numpy.random.Generator
        Source of the noise.

    Examples
    --------
    >>> import numpy as np
    >>> layer = GaussianDropout(0.5, np.random.default_rng(0))
    >>> out = layer(np.ones((1000, 100)))
    >>> round(float(out.mean()), 1), round(float(out.var()), 1), bool(np.all(out != 0))
    (1.0, 1.0, True)
    >>> bool(np.all(layer.eval()(np.ones((2, 3))) == 1.0))
    True
    """

    _forward_kernel = staticmethod(gaussian_dropout_forward)
    _backward_kernel = staticmethod(gaussian_dropout_backward)


class DropConnectLinear(Linear):
    r"""Fully connected layer with DropConnect (Wan et al., 2013): dropout on the weights, not the units.

    Training computes :math:`x\,(M \odot W)/(1-p) + b` with a fresh Bernoulli mask
    :math:`M` of keep probability :math:`1-p` per weight at every forward pass, shared by
    the rows of the batch; evaluation computes :math:`xW + b`. Wraps
    :func:`regcode.dropout.dropconnect_forward` and
    :func:`regcode.dropout.dropconnect_backward`; weights, bias, initialisation and
    shapes are those of :class:`regcode.layers.Linear`.

    Parameters
    ----------
    in_features, out_features : int >= 1
    rng : numpy.random.Generator
        Draws the initial weights, as in :class:`regcode.layers.Linear`.
    p : float in [0, 1)
        Probability of dropping each weight.
    mask_rng : numpy.random.Generator
        Source of the masks (a stream of its own: :func:`regcode.seeds.streams`).
    weight_std : float > 0, optional
    bias : bool
    dtype : float32 or float64

    Attributes
    ----------
    p : float
    mask_rng : numpy.random.Generator

    Examples
    --------
    >>> import numpy as np
    >>> layer = DropConnectLinear(4, 3, np.random.default_rng(0), p=0.5, mask_rng=np.random.default_rng(1))
    >>> x = np.ones((2, 4))
    >>> out = layer(x)
    >>> bool(np.array_equal(out[0], out[1]))  # one mask per call, shared by the rows
    True
    >>> bool(np.allclose(layer.eval()(x), x @ layer.weight.data + layer.bias.data))
    True
    """

    _backward_kernel = staticmethod(dropconnect_backward)  # Linear.backward with the masks of forward

    def __init__(
        self, in_features, out_features, rng, *, p, mask_rng, weight_std=None, bias=True, dtype=np.float64
    ):
        super().__init__(in_features, out_features, rng, weight_std=weight_std, bias=bias, dtype=dtype)
        self.p = check_scalar(p, "p", low=0, high=1, high_inclusive=False)
        self.mask_rng = check_rng(mask_rng, "mask_rng")

    @classmethod
    def from_linear(cls, layer, p, mask_rng):
        """A DropConnect layer that takes over the weights and bias of ``layer``.

        Parameters
        ----------
        layer : regcode.layers.Linear
            Its :class:`regcode.layers.Parameter` objects are shared, not copied.
        p : float in [0, 1)
        mask_rng : numpy.random.Generator

        Returns
        -------
        DropConnectLinear

        Raises
        ------
        TypeError
            If ``layer`` is not a :class:`regcode.layers.Linear`.
        """
        if not isinstance(layer, Linear):
            raise TypeError(f"layer must be a regcode.layers.Linear, got {type(layer).__name__}")
        new = cls(
            layer.in_features,
            layer.out_features,
            np.random.default_rng(0),  # placeholder weights, replaced below
            p=p,
            mask_rng=mask_rng,
            bias=layer.bias is not None,
            dtype=layer.dtype,
        )
        new.weight, new.bias = layer.weight, layer.bias
        return new

    def forward(self, x):
        """``x @ (mask * weight) / (1 - p) + bias``, fresh mask (training); ``x @ weight + bias`` (eval).

        Parameters
        ----------
        x : ndarray of shape (N, in_features)
            Of the layer's dtype.

        Returns
        -------
        out : ndarray of shape (N, out_features)
        """
        x = self._check_input(x, self.in_features)
        bias = None if self.bias is None else self.bias.data
        out, self._cache = dropconnect_forward(
            x, self.weight.data, bias, self.p, self.mask_rng, self.training
        )
        return out

    def __repr__(self):
        bias = self.bias is not None
        return f"DropConnectLinear({self.in_features}, {self.out_features}, p={self.p}, bias={bias})"


# --- ensembles: independent members and bootstrap resamples ---------------------------------

# Spawn keys under ``SeedSequence(seed)`` beside the four of :func:`regcode.seeds.streams` (0-3).
_MEMBER_KEY, _BOOTSTRAP_KEY = 4, 5


def member_streams(seed, member):
    r"""The four random streams of one member of an ensemble trained on the split of ``seed``.

    Member 0 gets :func:`regcode.seeds.streams` of ``seed`` itself, so the network
    :func:`train_mlp` trains by default is the ensemble's first member. Member
    :math:`k > 0` gets four streams spawned from ``SeedSequence(seed)`` under a key of
    its own, independent of those of ``seed`` and of every other member: other
    initial weights, masks and batch order. The split comes from
    ``streams(seed).data``, drawn by the caller, and is the same for every member.

    Parameters
    ----------
    seed : int >= 0
    member : int >= 0

    Returns
    -------
    regcode.seeds.Streams

    Raises
    ------
    TypeError
        If ``seed`` or ``member`` is not an integer.
    ValueError
        If either is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.seeds import streams
    >>> a, b = member_streams(0, 0).init.random(), streams(0).init.random()
    >>> bool(a == b), bool(member_streams(0, 1).init.random() != b)
    (True, True)
    """
    seed = check_int(seed, "seed", low=0)
    member = check_int(member, "member", low=0)
    if member == 0:
        return streams(seed)
    root = np.random.SeedSequence(seed, spawn_key=(_MEMBER_KEY, member))
    return Streams(*(np.random.default_rng(child) for child in root.spawn(len(Streams._fields))))


def bootstrap_indices(n_samples, seed, member):
    r"""Indices of a bootstrap resample (Breiman, 1996): ``n_samples`` draws with replacement.

    Each (``seed``, ``member``) pair has a generator of its own, spawned from
    ``SeedSequence(seed)`` apart from :func:`regcode.seeds.streams` and
    :func:`member_streams`, so resampling changes nothing else of a run.

    Parameters
    ----------
    n_samples : int >= 1
        Size :math:`m` of the training set (and of the resample).
    seed : int >= 0
    member : int >= 0

    Returns
    -------
    ndarray of int, shape (n_samples,)
        Values in ``[0, n_samples)``; about :math:`1 - 1/e \approx 63\,\%` of them distinct.

    Raises
    ------
    TypeError
        If an argument is not an integer.
    ValueError
        If ``n_samples < 1`` or ``seed``, ``member`` is negative.

    Examples
    --------
    >>> idx = bootstrap_indices(10_000, 0, 0)
    >>> idx.shape, round(len(set(idx.tolist())) / 10_000, 2)
    ((10000,), 0.63)
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    seed = check_int(seed, "seed", low=0)
    member = check_int(member, "member", low=0)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_BOOTSTRAP_KEY, member)))
    return rng.integers(0, n_samples, size=n_samples)


# --- training runs of the chapter ------------------------------------------------------------


def _check_split(data, name="data"):
    """``data`` must carry training and validation arrays (a :class:`regcode.data.Split`)."""
    missing = [a for a in ("X_train", "y_train", "X_val", "y_val") if getattr(data, a, None) is None]
    if missing:
        raise TypeError(
            f"{name} must be a regcode.data.Split with training and validation arrays, missing {missing}"
        )
    return data


def _replace_dropout(model, dropout_layer):
    """Swap every Dropout layer of a Sequential for ``dropout_layer(p, rng)`` (in place)."""
    if dropout_layer is None:
        return model
    if not callable(dropout_layer):
        raise TypeError(f"dropout_layer must be callable or None, got {type(dropout_layer).__name__}")
    model.layers = [dropout_layer(m.p, m.rng) if isinstance(m, Dropout) else m for m in model.layers]
    return model


def train_mlp(
    data,
    seed,
    *,
    drop_prob=0.0,
    weight_decay=0.0,
    sizes=(64, 128, 128, 10),
    epochs=40,
    lr=0.01,
    momentum=0.9,
    batch_size=32,
    validation=True,
    input_drop_prob=0.0,
    dropout_layer=None,
    dropconnect_prob=0.0,
    max_norm=None,
    member=0,
    bootstrap=False,
):
    r"""Build a ReLU MLP with dropout, train it with SGD on a classification split, return it.

    The network is :func:`regcode.layers.mlp` (``Linear -> ReLU -> Dropout`` per hidden
    layer), trained with :func:`regcode.train.fit` on the softmax cross-entropy by SGD with
    momentum; ``weight_decay`` is the L2 penalty :math:`\frac{\lambda}{2}\sum w^2` on the
    weights only (:func:`regcode.optim.decay_groups` spares the biases). ``max_norm``
    adds the max-norm constraint after every step (:class:`regcode.optim.MaxNormSGD`), and
    ``dropconnect_prob`` turns every ``Linear`` after a hidden layer into a
    :class:`DropConnectLinear` with the same initial weights.

    Of the four independent streams of ``seed`` (:func:`regcode.seeds.streams`), the
    initial weights come from ``init``, the dropout masks from ``dropout`` and the
    mini-batch order from ``batches``. Runs with the same seed and different ``drop_prob``
    or ``weight_decay`` therefore start from the same weights and see the batches in the
    same order; only the regulariser differs. (The split itself comes from the ``data``
    stream, drawn by the caller: ``load_digits(streams(seed).data, ...)``.) ``member``
    :math:`k > 0` takes the streams of :func:`member_streams` instead, for the
    :math:`k`-th member of an ensemble on the same split, and ``bootstrap`` trains on the
    resample :func:`bootstrap_indices` of the training set (bagging). The network
    has the dtype of ``data.X_train``.

    Parameters
    ----------
    data : regcode.data.Split
        ``X_train`` of shape (m, sizes[0]), integer ``y_train`` of shape (m,), and the
        validation arrays ``X_val``, ``y_val``.
    seed : int >= 0
    drop_prob : float in [0, 1)
        Drop probability after each hidden ReLU; 0 builds no dropout layer.
    weight_decay : float >= 0
    sizes : sequence of int
        Widths from input to output.
    epochs, batch_size : int >= 1
    lr : float > 0
    momentum : float >= 0
    validation : bool
        Record the training and validation loss and accuracy after each epoch
        (learning curves). ``False``: the training scores after the last epoch
        only (``fit(..., every_epoch=False)``), which saves an evaluation pass per epoch.
    input_drop_prob : float in [0, 1)
        Drop probability of a :class:`regcode.layers.Dropout` on the input pixels, placed
        before the first layer (0: none). With ``sizes=(d, k)`` and ``drop_prob=0`` the
        network is softmax regression with input dropout.
    dropout_layer : callable, optional
        ``dropout_layer(p, rng) -> Module`` replaces every :class:`regcode.layers.Dropout`
        of the network before training (to train a variant of dropout, e.g.
        :class:`GaussianDropout`, or a wrong one).
    dropconnect_prob : float in [0, 1)
        DropConnect probability of the weights of every ``Linear`` after the first (the
        layers whose inputs ``drop_prob`` would mask); 0: plain ``Linear`` layers.
    max_norm : float > 0, optional
        Radius :math:`c` of the max-norm constraint on every weight matrix, applied after
        every step (:class:`regcode.optim.MaxNormSGD`); ``None``: no constraint.
    member : int >= 0
        Ensemble member: 0 uses the streams of ``seed``, :math:`k > 0` those of
        :func:`member_streams` (other initial weights, masks and batch order).
    bootstrap : bool
        Train on the bootstrap resample ``bootstrap_indices(m, seed, member)`` of the
        :math:`m` training examples instead of the training set itself.

    Returns
    -------
    model : regcode.layers.Sequential
        The trained network (left in training mode).
    history : regcode.train.History
        Training (and validation) loss and accuracy after each epoch (after the last one only
        without ``validation``), in evaluation mode
        (the training metrics on the examples trained on: the resample with ``bootstrap``).

    Raises
    ------
    TypeError
        If ``data`` lacks the arrays, ``seed`` or ``member`` is not an integer,
        ``dropout_layer`` is not callable or ``bootstrap`` is not a bool.
    ValueError
        If ``drop_prob``, ``weight_decay``, ``dropconnect_prob``, ``max_norm``, ``member``,
        ``epochs``, ``lr``... are out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.data import load_digits
    >>> from regcode.seeds import streams
    >>> data = load_digits(streams(0).data, n_train=100)
    >>> model, history = train_mlp(data, 0, drop_prob=0.5, sizes=(64, 32, 10), epochs=5)
    >>> history.epochs, len(history.val_acc)
    (5, 5)
    """
    data = _check_split(data)
    rngs = member_streams(seed, member)
    drop_prob = check_scalar(drop_prob, "drop_prob", low=0, high=1, high_inclusive=False)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    validation = check_bool(validation, "validation")
    input_drop_prob = check_scalar(input_drop_prob, "input_drop_prob", low=0, high=1, high_inclusive=False)
    dropconnect_prob = check_scalar(dropconnect_prob, "dropconnect_prob", low=0, high=1, high_inclusive=False)
    if max_norm is not None:
        max_norm = check_scalar(max_norm, "max_norm", low=0, low_inclusive=False)
    bootstrap = check_bool(bootstrap, "bootstrap")
    model = mlp(sizes, rngs.init, drop_prob=drop_prob, dropout_rng=rngs.dropout, dtype=data.X_train.dtype)
    if input_drop_prob > 0:
        model.layers.insert(0, Dropout(input_drop_prob, rngs.dropout))
    _replace_dropout(model, dropout_layer)
    if dropconnect_prob > 0:
        linears = [i for i, layer in enumerate(model.layers) if isinstance(layer, Linear)]
        for i in linears[1:]:
            model.layers[i] = DropConnectLinear.from_linear(model.layers[i], dropconnect_prob, rngs.dropout)
    groups = decay_groups(model.parameters(), weight_decay)
    if max_norm is None:
        optimizer = SGD(groups, lr=lr, momentum=momentum)
    else:
        optimizer = MaxNormSGD(groups, lr=lr, c=max_norm, momentum=momentum)
    X_train, y_train = data.X_train, data.y_train
    if bootstrap:
        idx = bootstrap_indices(X_train.shape[0], seed, member)
        X_train, y_train = X_train[idx], y_train[idx]
    val = {"X_val": data.X_val, "y_val": data.y_val} if validation else {}
    history = fit(
        model,
        softmax_cross_entropy,
        optimizer,
        X_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        rng=rngs.batches,
        every_epoch=validation,  # without learning curves, the scores after the last epoch only
        **val,
    )
    return model, history


def gal_weight_decay(drop_prob, length_scale, noise_std, n_samples):
    r"""L2 strength that makes dropout training approximate inference (Gal & Ghahramani, 2016).

    Their regression objective is :math:`\frac{1}{2m}\sum_i \|y_i - \hat y_i\|^2 +
    \lambda_\text{G}\sum_l (\|W_l\|^2 + \|b_l\|^2)`, which matches the variational bound
    of a Bayesian network with prior :math:`w \sim N(0, l^{-2})` (length-scale :math:`l`),
    Gaussian noise of precision :math:`\tau = 1/\sigma^2` and keep probability
    :math:`1 - p` when :math:`\tau = (1-p)\,l^2 / (2m\lambda_\text{G})`. With the book's
    penalty :math:`\frac{\lambda}{2}\sum w^2` (:class:`regcode.train.ParameterPenalty`),
    :math:`\lambda = 2\lambda_\text{G}`:

    .. math:: \lambda = \frac{(1-p)\, l^2\, \sigma^2}{m}.

    Parameters
    ----------
    drop_prob : float in [0, 1)
        :math:`p`, the drop probability.
    length_scale : float > 0
        :math:`l`, the prior length-scale (prior standard deviation :math:`1/l`).
    noise_std : float > 0
        :math:`\sigma`, the observation noise.
    n_samples : int >= 1
        :math:`m`, the number of training examples.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If an argument is not a number or out of range (the message names it).

    Examples
    --------
    >>> round(gal_weight_decay(0.5, 1.0, 0.3, 40), 8)
    0.001125
    """
    p = check_scalar(drop_prob, "drop_prob", low=0, high=1, high_inclusive=False)
    length = check_scalar(length_scale, "length_scale", low=0, low_inclusive=False)
    sigma = check_scalar(noise_std, "noise_std", low=0, low_inclusive=False)
    n = check_int(n_samples, "n_samples", low=1)
    return (1.0 - p) * length**2 * sigma**2 / n


def train_regressor(x, y, seed, *, drop_prob, lam, hidden=(64, 64), epochs=300, lr=1e-2, dropout_layer=None):
    r"""A 1-D regression MLP with dropout, trained full-batch by Adam on half the MSE plus an L2 term.

    The objective is :func:`regcode.losses.half_mse` (:math:`\frac{1}{2m}\sum_i(\hat y_i -
    y_i)^2`) plus :math:`\frac{\lambda}{2}\sum w^2` over every weight and bias
    (:class:`regcode.train.ParameterPenalty`): with ``lam`` from :func:`gal_weight_decay`
    it is Gal & Ghahramani's dropout objective. Initial weights, masks and batch order
    come from the streams of ``seed`` (:func:`regcode.seeds.streams`).

    Parameters
    ----------
    x : ndarray of shape (m,)
        Inputs.
    y : ndarray of shape (m,)
        Targets.
    seed : int >= 0
    drop_prob : float in [0, 1)
        After each hidden ReLU.
    lam : float >= 0
        L2 strength in the book's convention (:math:`\frac{\lambda}{2}\sum w^2`).
    hidden : sequence of int
        Hidden widths.
    epochs : int >= 1
        Full-batch Adam steps.
    lr : float > 0
    dropout_layer : callable, optional
        ``dropout_layer(p, rng) -> Module`` replaces every :class:`regcode.layers.Dropout`
        before training, as in :func:`train_mlp`.

    Returns
    -------
    model : regcode.layers.Sequential
        The trained network, of sizes ``(1, *hidden, 1)``.

    Raises
    ------
    TypeError
        If ``x`` or ``y`` is not a float array or ``seed`` not an integer.
    ValueError
        If ``x`` and ``y`` are not 1-D of the same length, or a setting is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-1, 1, 20)
    >>> model = train_regressor(x, np.sin(x), 0, drop_prob=0.1, lam=1e-3, hidden=(16,), epochs=50)
    >>> model.eval()(x[:3, None]).shape
    (3, 1)
    """
    x = check_array(x, "x", ndim=1, min_rows=2)
    y = check_array(y, "y", ndim=1)
    if y.shape != x.shape:
        raise ValueError(f"y must have the shape of x, {x.shape}, got {y.shape}")
    rngs = streams(seed)
    lam = check_scalar(lam, "lam", low=0)
    model = mlp((1, *hidden, 1), rngs.init, drop_prob=drop_prob, dropout_rng=rngs.dropout, dtype=x.dtype)
    _replace_dropout(model, dropout_layer)
    penalty = ParameterPenalty(model.parameters(), lam, kind="l2")
    fit(
        model,
        half_mse,
        Adam(model.parameters(), lr=lr),
        x[:, None],
        y[:, None],
        epochs=epochs,
        batch_size=x.shape[0],
        rng=rngs.batches,
        penalty=penalty,
    )
    return model


# --- wrong on purpose: backward passes that do not reuse the forward mask ---------------------


def dropout_backward_resampled(dout, p, rng):
    r"""WRONG ON PURPOSE: the dropout backward pass with a freshly drawn mask.

    The correct backward pass (:func:`regcode.dropout.dropout_backward`) multiplies by
    the forward pass's scaled mask :math:`m/(1-p)`. This one draws a new mask from
    ``rng``: units dropped in the forward pass get a gradient and kept units lose theirs,
    so a gradient check fails (relative error near 1). Chapter 3 runs it beside the
    correct version. Do not use it for anything else.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient.
    p : float in [0, 1)
    rng : numpy.random.Generator

    Returns
    -------
    dx : ndarray, same shape as ``dout``
    """
    dout = check_array(dout, "dout")
    return dout * dropout_mask(dout.shape, p, rng, dtype=dout.dtype)


def dropout_backward_unmasked(dout, p):
    r"""WRONG ON PURPOSE: the dropout backward pass that scales by :math:`1/(1-p)` but forgets the mask.

    Every unit gets a gradient, dropped or not. A gradient check fails. Chapter 3 runs
    it beside the correct version. Do not use it for anything else.

    Parameters
    ----------
    dout : ndarray
        Upstream gradient.
    p : float in [0, 1)

    Returns
    -------
    dx : ndarray, same shape as ``dout``
    """
    dout = check_array(dout, "dout")
    p = check_scalar(p, "p", low=0, high=1, high_inclusive=False)
    return dout / dout.dtype.type(1.0 - p)
