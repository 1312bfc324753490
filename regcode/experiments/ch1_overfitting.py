"""Overfitting and underfitting: the experiments of chapter 1.

Polynomial least squares on the synthetic problem of
:func:`regcode.data.make_regression_1d` (validation curves, learning curves
and a Monte Carlo bias-variance decomposition), an over-parameterised MLP on
the digits (:func:`train_mlp`, :func:`classifier_scores`), a sharpness proxy
for the minima that SGD and full-batch gradient descent find
(:func:`sharpness_proxy`), and minimum-norm least squares on random ReLU
features (double descent). The stopping rule of
early stopping is :func:`regcode.train.early_stopping_epoch`, the rule that
:func:`regcode.train.fit` applies.

Fits reuse :func:`regcode.data.polynomial_features` and
:func:`regcode.linear_model.ridge`; with ``lam=0`` the latter is the minimum-norm
least-squares solution (``numpy.linalg.lstsq``), which is the unique least-
squares solution when the columns are independent and the interpolating
solution of smallest norm when there are more columns than rows.

Errors are mean squared errors :math:`\\frac1m\\sum_i (\\hat y_i - y_i)^2`
(no factor 1/2: these are reported errors, not training objectives).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._validation import (
    check_array,
    check_bool,
    check_choice,
    check_dtype,
    check_int,
    check_int_sequence,
    check_labels,
    check_rng,
    check_scalar,
    check_targets,
)
from ..data import Split, make_regression_1d, polynomial_features, true_function
from ..layers import Module, mlp
from ..linear_model import ridge
from ..losses import log_softmax, softmax_cross_entropy
from ..optim import SGD, Adam
from ..seeds import Streams
from ..train import evaluate, fit, predict


def _check_pair(x, y, x_name, y_name):
    x = check_array(x, x_name, ndim=1, min_rows=1)
    y = check_array(y, y_name, ndim=1)
    if y.shape != x.shape:
        raise ValueError(f"{y_name} must have the shape of {x_name} {x.shape}, got {y.shape}")
    return x, y


def _mse(pred, y):
    return float(np.mean((pred - y) ** 2))


# ---------------------------------------------------------------------------
# Polynomial regression
# ---------------------------------------------------------------------------


def fit_polynomial(x, y, degree):
    r"""Least-squares polynomial of the given degree (minimum norm if underdetermined).

    Minimises :math:`\sum_i (y_i - \sum_{j=0}^{d} c_j x_i^j)^2` with
    :func:`regcode.linear_model.ridge` at ``lam=0``. With ``degree + 1 > len(x)``
    the polynomial interpolates the data and the coefficients of smallest
    Euclidean norm are returned.

    Parameters
    ----------
    x, y : ndarray of shape (m,)
        Keep ``x`` in [-1, 1] (see :func:`regcode.data.polynomial_features`).
    degree : int >= 0

    Returns
    -------
    coef : ndarray of shape (degree + 1,)
        ``coef[j]`` multiplies ``x**j``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([-1.0, 0.0, 0.5, 1.0])
    >>> np.round(fit_polynomial(x, 2 + x - 3 * x**2, degree=2), 6)
    array([ 2.,  1., -3.])
    """
    x, y = _check_pair(x, y, "x", "y")
    degree = check_int(degree, "degree", low=0)
    return ridge(polynomial_features(x, degree), y, lam=0.0)


def predict_polynomial(coef, x):
    r"""Evaluate the polynomial :math:`\hat f(x) = \sum_j c_j x^j` at the points ``x``.

    Parameters
    ----------
    coef : ndarray of shape (d + 1,)
        Coefficients :math:`c_0, \dots, c_d`, constant term first (as :func:`fit_polynomial` returns them).
    x : ndarray of shape (m,)

    Returns
    -------
    ndarray of shape (m,)
    """
    coef = check_array(coef, "coef", ndim=1, min_rows=1)
    x = check_array(x, "x", ndim=1)
    return polynomial_features(x, coef.shape[0] - 1) @ coef


def polynomial_errors(x_train, y_train, x_eval, y_eval, degrees):
    """Training and evaluation MSE of least-squares polynomials, one per degree.

    Parameters
    ----------
    x_train, y_train : ndarray of shape (m,)
    x_eval, y_eval : ndarray of shape (k,)
        Held-out data (validation or test).
    degrees : sequence of int >= 0

    Returns
    -------
    train_mse, eval_mse : ndarray of shape (len(degrees),)
    """
    x_train, y_train = _check_pair(x_train, y_train, "x_train", "y_train")
    x_eval, y_eval = _check_pair(x_eval, y_eval, "x_eval", "y_eval")
    degrees = check_int_sequence(degrees, "degrees", low=0)
    train_mse = np.empty(degrees.size)
    eval_mse = np.empty(degrees.size)
    for i, degree in enumerate(degrees):
        coef = fit_polynomial(x_train, y_train, degree)
        train_mse[i] = _mse(predict_polynomial(coef, x_train), y_train)
        eval_mse[i] = _mse(predict_polynomial(coef, x_eval), y_eval)
    return train_mse, eval_mse


def polynomial_learning_curve(degree, sizes, rng, *, n_repeats=20, n_val=1000, noise_std=0.3, average="mean"):
    """Training and validation MSE against the training-set size, averaged over fresh training sets.

    One validation set of ``n_val`` points is drawn first; then, for every
    size and repeat, a new training set is drawn from
    :func:`regcode.data.make_regression_1d` and a polynomial of ``degree``
    is fitted to it.

    With few points per coefficient the validation errors are heavy-tailed:
    a training set that leaves a gap near an end of the interval gives a
    polynomial that shoots off there, and such rare fits dominate the mean.
    ``average="median"`` reports the typical fit instead.

    Parameters
    ----------
    degree : int >= 0
    sizes : sequence of int >= 1
        Training-set sizes m.
    rng : numpy.random.Generator
    n_repeats : int >= 1
        Training sets per size; the errors are averaged over them.
    n_val : int >= 1
    noise_std : float >= 0
    average : {"mean", "median"}
        How the errors of the ``n_repeats`` fits are summarised.

    Returns
    -------
    train_mse, val_mse : ndarray of shape (len(sizes),)
        Means (or medians) over the repeats.
    """
    degree = check_int(degree, "degree", low=0)
    sizes = check_int_sequence(sizes, "sizes", low=1)
    check_rng(rng)
    n_repeats = check_int(n_repeats, "n_repeats", low=1)
    n_val = check_int(n_val, "n_val", low=1)
    noise_std = check_scalar(noise_std, "noise_std", low=0)
    if average not in ("mean", "median"):
        raise ValueError(f"average must be 'mean' or 'median', got {average!r}")
    summarise = np.mean if average == "mean" else np.median
    x_val, y_val = make_regression_1d(n_val, rng, noise_std=noise_std)
    errors = np.empty((2, sizes.size, n_repeats))  # (train/val, size, repeat)
    for i, size in enumerate(sizes):
        for r in range(n_repeats):
            x, y = make_regression_1d(size, rng, noise_std=noise_std)
            coef = fit_polynomial(x, y, degree)
            errors[0, i, r] = _mse(predict_polynomial(coef, x), y)
            errors[1, i, r] = _mse(predict_polynomial(coef, x_val), y_val)
    train_mse, val_mse = summarise(errors, axis=2)
    return train_mse, val_mse


# ---------------------------------------------------------------------------
# Bias-variance decomposition
# ---------------------------------------------------------------------------


def bias_variance(predictions, f_true):
    r"""Squared bias and variance of predictions made by models fitted to R training sets.

    With :math:`\hat f_r(x_j)` the prediction of the model fitted to training
    set :math:`r` at test input :math:`x_j` and :math:`\bar f(x_j)` its mean
    over the R training sets,

    .. math::
        \mathrm{bias}^2 = \frac1n \sum_j \big(\bar f(x_j) - f(x_j)\big)^2 ,\qquad
        \mathrm{variance} = \frac1n \sum_j \frac1R \sum_r \big(\hat f_r(x_j) - \bar f(x_j)\big)^2 .

    The variance uses 1/R (not 1/(R-1)), so that
    ``bias2 + variance`` equals the mean of :math:`(\hat f_r(x_j) - f(x_j))^2`
    over r and j exactly. The estimate of the squared bias is then inflated by
    ``variance / R`` on average (the sampling error of the mean prediction).

    Parameters
    ----------
    predictions : ndarray of shape (R, n)
        Row r: predictions at the n test inputs of the model fitted to training set r.
    f_true : ndarray of shape (n,)
        The noiseless target at the same inputs.

    Returns
    -------
    bias2, variance : float

    Examples
    --------
    >>> import numpy as np
    >>> bias_variance(np.array([[1.0, 2.0], [3.0, 2.0]]), np.array([0.0, 2.0]))
    (2.0, 0.5)
    """
    predictions = check_array(predictions, "predictions", ndim=2, min_rows=1)
    f_true = check_array(f_true, "f_true", ndim=1)
    if f_true.shape != predictions.shape[1:]:
        raise ValueError(
            f"f_true must have shape ({predictions.shape[1]},) (one entry per column of predictions), "
            f"got {f_true.shape}"
        )
    mean_prediction = predictions.mean(axis=0)
    bias2 = float(np.mean((mean_prediction - f_true) ** 2))
    variance = float(np.mean(predictions.var(axis=0)))
    return bias2, variance


@dataclass
class BiasVariance:
    """Result of :func:`polynomial_bias_variance`; every array has one entry per degree.

    Attributes
    ----------
    degrees : ndarray of int
    bias2, variance : ndarray
        Estimated by :func:`bias_variance` from the refitted models.
    noise : float
        The noise variance :math:`\\sigma^2` of the data (known for synthetic data).
    test_mse : ndarray
        Measured expected test error: the test MSE of each refitted model on
        its own fresh noisy test labels, averaged over the training sets.
    test_mse_median : ndarray
        Median over the training sets of the same test MSEs.
    """

    degrees: np.ndarray
    bias2: np.ndarray
    variance: np.ndarray
    noise: float
    test_mse: np.ndarray
    test_mse_median: np.ndarray

    @property
    def total(self):
        """``bias2 + variance + noise``: the decomposition's prediction of ``test_mse``."""
        return self.bias2 + self.variance + self.noise


