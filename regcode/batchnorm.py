"""Batch normalization and layer normalization, forward and backward (chapter 4).

Batch norm normalises each feature (column) of ``x`` of shape (N, D) with
the batch mean and the BIASED batch variance (divide by N), exactly as
``torch.nn.BatchNorm1d`` does in training:

.. math:: \\hat x = \\frac{x - \\mu_B}{\\sqrt{\\sigma_B^2 + \\varepsilon}},\\qquad
          y = \\gamma \\hat x + \\beta .

Layer norm applies the same formula to each sample (row) instead, with
statistics over its D features, so it does not depend on the batch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_array, check_scalar


class NormCache(NamedTuple):
    """What the backward pass of a normalisation needs from the forward pass."""

    xhat: np.ndarray  # normalised input, shape (N, D)
    inv_std: np.ndarray  # 1 / sqrt(var + eps): shape (D,) for BN, (N, 1) for LN
    gamma: np.ndarray  # scale, shape (D,)
    mean: np.ndarray  # the statistics used, shapes as inv_std
    var: np.ndarray  # biased variance


def _check_affine(x, gamma, beta):
    D = x.shape[1]
    gamma = check_array(gamma, "gamma", ndim=1)
    beta = check_array(beta, "beta", ndim=1)
    if gamma.shape != (D,):
        raise ValueError(f"gamma must have shape ({D},) to match x of shape {x.shape}, got {gamma.shape}")
    if beta.shape != (D,):
        raise ValueError(f"beta must have shape ({D},) to match x of shape {x.shape}, got {beta.shape}")
    return gamma, beta


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    r"""Batch norm in training mode: normalise each column with batch statistics.

    .. math::
        \mu_j = \frac1N \sum_i x_{ij},\quad
        \sigma_j^2 = \frac1N \sum_i (x_{ij} - \mu_j)^2,\quad
        y_{ij} = \gamma_j \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}} + \beta_j

    Parameters
    ----------
    x : ndarray of shape (N, D), N >= 2
    gamma, beta : ndarray of shape (D,)
    eps : float > 0

    Returns
    -------
    out : ndarray of shape (N, D)
    cache : NormCache
        ``cache.mean`` and ``cache.var`` are the batch mean and biased
        variance, shape (D,), which the running averages need.

    Raises
    ------
    ValueError
        For a batch of one sample: its variance is 0 and the output would be
        ``beta`` whatever ``x`` is (PyTorch raises too).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> out, _ = batchnorm_forward(x, np.ones(2), np.zeros(2))
    >>> np.round(out, 4)  # eps = 1e-5 makes the entries 1 / sqrt(1 + 1e-5) = 0.999995
    array([[-1., -1.],
           [ 1.,  1.]])
    """
    x = check_array(x, "x", ndim=2)
    if x.shape[0] < 2:
        raise ValueError(f"x must have at least 2 rows in training-mode batch norm, got shape {x.shape}")
    gamma, beta = _check_affine(x, gamma, beta)
    eps = check_scalar(eps, "eps", low=0, low_inclusive=False)
    return _batchnorm_forward(x, gamma, beta, eps)


def _batchnorm_forward_reference(x, gamma, beta, eps):
    """:func:`batchnorm_forward` without input checks, written as the formulas read."""
    mean = x.mean(axis=0)
    xc = x - mean
    var = np.mean(xc * xc, axis=0)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))
    xhat = xc * inv_std
    return xhat * gamma + beta, NormCache(xhat, inv_std, gamma, mean, var)


# Fast paths. Each performs the floating-point operations of its ``_reference`` twin in the
# same order, so the results are bit for bit the same (tests/test_perf_paths.py checks it),
# but writes them into two arrays instead of five to eight new ones, and calls the ufuncs
# directly. Training a small network spends much of its time in these functions.


def _mean(x, axis, keepdims=False):
    """``np.mean(x, axis=axis, keepdims=keepdims)`` of a float array, without numpy's Python layer.

    The two operations numpy performs (a sum, then an in-place division by the
    count as an ``intp``), hence the same bits.
    """
    total = np.add.reduce(x, axis=axis, keepdims=keepdims)
    return np.true_divide(total, np.intp(x.shape[axis]), out=total, casting="unsafe")


def _batchnorm_forward(x, gamma, beta, eps):
    """:func:`batchnorm_forward` without input checks (layers check once, at their boundary)."""
    if not (gamma.dtype == beta.dtype == x.dtype):
        return _batchnorm_forward_reference(x, gamma, beta, eps)
    mean = _mean(x, axis=0)
    xhat = np.subtract(x, mean)  # x - mean, normalised in place below
    out = np.multiply(xhat, xhat)
    var = _mean(out, axis=0)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))
    np.multiply(xhat, inv_std, out=xhat)
    np.multiply(xhat, gamma, out=out)
    out += beta
    return out, NormCache(xhat, inv_std, gamma, mean, var)


def batchnorm_backward(dout, cache):
    r"""Batch norm backward pass, compact closed form.

    With :math:`\hat x` and :math:`1/\sigma = 1/\sqrt{\sigma_B^2+\varepsilon}` from the forward pass:

    .. math::
        \frac{\partial L}{\partial \beta} = \sum_i g_i,\quad
        \frac{\partial L}{\partial \gamma} = \sum_i g_i \hat x_i,\quad
        \frac{\partial L}{\partial x_i} = \frac{\gamma}{N\sigma}
            \Big(N g_i - \sum_k g_k - \hat x_i \sum_k g_k \hat x_k\Big)

    where :math:`g = \partial L/\partial y` (``dout``). Chapter 4 derives it
    from the computation graph; :func:`batchnorm_backward_staged` is the
    step-by-step version, and the tests check that both agree.

    Parameters
    ----------
    dout : ndarray of shape (N, D)
    cache : NormCache from :func:`batchnorm_forward`

    Returns
    -------
    dx : ndarray of shape (N, D)
    dgamma, dbeta : ndarray of shape (D,)
    """
    return _batchnorm_backward(_check_dout(dout, cache), cache)


def _batchnorm_backward_reference(dout, cache):
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dx = (gamma * inv_std / n) * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def _batchnorm_backward(dout, cache):
    """Fast path of :func:`_batchnorm_backward_reference` (same operations, same bits)."""
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    if not (dout.dtype == xhat.dtype == inv_std.dtype == gamma.dtype):
        return _batchnorm_backward_reference(dout, cache)
    n = dout.shape[0]
    dbeta = np.add.reduce(dout, axis=0)
    work = np.multiply(dout, xhat)
    dgamma = np.add.reduce(work, axis=0)
    dx = np.multiply(dout, n)
    dx -= dbeta
    dx -= np.multiply(xhat, dgamma, out=work)
    dx *= gamma * inv_std / n
    return dx, dgamma, dbeta


def _check_dout(dout, cache):
    dout = check_array(dout, "dout", ndim=2)
    if dout.shape != cache.xhat.shape:
        raise ValueError(f"dout must have shape {cache.xhat.shape} (the forward input), got {dout.shape}")
    return dout


def batchnorm_backward_staged(dout, cache):
    """Batch norm backward pass, one node of the computation graph at a time.

    Slower and longer than :func:`batchnorm_backward` but follows the graph
    ``x -> (x - mu) -> var -> 1/sqrt(var + eps) -> xhat -> gamma*xhat + beta``
    node by node, as chapter 4 derives it. Same inputs and outputs.
    """
    dout = _check_dout(dout, cache)
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    n = dout.shape[0]
    xc = xhat / inv_std  # x - mu
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    # xhat = xc * inv_std: two paths into xc (directly and through var).
    dinv_std = np.sum(dxhat * xc, axis=0)
    dvar = dinv_std * (-0.5) * inv_std**3  # d/dvar of (var + eps)^(-1/2)
    dxc = dxhat * inv_std + dvar * 2.0 * xc / n  # var = mean(xc**2)
    dmu = -dxc.sum(axis=0)  # xc = x - mu
    dx = dxc + dmu / n  # mu = mean(x)
    return dx, dgamma, dbeta


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    r"""Batch norm in evaluation mode: normalise with the running statistics.

    .. math:: y = \gamma \frac{x - \hat\mu}{\sqrt{\hat\sigma^2 + \varepsilon}} + \beta

    An affine map of each feature, independent of the rest of the batch.

    Returns
    -------
    out : ndarray of shape (N, D)
    cache : NormCache, for :func:`batchnorm_inference_backward`
    """
    x = check_array(x, "x", ndim=2)
    gamma, beta = _check_affine(x, gamma, beta)
    D = x.shape[1]
    running_mean = check_array(running_mean, "running_mean", ndim=1)
    running_var = check_array(running_var, "running_var", ndim=1)
    for name, arr in (("running_mean", running_mean), ("running_var", running_var)):
        if arr.shape != (D,):
            raise ValueError(f"{name} must have shape ({D},), got {arr.shape}")
    if np.any(running_var < 0):
        raise ValueError("running_var must be >= 0")
    eps = check_scalar(eps, "eps", low=0, low_inclusive=False)
    return _batchnorm_inference(x, gamma, beta, running_mean, running_var, eps)


def _batchnorm_inference_reference(x, gamma, beta, running_mean, running_var, eps):
    inv_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype, copy=False)
    xhat = (x - running_mean.astype(x.dtype, copy=False)) * inv_std
    return xhat * gamma + beta, NormCache(xhat, inv_std, gamma, running_mean, running_var)


def _batchnorm_inference(x, gamma, beta, running_mean, running_var, eps):
    """Fast path of :func:`_batchnorm_inference_reference` (same operations, same bits)."""
    if not (gamma.dtype == beta.dtype == x.dtype):
        return _batchnorm_inference_reference(x, gamma, beta, running_mean, running_var, eps)
    inv_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype, copy=False)
    xhat = np.subtract(x, running_mean.astype(x.dtype, copy=False))
    xhat *= inv_std
    out = np.multiply(xhat, gamma)
    out += beta
    return out, NormCache(xhat, inv_std, gamma, running_mean, running_var)


def batchnorm_inference_backward(dout, cache):
    """Backward pass of :func:`batchnorm_inference`: the statistics are constants here."""
    return _batchnorm_inference_backward(_check_dout(dout, cache), cache)


def _batchnorm_inference_backward(dout, cache):
    return dout * (cache.gamma * cache.inv_std), np.sum(dout * cache.xhat, axis=0), dout.sum(axis=0)


def update_running_stats(running_mean, running_var, batch_mean, batch_var, n, momentum=0.1):
    r"""One update of the running statistics, as ``torch.nn.BatchNorm1d`` does it.

    .. math::
        \hat\mu \leftarrow (1-\alpha)\hat\mu + \alpha\mu_B,\qquad
        \hat\sigma^2 \leftarrow (1-\alpha)\hat\sigma^2 + \alpha\frac{N}{N-1}\sigma_B^2

    with :math:`\alpha` = ``momentum`` (0.1 in PyTorch). The batch variance
    used for normalising is biased (divide by N); the one stored is unbiased
    (divide by N - 1). Keras writes the same average with
    ``momentum = 1 - alpha`` (0.99 by default) and stores the biased variance.

    Parameters
    ----------
    running_mean, running_var : ndarray of shape (D,)
    batch_mean, batch_var : ndarray of shape (D,)
        Batch mean and biased batch variance (``cache.mean``, ``cache.var``).
    n : int >= 2
        Batch size N.
    momentum : float in [0, 1]

    Returns
    -------
    new_mean, new_var : ndarray of shape (D,)
    """
    running_mean = check_array(running_mean, "running_mean", ndim=1)
    stats = {"running_var": running_var, "batch_mean": batch_mean, "batch_var": batch_var}
    for name, arr in stats.items():
        if check_array(arr, name, ndim=1).shape != running_mean.shape:  # never broadcast silently
            raise ValueError(f"{name} must have shape {running_mean.shape} (running_mean's), got {arr.shape}")
    momentum = check_scalar(momentum, "momentum", low=0, high=1)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    return _update_running_stats(running_mean, running_var, batch_mean, batch_var, n, momentum)


def _update_running_stats(running_mean, running_var, batch_mean, batch_var, n, momentum):
    unbiased = batch_var * (n / (n - 1.0))
    new_mean = (1.0 - momentum) * running_mean + momentum * batch_mean
    new_var = (1.0 - momentum) * running_var + momentum * unbiased
    return new_mean.astype(running_mean.dtype, copy=False), new_var.astype(running_var.dtype, copy=False)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    r"""Layer norm: normalise each row of ``x`` over its D features.

    .. math:: y_{ij} = \gamma_j \frac{x_{ij} - \mu_i}{\sqrt{\sigma_i^2 + \varepsilon}} + \beta_j,
              \quad \mu_i = \frac1D\sum_j x_{ij},\ \sigma_i^2 = \frac1D\sum_j (x_{ij}-\mu_i)^2

    The same in training and evaluation, and valid for a batch of one
    (Ba et al., 2016). Matches ``torch.nn.LayerNorm(D)``.

    Parameters
    ----------
    x : ndarray of shape (N, D)
    gamma, beta : ndarray of shape (D,)
    eps : float > 0

    Returns
    -------
    out : ndarray of shape (N, D)
    cache : NormCache (statistics of shape (N, 1))
    """
    x = check_array(x, "x", ndim=2)
    gamma, beta = _check_affine(x, gamma, beta)
    eps = check_scalar(eps, "eps", low=0, low_inclusive=False)
    return _layernorm_forward(x, gamma, beta, eps)


def _layernorm_forward_reference(x, gamma, beta, eps):
    mean = x.mean(axis=1, keepdims=True)
    xc = x - mean
    var = np.mean(xc * xc, axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))
    xhat = xc * inv_std
    return xhat * gamma + beta, NormCache(xhat, inv_std, gamma, mean, var)


def _layernorm_forward(x, gamma, beta, eps):
    """Fast path of :func:`_layernorm_forward_reference` (same operations, same bits)."""
    if not (gamma.dtype == beta.dtype == x.dtype):
        return _layernorm_forward_reference(x, gamma, beta, eps)
    mean = _mean(x, axis=1, keepdims=True)
    xhat = np.subtract(x, mean)  # x - mean, normalised in place below
    out = np.multiply(xhat, xhat)
    var = _mean(out, axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))
    np.multiply(xhat, inv_std, out=xhat)
    np.multiply(xhat, gamma, out=out)
    out += beta
    return out, NormCache(xhat, inv_std, gamma, mean, var)


def layernorm_backward(dout, cache):
    r"""Layer norm backward pass: the batch-norm formula applied along rows.

    .. math::
        \frac{\partial L}{\partial x_{i\cdot}} = \frac{1}{D\sigma_i}
            \Big(D h_{i\cdot} - \sum_j h_{ij} - \hat x_{i\cdot} \sum_j h_{ij}\hat x_{ij}\Big),
        \quad h = \gamma \odot g

    Returns
    -------
    dx : ndarray of shape (N, D)
    dgamma, dbeta : ndarray of shape (D,)
    """
    return _layernorm_backward(_check_dout(dout, cache), cache)


def _layernorm_backward_reference(dout, cache):
    xhat, inv_std = cache.xhat, cache.inv_std
    d = dout.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * cache.gamma
    dx = (inv_std / d) * (
        d * dxhat - dxhat.sum(axis=1, keepdims=True) - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)
    )
    return dx, dgamma, dbeta


def _layernorm_backward(dout, cache):
    """Fast path of :func:`_layernorm_backward_reference` (same operations, same bits)."""
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    if not (dout.dtype == xhat.dtype == inv_std.dtype == gamma.dtype):
        return _layernorm_backward_reference(dout, cache)
    d = dout.shape[1]
    dbeta = np.add.reduce(dout, axis=0)
    work = np.multiply(dout, xhat)
    dgamma = np.add.reduce(work, axis=0)
    dx = np.multiply(dout, gamma)  # dxhat, turned into dx in place below
    sum_dxhat = np.add.reduce(dx, axis=1, keepdims=True)
    sum_dxhat_xhat = np.add.reduce(np.multiply(dx, xhat, out=work), axis=1, keepdims=True)
    dx *= d
    dx -= sum_dxhat
    dx -= np.multiply(xhat, sum_dxhat_xhat, out=work)
    dx *= inv_std / d
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------------
# Chapter 4: the mistake it runs beside the correct version, the momentum conventions, and the
# tools of its experiments (variance shift, evaluation with batch statistics, recalibration).
# ---------------------------------------------------------------------------------------------


def batchnorm_forward_second_moment(x, gamma, beta, eps=1e-5):
    r"""WRONG ON PURPOSE: "batch norm" dividing by :math:`\sqrt{E[x^2]}` instead of the standard deviation.

    The source article this book replaces computed the variance as the mean of the squares:

    .. math:: y_{ij} = \gamma_j \frac{x_{ij} - \mu_j}{\sqrt{\frac1N\sum_k x_{kj}^2 + \varepsilon}} + \beta_j

    Because :math:`E[x^2] = \sigma^2 + \mu^2`, this equals :func:`batchnorm_forward`
    only for columns whose batch mean is 0; otherwise the output variance is
    :math:`\gamma^2\sigma^2 / (\sigma^2 + \mu^2) < \gamma^2`, and the result depends on
    a shift of the input that batch norm should remove. Chapter 4 runs it beside the
    correct version. Do not use it for anything else.

    Parameters
    ----------
    x : ndarray of shape (N, D), N >= 2
    gamma, beta : ndarray of shape (D,)
    eps : float > 0

    Returns
    -------
    out : ndarray of shape (N, D)
    cache : NormCache
        ``cache.var`` holds the mean of the squares :math:`E[x^2]`, shape (D,).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[9.0], [11.0]])  # mean 10, standard deviation 1
    >>> out, _ = batchnorm_forward_second_moment(x, np.ones(1), np.zeros(1))
    >>> np.round(out[:, 0], 4)  # +-1 / sqrt(101) instead of +-1
    array([-0.0995,  0.0995])
    """
    x = check_array(x, "x", ndim=2)
    if x.shape[0] < 2:
        raise ValueError(f"x must have at least 2 rows in training-mode batch norm, got shape {x.shape}")
    gamma, beta = _check_affine(x, gamma, beta)
    eps = check_scalar(eps, "eps", low=0, low_inclusive=False)
    return _batchnorm_forward_second_moment(x, gamma, beta, eps)


def _batchnorm_forward_second_moment(x, gamma, beta, eps):
    mean = x.mean(axis=0)
    second_moment = np.mean(x * x, axis=0)  # THE MISTAKE: not the variance unless mean == 0
    inv_std = 1.0 / np.sqrt(second_moment + x.dtype.type(eps))
    xhat = (x - mean) * inv_std
    return xhat * gamma + beta, NormCache(xhat, inv_std, gamma, mean, second_moment)


def batchnorm_backward_second_moment(dout, cache):
    r"""Exact gradient of :func:`batchnorm_forward_second_moment`.

    Training with it isolates the mistake of the forward pass.

    With :math:`s = (E[x^2] + \varepsilon)^{-1/2}` and :math:`h = \gamma \odot g`:

    .. math::
        \frac{\partial L}{\partial x_i} = s\Big(h_i - \frac1N\sum_k h_k\Big)
            - \frac{s\,x_i}{N}\, s\sum_k h_k \hat x_k

    Returns
    -------
    dx : ndarray of shape (N, D)
    dgamma, dbeta : ndarray of shape (D,)
    """
    return _batchnorm_backward_second_moment(_check_dout(dout, cache), cache)


def _batchnorm_backward_second_moment(dout, cache):
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    n = dout.shape[0]
    x = xhat / inv_std + cache.mean
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    # Two paths into x: through (x - mu) and through the mean of the squares.
    dx = inv_std * (dxhat - dxhat.mean(axis=0)) - (inv_std**2 / n) * x * np.sum(dxhat * xhat, axis=0)
    return dx, dgamma, dbeta


def keras_to_torch_momentum(momentum):
    r"""Keras batch-norm ``momentum`` (weight of the OLD value) to PyTorch's (weight of the NEW batch).

    Keras: :math:`\hat\mu \leftarrow m\,\hat\mu + (1 - m)\,\mu_B` (default :math:`m = 0.99`);
    PyTorch: :math:`\hat\mu \leftarrow (1 - \alpha)\,\hat\mu + \alpha\,\mu_B` (default :math:`\alpha = 0.1`).
    The same average needs :math:`\alpha = 1 - m`. (The variances still differ: PyTorch
    stores the unbiased batch variance, Keras the biased one.)

    Examples
    --------
    >>> round(keras_to_torch_momentum(0.99), 12)
    0.01
    """
    return 1.0 - check_scalar(momentum, "momentum", low=0, high=1)


def torch_to_keras_momentum(momentum):
    """PyTorch batch-norm ``momentum`` (weight of the new batch) to Keras' (weight of the old value).

    The inverse of :func:`keras_to_torch_momentum`: ``m = 1 - alpha``; PyTorch's default 0.1 is Keras' 0.9.

    Examples
    --------
    >>> round(torch_to_keras_momentum(0.1), 12)
    0.9
    """
    return 1.0 - check_scalar(momentum, "momentum", low=0, high=1)


def dropout_variance_ratio(mean, var, p):
    r"""Variance shift of inverted dropout: variance at evaluation over variance in training.

    A unit with mean :math:`c` and variance :math:`v` has, after inverted dropout with
    drop probability :math:`p`, the variance
    :math:`\mathrm{Var}_\text{train} = (v + c^2)/(1 - p) - c^2` in training and
    :math:`v` in evaluation (dropout is the identity). A batch norm after it stores the
    training variance, so at evaluation its output variance shrinks by

    .. math:: \Delta = \frac{v}{(v + c^2)/(1-p) - c^2} \le 1

    (Li et al., 2019, "variance shift"). :math:`\Delta = 1 - p` for a zero-mean unit.

    Parameters
    ----------
    mean : float or ndarray
        Mean :math:`c` of the unit before dropout.
    var : float or ndarray, > 0
        Variance :math:`v` of the unit before dropout.
    p : float in [0, 1)
        Drop probability.

    Returns
    -------
    ratio : float or ndarray (broadcast of ``mean`` and ``var``)

    Examples
    --------
    >>> round(float(dropout_variance_ratio(0.0, 1.0, 0.5)), 6)
    0.5
    """
    p = check_scalar(p, "p", low=0, high=1, high_inclusive=False)
    mean = np.asarray(mean)
    var = np.asarray(var)
    for name, arr in (("mean", mean), ("var", var)):
        if arr.dtype.kind not in "fiu" or arr.dtype == bool:
            raise TypeError(f"{name} must be a real number or a real array, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(var <= 0):
        raise ValueError("var must be > 0")
    ratio = var / ((var + mean**2) / (1.0 - p) - mean**2)
    return float(ratio) if ratio.ndim == 0 else ratio


def _check_sequential(model, X):
    from .layers import Sequential  # layers imports this module: import at call time

    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a regcode.layers.Sequential (from mlp), got {type(model).__name__}")
    return check_array(X, "X", ndim=2, min_rows=2)


def _batchnorm_layers(model):
    from .layers import BatchNorm1d

    return [layer for layer in model.layers if isinstance(layer, BatchNorm1d)]


def batchnorm_input_variances(model, X, *, training):
    """Per-feature variance of the input of every ``BatchNorm1d`` of ``model`` on ``X``.

    Runs ``X`` through the layers of a :class:`regcode.layers.Sequential` in training
    mode (dropout active: the variance batch norm sees while it learns its running
    statistics) or in evaluation mode (dropout off: the variance it sees at test
    time). Variances are unbiased (divide by N - 1), like ``running_var``. The running
    buffers and the model's mode are left as they were; in training mode the dropout
    layers draw masks from their generators.

    Parameters
    ----------
    model : regcode.layers.Sequential
    X : ndarray of shape (N, D), N >= 2
        One batch (e.g. the whole training set).
    training : bool

    Returns
    -------
    list of ndarray, one of shape (num_features,) per ``BatchNorm1d`` layer, in order.
    """
    X = _check_sequential(model, X)
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {type(training).__name__}")
    state, was_training = model.state_dict(), model.training
    bn_layers = _batchnorm_layers(model)
    tracked = [bn.num_batches_tracked for bn in bn_layers]
    model.train(training)
    variances = []
    x = X
    try:
        for layer in model.layers:
            if layer in bn_layers:
                variances.append(x.var(axis=0, ddof=1))
            x = layer.forward(x)
    finally:
        model.load_state_dict(state)
        model.train(was_training)
        for bn, n in zip(bn_layers, tracked, strict=True):
            bn.num_batches_tracked = n
    return variances


def recalibrate_batchnorm(model, X):
    """Recompute the running statistics of every ``BatchNorm1d`` from ``X`` with dropout off, in place.

    Layer by layer, in evaluation mode, each batch norm's ``running_mean`` and
    ``running_var`` are set to the mean and unbiased variance of its input on ``X``
    before ``X`` passes through it. Afterwards the statistics match what the layers
    see at evaluation, which removes the variance shift of dropout placed before
    batch norm (chapter 4) and the lag of the exponential averages. A
    :class:`regcode.layers.SecondMomentBatchNorm1d` gets the mean of the squares
    (times N/(N - 1)) instead of the variance: the quantity it divides by in
    training and averages into its ``running_var``.

    Parameters
    ----------
    model : regcode.layers.Sequential
    X : ndarray of shape (N, D), N >= 2
        Typically the whole training set.

    Returns
    -------
    model : the same object
    """
    from .layers import SecondMomentBatchNorm1d

    X = _check_sequential(model, X)
    bn_layers = _batchnorm_layers(model)
    was_training = model.training
    model.eval()
    x = X
    try:
        for layer in model.layers:
            if layer in bn_layers:
                layer.running_mean = x.mean(axis=0).astype(layer.dtype)
                if isinstance(layer, SecondMomentBatchNorm1d):  # its "variance" is E[x^2], as in training
                    second_moment = np.mean(x * x, axis=0) * (x.shape[0] / (x.shape[0] - 1.0))
                    layer.running_var = second_moment.astype(layer.dtype)
                else:
                    layer.running_var = x.var(axis=0, ddof=1).astype(layer.dtype)
            x = layer.forward(x)
    finally:
        model.train(was_training)
    return model


def predict_with_batch_statistics(model, X, batch_size=None):
    """WRONG AT EVALUATION, ON PURPOSE: outputs when batch norm keeps using batch statistics.

    Every ``BatchNorm1d`` normalises each batch of ``X`` with that batch's own mean and
    variance (training-mode arithmetic); every other layer (dropout) is in evaluation
    mode. The running buffers are left unchanged. Chapter 4 uses it to show that the
    prediction for a sample then depends on which other samples share its batch.

    Parameters
    ----------
    model : regcode.layers.Sequential
    X : ndarray of shape (N, D)
    batch_size : int >= 2, optional
        Split ``X`` into consecutive batches of this size (the last one may be
        smaller, but not a single sample). Default: ``X`` is one batch.

    Returns
    -------
    out : ndarray, the model output for every row of ``X``
    """
    X = _check_sequential(model, X)
    n = X.shape[0]
    if batch_size is None:
        batch_size = n
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be an integer, got {type(batch_size).__name__}")
    if batch_size < 2 or n % batch_size == 1:
        raise ValueError(
            f"batch_size must be >= 2 and leave no batch of one sample, got {batch_size} for {n} rows"
        )
    state, was_training = model.state_dict(), model.training
    bn_layers = _batchnorm_layers(model)
    tracked = [bn.num_batches_tracked for bn in bn_layers]
    model.eval()
    for bn in bn_layers:
        bn.train()
    try:
        out = [model.forward(X[start : start + batch_size]) for start in range(0, n, batch_size)]
    finally:
        model.load_state_dict(state)
        model.train(was_training)
        for bn, count in zip(bn_layers, tracked, strict=True):
            bn.num_batches_tracked = count
    return np.concatenate(out)
