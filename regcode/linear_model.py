"""Penalised least squares without intercept: ridge, lasso, the lasso path and the objective.

The objectives are the ones chapter 2 writes down, for ``X`` of shape (m, n)
and ``y`` of shape (m,):

* ridge:  ``(1 / 2m) * ||y - X w||^2 + (lam / 2) * ||w||^2``
* lasso:  ``(1 / 2m) * ||y - X w||^2 + lam * ||w||_1``

They equal scikit-learn's ``Ridge(alpha=m * lam, fit_intercept=False)`` and
``Lasso(alpha=lam, fit_intercept=False)``. There is no intercept: centre
``y`` and the columns of ``X`` first (``regcode.data`` does).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._validation import check_array, check_choice, check_int, check_scalar
from .penalties import _soft_threshold, l1_grad, l1_penalty, l2_grad, l2_penalty


def _check_lams(lams):
    """Penalty strengths as a non-empty 1-D float array of finite values >= 0."""
    try:
        lams = np.asarray(lams, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"lams must be a sequence of real numbers, got {lams!r}") from exc
    if lams.ndim != 1 or lams.size == 0:
        raise ValueError(f"lams must be a non-empty 1-D sequence, got shape {lams.shape}")
    if not np.all(np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError("lams must be finite and >= 0")
    return lams


def _check_xy(X, y, y_ndim=1):
    X = check_array(X, "X", ndim=2, min_rows=1)
    y = check_array(y, "y", ndim=y_ndim)
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
    y : ndarray of shape (m,) or (m, k)
        One target, or k targets solved together (e.g. one-hot classes).
    lam : float >= 0

    Returns
    -------
    w : ndarray of shape (n,) or (n, k)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> np.round(ridge(X, np.array([1.0, 2.0, 3.0]), lam=0.0), 6)
    array([1., 2.])
    """
    X, y = _check_xy(X, y, y_ndim=(1, 2))
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

    At :math:`w = 0` the subgradient condition of the lasso objective is
    :math:`|X_j^\top y| / m \le \lambda` for every column j; a lasso path
    starts at this value (see :func:`lasso_path`).

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    >>> y = np.array([2.0, 0.1, -2.0, -0.1])
    >>> lasso_lam_max(X, y)  # X^T y / m = (1, 0.05)
    1.0
    >>> lasso(X, y, lam=1.0)
    array([0., 0.])
    """
    X, y = _check_xy(X, y)
    return float(np.max(np.abs(X.T @ y)) / X.shape[0])


_SUPPORT_GUESSES = 5  # active-set tries of _lasso_gram before it falls back to FISTA


def _support_solution(gram, xty, lam, guess):
    """The lasso solution if ``guess`` has its support and signs; ``None`` if that system is singular.

    A minimiser with support A and signs s satisfies ``gram[A, A] @ w[A] = xty[A] - lam * s``
    and ``w = 0`` off A (the optimality conditions with the subgradient of
    ``|w_j|`` equal to ``s_j``). Whether the guess was right is checked by the caller.
    """
    support = np.flatnonzero(guess)
    w = np.zeros_like(guess)
    if support.size:
        rhs = xty[support] - lam * np.sign(guess[support])
        try:
            w[support] = np.linalg.solve(gram[np.ix_(support, support)], rhs)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(w)):
            return None
    return w


def _lasso_gram(gram, xty, lam, w0, step, tol, max_iter):
    """Active-set guesses, then FISTA with adaptive restart, on the Gram form of the lasso.

    ``gram = X^T X / m`` and ``xty = X^T y / m``, so the gradient of the
    smooth part is ``gram @ w - xty``. Stops when the proximal-gradient step
    moves ``w`` by less than ``tol`` (infinity norm) or after ``max_iter``
    steps. Returns ``(w, n_iter)``; ``w`` is the output of a prox step, so its
    zeros are exact.

    Before iterating, it guesses that the solution has the support and signs
    of ``w0`` (a warm start from the neighbouring lasso strength usually has
    them), solves the optimality conditions on that support
    (:func:`_support_solution`) and takes one proximal-gradient step from
    there: if that step moves no coefficient by more than ``tol``, the point
    is a fixed point of the very step FISTA iterates and is returned. If not,
    the step's output (with a coefficient entering or leaving the support) is
    the next guess, less any coefficient whose sign the solve flipped. Each
    guess counts as one iteration; after ``_SUPPORT_GUESSES`` rejected
    guesses FISTA runs from ``w0``.
    """
    lam = float(lam)
    used = 0
    guess = w0
    while used < min(_SUPPORT_GUESSES, max_iter):
        candidate = _support_solution(gram, xty, lam, guess)
        if candidate is None:
            break
        used += 1
        flipped = np.sign(candidate) != np.sign(guess)
        guess = _soft_threshold(candidate - step * (gram @ candidate - xty), step * lam)
        if np.max(np.abs(guess - candidate)) < tol:
            return guess, used
        if used == max_iter:
            _warn_not_converged(max_iter, tol)
            return guess, used
        guess[flipped] = 0.0  # a coefficient that would change sign leaves the support first
    w = w0.copy()
    z = w.copy()
    t = 1.0
    for it in range(used + 1, max_iter + 1):
        w_next = _soft_threshold(z - step * (gram @ z - xty), step * lam)
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
    _warn_not_converged(max_iter, tol)
    return w, max_iter


class ConvergenceWarning(UserWarning):
    """The lasso solver stopped at ``max_iter`` before meeting ``tol``."""


def _warn_not_converged(max_iter, tol):
    warnings.warn(
        f"lasso did not converge in max_iter={max_iter} iterations (tol={tol:g}); "
        "the returned coefficients are not the minimiser: raise max_iter or tol",
        ConvergenceWarning,
        stacklevel=3,
    )


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
    >>> lasso(X, np.array([2.0, 0.1, -2.0, -0.1]), lam=0.2)  # X^T X / m = I / 2, X^T y / m = (1, 0.05)
    array([1.6, 0. ])
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
    tol : float > 0
        Tolerance of each solve, as in :func:`lasso`.
    max_iter : int >= 1
        Iteration limit of each solve, as in :func:`lasso`.

    Returns
    -------
    coefs : ndarray of shape (k, n)
        Row ``i`` is the solution for ``lams[i]``. (scikit-learn's
        ``lasso_path`` returns the transpose, shape (n, k).)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    >>> y = np.array([2.0, 0.1, -2.0, -0.1])
    >>> np.round(lasso_path(X, y, [1.0, 0.5, 0.0]), 6)  # coefficients enter as lambda decreases
    array([[0. , 0. ],
           [1. , 0. ],
           [2. , 0.1]])
    """
    X, y = _check_xy(X, y)
    lams = _check_lams(lams)
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