def polynomial_bias_variance(degrees, rng, *, n_train=30, n_repeats=300, n_test=500, noise_std=0.3):
    r"""Monte Carlo bias-variance decomposition of polynomial least squares.

    Draws ``n_test`` test inputs once, then ``n_repeats`` independent training
    sets of ``n_train`` points (inputs and noise both random). For each degree,
    a polynomial is fitted to every training set and evaluated at the test
    inputs; :func:`bias_variance` summarises the predictions. Each training
    set also gets its own fresh noisy test labels
    :math:`y = f(x) + \epsilon`, and its test MSE is measured directly, so that

    .. math:: \mathbb{E}[\text{test MSE}] = \mathrm{bias}^2 + \mathrm{variance} + \sigma^2

    can be checked numerically. The same training sets and test labels are
    used for every degree.

    Parameters
    ----------
    degrees : sequence of int >= 0
    rng : numpy.random.Generator
    n_train : int >= 1
    n_repeats : int >= 2
    n_test : int >= 1
    noise_std : float >= 0

    Returns
    -------
    BiasVariance
    """
    degrees = check_int_sequence(degrees, "degrees", low=0)
    check_rng(rng)
    n_train = check_int(n_train, "n_train", low=1)
    n_repeats = check_int(n_repeats, "n_repeats", low=2)
    n_test = check_int(n_test, "n_test", low=1)
    noise_std = check_scalar(noise_std, "noise_std", low=0)
    x_test, _ = make_regression_1d(n_test, rng, noise_std=noise_std)
    f_test = true_function(x_test)
    x_train, y_train = make_regression_1d(n_repeats * n_train, rng, noise_std=noise_std)
    x_train = x_train.reshape(n_repeats, n_train)
    y_train = y_train.reshape(n_repeats, n_train)
    y_test = f_test + noise_std * rng.standard_normal((n_repeats, n_test))

    k = degrees.size
    out = {name: np.empty(k) for name in ("bias2", "variance", "test_mse", "test_mse_median")}
    for i, degree in enumerate(degrees):
        test_features = polynomial_features(x_test, degree)
        predictions = np.stack(
            [test_features @ fit_polynomial(x_train[r], y_train[r], degree) for r in range(n_repeats)]
        )
        out["bias2"][i], out["variance"][i] = bias_variance(predictions, f_test)
        test_mse = np.mean((predictions - y_test) ** 2, axis=1)
        out["test_mse"][i] = test_mse.mean()
        out["test_mse_median"][i] = np.median(test_mse)
    return BiasVariance(degrees=degrees, noise=noise_std**2, **out)


