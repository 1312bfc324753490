"""Inverted dropout, the functional core of chapter 3.

``p`` is the probability of DROPPING a unit (PyTorch's convention; CS231n
and early Keras code pass the keep probability ``1 - p`` instead). In
training each entry of ``x`` is zeroed with probability ``p`` and the
survivors are scaled by ``1 / (1 - p)``, so that ``E[out] = x``; in
evaluation dropout is the identity.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_dtype, check_int, check_rng, check_scalar


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
    """:func:`dropout_forward` without input checks (layers check once, at their boundary)."""
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

    Returns ``(out, mask)`` where ``mask`` is the 0/1 keep-mask (``None`` in evaluation).
    """
    x = check_array(x, "x")
    p = _check_p(p)
    if not train:
        return x * x.dtype.type(1.0 - p), None
    check_rng(rng)
    mask = (rng.random(x.shape, dtype=x.dtype) >= p).astype(x.dtype)
    return x * mask, mask


# --- Chapter 3: dropout at prediction time (Monte Carlo dropout, mask ensembles) ---


def _modules(model):
    """``model`` and every nested layer, depth first."""
    yield model
    for child in model.children():
        yield from _modules(child)


def _dropout_layers(model):
    from .layers import Dropout, Module  # imported here: regcode.layers imports this module

    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")
    layers = [m for m in _modules(model) if isinstance(m, Dropout) and m.p > 0]
    if not layers:
        raise ValueError("model must contain at least one Dropout layer with p > 0")
    return layers


def mc_dropout_samples(model, X, n_samples, rng):
    r"""Outputs of ``n_samples`` stochastic forward passes: dropout on, everything else in eval mode.

    Each pass draws fresh dropout masks from ``rng``; every other layer
    (batch norm in particular) is in evaluation mode. The modes and the
    dropout layers' own generators are restored afterwards, so the call does
    not change the model or disturb its training stream of masks.

    Parameters
    ----------
    model : regcode.layers.Module
        Must contain at least one :class:`regcode.layers.Dropout` with ``p > 0``.
    X : ndarray of shape (N, D)
    n_samples : int >= 1
        Number of passes T (sampled masks).
    rng : numpy.random.Generator
        Source of the masks.

    Returns
    -------
    samples : ndarray of shape (T, N, K)
        ``samples[t]`` is the model output for the t-th set of masks.

    Raises
    ------
    TypeError
        If ``model`` is not a regcode Module, ``X`` not a float array, ``n_samples``
        not an integer or ``rng`` not a Generator.
    ValueError
        If ``model`` has no dropout layer with ``p > 0`` (every pass would be
        identical), or ``X`` is not 2-D and finite.
    """
    layers = _dropout_layers(model)
    X = check_array(X, "X", ndim=2, min_rows=1)
    n_samples = check_int(n_samples, "n_samples", low=1)
    check_rng(rng)
    modes = [(m, m.training) for m in _modules(model)]
    own_rngs = [layer.rng for layer in layers]
    model.eval()
    for layer in layers:
        layer.training, layer.rng = True, rng
    try:
        return np.stack([model.forward(X) for _ in range(n_samples)])
    finally:
        for m, mode in modes:
            m.training = mode
        for layer, own in zip(layers, own_rngs, strict=True):
            layer.rng = own


def _softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def mc_dropout_predict(model, X, n_samples, rng, *, softmax=False):
    r"""Monte Carlo dropout (Gal & Ghahramani, 2016): mean and spread over T sampled masks.

    .. math:: \hat\mu(x) = \frac1T \sum_{t=1}^T f_{m_t}(x),\qquad
              \hat\sigma(x) = \Big(\frac1T \sum_{t=1}^T \big(f_{m_t}(x) - \hat\mu(x)\big)^2\Big)^{1/2}

    where :math:`f_{m_t}` is the network with the t-th set of dropout masks
    (see :func:`mc_dropout_samples`). With ``softmax=True`` the outputs are
    turned into class probabilities before averaging, so the mean is the
    arithmetic mask ensemble of :func:`mask_ensemble_predict`.

    Parameters
    ----------
    model : regcode.layers.Module
    X : ndarray of shape (N, D)
    n_samples : int >= 1
    rng : numpy.random.Generator
    softmax : bool
        Average softmax probabilities instead of raw outputs (classification).

    Returns
    -------
    mean, std : ndarrays of shape (N, K)
        Sample mean and (population, ``ddof=0``) standard deviation over the T passes.

    Examples
    --------
    >>> import numpy as np
    >>> from regcode.layers import mlp
    >>> rng = np.random.default_rng(0)
    >>> model = mlp((1, 16, 1), rng, drop_prob=0.5)
    >>> mean, std = mc_dropout_predict(model, np.zeros((3, 1)) + 1.0, n_samples=20, rng=rng)
    >>> mean.shape, std.shape, bool(np.all(std > 0))
    ((3, 1), (3, 1), True)
    """
    if not isinstance(softmax, bool):
        raise TypeError(f"softmax must be a bool, got {type(softmax).__name__}")
    samples = mc_dropout_samples(model, X, n_samples, rng)
    if softmax:
        samples = _softmax(samples)
    return samples.mean(axis=0), samples.std(axis=0)


def mask_ensemble_predict(model, X, n_samples, rng, *, average="arithmetic"):
    r"""Class probabilities of the ensemble of ``n_samples`` sampled dropout sub-networks.

    With :math:`z_t` the logits of the t-th sampled sub-network:

    * ``"arithmetic"``: :math:`\frac1T \sum_t \mathrm{softmax}(z_t)`, the usual
      ensemble average (and the MC dropout prediction);
    * ``"geometric"``: the renormalised geometric mean
      :math:`\propto \prod_t \mathrm{softmax}(z_t)^{1/T}`, which equals
      :math:`\mathrm{softmax}(\frac1T \sum_t z_t)`.

    For a single linear layer followed by softmax, the geometric mean over
    all masks is exactly the weight-scaling (evaluation-mode) prediction
    (Hinton et al., 2012); through hidden nonlinearities it is an approximation.

    Parameters
    ----------
    model : regcode.layers.Module
        Outputs logits of shape (N, K).
    X : ndarray of shape (N, D)
    n_samples : int >= 1
    rng : numpy.random.Generator
    average : {"arithmetic", "geometric"}

    Returns
    -------
    probs : ndarray of shape (N, K), rows summing to 1
    """
    if average not in ("arithmetic", "geometric"):
        raise ValueError(f"average must be 'arithmetic' or 'geometric', got {average!r}")
    samples = mc_dropout_samples(model, X, n_samples, rng)
    if average == "geometric":
        return _softmax(samples.mean(axis=0))
    return _softmax(samples).mean(axis=0)
