"""Chapter 2's experiments: subgradient against proximal descent, choosing lambda, noise, the digits network.

The solvers the book recommends are in :mod:`regcode.linear_model`
(:func:`~regcode.linear_model.lasso` by accelerated proximal gradient,
:func:`~regcode.linear_model.ridge` in closed form); this module holds what
chapter 2 builds around them to show a point: :func:`lasso_gd` (subgradient
against proximal steps), :func:`cross_validate` (k-fold choice of lambda),
:func:`noisy_input_loss` and :func:`noisy_input_gd` (training with input
noise is ridge regression), and :func:`train_digits_mlp` with
:func:`digits_scores` and :func:`scale_invariant_weights` (weight decay, L1,
data augmentation, max-norm, Adam + L2, AdamW and batch norm on a small-data
digits network).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_array, check_bool, check_choice, check_int, check_rng, check_scalar
from ..data import Split, augment_digits, kfold_indices
from ..layers import BatchNorm1d, Linear, Sequential, mlp
from ..linear_model import _check_lams, _check_xy, lasso_path, ridge
from ..losses import softmax, softmax_cross_entropy
from ..optim import SGD, Adam, AdamW, MaxNormSGD, decay_groups
from ..penalties import soft_threshold
from ..seeds import Streams
from ..train import History, ParameterPenalty, fit, predict


def lasso_gd(
    X, y, lam, *, lr, epochs, method="proximal", batch_size=None, rng=None, w0=None, return_iterates=False
):
    r"""Lasso by (stochastic) subgradient descent or proximal gradient descent, for comparison.

    Both methods take the same gradient step on the squared error,
    :math:`g = \frac{1}{b}X_B^\top(X_B w - y_B)` on a batch :math:`B` of size :math:`b`,
    and differ only in how they handle :math:`\lambda\|w\|_1`:

    * ``"subgradient"``: :math:`w \leftarrow w - \eta\,(g + \lambda\,\mathrm{sign}(w))`.
      Coefficients that should be 0 zigzag around it with amplitude about
      :math:`\eta\lambda` and are (almost) never exactly 0.
    * ``"proximal"`` (ISTA when full-batch):
      :math:`w \leftarrow \mathrm{soft\_threshold}(w - \eta g, \eta\lambda)`,
      which sets small coefficients to exactly 0.

    :func:`regcode.linear_model.lasso` (accelerated proximal gradient) is the method to use;
    this function exists to show the difference.

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    lam : float >= 0
    lr : float > 0
        Step size :math:`\eta` (constant). Full-batch steps are stable for
        ``lr <= 1 / L`` with :math:`L` the largest eigenvalue of :math:`X^\top X / m`.
    epochs : int >= 1
        Passes over the data (one step per epoch when full-batch).
    method : {"proximal", "subgradient"}
    batch_size : int >= 1, optional
        Mini-batch size; ``None`` (default) uses all m rows (deterministic).
    rng : numpy.random.Generator, optional
        Shuffles the mini-batches; required when ``batch_size < m``.
    w0 : ndarray of shape (n,), optional
        Starting point; zeros by default.
    return_iterates : bool
        Also return every iterate.

    Returns
    -------
    w : ndarray of shape (n,)
    iterates : ndarray of shape (n_steps + 1, n)
        Only with ``return_iterates=True``; row 0 is ``w0``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    >>> y = np.array([2.0, 0.1, -2.0, -0.1])
    >>> lasso_gd(X, y, lam=0.2, lr=1.0, epochs=50)
    array([1.6, 0. ])
    """
    X, y = _check_xy(X, y)
    lam = check_scalar(lam, "lam", low=0)
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    epochs = check_int(epochs, "epochs", low=1)
    check_choice(method, "method", ("proximal", "subgradient"))
    m, n = X.shape
    batch_size = m if batch_size is None else min(check_int(batch_size, "batch_size", low=1), m)
    if batch_size < m:
        check_rng(rng)
    if w0 is None:
        w = np.zeros(n, dtype=X.dtype)
    else:
        w = check_array(w0, "w0", ndim=1).astype(X.dtype, copy=True)
        if w.shape != (n,):
            raise ValueError(f"w0 must have shape ({n},), got {w.shape}")
    iterates = [w.copy()]
    for _ in range(epochs):
        order = np.arange(m) if batch_size == m else rng.permutation(m)
        for start in range(0, m, batch_size):
            batch = order[start : start + batch_size]
            # A too-large step overflows before w turns non-finite; that is reported below, not warned.
            with np.errstate(over="ignore", invalid="ignore"):
                grad = X[batch].T @ (X[batch] @ w - y[batch]) / len(batch)
                step = w - lr * grad if method == "proximal" else w - lr * (grad + lam * np.sign(w))
            if not np.all(np.isfinite(step)):
                raise ValueError(f"lasso_gd diverged: lr={lr:g} is too large for this X")
            w = soft_threshold(step, lr * lam) if method == "proximal" else step
            if return_iterates:
                iterates.append(w.copy())
    return (w, np.array(iterates)) if return_iterates else w


@dataclass
class CVResult:
    """Result of :func:`cross_validate`; arrays are indexed like ``lams``.

    Attributes
    ----------
    lams : ndarray of shape (k,)
    train_mse, val_mse : ndarray of shape (k,)
        Mean squared errors (no 1/2), averaged over the folds.
    val_se : ndarray of shape (k,)
        Standard error of ``val_mse`` across folds: ``std(ddof=1) / sqrt(n_splits)``.
    fold_val_mse : ndarray of shape (n_splits, k)
    lam_min : float
        The strength with the smallest ``val_mse``.
    lam_1se : float
        The largest strength whose ``val_mse`` is within one standard error
        of the minimum (the one-standard-error rule).
    """

    lams: np.ndarray
    train_mse: np.ndarray
    val_mse: np.ndarray
    val_se: np.ndarray
    fold_val_mse: np.ndarray
    lam_min: float
    lam_1se: float


def cross_validate(X, y, lams, *, method="ridge", n_splits=5, rng, tol=1e-8):
    r"""K-fold cross-validation of the ridge or lasso strength.

    The folds come from scikit-learn's ``KFold(shuffle=True)``
    (:func:`regcode.data.kfold_indices`). In each fold the columns of ``X``
    are standardised and ``y`` is centred with the statistics of the training
    part only (the models have no intercept), then
    :func:`regcode.linear_model.ridge` or :func:`regcode.linear_model.lasso_path`
    is fitted for every value in ``lams`` and scored by the mean squared error
    on both parts.

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    lams : array-like of shape (k,), each >= 0
    method : {"ridge", "lasso"}
    n_splits : int >= 2
    rng : numpy.random.Generator
        Shuffles the rows before splitting.
    tol : float > 0
        Tolerance of the lasso solver.

    Returns
    -------
    CVResult
    """
    X, y = _check_xy(X, y)
    lams = _check_lams(lams)
    check_choice(method, "method", ("ridge", "lasso"))
    n_splits = check_int(n_splits, "n_splits", low=2)
    if n_splits > X.shape[0]:
        raise ValueError(f"n_splits must be <= the number of rows {X.shape[0]}, got {n_splits}")
    folds = kfold_indices(X.shape[0], n_splits, rng)
    order = np.argsort(-lams, kind="stable")  # lasso warm starts run from large to small
    train_mse = np.empty((n_splits, lams.size))
    val_mse = np.empty((n_splits, lams.size))
    for f, (tr, va) in enumerate(folds):
        mean, std = X[tr].mean(axis=0), X[tr].std(axis=0)
        std[std == 0.0] = 1.0
        X_tr, X_va = (X[tr] - mean) / std, (X[va] - mean) / std
        y_mean = y[tr].mean()
        y_tr, y_va = y[tr] - y_mean, y[va] - y_mean
        if method == "ridge":
            coefs = np.array([ridge(X_tr, y_tr, lam) for lam in lams])
        else:
            coefs = np.empty((lams.size, X.shape[1]))
            coefs[order] = lasso_path(X_tr, y_tr, lams[order], tol=tol)
        train_mse[f] = np.mean((X_tr @ coefs.T - y_tr[:, None]) ** 2, axis=0)
        val_mse[f] = np.mean((X_va @ coefs.T - y_va[:, None]) ** 2, axis=0)
    mean_val = val_mse.mean(axis=0)
    se_val = val_mse.std(axis=0, ddof=1) / np.sqrt(n_splits)
    best = int(np.argmin(mean_val))
    within = mean_val <= mean_val[best] + se_val[best]
    return CVResult(
        lams=lams,
        train_mse=train_mse.mean(axis=0),
        val_mse=mean_val,
        val_se=se_val,
        fold_val_mse=val_mse,
        lam_min=float(lams[best]),
        lam_1se=float(lams[within].max()),
    )


# ---------------------------------------------------------------------------
# Training with input noise is ridge regression
# ---------------------------------------------------------------------------


def _check_w(w, n):
    w = check_array(w, "w", ndim=1)
    if w.shape != (n,):
        raise ValueError(f"w must have shape ({n},), got {w.shape}")
    return w


def noisy_input_loss(X, y, w, noise_std, rng):
    r"""Squared error of a linear model on inputs with fresh Gaussian noise, and its gradient in ``w``.

    One draw of a noise matrix :math:`E` of the shape of ``X``, with independent
    entries :math:`E_{ij} \sim N(0, \sigma^2)`, and with :math:`\tilde X = X + E`:

    .. math::

        L = \frac{1}{2m}\lVert y - \tilde X w\rVert^2, \qquad
        \nabla_w L = \frac{1}{m}\tilde X^\top(\tilde X w - y).

    In expectation over :math:`E` this is the ridge objective with
    :math:`\lambda = \sigma^2` (Bishop, 1995):
    :math:`\mathbb E L = \frac{1}{2m}\lVert y - Xw\rVert^2 + \frac{\sigma^2}{2}\lVert w\rVert^2`,
    and :math:`\mathbb E\nabla_w L` is its gradient.

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    w : ndarray of shape (n,)
    noise_std : float >= 0
        The standard deviation :math:`\sigma` of each noise entry (0: no noise).
    rng : numpy.random.Generator
        Draws :math:`E` (``m * n`` standard normal numbers, scaled by ``noise_std``).

    Returns
    -------
    loss : float
    grad : ndarray of shape (n,)

    Raises
    ------
    TypeError
        If an array is not a float array or ``rng`` is not a Generator.
    ValueError
        If the shapes disagree or ``noise_std`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> X, y, w = np.eye(2), np.array([1.0, 0.0]), np.array([1.0, 0.0])
    >>> loss, grad = noisy_input_loss(X, y, w, 0.0, np.random.default_rng(0))
    >>> float(loss), grad.tolist()
    (0.0, [0.0, 0.0])
    """
    X, y = _check_xy(X, y)
    w = _check_w(w, X.shape[1])
    noise_std = check_scalar(noise_std, "noise_std", low=0)
    check_rng(rng)
    return _noisy_input_loss(X, y, w, noise_std, rng)


def _noisy_input_loss(X, y, w, noise_std, rng):
    X_noisy = X + noise_std * rng.standard_normal(X.shape)
    resid = X_noisy @ w - y
    return 0.5 * float(resid @ resid) / X.shape[0], X_noisy.T @ resid / X.shape[0]


def noisy_input_gd(X, y, noise_std, *, lr, steps, rng, w0=None):
    r"""Gradient descent with fresh input noise at every step; every iterate.

    Step :math:`t` draws a new noise matrix and takes
    :math:`w \leftarrow w - \eta\,\nabla_w L` with :math:`\nabla_w L` from
    :func:`noisy_input_loss`. Its expected step is a gradient step on the
    ridge objective with :math:`\lambda = \sigma^2`, so the iterates hover
    around the ridge solution ``ridge(X, y, noise_std**2)``; they never settle,
    and an average of the later iterates (Polyak-Ruppert averaging) lands close
    to it.

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    noise_std : float >= 0
    lr : float > 0
        Constant step :math:`\eta`; stable for ``lr`` below about
        :math:`2/(L + \sigma^2)` with :math:`L` the largest eigenvalue of :math:`X^\top X/m`.
    steps : int >= 1
    rng : numpy.random.Generator
        Draws the noise of every step.
    w0 : ndarray of shape (n,), optional
        Starting point; zeros by default.

    Returns
    -------
    ndarray of shape (steps + 1, n)
        Row 0 is ``w0``, row t the weights after t steps.

    Raises
    ------
    TypeError
        If an array is not a float array or ``rng`` is not a Generator.
    ValueError
        If a shape or a number is out of range, or the iterates diverge.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.linear_model import ridge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2)); y = X @ np.array([2.0, -1.0])
    >>> iterates = noisy_input_gd(X, y, 1.0, lr=0.1, steps=2000, rng=rng)
    >>> bool(np.linalg.norm(iterates[1000:].mean(axis=0) - ridge(X, y, 1.0)) < 0.05)
    True
    """
    X, y = _check_xy(X, y)
    noise_std = check_scalar(noise_std, "noise_std", low=0)
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    steps = check_int(steps, "steps", low=1)
    check_rng(rng)
    n = X.shape[1]
    w = np.zeros(n, dtype=X.dtype) if w0 is None else _check_w(w0, n).astype(X.dtype, copy=True)
    iterates = np.empty((steps + 1, n), dtype=X.dtype)
    iterates[0] = w
    for t in range(1, steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            w = w - lr * _noisy_input_loss(X, y, w, noise_std, rng)[1]
        if not np.all(np.isfinite(w)):
            raise ValueError(f"noisy_input_gd diverged: lr={lr:g} is too large for this X and noise_std")
        iterates[t] = w
    return iterates


# ---------------------------------------------------------------------------
# The digits network of the chapter's second half
# ---------------------------------------------------------------------------

_OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}


def _check_digits(digits, splits=("train",)):
    if not isinstance(digits, Split):
        raise TypeError(
            f"digits must be a regcode.data.Split (from load_digits), got {type(digits).__name__}"
        )
    for split in splits:
        X, y = getattr(digits, f"X_{split}"), getattr(digits, f"y_{split}")
        if X is None or y is None:
            raise ValueError(f"digits has no {split} split")
        if not np.issubdtype(np.asarray(y).dtype, np.integer):
            raise TypeError(
                f"digits.y_{split} must hold integer class labels, got dtype {np.asarray(y).dtype}"
            )


def scale_invariant_weights(model):
    """The weight matrices of ``model`` that a batch-norm layer follows directly.

    Scaling such a matrix by any :math:`c > 0` scales the pre-activations and
    their batch standard deviation alike, so batch norm's output, the loss and
    the function are unchanged; the gradient with respect to the matrix scales
    by :math:`1/c`. (:func:`regcode.layers.mlp` gives these layers no bias.)

    Parameters
    ----------
    model : regcode.layers.Sequential

    Returns
    -------
    list of regcode.layers.Parameter

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import mlp
    >>> model = mlp((4, 8, 8, 2), np.random.default_rng(0), batchnorm=True)
    >>> [p.data.shape for p in scale_invariant_weights(model)]
    [(4, 8), (8, 8)]
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a regcode Sequential, got {type(model).__name__}")
    layers = list(model.layers)
    return [
        layer.weight
        for layer, after in zip(layers[:-1], layers[1:], strict=True)
        if isinstance(layer, Linear) and isinstance(after, BatchNorm1d) and layer.bias is None
    ]


def train_digits_mlp(
    digits,
    rngs,
    *,
    lr,
    epochs,
    batch_size=32,
    optimizer="sgd",
    momentum=0.0,
    weight_decay=0.0,
    decay="weights",
    l1_first_layer=0.0,
    max_norm=None,
    augment_shift=0,
    batchnorm=False,
    hidden=(128, 128),
    callback=None,
):
    r"""Build a ReLU MLP for the 8x8 digits with its optimiser and penalty, and train it with ``fit``.

    The network is ``mlp((64, *hidden, 10), rngs.init, batchnorm=batchnorm)``
    (float64); it is trained on ``digits.X_train`` with the softmax
    cross-entropy, mini-batches shuffled by ``rngs.batches``. Two runs with
    the same ``rngs`` seed therefore start from the same weights and see the
    same batches: changing ``weight_decay`` or ``l1_first_layer`` changes
    nothing else.

    * ``optimizer="sgd"``: :class:`regcode.optim.SGD` with ``momentum``; its
      weight decay is the L2 penalty :math:`\frac{\lambda}{2}\lVert W\rVert^2`.
    * ``"adam"``: :class:`regcode.optim.Adam` with coupled L2 (``momentum`` unused).
    * ``"adamw"``: :class:`regcode.optim.AdamW`, decoupled decay.

    ``decay`` says which parameters ``weight_decay`` applies to: ``"weights"``
    every weight matrix and no bias or norm parameter
    (:func:`regcode.optim.decay_groups`); ``"invariant"`` only the matrices that
    batch norm makes scale invariant (:func:`scale_invariant_weights`; needs
    ``batchnorm=True``). With ``l1_first_layer`` > 0 an L1 penalty
    :math:`\lambda_1\sum|w|` on the first layer's weights joins the loss
    (:class:`regcode.train.ParameterPenalty`, a subgradient as autograd gives).
    With ``max_norm=c`` the optimiser is :class:`regcode.optim.MaxNormSGD`: every weight
    matrix is projected onto the max-norm balls of radius ``c`` after every step.

    With ``augment_shift`` > 0 (data augmentation) every epoch trains on the
    training images and one copy of each shifted by up to ``augment_shift``
    pixels (:func:`regcode.data.augment_digits` on the raw pixels, through
    ``digits.unstandardize`` and ``digits.standardize``), fresh shifts every
    epoch, drawn from ``rngs.dropout``, the stream of training noise. An epoch
    then has twice the steps, and the history's training scores are measured
    on that epoch's images and shifted copies.

    Parameters
    ----------
    digits : regcode.data.Split
        From :func:`regcode.data.load_digits`; only the training split is used.
    rngs : regcode.seeds.Streams
        ``rngs.init`` draws the weights, ``rngs.batches`` the batch order,
        ``rngs.dropout`` the shifts of ``augment_shift``.
    lr : float > 0
    epochs : int >= 1
    batch_size : int >= 1
    optimizer : {"sgd", "adam", "adamw"}
    momentum : float in [0, 1)
        SGD only.
    weight_decay : float >= 0
    decay : {"weights", "invariant"}
    l1_first_layer : float >= 0
    max_norm : float > 0, optional
        The radius c of the max-norm constraint (SGD only); ``None``: no constraint.
    augment_shift : int in [0, 7]
        Largest shift of the augmented copies, in pixels; 0: no augmentation.
    batchnorm : bool
        Batch norm after each hidden linear layer.
    hidden : sequence of int >= 1
        Hidden widths.
    callback : callable, optional
        Passed to :func:`~regcode.train.fit`: ``callback(epoch, model, history)``
        after each epoch, e.g. to record a weight norm.

    Returns
    -------
    model : regcode.layers.Sequential
        The trained network (in training mode).
    history : regcode.train.History

    Raises
    ------
    TypeError
        If ``digits`` is not a :class:`~regcode.data.Split` with integer labels
        or ``rngs`` is not a :class:`~regcode.seeds.Streams`.
    ValueError
        If an option is not one of its choices, a number is out of range,
        ``decay="invariant"`` is asked for without batch norm, or ``max_norm``
        with an optimiser other than SGD.

    Examples
    --------
    >>> from regcode.data import load_digits
    >>> from regcode.seeds import streams
    >>> digits = load_digits(streams(0).data, n_train=100)
    >>> model, history = train_digits_mlp(digits, streams(0), lr=0.05, momentum=0.9, epochs=5,
    ...                                   weight_decay=1e-2, hidden=(32,))
    >>> history.epochs, history.train_acc[-1] > 0.9
    (5, True)
    """
    _check_digits(digits)
    if not isinstance(rngs, Streams):
        raise TypeError(f"rngs must be regcode.seeds.Streams (from streams(seed)), got {type(rngs).__name__}")
    check_choice(optimizer, "optimizer", tuple(_OPTIMIZERS))
    check_choice(decay, "decay", ("weights", "invariant"))
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    momentum = check_scalar(momentum, "momentum", low=0, high=1, high_inclusive=False)
    weight_decay = check_scalar(weight_decay, "weight_decay", low=0)
    l1_first_layer = check_scalar(l1_first_layer, "l1_first_layer", low=0)
    batchnorm = check_bool(batchnorm, "batchnorm")
    if decay == "invariant" and not batchnorm:
        raise ValueError(
            'decay="invariant" needs batchnorm=True: without batch norm no weight is scale invariant'
        )
    if max_norm is not None:
        max_norm = check_scalar(max_norm, "max_norm", low=0, low_inclusive=False)
        if optimizer != "sgd":
            raise ValueError(f'max_norm needs optimizer="sgd", got optimizer={optimizer!r}')
    augment_shift = check_int(augment_shift, "augment_shift", low=0)
    if augment_shift > 7:
        raise ValueError(f"augment_shift must be <= 7 for 8x8 images, got {augment_shift}")
    if augment_shift and digits.X_train.shape[1] != 64:
        raise ValueError(f"augment_shift needs 8x8 images (64 columns), got {digits.X_train.shape[1]}")
    hidden = [check_int(h, f"hidden[{i}]", low=1) for i, h in enumerate(hidden)]
    model = mlp((digits.X_train.shape[1], *hidden, 10), rngs.init, batchnorm=batchnorm)
    if decay == "weights":
        groups = decay_groups(model.parameters(), weight_decay)
    else:
        invariant = {id(p) for p in scale_invariant_weights(model)}
        groups = [
            {"params": [p for p in model.parameters() if id(p) in invariant], "weight_decay": weight_decay},
            {"params": [p for p in model.parameters() if id(p) not in invariant], "weight_decay": 0.0},
        ]
    options = {"momentum": momentum} if optimizer == "sgd" else {}
    if max_norm is None:
        opt = _OPTIMIZERS[optimizer](groups, lr=lr, **options)
    else:
        opt = MaxNormSGD(groups, lr=lr, c=max_norm, **options)
    penalty = ParameterPenalty([model[0].weight], l1_first_layer, "l1") if l1_first_layer > 0 else None
    run = dict(batch_size=batch_size, rng=rngs.batches, penalty=penalty)
    if not augment_shift:
        history = fit(
            model, softmax_cross_entropy, opt, digits.X_train, digits.y_train,
            epochs=epochs, callback=callback, **run,
        )  # fmt: skip
        return model, history
    history = History()
    raw = digits.unstandardize(digits.X_train)
    y_twice = np.concatenate([digits.y_train, digits.y_train])
    for epoch in range(1, epochs + 1):
        shifted = digits.standardize(augment_digits(raw, rngs.dropout, max_shift=augment_shift))
        X_epoch = np.concatenate([digits.X_train, shifted])
        one = fit(model, softmax_cross_entropy, opt, X_epoch, y_twice, epochs=1, **run)
        for name in ("train_loss", "train_acc", "penalty"):
            getattr(history, name).extend(getattr(one, name))
        if one.diverged:
            history.diverged = True
            break
        if callback is not None:
            callback(epoch, model, history)
    return model, history


def digits_scores(model, digits, splits=("train", "val", "test")):
    r"""Accuracy, cross-entropy and confidence on errors of a network on the digits, in evaluation mode.

    The confidence on errors is the mean probability that the network gives
    its predicted class, over the images it misclassifies,
    :math:`\frac{1}{|E|}\sum_{i \in E}\max_k \mathrm{softmax}(z_i)_k`: how sure
    it is when it is wrong (NaN when it makes no error).

    Parameters
    ----------
    model : regcode.layers.Module
    digits : regcode.data.Split
    splits : sequence of {"train", "val", "test"}

    Returns
    -------
    dict
        ``{"<split>_acc": float, "<split>_loss": float, "<split>_error_confidence": float}``
        for each split.

    Examples
    --------
    >>> from regcode.data import load_digits
    >>> from regcode.seeds import streams
    >>> digits = load_digits(streams(0).data, n_train=100)
    >>> model, _ = train_digits_mlp(digits, streams(0), lr=0.05, epochs=2, hidden=(16,))
    >>> sorted(digits_scores(model, digits, splits=("val",)))
    ['val_acc', 'val_error_confidence', 'val_loss']
    """
    if isinstance(splits, str):
        raise TypeError(f"splits must be a sequence of split names, got the string {splits!r}")
    splits = tuple(splits)
    for split in splits:
        check_choice(split, "splits[i]", ("train", "val", "test"))
    _check_digits(digits, splits)
    scores = {}
    for split in splits:
        logits, y = predict(model, getattr(digits, f"X_{split}")), getattr(digits, f"y_{split}")
        wrong = logits.argmax(axis=1) != y  # the same scores as train.evaluate, from one forward pass
        scores[f"{split}_acc"] = float(np.mean(~wrong))
        scores[f"{split}_loss"] = softmax_cross_entropy(logits, y)[0]
        confidence = softmax(logits[wrong]).max(axis=1).mean() if wrong.any() else np.nan
        scores[f"{split}_error_confidence"] = float(confidence)
    return scores