# ---------------------------------------------------------------------------
# An over-parameterised network on the digits
# ---------------------------------------------------------------------------


def train_mlp(
    data,
    rngs,
    *,
    hidden=(128, 128),
    lr=3e-3,
    epochs=150,
    batch_size=32,
    patience=None,
    optimizer="adam",
    validation=True,
):
    """Build a ReLU MLP for ``data`` and train it with Adam (or plain SGD), recording learning curves.

    The network is ``mlp((d, *hidden, n_classes))`` with no regularisation,
    in the dtype of ``data.X_train``; :func:`regcode.train.fit` trains it on
    the cross-entropy and records the loss and accuracy on the training and
    validation splits after every epoch. Initial weights come from
    ``rngs.init`` and the batch order from ``rngs.batches``, so two calls
    with fresh streams of the same seed (``streams(seed)``) make exactly the
    same updates, epoch for epoch: a run with ``patience`` retraces the
    first epochs of a run without it.

    Parameters
    ----------
    data : regcode.data.Split
        With a validation split (``X_val``, ``y_val``) and integer labels.
    rngs : regcode.seeds.Streams
        Fresh streams, e.g. ``streams(seed)``; ``init`` and ``batches`` are used.
    hidden : sequence of int >= 1
        Widths of the hidden layers.
    lr : float > 0
        The learning rate :math:`\\eta` of the optimiser.
    epochs : int >= 1
    batch_size : int >= 1
        The mini-batch size N; ``batch_size >= m`` (the number of training
        images) gives full-batch gradient descent.
    patience : int >= 1, optional
        Early stopping on the validation loss, with the best weights restored
        (:func:`regcode.train.fit`); ``None`` trains for all ``epochs``.
    optimizer : {"adam", "sgd"}
        ``"adam"``: :class:`regcode.optim.Adam` with its default betas;
        ``"sgd"``: plain :class:`regcode.optim.SGD`, no momentum, no weight
        decay: :math:`\\theta \\leftarrow \\theta - \\eta\\,\\hat g_B`.
    validation : bool
        Record the training and validation loss and accuracy after every
        epoch (the default). ``False`` scores the training split after the
        last epoch only (``fit(..., every_epoch=False)``), which is faster;
        ``patience`` must then be ``None``.

    Returns
    -------
    model : regcode.layers.Sequential
    history : regcode.train.History

    Raises
    ------
    TypeError
        If ``data`` is not a ``Split``, ``rngs`` not a ``Streams`` or
        ``validation`` not a bool.
    ValueError
        If ``data`` has no validation split (with ``validation=True``),
        ``patience`` is given without validation, ``optimizer`` is unknown,
        or a setting is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.data import load_digits
    >>> from regcode.seeds import streams
    >>> data = load_digits(streams(0).data, n_train=50)
    >>> model, history = train_mlp(data, streams(0), hidden=(16,), epochs=3)
    >>> history.epochs, len(history.val_loss)
    (3, 3)
    """
    if not isinstance(data, Split):
        raise TypeError(
            f"data must be a regcode.data.Split (e.g. from load_digits), got {type(data).__name__}"
        )
    validation = check_bool(validation, "validation")
    if validation and (data.X_val is None or data.y_val is None):
        raise ValueError("data must have a validation split (val_size > 0), or pass validation=False")
    if not isinstance(rngs, Streams):
        raise TypeError(f"rngs must be a regcode.seeds.Streams (e.g. streams(0)), got {type(rngs).__name__}")
    X_train = check_array(data.X_train, "data.X_train", ndim=2, min_rows=1)
    y_train = check_labels(data.y_train, "data.y_train", X_train.shape[0])
    hidden = [int(h) for h in check_int_sequence(hidden, "hidden", low=1)]
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False)
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if patience is not None:
        patience = check_int(patience, "patience", low=1)
        if not validation:
            raise ValueError("patience needs the validation curve: pass validation=True")
    optimizer = check_choice(optimizer, "optimizer", ("adam", "sgd"))
    labels = [y_train, data.y_val] if validation else [y_train]
    n_classes = int(max(np.max(y) for y in labels)) + 1
    model = mlp((X_train.shape[1], *hidden, n_classes), rngs.init, dtype=X_train.dtype)
    params = model.parameters()
    history = fit(
        model,
        softmax_cross_entropy,
        Adam(params, lr=lr) if optimizer == "adam" else SGD(params, lr=lr),
        X_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        rng=rngs.batches,
        X_val=data.X_val if validation else None,
        y_val=data.y_val if validation else None,
        every_epoch=validation,
        patience=patience,
    )
    return model, history


