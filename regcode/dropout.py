"""Inverted dropout, the functional core of chapter 3.

``p`` is the probability of DROPPING a unit (PyTorch's convention; CS231n
and early Keras code pass the keep probability ``1 - p`` instead). In
training each entry of ``x`` is zeroed with probability ``p`` and the
survivors are scaled by ``1 / (1 - p)``, so that ``E[out] = x``; in
evaluation dropout is the identity.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_array, check_dtype, check_rng, check_scalar
from .affine import AffineCache, affine_backward, affine_forward


def _check_p(p):
    return check_scalar(p, "p", low=0, high=1, high_inclusive=False)


def dropout_mask(shape, p, rng, dtype=np.float64):
    r"""Sample a scaled keep-mask: entries are 0 w.p. ``p`` and ``1/(1-p)`` otherwise.

    Parameters
    ----------
    shape : tuple of int
    p : float in [0, 1)
        Drop probability.
    rng : numpy.random.Generator
    dtype : float32 or float64

    Returns
    -------
    mask : ndarray of ``shape`` and ``dtype``
    """
    p = _check_p(p)
    check_rng(rng)
    return _mask(shape, p, rng, check_dtype(dtype))


def _mask(shape, p, rng, dtype):
    keep = rng.random(shape, dtype=dtype) >= p
    return keep * dtype.type(1.0 / (1.0 - p))


def dropout_forward(x, p, rng, train=True):
    r"""Inverted dropout, forward pass.

    .. math:: \mathrm{out} = \frac{m \odot x}{1 - p},\qquad m_{ij} \sim \mathrm{Bernoulli}(1 - p)

    in training, and :math:`\mathrm{out} = x` in evaluation.

    Parameters
    ----------
    x : ndarray of float, any shape
        Input activations, e.g. shape (N, D).
    p : float in [0, 1)
        Probability of dropping each entry.
    rng : numpy.random.Generator
        Source of the mask. May be ``None`` when ``train=False``.
    train : bool
        Training (random mask) or evaluation (identity).

    Returns
    -------
    out : ndarray, same shape and dtype as ``x``
    cache : ndarray or None
        The scaled mask (``None`` in evaluation or when ``p = 0``), needed by
        :func:`dropout_backward`.

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = dropout_forward(np.ones((2, 4)), p=0.5, rng=np.random.default_rng(0))
    >>> out
    array([[2., 0., 0., 0.],
           [2., 2., 2., 2.]])
    """
    x = check_array(x, "x")
    p = _check_p(p)
    if train and p > 0.0:
        check_rng(rng)
    return _dropout_forward(x, p, rng, train)


def _dropout_forward(x, p, rng, train):
    """The arithmetic of :func:`dropout_forward` (layers check their input once, at the model's boundary)."""
    if not train or p == 0.0:
        return x, None
    mask = _mask(x.shape, p, rng, x.dtype)
    return x * mask, mask


def dropout_backward(dout, cache):
    r"""Inverted dropout, backward pass: :math:`dx = dout \odot m / (1 - p)`.

    The gradient flows only through the units that were kept in the forward
    pass, with the same scale: the forward mask must be reused, never resampled.

    Parameters
    ----------
    dout : ndarray, same shape as the forward input
    cache : ndarray or None
        Second return value of :func:`dropout_forward`.

    Returns
    -------
    dx : ndarray, same shape as ``dout``
    """
    dout = check_array(dout, "dout")
    if cache is not None and cache.shape != dout.shape:
        raise ValueError(f"dout must have shape {cache.shape} (the forward input), got {dout.shape}")
    return _dropout_backward(dout, cache)


def _dropout_backward(dout, cache):
    return dout if cache is None else dout * cache


def vanilla_dropout_forward(x, p, rng, train=True):
    r"""Dropout as first published (Srivastava et al., 2014): scale at test time.

    Training keeps each entry with probability :math:`1-p` and does not
    rescale; evaluation multiplies by :math:`1-p`. The expected training
    output, :math:`(1-p)x`, then equals the evaluation output. Inverted
    dropout moves the factor into training so that evaluation is the identity.

    .. math:: \mathrm{out} = m \odot x,\quad m_{ij} \sim \mathrm{Bernoulli}(1 - p)
              \ \text{(training)},\qquad
              \mathrm{out} = (1 - p)\,x\ \text{(evaluation)}

    Parameters
    ----------
    x : ndarray of float, any shape
        Input activations, e.g. shape (N, D).
    p : float in [0, 1)
        Probability of dropping each entry.
    rng : numpy.random.Generator
        Source of the mask. May be ``None`` when ``train=False``.
    train : bool
        Training (random mask, no scaling) or evaluation (scaling by :math:`1-p`).

    Returns
    -------
    out : ndarray, same shape and dtype as ``x``
    mask : ndarray or None
        The 0/1 keep-mask :math:`m`, same shape and dtype as ``x`` (``None`` in evaluation).

    Examples
    --------
    >>> import numpy as np
    >>> out, mask = vanilla_dropout_forward(np.ones((2, 4)), p=0.5, rng=np.random.default_rng(0))
    >>> out  # the mask of dropout_forward with the same seed, unscaled
    array([[1., 0., 0., 0.],
           [1., 1., 1., 1.]])
    >>> vanilla_dropout_forward(np.ones((1, 4)), p=0.5, rng=None, train=False)
    (array([[0.5, 0.5, 0.5, 0.5]]), None)
    """
    x = check_array(x, "x")
    p = _check_p(p)
    if not train:
        return x * x.dtype.type(1.0 - p), None
    check_rng(rng)
    mask = (rng.random(x.shape, dtype=x.dtype) >= p).astype(x.dtype)
    return x * mask, mask


def gaussian_dropout_forward(x, p, rng, train=True):
    r"""Gaussian dropout (Srivastava et al., 2014, §10): multiplicative Gaussian noise of mean 1.

    .. math:: \mathrm{out} = x \odot m,\qquad m_{ij} \sim \mathcal N\Big(1, \frac{p}{1-p}\Big)

    in training, and :math:`\mathrm{out} = x` in evaluation. The noise has the
    mean (1) and the variance (:math:`p/(1-p)`) of the scaled Bernoulli mask of
    inverted dropout with drop probability ``p``, so the two add the same
    variance :math:`x^2 p/(1-p)` to each unit; no unit is ever exactly zero.

    Parameters
    ----------
    x : ndarray of float, any shape
    p : float in [0, 1)
        The drop probability of the Bernoulli dropout whose variance it matches.
    rng : numpy.random.Generator
        Source of the noise. May be ``None`` when ``train=False``.
    train : bool

    Returns
    -------
    out : ndarray, same shape and dtype as ``x``
    cache : ndarray or None
        The noise ``m`` (``None`` in evaluation or when ``p = 0``), for
        :func:`gaussian_dropout_backward`.

    Examples
    --------
    >>> import numpy as np
    >>> out, m = gaussian_dropout_forward(np.ones(200_000), p=0.5, rng=np.random.default_rng(0))
    >>> round(float(out.mean()), 2), round(float(out.var()), 2)  # 1 and p / (1 - p) = 1
    (1.0, 1.0)
    """
    x = check_array(x, "x")
    p = _check_p(p)
    if not train or p == 0.0:
        return x, None
    check_rng(rng)
    noise = 1.0 + np.sqrt(p / (1.0 - p)) * rng.standard_normal(x.shape)
    noise = noise.astype(x.dtype, copy=False)
    return x * noise, noise


def gaussian_dropout_backward(dout, cache):
    r"""Backward pass of :func:`gaussian_dropout_forward`: :math:`dx = dout \odot m` with the forward noise.

    Parameters
    ----------
    dout : ndarray, same shape as the forward input
    cache : ndarray or None
        Second return value of :func:`gaussian_dropout_forward`.

    Returns
    -------
    dx : ndarray, same shape as ``dout``
    """
    return dropout_backward(dout, cache)


class DropConnectCache(NamedTuple):
    """What :func:`dropconnect_backward` needs from the forward pass."""

    affine: AffineCache  # the affine layer with the masked weights M * W / (1 - p)
    mask: np.ndarray | None  # the scaled mask M / (1 - p), None in evaluation or when p = 0


def dropconnect_forward(x, w, b, p, rng, train=True):
    r"""A fully connected layer with DropConnect (Wan et al., 2013): dropout on the weights.

    .. math:: \mathrm{out} = x\,\frac{M \odot W}{1 - p} + b,\qquad M_{jk} \sim \mathrm{Bernoulli}(1 - p)

    in training, and :math:`xW + b` in evaluation. Dropout (:func:`dropout_forward`)
    zeroes units, so every weight out of a dropped unit goes at once; DropConnect
    zeroes single connections. One mask is drawn per call and shared by the rows
    of the batch (Wan et al. draw one per example, which costs a weight matrix per
    example); survivors are scaled by :math:`1/(1-p)`, so evaluation uses the plain
    weights, as inverted dropout does (Wan et al. approximate the evaluation
    output by a Gaussian instead).

    Parameters
    ----------
    x : ndarray of shape (N, D)
    w : ndarray of shape (D, K)
    b : ndarray of shape (K,), or None
    p : float in [0, 1)
        Probability of dropping each weight.
    rng : numpy.random.Generator
        Source of the mask. May be ``None`` when ``train=False``.
    train : bool

    Returns
    -------
    out : ndarray of shape (N, K)
    cache : DropConnectCache
        ``(affine, mask)`` for :func:`dropconnect_backward`: the
        :class:`regcode.affine.AffineCache` of :math:`x\,(M \odot W)/(1-p) + b` and
        the scaled mask :math:`M/(1-p)` (``None`` in evaluation or when ``p = 0``).

    Examples
    --------
    >>> import numpy as np
    >>> out, cache = dropconnect_forward(np.ones((1, 4)), np.ones((4, 1)), None, p=0.5,
    ...                                  rng=np.random.default_rng(0))
    >>> cache.affine.w.ravel(), out  # one of the four weights kept, scaled by 1 / (1 - p) = 2
    (array([2., 0., 0., 0.]), array([[2.]]))
    """
    w = check_array(w, "w", ndim=2)
    p = _check_p(p)
    mask = None
    if train and p > 0.0:
        check_rng(rng)
        mask = _mask(w.shape, p, rng, w.dtype)
    out, affine = affine_forward(x, w if mask is None else w * mask, b)  # checks x, b and the shapes
    return out, DropConnectCache(affine, mask)


def dropconnect_backward(dout, cache):
    r"""Gradients of :func:`dropconnect_forward`, through the mask of the forward pass.

    .. math:: \frac{\partial L}{\partial x} = g\,\Big(\frac{M \odot W}{1-p}\Big)^{\!\top},\quad
              \frac{\partial L}{\partial W} = \frac{M}{1-p} \odot x^\top g,\quad
              \frac{\partial L}{\partial b} = \sum_i g_i

    with :math:`g = \partial L/\partial\,\mathrm{out}` (``dout``): a dropped weight gets no gradient.

    Parameters
    ----------
    dout : ndarray of shape (N, K)
    cache : DropConnectCache from :func:`dropconnect_forward`

    Returns
    -------
    dx : ndarray of shape (N, D)
    dw : ndarray of shape (D, K)
    db : ndarray of shape (K,), or None without a bias
    """
    dx, dw, db = affine_backward(dout, cache.affine)  # the affine gradients with the masked weights
    if cache.mask is not None:
        dw *= cache.mask  # then the chain rule through M / (1 - p): a dropped weight gets no gradient
    return dx, dw, db
