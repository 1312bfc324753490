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

Batch norm in practice: :func:`fold_batchnorm_layers` folds every evaluation-mode
batch norm into the linear layer before it (with
:func:`regcode.batchnorm.fold_batchnorm`), and :func:`fine_tune` fine-tunes a
trained network on a few images of a new domain (:func:`new_domain_split`) with
the batch-norm statistics frozen or updated.

The functions that take a model find its ``BatchNorm1d`` layers at any depth
(:meth:`regcode.layers.Module.modules`), including subclasses that swap the
training kernels.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache

import numpy as np

from .._validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_labels,
    check_rng,
    check_scalar,
)
from ..batchnorm import NormCache, _check_affine, _check_dout, fold_batchnorm
from ..data import augment_digits, load_digits
from ..layers import BatchNorm1d, Linear, Module, Sequential, mlp
from ..losses import softmax_cross_entropy
from ..optim import SGD, decay_groups
from ..seeds import streams
from ..train import fit, minibatches

#: The normalisations :func:`train_digits_mlp` builds.
NORMS = ("none", "batchnorm", "layernorm")

#: Momentum of the SGD optimiser of :func:`train_digits_mlp` and :func:`fine_tune`.
SGD_MOMENTUM = 0.9

#: The new domains of :func:`new_domain_split`.
DOMAINS = ("off-centre", "low-contrast")

#: The low-contrast domain maps every grey level g (0-16) to ``scale * g + offset``.
LOW_CONTRAST = {"scale": 0.5, "offset": 4.0}


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
    in float64; the optimiser is SGD with momentum :data:`SGD_MOMENTUM` (0.9), with ``weight_decay``
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
    optimizer = SGD(decay_groups(model.parameters(), weight_decay), lr=lr, momentum=SGD_MOMENTUM)
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


# --- batch norm in practice: folding for inference, fine-tuning on a few images ----------------


def _fold_linear(linear, norm):
    """One ``Linear`` computing ``norm(linear(x))`` of an evaluation-mode ``norm``."""
    bias = None if linear.bias is None else linear.bias.data
    weight, bias = fold_batchnorm(
        linear.weight.data,
        bias,
        norm.gamma.data,
        norm.beta.data,
        norm.running_mean,
        norm.running_var,
        norm.eps,
    )
    # The generator only draws initial weights, which the folded ones replace.
    folded = Linear(linear.in_features, linear.out_features, np.random.default_rng(0), dtype=linear.dtype)
    folded.weight.data[...] = weight
    folded.bias.data[...] = bias
    return folded


