"""Chapter 4's experiments: a wrong batch norm, momentum conventions, and batch norm after dropout.

The batch-norm kernels are in :mod:`regcode.batchnorm` and the layer in
:class:`regcode.layers.BatchNorm1d`. This module holds what chapter 4 runs
beside them: the source article's mistake (the second moment instead of the
variance) with its exact gradient, the conversion between Keras' and
PyTorch's momentum, the variance shift of dropout before batch norm, and
three tools that act on a trained model: the input variances its batch-norm
layers see, recalibration of their running statistics, and evaluation with
batch statistics (a mistake, shown on purpose). Its test bed is
:func:`train_digits_mlp`: a deep MLP trained on a small split of the digits,
built from one seed's random streams, so that a run over seeds
(:func:`regcode.seeds.run_seeds`) is one call per seed.

The functions that take a model find its ``BatchNorm1d`` layers at any depth
(:meth:`regcode.layers.Module.modules`), including subclasses that swap the
training kernels.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache

import numpy as np

from .._validation import check_array, check_bool, check_choice, check_int, check_scalar
from ..batchnorm import NormCache, _check_affine, _check_dout
from ..data import load_digits
from ..layers import BatchNorm1d, Module, mlp
from ..losses import softmax_cross_entropy
from ..optim import SGD, decay_groups
from ..seeds import streams
from ..train import fit

#: The normalisations :func:`train_digits_mlp` builds.
NORMS = ("none", "batchnorm", "layernorm")


def batchnorm_forward_second_moment(x, gamma, beta, eps=1e-5):
    r"""WRONG ON PURPOSE: "batch norm" dividing by :math:`\sqrt{E[x^2]}` instead of the standard deviation.

    The source article this book replaces computed the variance as the mean of the squares:

    .. math:: y_{ij} = \gamma_j \frac{x_{ij} - \mu_j}{\sqrt{\frac1N\sum_k x_{kj}^2 + \varepsilon}} + \beta_j

    Because :math:`E[x^2] = \sigma^2 + \mu^2`, this equals :func:`regcode.batchnorm.batchnorm_forward`
    only for columns whose batch mean is 0; otherwise the output variance is
    :math:`\gamma^2\sigma^2 / (\sigma^2 + \mu^2) < \gamma^2`, and the result depends on
    a shift of the input that batch norm should remove. Chapter 4 runs it beside the
    correct version. Do not use it for anything else.

    Parameters
    ----------
    x : ndarray of shape (N, D), N >= 2
    gamma, beta : ndarray of shape (D,)
    eps : float > 0

    Returns
    -------
    out : ndarray of shape (N, D)
    cache : NormCache
        ``cache.var`` holds the mean of the squares :math:`E[x^2]`, shape (D,).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[9.0], [11.0]])  # mean 10, standard deviation 1
    >>> out, _ = batchnorm_forward_second_moment(x, np.ones(1), np.zeros(1))
    >>> np.round(out[:, 0], 4)  # +-1 / sqrt(101) instead of +-1
    array([-0.0995,  0.0995])
    """
    x = check_array(x, "x", ndim=2)
    if x.shape[0] < 2:
        raise ValueError(f"x must have at least 2 rows in training-mode batch norm, got shape {x.shape}")
    gamma, beta = _check_affine(x, gamma, beta)
    eps = check_scalar(eps, "eps", low=0, low_inclusive=False)
    mean = x.mean(axis=0)
    second_moment = np.mean(x * x, axis=0)  # THE MISTAKE: not the variance unless mean == 0
    inv_std = 1.0 / np.sqrt(second_moment + x.dtype.type(eps))
    xhat = (x - mean) * inv_std
    return xhat * gamma + beta, NormCache(xhat, inv_std, gamma, mean, second_moment)


def batchnorm_backward_second_moment(dout, cache):
    r"""Exact gradient of :func:`batchnorm_forward_second_moment`.

    Training with it isolates the mistake of the forward pass.

    With :math:`s = (E[x^2] + \varepsilon)^{-1/2}` and :math:`h = \gamma \odot g`:

    .. math::
        \frac{\partial L}{\partial x_i} = s\Big(h_i - \frac1N\sum_k h_k\Big)
            - \frac{s\,x_i}{N}\, s\sum_k h_k \hat x_k

    Parameters
    ----------
    dout : ndarray of shape (N, D)
        Gradient of the loss with respect to the output.
    cache : NormCache
        From :func:`batchnorm_forward_second_moment`.

    Returns
    -------
    dx : ndarray of shape (N, D)
    dgamma, dbeta : ndarray of shape (D,)
    """
    dout = _check_dout(dout, cache)
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    n = dout.shape[0]
    x = xhat / inv_std + cache.mean
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    # Two paths into x: through (x - mu) and through the mean of the squares.
    dx = inv_std * (dxhat - dxhat.mean(axis=0)) - (inv_std**2 / n) * x * np.sum(dxhat * xhat, axis=0)
    return dx, dgamma, dbeta


def keras_to_torch_momentum(momentum):
    r"""Keras batch-norm ``momentum`` (weight of the OLD value) to PyTorch's (weight of the NEW batch).

    Keras: :math:`\hat\mu \leftarrow m\,\hat\mu + (1 - m)\,\mu_B` (default :math:`m = 0.99`);
    PyTorch: :math:`\hat\mu \leftarrow (1 - \alpha)\,\hat\mu + \alpha\,\mu_B` (default :math:`\alpha = 0.1`).
    The same average needs :math:`\alpha = 1 - m`. (The variances may still differ:
    PyTorch stores the unbiased batch variance; which one Keras stores depends on its
    version and, in tf.keras, on the kernel: see chapter 4.)

    Parameters
    ----------
    momentum : float in [0, 1]
        Keras' momentum, the weight of the old value.

    Returns
    -------
    float
        PyTorch's momentum, the weight of the new batch.

    Raises
    ------
    TypeError
        If ``momentum`` is not a real number.
    ValueError
        If ``momentum`` is outside [0, 1].

    Examples
    --------
    >>> round(keras_to_torch_momentum(0.99), 12)
    0.01
    """
    return 1.0 - check_scalar(momentum, "momentum", low=0, high=1)


def dropout_variance_ratio(mean, var, p):
    r"""Variance shift of inverted dropout: variance at evaluation over variance in training.

    A unit with mean :math:`c` and variance :math:`v` has, after inverted dropout with
    drop probability :math:`p`, the variance
    :math:`\mathrm{Var}_\text{train} = (v + c^2)/(1 - p) - c^2` in training and
    :math:`v` in evaluation (dropout is the identity). A batch norm after it stores the
    training variance, so at evaluation its output variance shrinks by

    .. math:: \Delta = \frac{v}{(v + c^2)/(1-p) - c^2} \le 1

    (Li et al., 2019, "variance shift"). :math:`\Delta = 1 - p` for a zero-mean unit.

    Parameters
    ----------
    mean : float or ndarray
        Mean :math:`c` of the unit before dropout.
    var : float or ndarray, > 0
        Variance :math:`v` of the unit before dropout.
    p : float in [0, 1)
        Drop probability.

    Returns
    -------
    ratio : float or ndarray (broadcast of ``mean`` and ``var``)

    Examples
    --------
    >>> round(float(dropout_variance_ratio(0.0, 1.0, 0.5)), 6)
    0.5
    """
    p = check_scalar(p, "p", low=0, high=1, high_inclusive=False)
    mean = np.asarray(mean)
    var = np.asarray(var)
    for name, arr in (("mean", mean), ("var", var)):
        if arr.dtype.kind not in "fiu" or arr.dtype == bool:
            raise TypeError(f"{name} must be a real number or a real array, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(var <= 0):
        raise ValueError("var must be > 0")
    ratio = var / ((var + mean**2) / (1.0 - p) - mean**2)
    return float(ratio) if ratio.ndim == 0 else ratio


def _check_model(model, X):
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")
    return check_array(X, "X", ndim=2, min_rows=2)


def batchnorm_layers(model):
    """Every :class:`~regcode.layers.BatchNorm1d` of ``model`` (subclasses too), at any depth, in order.

    Parameters
    ----------
    model : regcode.layers.Module

    Returns
    -------
    list of regcode.layers.BatchNorm1d
        In the order of :meth:`regcode.layers.Module.modules`.

    Raises
    ------
    TypeError
        If ``model`` is not a regcode Module.
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")
    return [m for m in model.modules() if isinstance(m, BatchNorm1d)]


