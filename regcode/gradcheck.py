"""Centred finite differences for checking backward passes (chapter 3 and 4 show them)."""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_scalar


def numerical_gradient(f, x, h=1e-5):
    r"""Gradient of a scalar function by centred differences.

    .. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

    The error is :math:`O(h^2)`. ``x`` is perturbed in place and restored.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a float; it must read ``x`` at call time.
    x : ndarray of float64
    h : float > 0

    Returns
    -------
    grad : ndarray, same shape as ``x``
    """
    return numerical_gradient_array(lambda z: np.asarray(f(z), dtype=float), x, np.array(1.0), h)


def numerical_gradient_array(f, x, dout, h=1e-5):
    r"""Vector-Jacobian product :math:`J_f(x)^\top\,dout` by centred differences.

    For an array-valued ``f`` this is the gradient of :math:`\sum f(x) \odot dout`,
    the quantity a backward pass returns when it receives ``dout``.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns an array of the shape of ``dout``.
    x : ndarray of float64
        Perturbed in place and restored.
    dout : ndarray
    h : float > 0

    Returns
    -------
    grad : ndarray, same shape as ``x``
    """
    x = check_array(x, "x")
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for finite differences, got {x.dtype}")
    h = check_scalar(h, "h", low=0, low_inclusive=False)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.array(f(x), copy=True)
        x[i] = old - h
        minus = np.array(f(x), copy=True)
        x[i] = old
        grad[i] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def rel_error(a, b):
    r"""Largest elementwise relative error :math:`\max_i \frac{|a_i - b_i|}{\max(10^{-8}, |a_i| + |b_i|)}`.

    A correct float64 backward pass usually gives below 1e-7; 1e-2 or more
    means a bug.

    Parameters
    ----------
    a, b : array-like of the same shape
        Typically an analytic gradient and :func:`numerical_gradient`'s estimate.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``a`` and ``b`` have different shapes.

    Examples
    --------
    >>> import numpy as np
    >>> round(rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])), 6)  # 0.2 / (2 + 2.2)
    0.047619
    >>> x = np.array([1.0, -2.0, 3.0])
    >>> rel_error(2 * x, numerical_gradient(lambda z: np.sum(z**2), x)) < 1e-7  # the gradient of sum(x**2)
    True
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