class ClassifierScores(NamedTuple):
    """What :func:`classifier_scores` returns, three floats.

    ``loss`` is the mean cross-entropy (nats), ``accuracy`` the fraction
    classified correctly, and ``error_confidence`` the mean probability the
    model puts on its predicted class over the misclassified samples (NaN
    when there are none).
    """

    loss: float
    accuracy: float
    error_confidence: float


def classifier_scores(model, X, y):
    r"""Cross-entropy, accuracy and confidence on its mistakes of a classifier, in evaluation mode.

    With :math:`p_i = \mathrm{softmax}(z_i)` the predicted probabilities of
    sample i and :math:`E` the misclassified samples
    (:math:`\arg\max_k p_{ik} \ne y_i`), the confidence on errors is
    :math:`\frac{1}{|E|}\sum_{i \in E} \max_k p_{ik}`: how sure the model is
    when it is wrong. Overconfident models have it close to 1.

    Parameters
    ----------
    model : regcode.layers.Module
        Outputs logits of shape (n, K).
    X : ndarray of shape (n, d)
    y : ndarray of int, shape (n,), values in [0, K)

    Returns
    -------
    ClassifierScores

    Raises
    ------
    TypeError
        If ``model`` is not a regcode Module, ``X`` is not a float array or
        ``y`` does not hold integer labels.
    ValueError
        If the shapes of ``X`` and ``y`` disagree or a label is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import Linear
    >>> layer = Linear(2, 2, np.random.default_rng(0))
    >>> layer.weight.data[:] = [[10.0, 0.0], [0.0, 10.0]]
    >>> layer.bias.data[:] = 0.0
    >>> scores = classifier_scores(layer, np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 0]))
    >>> round(scores.accuracy, 2), round(scores.error_confidence, 4)
    (0.5, 1.0)
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")
    X = check_array(X, "X", ndim=2, min_rows=1)
    logits = predict(model, X)
    y = check_labels(y, "y", X.shape[0], logits.shape[1])
    loss, _ = softmax_cross_entropy(logits, y)
    probs = np.exp(log_softmax(logits))
    wrong = probs.argmax(axis=1) != y
    confidence = float(probs[wrong].max(axis=1).mean()) if wrong.any() else float("nan")
    return ClassifierScores(float(loss), float(np.mean(~wrong)), confidence)


def sharpness_proxy(model, X, y, rng, *, rho=0.05, n_draws=10, per_layer=True, loss_fn=softmax_cross_entropy):
    r"""Mean increase of the loss under random weight perturbations of relative size ``rho``.

    A sharpness proxy: a flat minimum hardly notices a small random move of
    its weights, a sharp one does. Each of ``n_draws`` draws moves every
    parameter array :math:`W` (each weight matrix and each bias vector) to

    .. math::
        W + \rho\,\frac{\lVert W\rVert_F}{\sqrt{n_W}}\,Z_W ,\qquad Z_W \sim \mathcal N(0, I),

    with :math:`n_W` the number of entries of :math:`W`, so that the move has
    :math:`\mathbb E\lVert\delta_W\rVert^2 = \rho^2\lVert W\rVert_F^2`: every
    array moves by about ``rho`` times its own norm. The proxy is the mean over
    the draws of :math:`L(\theta + \delta) - L(\theta)`, the loss ``loss_fn`` on
    ``(X, y)`` in evaluation mode. To second order in :math:`\rho` its
    expectation is :math:`\frac12\sum_W \sigma_W^2 \operatorname{tr} H_{WW}`, with
    :math:`\sigma_W = \rho\lVert W\rVert_F/\sqrt{n_W}` and :math:`H_{WW}` the block
    of the Hessian of :math:`W` (the gradient term has mean zero); for a loss
    that is quadratic in the weights this is exact.

    Scaled per array, the proxy does not change when the weights and bias of
    a layer followed by a ReLU are multiplied by :math:`c > 0` and the weights
    of the next layer by :math:`1/c`, which leaves the network's function
    unchanged (the perturbed networks are rescaled in the same way). With
    ``per_layer=False`` every
    entry gets the same scale :math:`\sigma = \rho\lVert\theta\rVert/\sqrt{n}`
    (all parameters as one vector :math:`\theta` of :math:`n` entries), an
    isotropic move in parameter space: then such a rescaling can make the same
    function look much sharper or flatter (Dinh et al., 2017).

    Parameters
    ----------
    model : regcode.layers.Module
    X : ndarray of shape (m, d)
        Usually the training inputs: the proxy measures the training loss around the minimum found.
    y : ndarray of shape (m,)
        Integer labels (or float targets, with a regression ``loss_fn``).
    rng : numpy.random.Generator
        Draws the perturbations :math:`Z_W`, parameter by parameter in
        ``model.parameters()`` order; the same generator state gives the same
        draws for every model with the same parameter shapes.
    rho : float >= 0
        Relative size of the perturbation (0 gives 0.0).
    n_draws : int >= 1
    per_layer : bool
        Scale each parameter array by its own norm (default) or all of them by the global norm.
    loss_fn : callable
        ``loss_fn(output, y) -> (loss, doutput)``.

    Returns
    -------
    float
        The mean increase of the loss over the draws (nats for the cross-entropy).
        The model's parameters are restored exactly afterwards.

    Raises
    ------
    TypeError
        If ``model`` is not a regcode Module, ``X`` is not a float array,
        ``rng`` is not a Generator, ``per_layer`` is not a bool or ``loss_fn``
        is not callable.
    ValueError
        If the shapes of ``X`` and ``y`` disagree, ``rho < 0`` or ``n_draws < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import Linear
    >>> from regcode.losses import half_mse
    >>> layer = Linear(3, 1, np.random.default_rng(0))
    >>> X, y = np.ones((4, 3)), np.zeros((4, 1))
    >>> sharpness_proxy(layer, X, y, np.random.default_rng(1), rho=0.0, loss_fn=half_mse)
    0.0
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")
    X = check_array(X, "X", ndim=2, min_rows=1)
    y = check_targets(y, "y", X.shape[0])
    check_rng(rng)
    rho = check_scalar(rho, "rho", low=0)
    n_draws = check_int(n_draws, "n_draws", low=1)
    per_layer = check_bool(per_layer, "per_layer")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    params = model.parameters()
    saved = [p.data.copy() for p in params]
    if per_layer:
        scales = [rho * float(np.linalg.norm(w)) / np.sqrt(w.size) for w in saved]
    else:
        n_total = sum(w.size for w in saved)
        global_norm = float(np.sqrt(sum(np.sum(w.astype(np.float64) ** 2) for w in saved)))
        scales = [rho * global_norm / np.sqrt(n_total)] * len(saved)
    base, _ = evaluate(model, loss_fn, X, y)
    increases = np.empty(n_draws)
    try:
        for k in range(n_draws):
            for p, w, scale in zip(params, saved, scales, strict=True):
                p.data[...] = w + scale * rng.standard_normal(w.shape)
            increases[k] = evaluate(model, loss_fn, X, y)[0] - base
    finally:
        for p, w in zip(params, saved, strict=True):
            p.data[...] = w
    return float(increases.mean())