@contextmanager
def _kept_state(model):
    """Run a block on ``model`` and restore its parameters, buffers, modes and batch counts afterwards."""
    state = model.state_dict()
    modes = [(m, m.training) for m in model.modules()]
    counts = [(bn, bn.num_batches_tracked, bn.momentum) for bn in batchnorm_layers(model)]
    try:
        yield
    finally:
        model.load_state_dict(state)
        for m, mode in modes:
            m.training = mode
        for bn, count, momentum in counts:
            bn.num_batches_tracked, bn.momentum = count, momentum


@contextmanager
def _recording_inputs(layers):
    """Record the input of each layer's next forward pass: ``inputs[i]`` for ``layers[i]``."""
    inputs = [None] * len(layers)
    for i, layer in enumerate(layers):
        forward = layer.forward

        def record(x, i=i, forward=forward):
            inputs[i] = x
            return forward(x)

        layer.forward = record  # an instance attribute shadows the method until it is deleted
    try:
        yield inputs
    finally:
        for layer in layers:
            del layer.forward


def batchnorm_input_variances(model, X, *, training):
    """Per-feature variance of the input of every ``BatchNorm1d`` of ``model`` on ``X``.

    Runs ``X`` through ``model`` in training mode (dropout active: the variance
    batch norm sees while it learns its running statistics) or in evaluation
    mode (dropout off: the variance it sees at test time). Variances are
    unbiased (divide by N - 1), like ``running_var``. The model's parameters,
    buffers and modes are left as they were; in training mode the dropout
    layers draw masks from their generators.

    Parameters
    ----------
    model : regcode.layers.Module
    X : ndarray of shape (N, D), N >= 2
        One batch (e.g. the whole training set).
    training : bool

    Returns
    -------
    list of ndarray, one of shape (num_features,) per ``BatchNorm1d`` layer, in order.
    """
    X = _check_model(model, X)
    training = check_bool(training, "training")
    layers = batchnorm_layers(model)
    with _kept_state(model), _recording_inputs(layers) as inputs:
        model.train(training)
        model.forward(X)
    return [x.var(axis=0, ddof=1) for x in inputs]