def penalized_loss(X, y, w, lam, kind="l2"):
    r"""The penalised least-squares objective of chapter 2 and its (sub)gradient.

    .. math::
        J_{\mathrm{L2}}(w) = \frac{1}{2m}\|y - Xw\|^2 + \frac{\lambda}{2}\|w\|_2^2, \qquad
        \nabla J_{\mathrm{L2}} = \frac{1}{m}X^\top(Xw - y) + \lambda w

        J_{\mathrm{L1}}(w) = \frac{1}{2m}\|y - Xw\|^2 + \lambda\|w\|_1, \qquad
        \partial J_{\mathrm{L1}} \ni \frac{1}{m}X^\top(Xw - y) + \lambda\,\mathrm{sign}(w)

    Parameters
    ----------
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    w : ndarray of shape (n,)
    lam : float >= 0
    kind : {"l2", "l1"}

    Returns
    -------
    loss : float
    grad : ndarray of shape (n,)
        The gradient (L2) or the subgradient with ``sign(0) = 0`` (L1).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> loss, grad = penalized_loss(X, np.array([1.0, 2.0]), np.array([1.0, 1.0]), lam=0.5, kind="l1")
    >>> loss, grad
    (1.0, array([0.5, 0.5]))
    """
    X, y = _check_xy(X, y)
    w = check_array(w, "w", ndim=1)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w must have shape ({X.shape[1]},), got {w.shape}")
    lam = check_scalar(lam, "lam", low=0)
    check_choice(kind, "kind", ("l1", "l2"))
    m = X.shape[0]
    resid = X @ w - y
    data_loss = float(resid @ resid / (2 * m))
    data_grad = X.T @ resid / m
    if kind == "l2":
        return data_loss + l2_penalty(w, lam), data_grad + l2_grad(w, lam)
    return data_loss + l1_penalty(w, lam), data_grad + l1_grad(w, lam)
