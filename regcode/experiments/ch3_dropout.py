"""Chapter 3's experiments: dropout at prediction time (Monte Carlo dropout).

The dropout kernels are in :mod:`regcode.dropout` and the layer in
:class:`regcode.layers.Dropout`; this module runs a trained network with its
dropout masks still on, to average over sampled sub-networks and to measure
how much their outputs disagree (Gal & Ghahramani, 2016).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_bool, check_int, check_rng
from ..layers import Dropout, Module


def _dropout_layers(model):
    if not isinstance(model, Module):
        raise TypeError(f"model must be a regcode Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, Dropout) and m.p > 0]
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
    modes = [(m, m.training) for m in model.modules()]
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


def mc_dropout_predict(model, X, n_samples, rng, *, softmax=False):
    r"""Monte Carlo dropout (Gal & Ghahramani, 2016): mean and spread over T sampled masks.

    .. math:: \hat\mu(x) = \frac1T \sum_{t=1}^T f_{m_t}(x),\qquad
              \hat\sigma(x) = \Big(\frac1T \sum_{t=1}^T \big(f_{m_t}(x) - \hat\mu(x)\big)^2\Big)^{1/2}

    where :math:`f_{m_t}` is the network with the t-th set of dropout masks
    (see :func:`mc_dropout_samples`). With ``softmax=True`` the outputs are
    turned into class probabilities before averaging (the arithmetic mean of
    the ensemble of sampled sub-networks).

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
    softmax = check_bool(softmax, "softmax")
    samples = mc_dropout_samples(model, X, n_samples, rng)
    if softmax:
        samples = np.exp(samples - samples.max(axis=-1, keepdims=True))
        samples /= samples.sum(axis=-1, keepdims=True)
    return samples.mean(axis=0), samples.std(axis=0)