def recalibrate_batchnorm(model, X):
    """Recompute the running statistics of every ``BatchNorm1d`` from ``X`` with dropout off, in place.

    Layer by layer, with everything else in evaluation mode, one batch-norm
    layer at a time runs a training-mode forward pass over all of ``X`` with
    ``momentum = 1``: its running buffers become exactly the statistics of its
    input on ``X`` (the mean and the unbiased variance, or whatever the
    layer's ``train_forward`` kernel computes in their place), and the layers
    after it see what they will see at evaluation. This removes the variance
    shift of dropout placed before batch norm (chapter 4) and the lag of the
    exponential averages. Parameters, momentum and ``num_batches_tracked`` are
    unchanged.

    Parameters
    ----------
    model : regcode.layers.Module
    X : ndarray of shape (N, D), N >= 2
        Typically the whole training set.

    Returns
    -------
    model : the same object
    """
    X = _check_model(model, X)
    modes = [(m, m.training) for m in model.modules()]
    try:
        for layer in batchnorm_layers(model):
            momentum, count = layer.momentum, layer.num_batches_tracked
            model.eval()
            layer.train()
            layer.momentum = 1.0
            try:
                model.forward(X)
            finally:
                layer.momentum, layer.num_batches_tracked = momentum, count
    finally:
        for m, mode in modes:
            m.training = mode
    return model