# ---------------------------------------------------------------------------
# Random ReLU features and double descent
# ---------------------------------------------------------------------------


class RandomReLUFeatures:
    r"""Fixed random ReLU features :math:`\phi(x) = \max(x W + b, 0) / \sqrt{P}`.

    A one-hidden-layer ReLU network whose first layer is drawn once and
    frozen; only a linear model on top of :math:`\phi` is fitted. The
    :math:`1/\sqrt{P}` keeps :math:`\phi(x)^\top \phi(x')` of order 1 as the
    number of features P grows, so that a ridge penalty means the same for
    every P (it does not change least-squares predictions). (P, not N: the
    book's N is the mini-batch size.)

    Parameters
    ----------
    in_features : int >= 1
    n_features : int >= 1
        P, the number of features.
    rng : numpy.random.Generator
    bias_std : float >= 0
        Standard deviation of the biases :math:`b` (the weights :math:`W` are
        :math:`\mathcal N(0, 1/\text{in\_features})`).
    dtype : float32 or float64

    Attributes
    ----------
    weight : ndarray of shape (in_features, n_features)
    bias : ndarray of shape (n_features,)
    """

    def __init__(self, in_features, n_features, rng, *, bias_std=1.0, dtype=np.float64):
        self.in_features = check_int(in_features, "in_features", low=1)
        self.n_features = check_int(n_features, "n_features", low=1)
        check_rng(rng)
        bias_std = check_scalar(bias_std, "bias_std", low=0)
        dtype = check_dtype(dtype)
        weight = rng.standard_normal((self.in_features, self.n_features)) / np.sqrt(self.in_features)
        self.weight = weight.astype(dtype)
        self.bias = (bias_std * rng.standard_normal(self.n_features)).astype(dtype)

    def transform(self, X):
        r"""The random ReLU features of ``X``.

        Parameters
        ----------
        X : ndarray of shape (m, in_features)

        Returns
        -------
        ndarray of shape (m, n_features)
            :math:`\max(X W + b, 0) / \sqrt{P}`.
        """
        X = check_array(X, "X", ndim=2)
        if X.shape[1] != self.in_features:
            raise ValueError(f"X must have {self.in_features} columns, got shape {X.shape}")
        # A Python float keeps float32 features float32 (a numpy float64 scalar would promote them).
        return np.maximum(X @ self.weight + self.bias, 0.0) / float(np.sqrt(self.n_features))

    __call__ = transform

    def __repr__(self):
        return f"RandomReLUFeatures({self.in_features}, {self.n_features})"


