"""Chapter 5's experiments: the small measurements behind the answers of the FAQ.

- :func:`train_classifier` builds an MLP and its Adam optimiser from one seed and
  trains it (memorisation of shuffled labels, label smoothing);
- :func:`first_epoch_at` finds the first epoch a recorded curve reaches a level;
- :func:`ridge_intercept_predict` is ridge regression with an unpenalised intercept,
  and :func:`one_standard_error` the cross-validation minimum and the
  one-standard-error choice (choosing the strength);
- :func:`seconds_per_step` times one training step (the cost of regularisers);
- :func:`fit_temperature` fits the temperature of temperature scaling
  (calibration, the exercise on label smoothing).

The loops that *are* the answers (gradient descent, the folds of cross-validation,
the runs over seeds) stay in the chapter.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from .._validation import check_array, check_int, check_labels, check_scalar
from ..layers import Module, mlp
from ..linear_model import ridge
from ..losses import softmax, softmax_cross_entropy
from ..optim import SGD, Adam
from ..seeds import streams
from ..train import fit


def train_classifier(
    X_train,
    y_train,
    seed,
    *,
    sizes=(64, 256, 10),
    epochs=80,
    lr=1e-3,
    batch_size=32,
    label_smoothing=0.0,
    dtype=np.float64,
    X_val=None,
    y_val=None,
):
    r"""Build a ReLU MLP and its Adam optimiser from one seed, and train it with softmax cross-entropy.

    The seed's :func:`regcode.seeds.streams` draw the initial weights
    (``init``) and the order of the mini-batches (``batches``), so two calls
    with the same seed and different labels or ``label_smoothing`` start from
    the same weights and see the batches in the same order: only the targets
    differ. With :math:`\varepsilon` = ``label_smoothing`` and K classes the
    loss is the cross-entropy to :math:`(1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K`
    (:func:`regcode.losses.softmax_cross_entropy`).

    Parameters
    ----------
    X_train : ndarray of shape (m, sizes[0])
    y_train : ndarray of int, shape (m,), values in [0, sizes[-1])
    seed : int >= 0
    sizes : sequence of int
        Layer widths, input to output (:func:`regcode.layers.mlp`).
    epochs, batch_size : int >= 1
    lr : float > 0
        Adam's learning rate.
    label_smoothing : float in [0, 1)
    dtype : float32 or float64
        Of the weights; float64 keeps the result the same on every CPU and BLAS.
    X_val, y_val : optional validation data, recorded in the history after each epoch

    Returns
    -------
    model : regcode.layers.Sequential
        The trained network (in training mode).
    history : regcode.train.History

    Raises
    ------
    TypeError
        If ``seed``, ``epochs`` or ``batch_size`` is not an integer, ``lr`` or
        ``label_smoothing`` not a real number, or the data not float arrays
        and integer labels.
    ValueError
        If ``seed`` is negative, ``lr`` is not positive, ``label_smoothing``
        is outside [0, 1), or the data do not match ``sizes``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((40, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model, history = train_classifier(X, y, 0, sizes=(2, 16, 2), epochs=30, lr=1e-2, batch_size=8)
    >>> history.epochs, history.train_acc[-1] > 0.9
    (30, True)
    """
    seed = check_int(seed, "seed", low=0)
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    label_smoothing = check_scalar(label_smoothing, "label_smoothing", low=0, high=1, high_inclusive=False)
    rngs = streams(seed)
    model = mlp(sizes, rngs.init, dtype=dtype)
    loss_fn = partial(softmax_cross_entropy, label_smoothing=label_smoothing)
    history = fit(
        model,
        loss_fn,
        Adam(model.parameters(), lr=lr),
        X_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        rng=rngs.batches,
        X_val=X_val,
        y_val=y_val,
    )
    return model, history


def first_epoch_at(values, level):
    """The first epoch (1-based) at which a recorded curve reaches ``level``, or None.

    Parameters
    ----------
    values : sequence of float
        One value per epoch, e.g. ``History.train_acc``.
    level : float

    Returns
    -------
    int or None
        ``1 + min{i : values[i] >= level}``, or None if no value reaches it.

    Raises
    ------
    TypeError
        If ``values`` does not hold real numbers or ``level`` is not a real number.
    ValueError
        If ``values`` is empty, not 1-D, or holds NaN.

    Examples
    --------
    >>> first_epoch_at([0.5, 0.9, 1.0, 1.0], 1.0)
    3
    >>> first_epoch_at([0.5, 0.9], 1.0) is None
    True
    """
    arr = np.asarray(values)
    if arr.dtype == bool or arr.dtype.kind not in "fiu":
        raise TypeError(f"values must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {arr.shape}")
    if np.isnan(arr.astype(np.float64)).any():
        raise ValueError("values contains NaN")
    level = check_scalar(level, "level")
    reached = np.flatnonzero(arr >= level)
    return int(reached[0]) + 1 if reached.size else None


def ridge_intercept_predict(X_fit, y_fit, X_new, lam):
    r"""Fit ridge with an unpenalised intercept on ``(X_fit, y_fit)`` and predict at ``X_new``.

    The columns of ``X_fit`` and ``y_fit`` are centred with the means of the
    fitting data only, :func:`regcode.linear_model.ridge` solves
    :math:`\min_w \frac{1}{2m}\|y_c - X_c w\|^2 + \frac{\lambda}{2}\|w\|^2` on the
    centred data, and the prediction is
    :math:`(X_{new} - \bar x)\,w + \bar y`: the intercept
    :math:`\bar y - \bar x^\top w` is not shrunk.

    Parameters
    ----------
    X_fit : ndarray of shape (m, n)
    y_fit : ndarray of shape (m,)
    X_new : ndarray of shape (k, n)
    lam : float >= 0

    Returns
    -------
    ndarray of shape (k,)

    Raises
    ------
    TypeError
        If an array is not a float array or ``lam`` not a real number.
    ValueError
        If the shapes do not match or ``lam`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> np.round(ridge_intercept_predict(X, 5.0 + 2.0 * X[:, 0], np.array([[3.0]]), 0.0), 6)
    array([11.])
    """
    X_fit = check_array(X_fit, "X_fit", ndim=2, min_rows=1)
    y_fit = check_array(y_fit, "y_fit", ndim=1)
    if y_fit.shape[0] != X_fit.shape[0]:
        raise ValueError(
            f"y_fit must have {X_fit.shape[0]} entries (one per row of X_fit), got {y_fit.shape[0]}"
        )
    X_new = check_array(X_new, "X_new", ndim=2)
    if X_new.shape[1] != X_fit.shape[1]:
        raise ValueError(f"X_new must have {X_fit.shape[1]} columns like X_fit, got {X_new.shape[1]}")
    x_mean, y_mean = X_fit.mean(axis=0), y_fit.mean()
    w = ridge(X_fit - x_mean, y_fit - y_mean, lam)
    return (X_new - x_mean) @ w + y_mean


def one_standard_error(lams, mean, se):
    """The cross-validation minimum and the one-standard-error choice (Hastie et al., 2009).

    Parameters
    ----------
    lams : array-like of shape (k,)
        Strengths, strictly increasing.
    mean : array-like of shape (k,)
        Cross-validated error of each strength (mean over the folds).
    se : array-like of shape (k,), >= 0
        Its standard error.

    Returns
    -------
    best : int
        Index of the smallest ``mean`` (the first one in a tie).
    one_se : int
        Index of the largest strength whose ``mean`` is at most
        ``mean[best] + se[best]``: the most regularised value that the data
        cannot tell apart from the minimum. ``one_se >= best``.

    Raises
    ------
    TypeError
        If an argument is not a float array.
    ValueError
        If the shapes differ, ``lams`` is not strictly increasing, or ``se`` is negative.

    Examples
    --------
    >>> one_standard_error([0.01, 0.1, 1.0, 10.0], [0.50, 0.30, 0.34, 0.60], [0.05, 0.05, 0.05, 0.05])
    (1, 2)
    """
    lams = check_array(lams, "lams", ndim=1)
    if lams.size == 0 or np.any(np.diff(lams) <= 0):
        raise ValueError("lams must be a non-empty, strictly increasing sequence")
    mean = check_array(mean, "mean", ndim=1)
    se = check_array(se, "se", ndim=1)
    for name, arr in (("mean", mean), ("se", se)):
        if arr.shape != lams.shape:
            raise ValueError(f"{name} must have the shape of lams {lams.shape}, got {arr.shape}")
    if np.any(se < 0):
        raise ValueError("se must be >= 0")
    best = int(np.argmin(mean))
    one_se = int(np.flatnonzero(mean <= mean[best] + se[best]).max())
    return best, one_se


def seconds_per_step(model, X, y, *, n_steps=10, lr=0.01):
    """Mean CPU seconds of one SGD training step (forward, loss, backward, update).

    CPU time of this process (``time.process_time``) over ``n_steps`` steps on
    the same batch, divided by ``n_steps``. The steps change the model's
    weights. Timings vary from run to run and from machine to machine:
    compare them as ratios measured in the same session.

    Parameters
    ----------
    model : regcode.layers.Module
        A classifier (softmax cross-entropy on its output).
    X : ndarray of shape (B, D)
        One batch.
    y : ndarray of int, shape (B,)
    n_steps : int >= 1
    lr : float > 0

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``model`` is not a regcode Module or ``n_steps`` not an integer.
    ValueError
        If ``n_steps`` is below 1 or ``X`` is not 2-D.
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")
    X = check_array(X, "X", ndim=2, min_rows=1)
    n_steps = check_int(n_steps, "n_steps", low=1)
    optimizer = SGD(model.parameters(), lr=lr)
    model.train()
    start = time.process_time()
    for _ in range(n_steps):
        optimizer.zero_grad()
        _, dout = softmax_cross_entropy(model(X), y)
        model.backward(dout)
        optimizer.step()
    return (time.process_time() - start) / n_steps


def fit_temperature(logits, y, *, min_temperature=0.05, max_temperature=20.0, rtol=1e-10):
    r"""Temperature scaling (Guo et al., 2017): the T > 0 for which softmax(logits / T) fits ``y`` best.

    Minimises the mean cross-entropy of :math:`\mathrm{softmax}(z_i / T)` over
    held-out data (fit it on a validation set, never on the training set). With
    the inverse temperature :math:`\beta = 1/T` the loss

    .. math:: L(\beta) = \frac1m \sum_{i=1}^{m} \Big[\log \sum_k e^{\beta z_{ik}} - \beta z_{i y_i}\Big]

    is convex: :math:`L'(\beta) = \frac1m \sum_i \big(\sum_k p_{ik} z_{ik} - z_{i y_i}\big)`
    with :math:`p_i = \mathrm{softmax}(\beta z_i)`, and :math:`L''(\beta)` is
    the mean variance of :math:`z_i` under :math:`p_i`, never negative. So
    :math:`L'` does not decrease, and bisection on its sign finds the minimiser.
    T < 1 sharpens the probabilities (for an under-confident network), T > 1
    softens them (over-confident); the predicted classes do not change.

    Parameters
    ----------
    logits : ndarray of shape (m, K)
        Held-out logits, e.g. ``regcode.train.predict(model, X_val)``.
    y : ndarray of int, shape (m,)
        Their labels, in [0, K).
    min_temperature, max_temperature : float, 0 < min_temperature < max_temperature
        The search interval; a minimiser outside it is returned as the nearer end.
    rtol : float > 0
        Relative tolerance on T.

    Returns
    -------
    float
        The fitted temperature T.

    Raises
    ------
    TypeError
        If ``logits`` is not a float array, ``y`` does not hold integer labels,
        or a bound or ``rtol`` is not a real number.
    ValueError
        If ``logits`` is not 2-D and finite, ``y`` does not match it, or the
        bounds or ``rtol`` are not positive and ordered.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 2.0]])
    >>> round(fit_temperature(logits, np.array([0, 1, 0, 0])), 3)  # 3 of 4 right: p = 0.75 = sigmoid(2 / T)
    1.82
    """
    logits = check_array(logits, "logits", ndim=2, min_rows=1)
    y = check_labels(y, "y", logits.shape[0], logits.shape[1])
    min_temperature = check_scalar(min_temperature, "min_temperature", low=0, low_inclusive=False)
    max_temperature = check_scalar(
        max_temperature, "max_temperature", low=min_temperature, low_inclusive=False
    )
    rtol = check_scalar(rtol, "rtol", low=0, low_inclusive=False)
    true_logit = logits[np.arange(y.size), y]

    def slope(beta):  # L'(beta): expected logit under softmax(beta z) minus the true class's logit
        return np.mean(np.sum(softmax(beta * logits) * logits, axis=1) - true_logit)

    beta_low, beta_high = 1.0 / max_temperature, 1.0 / min_temperature
    if slope(beta_low) >= 0:  # L rises from the lowest beta on: the minimiser is at or beyond it
        return max_temperature
    if slope(beta_high) <= 0:  # L still falls at the highest beta
        return min_temperature
    while beta_high - beta_low > rtol * beta_low:  # invariant: slope(beta_low) < 0 < slope(beta_high)
        middle = np.sqrt(beta_low * beta_high)
        if slope(middle) < 0:
            beta_low = middle
        else:
            beta_high = middle
    return float(1.0 / np.sqrt(beta_low * beta_high))