def predict_with_batch_statistics(model, X, batch_size=None):
    """WRONG AT EVALUATION, ON PURPOSE: outputs when batch norm keeps using batch statistics.

    Every ``BatchNorm1d`` normalises each batch of ``X`` with that batch's own mean and
    variance (training-mode arithmetic); every other layer (dropout) is in evaluation
    mode. The running buffers are left unchanged. Chapter 4 uses it to show that the
    prediction for a sample then depends on which other samples share its batch.

    Parameters
    ----------
    model : regcode.layers.Module
    X : ndarray of shape (N, D)
    batch_size : int >= 2, optional
        Split ``X`` into consecutive batches of this size (the last one may be
        smaller, but not a single sample). Default: ``X`` is one batch.

    Returns
    -------
    out : ndarray, the model output for every row of ``X``
    """
    X = _check_model(model, X)
    n = X.shape[0]
    batch_size = n if batch_size is None else check_int(batch_size, "batch_size", low=2)
    if n % batch_size == 1:
        raise ValueError(f"batch_size must leave no batch of one sample, got {batch_size} for {n} rows")
    with _kept_state(model):
        model.eval()
        for layer in batchnorm_layers(model):
            layer.train()
        return np.concatenate(
            [model.forward(X[start : start + batch_size]) for start in range(0, n, batch_size)]
        )


# --- the test bed: a deep MLP on a small split of the digits, one seed per call --------------


@lru_cache(maxsize=16)
def _digits(seed, n_train):
    """The split of one seed, loaded once per process (a run over seeds trains many networks per seed)."""
    return load_digits(streams(seed).data, n_train=n_train)


def digits_split(seed, *, n_train=300, shift=0.0):
    """The digits split of one seed, in float64, optionally shifted away from mean 0.

    ``load_digits(streams(seed).data, n_train=n_train)``: a stratified split
    standardised with training statistics, with the validation and test sets
    of the default split (20 % each, 360 images). Every pixel of every split
    then gets ``shift`` added, like data that was never centred. Each call
    returns new arrays.

    Parameters
    ----------
    seed : int >= 0
        Only the data stream of :func:`regcode.seeds.streams` is used.
    n_train : int >= 2
        Training images (at most 1,077).
    shift : float
        Added to every input of every split.

    Returns
    -------
    regcode.data.Split

    Examples
    --------
    >>> split = digits_split(0, n_train=300)
    >>> split.X_train.shape, split.X_val.shape, split.X_test.shape
    ((300, 64), (360, 64), (360, 64))
    """
    seed = check_int(seed, "seed", low=0)
    n_train = check_int(n_train, "n_train", low=2)
    shift = check_scalar(shift, "shift")
    base = _digits(seed, n_train)
    return replace(
        base,
        X_train=base.X_train + shift,
        y_train=base.y_train.copy(),
        X_val=base.X_val + shift,
        y_val=base.y_val.copy(),
        X_test=base.X_test + shift,
        y_test=base.y_test.copy(),
        feature_names=list(base.feature_names),
    )


def _check_hook(fn, name):
    if fn is not None and not callable(fn):
        raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
    return fn


