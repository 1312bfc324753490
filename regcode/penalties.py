"""Weight penalties: L1, L2 and elastic net, their gradients and the L1 prox.

Conventions used throughout the book (chapter 2):

* L2 (ridge, "weight decay" under SGD):   ``(lam / 2) * sum(w**2)``, gradient ``lam * w``.
* L1 (lasso):                             ``lam * sum(|w|)``, subgradient ``lam * sign(w)``.

Every function takes a float array ``w`` of any shape and a non-negative
strength ``lam``; the penalties return a Python float and the gradients an
array of the same shape and dtype as ``w``.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_int, check_scalar


def l1_penalty(w, lam):
    r"""L1 penalty :math:`\lambda \sum_i |w_i|`.

    Parameters
    ----------
    w : ndarray of float, any shape
        Weights.
    lam : float >= 0
        Penalty strength :math:`\lambda`.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``w`` is not a float array or ``lam`` is not a real number.
    ValueError
        If ``lam`` is negative or ``w`` holds NaN or infinity.

    Examples
    --------
    >>> import numpy as np
    >>> l1_penalty(np.array([1.0, -2.0, 0.5]), lam=0.5)
    1.75
    """
    w = check_array(w, "w")
    lam = check_scalar(lam, "lam", low=0)
    return float(lam * np.abs(w).sum())


def l1_grad(w, lam):
    r"""Subgradient of the L1 penalty: :math:`\lambda\,\mathrm{sign}(w)`, 0 where w = 0.

    At :math:`w_i = 0` the L1 norm is not differentiable; any value in
    :math:`[-\lambda, \lambda]` is a subgradient and we return 0, as
    ``numpy.sign`` and PyTorch's autograd do.

    Parameters
    ----------
    w : ndarray of float, any shape
        Weights.
    lam : float >= 0
        Penalty strength :math:`\lambda`.

    Returns
    -------
    ndarray, same shape and dtype as ``w``

    Examples
    --------
    >>> import numpy as np
    >>> l1_grad(np.array([3.0, 0.0, -0.2]), lam=0.5)
    array([ 0.5,  0. , -0.5])
    """
    w = check_array(w, "w")
    lam = check_scalar(lam, "lam", low=0)
    return (lam * np.sign(w)).astype(w.dtype, copy=False)


def l2_penalty(w, lam):
    r"""L2 penalty :math:`\frac{\lambda}{2} \sum_i w_i^2`.

    The factor 1/2 makes the gradient :math:`\lambda w`, so that SGD on the
    penalised loss is exactly "weight decay" by :math:`\eta\lambda` per step.

    Parameters
    ----------
    w : ndarray of float, any shape
        Weights.
    lam : float >= 0
        Penalty strength :math:`\lambda`.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> l2_penalty(np.array([1.0, -2.0]), lam=0.1)
    0.25
    """
    w = check_array(w, "w")
    lam = check_scalar(lam, "lam", low=0)
    return float(0.5 * lam * np.vdot(w, w))


def l2_grad(w, lam):
    r"""Gradient of the L2 penalty: :math:`\lambda w`.

    Parameters
    ----------
    w : ndarray of float, any shape
        Weights.
    lam : float >= 0
        Penalty strength :math:`\lambda`.

    Returns
    -------
    ndarray, same shape and dtype as ``w``

    Examples
    --------
    >>> import numpy as np
    >>> l2_grad(np.array([1.0, -2.0]), lam=0.1)
    array([ 0.1, -0.2])
    """
    w = check_array(w, "w")
    lam = check_scalar(lam, "lam", low=0)
    return (lam * w).astype(w.dtype, copy=False)


def soft_threshold(w, t):
    r"""Soft-thresholding :math:`\mathrm{sign}(w)\max(|w| - t, 0)`, elementwise.

    This is the proximal map of :math:`t\|\cdot\|_1`:

    .. math:: \mathrm{prox}_{t\|\cdot\|_1}(w) = \arg\min_z \tfrac12\|z - w\|^2 + t\|z\|_1 .

    Entries with :math:`|w_i| \le t` become exactly 0, which is why proximal
    gradient methods give sparse solutions and subgradient descent does not.

    Parameters
    ----------
    w : ndarray of float, any shape
    t : float >= 0
        Threshold, :math:`\eta\lambda` in a proximal gradient step of size :math:`\eta`.

    Returns
    -------
    ndarray, same shape and dtype as ``w``

    Examples
    --------
    >>> import numpy as np
    >>> soft_threshold(np.array([3.0, -0.5, 1.0]), t=1.0)
    array([2., 0., 0.])
    """
    return _soft_threshold(check_array(w, "w"), check_scalar(t, "t", low=0))


def _soft_threshold(w, t):
    """The arithmetic of :func:`soft_threshold`, for solvers that call it in their inner loop."""
    t = float(t)  # a Python float never promotes a float32 ``w``
    return np.where(np.abs(w) > t, w - t * np.sign(w), 0.0).astype(w.dtype, copy=False)


# --- The Bayesian reading of the penalties (MAP estimates) ---


def lam_from_gaussian_prior(noise_std, prior_std, n_samples):
    r"""Ridge strength whose solution is the MAP estimate under a Gaussian prior.

    With Gaussian noise :math:`y = Xw + \varepsilon`, :math:`\varepsilon \sim N(0, \sigma^2)`,
    and prior :math:`w_j \sim N(0, \tau^2)`, the negative log posterior is
    :math:`\frac{1}{2\sigma^2}\|y - Xw\|^2 + \frac{1}{2\tau^2}\|w\|^2` + const.
    Multiplying by :math:`\sigma^2/m` gives the ridge objective of the book
    (1/(2m) convention) with

    .. math:: \lambda = \frac{\sigma^2}{m\,\tau^2}.

    Parameters
    ----------
    noise_std : float > 0
        :math:`\sigma`.
    prior_std : float > 0
        :math:`\tau`.
    n_samples : int >= 1
        :math:`m`.

    Returns
    -------
    float

    Examples
    --------
    >>> lam_from_gaussian_prior(noise_std=2.0, prior_std=1.0, n_samples=100)
    0.04
    """
    sigma = check_scalar(noise_std, "noise_std", low=0, low_inclusive=False)
    tau = check_scalar(prior_std, "prior_std", low=0, low_inclusive=False)
    m = check_int(n_samples, "n_samples", low=1)
    return sigma**2 / (m * tau**2)


def lam_from_laplace_prior(noise_std, prior_scale, n_samples):
    r"""Lasso strength whose solution is the MAP estimate under a Laplace prior.

    With the prior density :math:`p(w_j) = \frac{1}{2b} e^{-|w_j|/b}` the
    negative log posterior is :math:`\frac{1}{2\sigma^2}\|y - Xw\|^2 + \frac{1}{b}\|w\|_1`
    + const; times :math:`\sigma^2/m` it is the lasso objective with

    .. math:: \lambda = \frac{\sigma^2}{m\,b}.

    Parameters
    ----------
    noise_std : float > 0
        :math:`\sigma`.
    prior_scale : float > 0
        :math:`b` (the prior's standard deviation is :math:`\sqrt2\,b`).
    n_samples : int >= 1

    Returns
    -------
    float

    Examples
    --------
    >>> lam_from_laplace_prior(noise_std=2.0, prior_scale=0.5, n_samples=100)
    0.08
    """
    sigma = check_scalar(noise_std, "noise_std", low=0, low_inclusive=False)
    b = check_scalar(prior_scale, "prior_scale", low=0, low_inclusive=False)
    m = check_int(n_samples, "n_samples", low=1)
    return sigma**2 / (m * b)
