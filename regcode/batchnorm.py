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

from ._validation import check_array, check_int, check_scalar


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


def _batchnorm_forward(x, gamma, beta, eps):
    """The arithmetic of :func:`~regcode.batchnorm.batchnorm_forward`.

    Layers check their input once, at the model's boundary, and call this directly.
    """
    n = x.shape[0]
    mean = x.sum(axis=0) / n
    xc = x - mean
    var = (xc * xc).sum(axis=0) / n
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))
    xhat = xc * inv_std
    return xhat * gamma + beta, NormCache(xhat, inv_std, gamma, mean, var)


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


def _batchnorm_backward(dout, cache):
    xhat, inv_std, gamma = cache.xhat, cache.inv_std, cache.gamma
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dx = (gamma * inv_std / n) * (n * dout - dbeta - xhat * dgamma)
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

    Parameters
    ----------
    dout : ndarray of shape (N, D)
    cache : NormCache from :func:`batchnorm_forward`

    Returns
    -------
    dx : ndarray of shape (N, D)
    dgamma, dbeta : ndarray of shape (D,)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x, dout = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    >>> _, cache = batchnorm_forward(x, np.ones(3), np.zeros(3))
    >>> dx, _, _ = batchnorm_backward(dout, cache)
    >>> dx_staged, _, _ = batchnorm_backward_staged(dout, cache)
    >>> bool(np.allclose(dx, dx_staged))
    True
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

    Parameters
    ----------
    x : ndarray of shape (N, D)
    gamma, beta : ndarray of shape (D,)
    running_mean : ndarray of shape (D,)
        :math:`\hat\mu`, from :func:`update_running_stats`.
    running_var : ndarray of shape (D,), entries >= 0
        :math:`\hat\sigma^2`, from :func:`update_running_stats`.
    eps : float > 0

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


def _batchnorm_inference(x, gamma, beta, running_mean, running_var, eps):
    inv_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype, copy=False)
    xhat = (x - running_mean.astype(x.dtype, copy=False)) * inv_std
    return xhat * gamma + beta, NormCache(xhat, inv_std, gamma, running_mean, running_var)


def batchnorm_inference_backward(dout, cache):
    r"""Backward pass of :func:`batchnorm_inference`: the statistics are constants here.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\gamma\, g}{\sqrt{\hat\sigma^2 + \varepsilon}},\quad
        \frac{\partial L}{\partial \gamma} = \sum_i g_i \hat x_i,\quad
        \frac{\partial L}{\partial \beta} = \sum_i g_i

    with :math:`g = \partial L/\partial y` (``dout``).

    Parameters
    ----------
    dout : ndarray of shape (N, D)
    cache : NormCache from :func:`batchnorm_inference`

    Returns
    -------
    dx : ndarray of shape (N, D)
    dgamma, dbeta : ndarray of shape (D,)
    """
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
        stats[name] = check_array(arr, name, ndim=1)
        if stats[name].shape != running_mean.shape:  # never broadcast silently
            raise ValueError(
                f"{name} must have shape {running_mean.shape} (running_mean's), got {stats[name].shape}"
            )
    if np.any(stats["batch_var"] < 0):
        raise ValueError("batch_var must be >= 0")
    momentum = check_scalar(momentum, "momentum", low=0, high=1)
    n = check_int(n, "n", low=2)
    return _update_running_stats(
        running_mean, stats["running_var"], stats["batch_mean"], stats["batch_var"], n, momentum
    )


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


def _layernorm_forward(x, gamma, beta, eps):
    d = x.shape[1]
    mean = x.sum(axis=1, keepdims=True) / d
    xc = x - mean
    var = (xc * xc).sum(axis=1, keepdims=True) / d
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))
    xhat = xc * inv_std
    return xhat * gamma + beta, NormCache(xhat, inv_std, gamma, mean, var)


def layernorm_backward(dout, cache):
    r"""Layer norm backward pass: the batch-norm formula applied along rows.

    .. math::
        \frac{\partial L}{\partial x_{i\cdot}} = \frac{1}{D\sigma_i}
            \Big(D h_{i\cdot} - \sum_j h_{ij} - \hat x_{i\cdot} \sum_j h_{ij}\hat x_{ij}\Big),
        \quad h = \gamma \odot g

    Parameters
    ----------
    dout : ndarray of shape (N, D)
    cache : NormCache from :func:`layernorm_forward`

    Returns
    -------
    dx : ndarray of shape (N, D)
    dgamma, dbeta : ndarray of shape (D,)
    """
    return _layernorm_backward(_check_dout(dout, cache), cache)


def _layernorm_backward(dout, cache):
    xhat, inv_std = cache.xhat, cache.inv_std
    d = dout.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * cache.gamma
    dx = (inv_std / d) * (
        d * dxhat - dxhat.sum(axis=1, keepdims=True) - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)
    )
    return dx, dgamma, dbeta


def fold_batchnorm(weight, bias, gamma, beta, running_mean, running_var, eps=1e-5):
    r"""Fold an evaluation-mode batch norm into the fully connected layer before it.

    At evaluation, batch norm after :math:`y = xW + b` is an affine map of each
    feature, so the two layers are one:

    .. math::
        \gamma\,\frac{xW + b - \hat\mu}{\sqrt{\hat\sigma^2 + \varepsilon}} + \beta = x W' + b',\quad
        W' = W \operatorname{diag}(s),\quad b' = (b - \hat\mu)\,s + \beta,\quad
        s = \frac{\gamma}{\sqrt{\hat\sigma^2 + \varepsilon}}

    which saves the normalisation's passes at inference. The result is only valid
    while the running statistics stay as they are (not in training mode).

    Parameters
    ----------
    weight : ndarray of shape (D, K)
        The layer's weights (regcode's (in_features, out_features) layout).
    bias : ndarray of shape (K,), or None
        None for a layer without bias (``mlp`` builds them before a norm): zeros.
    gamma, beta, running_mean, running_var : ndarray of shape (K,)
        The batch norm's parameters and running buffers.
    eps : float > 0

    Returns
    -------
    weight : ndarray of shape (D, K)
    bias : ndarray of shape (K,)

    Examples
    --------
    >>> import numpy as np
    >>> w, b = fold_batchnorm(np.array([[2.0]]), None, np.array([1.0]), np.array([0.5]),
    ...                       np.array([1.0]), np.array([4.0]), eps=0.0)
    >>> w, b  # (2x - 1) / 2 + 0.5 = x
    (array([[1.]]), array([0.]))
    """
    weight = check_array(weight, "weight", ndim=2)
    k = weight.shape[1]
    bias = np.zeros(k, dtype=weight.dtype) if bias is None else check_array(bias, "bias", ndim=1)
    arrays = {
        "bias": bias,
        "gamma": gamma,
        "beta": beta,
        "running_mean": running_mean,
        "running_var": running_var,
    }
    for name, arr in arrays.items():
        arrays[name] = check_array(arr, name, ndim=1)
        if arrays[name].shape != (k,):
            raise ValueError(
                f"{name} must have shape ({k},) to match weight {weight.shape}, got {arrays[name].shape}"
            )
    if np.any(arrays["running_var"] < 0):
        raise ValueError("running_var must be >= 0")
    eps = check_scalar(eps, "eps", low=0)
    scale = arrays["gamma"] / np.sqrt(arrays["running_var"] + eps)
    return weight * scale, (arrays["bias"] - arrays["running_mean"]) * scale + arrays["beta"]