def train_digits_mlp(
    seed,
    lr,
    *,
    norm="batchnorm",
    hidden=6,
    width=64,
    n_train=300,
    epochs=10,
    batch_size=32,
    drop_prob=0.0,
    weight_std=None,
    weight_decay=0.0,
    shift=0.0,
    batchnorm_class=None,
    setup=None,
    callback=None,
):
    """Chapter 4's test bed: build a deep MLP from one seed, train it on the digits with SGD.

    Everything random comes from ``streams(seed)``: the split
    (:func:`digits_split`), the initial weights, the dropout masks and the
    batch order each from their own stream. Two calls with the same seed
    therefore start from the same weights and see the same batches, whatever
    ``lr``, ``norm``, ``drop_prob`` or ``weight_decay`` are (a network with
    batch or layer norm only lacks the hidden biases).

    The network is ``regcode.layers.mlp([64] + [width] * hidden + [10], ...)``,
    in float64; the optimiser is SGD with momentum 0.9, with ``weight_decay``
    on the linear weights only (:func:`regcode.optim.decay_groups`); the loss
    is the softmax cross-entropy. A run whose outputs turn non-finite stops
    with ``history.diverged`` set (:func:`regcode.train.fit`).

    Parameters
    ----------
    seed : int >= 0
    lr : float > 0
    norm : {"none", "batchnorm", "layernorm"}
        The normalisation after each hidden ``Linear``.
    hidden, width : int >= 1
        Number and width of the hidden layers.
    n_train : int >= 2
        Training images.
    epochs : int >= 1
    batch_size : int >= 2
    drop_prob : float in [0, 1)
        Dropout after each hidden ReLU, that is before the next batch norm.
    weight_std : float > 0, optional
        Initial weight scale (default: He initialisation).
    weight_decay : float >= 0
    shift : float
        Added to every input (:func:`digits_split`).
    batchnorm_class : subclass of regcode.layers.BatchNorm1d, optional
        Used in place of ``BatchNorm1d`` (``norm="batchnorm"`` only), e.g. a
        layer with other training kernels.
    setup : callable, optional
        ``setup(model)`` after the model is built and before training (to
        change a buffer or a momentum, say).
    callback : callable, optional
        Passed to :func:`regcode.train.fit`: ``callback(epoch, model, history)``
        after each epoch.

    Returns
    -------
    model : regcode.layers.Sequential
        Trained (left in training mode).
    history : regcode.train.History
        Validation metrics on the split's validation set.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``batchnorm_class`` that is not a
        ``BatchNorm1d`` subclass, ``setup`` or ``callback`` not callable, ...).
    ValueError
        If an argument is out of range, or ``batchnorm_class`` is given with
        another ``norm``.

    Examples
    --------
    >>> model, history = train_digits_mlp(0, 0.03, hidden=2, epochs=3)
    >>> history.epochs, history.val_acc[-1] > 0.5
    (3, True)
    """
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    norm = check_choice(norm, "norm", NORMS)
    hidden = check_int(hidden, "hidden", low=1)
    width = check_int(width, "width", low=1)
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=2)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    if batchnorm_class is not None:
        if not (isinstance(batchnorm_class, type) and issubclass(batchnorm_class, BatchNorm1d)):
            raise TypeError(f"batchnorm_class must be a subclass of BatchNorm1d, got {batchnorm_class!r}")
        if norm != "batchnorm":
            raise ValueError(f"batchnorm_class needs norm='batchnorm', got norm={norm!r}")
    setup = _check_hook(setup, "setup")
    callback = _check_hook(callback, "callback")
    rngs = streams(seed)
    data = digits_split(seed, n_train=n_train, shift=shift)
    model = mlp(
        [data.X_train.shape[1]] + [width] * hidden + [10],
        rngs.init,
        drop_prob=drop_prob,
        dropout_rng=rngs.dropout,
        batchnorm=norm == "batchnorm",
        layernorm=norm == "layernorm",
        weight_std=weight_std,
    )
    if batchnorm_class is not None:
        model.layers = [
            batchnorm_class(layer.num_features, layer.eps, layer.momentum)
            if isinstance(layer, BatchNorm1d)
            else layer
            for layer in model.layers
        ]
    if setup is not None:
        setup(model)
    optimizer = SGD(decay_groups(model.parameters(), weight_decay), lr=lr, momentum=0.9)
    history = fit(
        model,
        softmax_cross_entropy,
        optimizer,
        data.X_train,
        data.y_train,
        epochs=epochs,
        batch_size=batch_size,
        rng=rngs.batches,
        X_val=data.X_val,
        y_val=data.y_val,
        callback=callback,
    )
    return model, history
