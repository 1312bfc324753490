"""Chapter 2's experiments: subgradient against proximal descent, and cross-validation of lambda.

The solvers the book recommends are in :mod:`regcode.linear_model`
(:func:`~regcode.linear_model.lasso` by accelerated proximal gradient,
:func:`~regcode.linear_model.ridge` in closed form); this module holds what
chapter 2 builds around them to show a point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_array, check_choice, check_int, check_rng, check_scalar
from ..data import kfold_indices
from ..linear_model import _check_lams, _check_xy, lasso_path, ridge
from ..penalties import soft_threshold


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
