"""Inverted dropout, the functional core of chapter 3.

``p`` is the probability of DROPPING a unit (PyTorch's convention; CS231n
and early Keras code pass the keep probability ``1 - p`` instead). In
training each entry of ``x`` is zeroed with probability ``p`` and the
survivors are scaled by ``1 / (1 - p)``, so that ``E[out] = x``; in
evaluation dropout is the identity.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_dtype, check_rng, check_scalar


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
