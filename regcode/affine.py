r"""The fully connected layer and the ReLU as forward/backward pairs, CS231n style.

Each ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes
the upstream gradient ``dout`` and that cache. :class:`regcode.layers.Linear`
and :class:`regcode.layers.ReLU` are thin wrappers around them.

Shapes: ``x`` is a batch of N samples with D features, (N, D); the weight
matrix ``w`` is (D, M), so the layer computes ``x @ w + b`` of shape (N, M).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_array


class AffineCache(NamedTuple):
    """What :func:`affine_backward` needs from the forward pass."""

    x: np.ndarray  # input, shape (N, D)
    w: np.ndarray  # weights, shape (D, M)
    has_bias: bool


def affine_forward(x, w, b=None):
    r"""Fully connected layer :math:`y = x W + b`.

    Parameters
    ----------
    x : ndarray of shape (N, D)
    w : ndarray of shape (D, M)
    b : ndarray of shape (M,), optional

    Returns
    -------
    out : ndarray of shape (N, M)
    cache : AffineCache

    Raises
    ------
    TypeError
        If an array is not float32 or float64.
    ValueError
        If the shapes do not fit or an array holds NaN or infinity.

    Examples
    --------
    >>> import numpy as np
    >>> out, _ = affine_forward(np.array([[1.0, 2.0]]), np.array([[1.0], [1.0]]), np.array([0.5]))
    >>> out
    array([[3.5]])
    """
    x = check_array(x, "x", ndim=2)
    w = check_array(w, "w", ndim=2)
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"w must have {x.shape[1]} rows (the columns of x), got shape {w.shape}")
    if b is not None:
        b = check_array(b, "b", ndim=1)
        if b.shape != (w.shape[1],):
            raise ValueError(f"b must have shape ({w.shape[1]},) to match w {w.shape}, got {b.shape}")
    return _affine_forward(x, w, b)


def _affine_forward(x, w, b):
    """The arithmetic of :func:`affine_forward` (layers check their input once, at the model's boundary)."""
    out = x @ w
    if b is not None:
        out += b
    return out, AffineCache(x, w, b is not None)


def affine_backward(dout, cache):
    r"""Gradients of :math:`y = xW + b`.

    .. math:: \frac{\partial L}{\partial x} = g W^\top,\quad
              \frac{\partial L}{\partial W} = x^\top g,\quad
              \frac{\partial L}{\partial b} = \sum_i g_i

    with :math:`g = \partial L/\partial y` (``dout``).

    Parameters
    ----------
    dout : ndarray of shape (N, M)
    cache : AffineCache from :func:`affine_forward`

    Returns
    -------
    dx : ndarray of shape (N, D)
    dw : ndarray of shape (D, M)
    db : ndarray of shape (M,), or None without a bias
    """
    dout = check_array(dout, "dout", ndim=2)
    expected = (cache.x.shape[0], cache.w.shape[1])
    if dout.shape != expected:
        raise ValueError(f"dout must have shape {expected} (the forward output), got {dout.shape}")
    return _affine_backward(dout, cache)


def _affine_backward(dout, cache):
    db = dout.sum(axis=0) if cache.has_bias else None
    return dout @ cache.w.T, cache.x.T @ dout, db


def relu_forward(x):
    r"""Rectified linear unit :math:`\max(x, 0)`, elementwise.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    out : ndarray, same shape as ``x``
    cache : ndarray of bool
        Where ``x > 0``: the entries the gradient passes through.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([-1.0, 0.0, 2.0])
    >>> out, mask = relu_forward(x)
    >>> mask
    array([False, False,  True])
    >>> bool(np.array_equal(out, np.maximum(x, 0.0)))  # out is x * mask: it prints -0. for x = -1
    True
    """
    return _relu_forward(check_array(x, "x"))


def _relu_forward(x):
    positive = x > 0
    return x * positive, positive


def relu_backward(dout, cache):
    r"""Gradient of the ReLU: ``dout`` where the input was positive, 0 elsewhere.

    At :math:`x = 0` the ReLU is not differentiable; we use the subgradient 0,
    as PyTorch does.

    Parameters
    ----------
    dout : ndarray, same shape as the forward input
    cache : ndarray of bool from :func:`relu_forward`

    Returns
    -------
    dx : ndarray, same shape as ``dout``
    """
    dout = check_array(dout, "dout")
    if dout.shape != cache.shape:
        raise ValueError(f"dout must have shape {cache.shape} (the forward input), got {dout.shape}")
    return _relu_backward(dout, cache)


def _relu_backward(dout, cache):
    return dout * cache