@dataclass
class DoubleDescent:
    """Result of :func:`random_features_curve`; arrays have shape (n_seeds, len(n_features)).

    Attributes
    ----------
    n_features : ndarray of int
    train_mse, test_mse : ndarray
        Squared error summed over the outputs, averaged over samples.
    test_error : ndarray or None
        Test classification error (argmax of the outputs) for integer labels.
    coef_norm : ndarray
        Euclidean (Frobenius) norm of the fitted output weights.
    """

    n_features: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    test_error: np.ndarray | None
    coef_norm: np.ndarray


def _targets(y, name):
    """Check integer class labels or float regression targets of shape (m,)."""
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.integer):
        if y.ndim != 1 or y.size == 0:
            raise ValueError(f"{name} must be a non-empty 1-D array of labels, got shape {y.shape}")
        if y.min() < 0:
            raise ValueError(f"{name} must hold labels >= 0, got a minimum of {y.min()}")
        return y
    return check_array(y, name, ndim=1, min_rows=1)


def random_features_curve(
    X_train, y_train, X_test, y_test, n_features, rng, *, lam=0.0, n_seeds=3, bias_std=1.0
):
    r"""Train and test error of ridge on random ReLU features, against the number of features.

    For each seed and each P in ``n_features``, draws :class:`RandomReLUFeatures`
    and fits :func:`regcode.linear_model.ridge` to the features of the training set.
    With ``lam=0`` this is minimum-norm least squares: the least-squares fit
    for P below the number of training points m, and the interpolating fit of
    smallest norm above it. Test error peaks at the interpolation threshold,
    the smallest P at which the features can fit the m training targets
    exactly (double descent; Belkin et al., 2019). That is P = m when the
    m x P feature matrix has full rank; a feature that is zero on every
    training input (a "dead" ReLU unit, possible when ``bias_std > 0``) does
    not count, and moves the threshold to a larger P.

    Integer labels ``y_*`` are regressed as one-hot vectors (all classes
    in one ridge solve; each column is the ridge fit to one class) and the
    classification error of the argmax is reported as well; float targets
    are regressed directly.

    Parameters
    ----------
    X_train : ndarray of shape (m, d)
    y_train : ndarray of shape (m,), int labels or float targets
    X_test : ndarray of shape (k, d)
    y_test : ndarray of shape (k,), same kind as ``y_train``
    n_features : sequence of int >= 1
    rng : numpy.random.Generator
        Draws the features; the same ``rng`` state gives the same features
        whatever ``lam`` is, so that curves for several ``lam`` are comparable.
    lam : float >= 0
        Ridge strength (objective of :func:`regcode.linear_model.ridge`).
    n_seeds : int >= 1
        Independent feature draws.
    bias_std : float >= 0
        Passed to :class:`RandomReLUFeatures`. With ``bias_std=0`` and inputs
        centred on the training set, every unit is positive on at least one
        training input (its pre-activations sum to zero), so none is dead.

    Returns
    -------
    DoubleDescent
    """
    X_train = check_array(X_train, "X_train", ndim=2, min_rows=1)
    X_test = check_array(X_test, "X_test", ndim=2, min_rows=1)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_test must have {X_train.shape[1]} columns (as X_train), got {X_test.shape}")
    y_train = _targets(y_train, "y_train")
    y_test = _targets(y_test, "y_test")
    if y_train.shape != (X_train.shape[0],):
        raise ValueError(f"y_train must have shape ({X_train.shape[0]},), got {y_train.shape}")
    if y_test.shape != (X_test.shape[0],):
        raise ValueError(f"y_test must have shape ({X_test.shape[0]},), got {y_test.shape}")
    classification = np.issubdtype(y_train.dtype, np.integer)
    if classification != np.issubdtype(y_test.dtype, np.integer):
        raise TypeError("y_train and y_test must both be integer labels or both be float targets")
    n_features = check_int_sequence(n_features, "n_features", low=1)
    check_rng(rng)
    lam = check_scalar(lam, "lam", low=0)
    n_seeds = check_int(n_seeds, "n_seeds", low=1)
    bias_std = check_scalar(bias_std, "bias_std", low=0)

    if classification:
        n_classes = int(max(y_train.max(), y_test.max())) + 1
        Y_train = np.eye(n_classes, dtype=X_train.dtype)[y_train]
        Y_test = np.eye(n_classes, dtype=X_train.dtype)[y_test]
    else:
        Y_train, Y_test = y_train[:, None], y_test[:, None]
    shape = (n_seeds, n_features.size)
    train_mse, test_mse, coef_norm = np.empty(shape), np.empty(shape), np.empty(shape)
    test_error = np.empty(shape) if classification else None
    for s in range(n_seeds):
        for j, n in enumerate(n_features):
            features = RandomReLUFeatures(
                X_train.shape[1], int(n), rng, bias_std=bias_std, dtype=X_train.dtype
            )
            F_train, F_test = features(X_train), features(X_test)
            W = ridge(F_train, Y_train, lam)  # all outputs in one solve
            P_train, P_test = F_train @ W, F_test @ W
            train_mse[s, j] = np.mean(np.sum((P_train - Y_train) ** 2, axis=1))
            test_mse[s, j] = np.mean(np.sum((P_test - Y_test) ** 2, axis=1))
            coef_norm[s, j] = np.linalg.norm(W)
            if classification:
                test_error[s, j] = np.mean(P_test.argmax(axis=1) != y_test)
    return DoubleDescent(
        n_features=n_features,
        train_mse=train_mse,
        test_mse=test_mse,
        test_error=test_error,
        coef_norm=coef_norm,
    )


__all__ = [
    "BiasVariance",
    "ClassifierScores",
    "DoubleDescent",
    "RandomReLUFeatures",
    "bias_variance",
    "classifier_scores",
    "fit_polynomial",
    "polynomial_bias_variance",
    "polynomial_errors",
    "polynomial_learning_curve",
    "predict_polynomial",
    "random_features_curve",
    "sharpness_proxy",
    "train_mlp",
]