def fold_batchnorm_layers(model):
    r"""A new network in which every ``Linear`` followed by a ``BatchNorm1d`` is a single ``Linear``.

    In evaluation mode a batch norm is a fixed affine map of each feature, so
    it folds into the fully connected layer before it
    (:func:`regcode.batchnorm.fold_batchnorm`):

    .. math::
        W' = W \operatorname{diag}(s),\qquad b' = (b - \hat\mu)\,s + \beta,\qquad
        s = \frac{\gamma}{\sqrt{\hat\sigma^2 + \varepsilon}} .

    The result computes what ``model`` computes in evaluation mode, with one
    layer less per folded pair. It is for inference only: its normalisation is
    frozen into the weights, so training it is not training a batch-normalised
    network. ``model`` is left unchanged; every other layer (ReLU, dropout,
    a batch norm after anything but a ``Linear``) is copied, and nested
    ``Sequential`` containers are folded too.

    Parameters
    ----------
    model : regcode.layers.Sequential

    Returns
    -------
    regcode.layers.Sequential
        A new network, in evaluation mode.

    Raises
    ------
    TypeError
        If ``model`` is not a ``Sequential``.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import mlp
    >>> model = mlp((4, 8, 3), np.random.default_rng(0), batchnorm=True)
    >>> model
    Sequential(
      Linear(4, 8, bias=False),
      BatchNorm1d(8, eps=1e-05, momentum=0.1),
      ReLU(),
      Linear(8, 3, bias=True)
    )
    >>> fold_batchnorm_layers(model)
    Sequential(
      Linear(4, 8, bias=True),
      ReLU(),
      Linear(8, 3, bias=True)
    )
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a regcode Sequential, got {type(model).__name__}")
    layers, i = [], 0
    while i < len(model.layers):
        layer = model.layers[i]
        following = model.layers[i + 1] if i + 1 < len(model.layers) else None
        if isinstance(layer, Linear) and isinstance(following, BatchNorm1d):
            layers.append(_fold_linear(layer, following))
            i += 2
            continue
        layers.append(fold_batchnorm_layers(layer) if isinstance(layer, Sequential) else copy.deepcopy(layer))
        i += 1
    return Sequential(*layers).eval()


def new_domain_split(seed, kind, *, n_per_class=4, n_train=300):
    """The digits of one seed in a new domain: a few images to fine-tune on, and the evaluation sets.

    The images of :func:`digits_split` are mapped back to grey levels
    (``Split.unstandardize``), changed, and standardised again with the
    statistics of the original training set, as a network trained on the
    original images sees them:

    - ``"off-centre"``: every image moves by up to one pixel in each direction
      (:func:`regcode.data.augment_digits`, ``max_shift=1``); the strokes move
      between pixels;
    - ``"low-contrast"``: every grey level g becomes ``0.5 g + 4``
      (:data:`LOW_CONTRAST`), the same affine change for every pixel.

    The training set holds ``n_per_class`` images of each digit, drawn from
    the original training set; validation and test sets are the original
    ones, changed in the same way. The draws come from a child of the seed's
    data stream (``streams(seed).data.spawn(1)[0]``), so they change nothing
    else of a run.

    Parameters
    ----------
    seed : int >= 0
    kind : {"off-centre", "low-contrast"}
    n_per_class : int >= 1
        Fine-tuning images per digit (at most the number of images of the
        rarest digit in the training set).
    n_train : int >= 2
        Training images of the original split (:func:`digits_split`).

    Returns
    -------
    regcode.data.Split
        ``X_train`` of shape (10 * n_per_class, 64), in random order; ``X_val``
        and ``X_test`` in the new domain, ``y_val`` and ``y_test`` unchanged.

    Raises
    ------
    TypeError
        If ``seed``, ``n_per_class`` or ``n_train`` is not an integer.
    ValueError
        If ``kind`` is unknown or ``n_per_class`` is out of range.

    Examples
    --------
    >>> split = new_domain_split(0, "low-contrast", n_per_class=2)
    >>> split.X_train.shape, split.X_val.shape
    ((20, 64), (360, 64))
    """
    seed = check_int(seed, "seed", low=0)
    kind = check_choice(kind, "kind", DOMAINS)
    n_per_class = check_int(n_per_class, "n_per_class", low=1)
    data = digits_split(seed, n_train=n_train)
    counts = np.bincount(data.y_train, minlength=10)
    if n_per_class > counts.min():
        raise ValueError(f"n_per_class must be <= {counts.min()} (the rarest digit), got {n_per_class}")
    rng = streams(seed).data.spawn(1)[0]
    chosen = [rng.choice(np.flatnonzero(data.y_train == c), n_per_class, replace=False) for c in range(10)]
    chosen = rng.permutation(np.concatenate(chosen))

    def change(X):
        raw = data.unstandardize(X)
        if kind == "off-centre":
            raw = augment_digits(raw, rng, max_shift=1)
        else:
            raw = LOW_CONTRAST["scale"] * raw + LOW_CONTRAST["offset"]
        return data.standardize(raw)

    return replace(
        data,
        X_train=change(data.X_train[chosen]),
        y_train=data.y_train[chosen],
        X_val=change(data.X_val),
        X_test=change(data.X_test),
    )


def fine_tune(model, X, y, *, lr, epochs, batch_size, rng, freeze_batchnorm):
    """Fine-tune a copy of a trained network with SGD, its batch-norm statistics frozen or updated.

    Each epoch puts the copy in training mode and, with
    ``freeze_batchnorm=True``, then every ``BatchNorm1d`` in evaluation mode
    (in that order: ``train()`` reaches every layer and would undo it). A
    frozen batch norm normalises with its running statistics and leaves them
    unchanged, while its ``gamma`` and ``beta`` and every other parameter still
    train; an updated one normalises each batch with its own statistics and
    moves the running averages towards them, as in training. Then one pass
    over ``(X, y)`` in shuffled mini-batches (:func:`regcode.train.minibatches`),
    each a step of SGD with momentum :data:`SGD_MOMENTUM` on the softmax
    cross-entropy, without weight decay. Training stops at a batch whose
    outputs are not finite.

    Parameters
    ----------
    model : regcode.layers.Module
        A trained network; it is left unchanged.
    X : ndarray of shape (n, D), n >= 2
    y : ndarray of int, shape (n,)
        Class labels.
    lr : float > 0
    epochs : int >= 1
    batch_size : int >= 2
    rng : numpy.random.Generator
        Shuffles the batches.
    freeze_batchnorm : bool

    Returns
    -------
    model : regcode.layers.Module
        The fine-tuned copy, in evaluation mode.
    diverged : bool
        True if training stopped at non-finite outputs.

    Raises
    ------
    TypeError
        If ``model`` is not a regcode Module, or an argument has the wrong type.
    ValueError
        If an argument is out of range or ``y`` does not match ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> model, _ = train_digits_mlp(0, 0.1, hidden=2, epochs=2)
    >>> data = new_domain_split(0, "low-contrast", n_per_class=2)
    >>> tuned, diverged = fine_tune(model, data.X_train, data.y_train, lr=0.01, epochs=2,
    ...                             batch_size=4, rng=np.random.default_rng(0), freeze_batchnorm=True)
    >>> diverged, [layer.training for layer in batchnorm_layers(tuned)]
    (False, [False, False])
    >>> all(np.array_equal(a.running_mean, b.running_mean)
    ...     for a, b in zip(batchnorm_layers(model), batchnorm_layers(tuned)))
    True
    """
    X = _check_model(model, X)
    y = check_labels(y, "y", X.shape[0])
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=2)
    check_rng(rng)
    freeze_batchnorm = check_bool(freeze_batchnorm, "freeze_batchnorm")
    model = copy.deepcopy(model)
    optimizer = SGD(model.parameters(), lr=lr, momentum=SGD_MOMENTUM)
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(epochs):
            model.train()
            if freeze_batchnorm:
                for layer in batchnorm_layers(model):
                    layer.eval()
            for idx in minibatches(X.shape[0], batch_size, rng):
                optimizer.zero_grad()
                out = model.forward(X[idx])
                if not np.all(np.isfinite(out)):
                    diverged = True
                    break
                _, dout = softmax_cross_entropy(out, y[idx])
                model.backward(dout)
                optimizer.step()
            if diverged:
                break
    return model.eval(), diverged
