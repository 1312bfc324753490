"""Chapter 3's experiments: training runs with dropout, Monte Carlo dropout, and two wrong backward passes.

The dropout kernels are in :mod:`regcode.dropout` and the layer in
:class:`regcode.layers.Dropout`. This module holds what chapter 3 builds
around them:

- :func:`train_mlp` and :func:`train_regressor` build a network with dropout,
  train it and return it, with the initial weights, the masks and the batch
  order drawn from separate streams of one seed (:func:`regcode.seeds.streams`);
  :func:`gal_weight_decay` gives the L2 strength that makes dropout training
  Gal & Ghahramani's approximate inference;
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
from ..dropout import dropout_mask
from ..layers import Dropout, Module, mlp
from ..losses import half_mse, softmax_cross_entropy
from ..optim import SGD, Adam, decay_groups
from ..seeds import streams
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
    sizes=(64, 256, 256, 10),
    epochs=40,
    lr=0.01,
    momentum=0.9,
    batch_size=32,
    validation=True,
    input_drop_prob=0.0,
    dropout_layer=None,
):
    r"""Build a ReLU MLP with dropout, train it with SGD on a classification split, return it.

    The network is :func:`regcode.layers.mlp` (``Linear -> ReLU -> Dropout`` per hidden
    layer), trained with :func:`regcode.train.fit` on the softmax cross-entropy by SGD with
    momentum; ``weight_decay`` is the L2 penalty :math:`\frac{\lambda}{2}\sum w^2` on the
    weights only (:func:`regcode.optim.decay_groups` spares the biases).

    Of the four independent streams of ``seed`` (:func:`regcode.seeds.streams`), the
    initial weights come from ``init``, the dropout masks from ``dropout`` and the
    mini-batch order from ``batches``. Runs with the same seed and different ``drop_prob``
    or ``weight_decay`` therefore start from the same weights and see the batches in the
    same order; only the regulariser differs. (The split itself comes from the ``data``
    stream, drawn by the caller: ``load_digits(streams(seed).data, ...)``.) The network
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
        Record validation loss and accuracy after each epoch (costs a forward pass over
        the validation set per epoch).
    input_drop_prob : float in [0, 1)
        Drop probability of a :class:`regcode.layers.Dropout` on the input pixels, placed
        before the first layer (0: none). With ``sizes=(d, k)`` and ``drop_prob=0`` the
        network is softmax regression with input dropout.
    dropout_layer : callable, optional
        ``dropout_layer(p, rng) -> Module`` replaces every :class:`regcode.layers.Dropout`
        of the network before training (to train a variant of dropout, e.g. a wrong one).

    Returns
    -------
    model : regcode.layers.Sequential
        The trained network (left in training mode).
    history : regcode.train.History
        Training (and validation) loss and accuracy after each epoch, in evaluation mode.

    Raises
    ------
    TypeError
        If ``data`` lacks the arrays, ``seed`` is not an integer or ``dropout_layer`` is
        not callable.
    ValueError
        If ``drop_prob``, ``weight_decay``, ``epochs``, ``lr``... are out of range.

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
    rngs = streams(seed)
    drop_prob = check_scalar(drop_prob, "drop_prob", low=0, high=1, high_inclusive=False)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    validation = check_bool(validation, "validation")
    input_drop_prob = check_scalar(input_drop_prob, "input_drop_prob", low=0, high=1, high_inclusive=False)
    model = mlp(sizes, rngs.init, drop_prob=drop_prob, dropout_rng=rngs.dropout, dtype=data.X_train.dtype)
    if input_drop_prob > 0:
        model.layers.insert(0, Dropout(input_drop_prob, rngs.dropout))
    _replace_dropout(model, dropout_layer)
    optimizer = SGD(decay_groups(model.parameters(), weight_decay), lr=lr, momentum=momentum)
    val = {"X_val": data.X_val, "y_val": data.y_val} if validation else {}
    history = fit(
        model,
        softmax_cross_entropy,
        optimizer,
        data.X_train,
        data.y_train,
        epochs=epochs,
        batch_size=batch_size,
        rng=rngs.batches,
        **val,
    )
    return model, history


def gal_weight_decay(drop_prob, length_scale, noise_std, n_samples):
    r"""L2 strength that makes dropout training approximate inference (Gal & Ghahramani, 2016).

    Their regression objective is :math:`\frac{1}{2N}\sum_i \|y_i - \hat y_i\|^2 +
    \lambda_\text{G}\sum_l (\|W_l\|^2 + \|b_l\|^2)`, which matches the variational bound
    of a Bayesian network with prior :math:`w \sim N(0, l^{-2})` (length-scale :math:`l`),
    Gaussian noise of precision :math:`\tau = 1/\sigma^2` and keep probability
    :math:`1 - p` when :math:`\tau = (1-p)\,l^2 / (2N\lambda_\text{G})`. With the book's
    penalty :math:`\frac{\lambda}{2}\sum w^2` (:class:`regcode.train.ParameterPenalty`),
    :math:`\lambda = 2\lambda_\text{G}`:

    .. math:: \lambda = \frac{(1-p)\, l^2\, \sigma^2}{N}.

    Parameters
    ----------
    drop_prob : float in [0, 1)
        :math:`p`, the drop probability.
    length_scale : float > 0
        :math:`l`, the prior length-scale (prior standard deviation :math:`1/l`).
    noise_std : float > 0
        :math:`\sigma`, the observation noise.
    n_samples : int >= 1
        :math:`N`, the number of training samples.

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

    The objective is :func:`regcode.losses.half_mse` (:math:`\frac{1}{2N}\sum_i(\hat y_i -
    y_i)^2`) plus :math:`\frac{\lambda}{2}\sum w^2` over every weight and bias
    (:class:`regcode.train.ParameterPenalty`): with ``lam`` from :func:`gal_weight_decay`
    it is Gal & Ghahramani's dropout objective. Initial weights, masks and batch order
    come from the streams of ``seed`` (:func:`regcode.seeds.streams`).

    Parameters
    ----------
    x : ndarray of shape (N,)
        Inputs.
    y : ndarray of shape (N,)
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
