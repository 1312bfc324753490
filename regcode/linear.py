"""Penalised least squares without intercept: ridge, lasso and the lasso path.

The objectives are the ones chapter 2 writes down, for ``X`` of shape (m, n)
and ``y`` of shape (m,):

* ridge:  ``(1 / 2m) * ||y - X w||^2 + (lam / 2) * ||w||^2``
* lasso:  ``(1 / 2m) * ||y - X w||^2 + lam * ||w||_1``

They equal scikit-learn's ``Ridge(alpha=m * lam, fit_intercept=False)`` and
``Lasso(alpha=lam, fit_intercept=False)``. There is no intercept: centre
``y`` and the columns of ``X`` first (``regcode.data`` does).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_int, check_scalar
from .penalties import soft_threshold


def _check_xy(X, y):
    X = check_array(X, "X", ndim=2, min_rows=1)
    y = check_array(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have {X.shape[0]} entries (one per row of X), got {y.shape[0]}")
    return X, y


def ridge(X, y, lam):
    r"""Closed-form ridge regression.

    Solves :math:`\min_w \frac{1}{2m}\|y - Xw\|^2 + \frac{\lambda}{2}\|w\|^2`, i.e.

    .. math:: w = (X^\top X + m\lambda I)^{-1} X^\top y
                = X^\top (X X^\top + m\lambda I)^{-1} y ,

    using whichever of the two linear systems is smaller. With ``lam = 0``
    it returns the minimum-norm least-squares solution (``numpy.linalg.lstsq``),
    which is also the limit of ridge as :math:`\lambda \to 0`.

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    lam : float >= 0

    Returns
    -------
    w : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> np.round(ridge(X, np.array([1.0, 2.0, 3.0]), lam=0.0), 6)
    array([1., 2.])
    """
    X, y = _check_xy(X, y)
    lam = check_scalar(lam, "lam", low=0)
    m, n = X.shape
    if lam == 0.0:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    if n <= m:
        return np.linalg.solve(X.T @ X + m * lam * np.eye(n, dtype=X.dtype), X.T @ y)
    return X.T @ np.linalg.solve(X @ X.T + m * lam * np.eye(m, dtype=X.dtype), y)


def lasso_lam_max(X, y):
    r"""Smallest :math:`\lambda` whose lasso solution is all zeros.

    .. math:: \lambda_{\max} = \|X^\top y\|_\infty / m
    """
    X, y = _check_xy(X, y)
    return float(np.max(np.abs(X.T @ y)) / X.shape[0])


def _lasso_gram(gram, xty, lam, w0, step, tol, max_iter):
    """FISTA with adaptive restart on the Gram form of the lasso.

    ``gram = X^T X / m`` and ``xty = X^T y / m``, so the gradient of the
    smooth part is ``gram @ w - xty``. Stops when the proximal-gradient step
    moves ``w`` by less than ``tol`` (infinity norm) or after ``max_iter``.
    Returns ``(w, n_iter)``; ``w`` is the output of a prox step, so its zeros
    are exact.
    """
    w = w0.copy()
    z = w.copy()
    t = 1.0
    for it in range(1, max_iter + 1):
        w_next = soft_threshold(z - step * (gram @ z - xty), step * lam)
        if np.max(np.abs(w_next - w)) < tol:
            return w_next, it
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        # Restart the momentum when it points uphill (O'Donoghue & Candes, 2015).
        if np.dot(z - w_next, w_next - w) > 0:
            t_next = 1.0
            z = w_next
        else:
            z = w_next + ((t - 1.0) / t_next) * (w_next - w)
        w, t = w_next, t_next
    return w, max_iter


def lasso(X, y, lam, *, w0=None, tol=1e-10, max_iter=100_000):
    r"""Lasso by proximal gradient descent (FISTA with restarts).

    Minimises :math:`\frac{1}{2m}\|y - Xw\|^2 + \lambda\|w\|_1`. Each step is a
    gradient step on the squared error followed by :func:`~regcode.penalties.soft_threshold`,
    so coefficients that the penalty removes are exactly 0.

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    lam : float >= 0
    w0 : ndarray of shape (n,), optional
        Starting point (warm start); zeros by default.
    tol : float > 0
        Stop when one step changes no coefficient by more than ``tol``.
    max_iter : int >= 1

    Returns
    -------
    w : ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    >>> lasso(X, np.array([2.0, 0.1, -2.0, -0.1]), lam=0.2)
    array([0.8, 0. ])
    """
    X, y = _check_xy(X, y)
    lam = check_scalar(lam, "lam", low=0)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", low=1)
    m, n = X.shape
    if w0 is None:
        w0 = np.zeros(n, dtype=X.dtype)
    else:
        w0 = check_array(w0, "w0", ndim=1)
        if w0.shape != (n,):
            raise ValueError(f"w0 must have shape ({n},), got {w0.shape}")
    gram = X.T @ X / m
    xty = X.T @ y / m
    step = 1.0 / max(np.linalg.eigvalsh(gram)[-1], np.finfo(X.dtype).tiny)
    return _lasso_gram(gram, xty, lam, w0, step, tol, max_iter)[0]


def lasso_path(X, y, lams, *, tol=1e-10, max_iter=100_000):
    r"""Lasso solutions along a grid of strengths, with warm starts.

    Solves :func:`lasso` for each value in ``lams``, in the given order, each
    solve starting from the previous solution. Pass ``lams`` from large to
    small (as scikit-learn does): the solutions then change little between
    neighbours and each solve is short.

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    lams : array-like of shape (k,), each >= 0

    Returns
    -------
    coefs : ndarray of shape (k, n)
        Row ``i`` is the solution for ``lams[i]``. (scikit-learn's
        ``lasso_path`` returns the transpose, shape (n, k).)
    """
    X, y = _check_xy(X, y)
    lams = np.asarray(lams, dtype=float)
    if lams.ndim != 1 or lams.size == 0:
        raise ValueError(f"lams must be a non-empty 1-D sequence, got shape {lams.shape}")
    if not np.all(np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError("lams must be finite and >= 0")
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", low=1)
    m, n = X.shape
    gram = X.T @ X / m
    xty = X.T @ y / m
    step = 1.0 / max(np.linalg.eigvalsh(gram)[-1], np.finfo(X.dtype).tiny)
    coefs = np.empty((lams.size, n), dtype=X.dtype)
    w = np.zeros(n, dtype=X.dtype)
    for i, lam in enumerate(lams):
        w, _ = _lasso_gram(gram, xty, lam, w, step, tol, max_iter)
        coefs[i] = w
    return coefs
