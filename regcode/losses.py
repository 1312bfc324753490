"""Losses that return their value and their gradient with respect to the prediction."""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_labels, check_scalar


def log_softmax(logits):
    r"""Row-wise log-softmax of (N, K) logits, computed stably (max subtracted first).

    .. math:: \log \mathrm{softmax}(z_i)_k = (z_{ik} - c_i) - \log \sum_j e^{z_{ij} - c_i},
              \qquad c_i = \max_j z_{ij}

    Parameters
    ----------
    logits : ndarray of shape (N, K)

    Returns
    -------
    ndarray of shape (N, K)

    Examples
    --------
    >>> import numpy as np
    >>> np.round(np.exp(log_softmax(np.array([[1000.0, 1000.0]]))), 6)  # no overflow
    array([[0.5, 0.5]])
    """
    logits = check_array(logits, "logits", ndim=2)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits):
    r"""Row-wise softmax of (N, K) logits: probabilities that sum to 1 in each row.

    .. math:: \mathrm{softmax}(z_i)_k = \frac{e^{z_{ik}}}{\sum_j e^{z_{ij}}}

    Computed as the exponential of :func:`log_softmax`, so large logits do not overflow.

    Parameters
    ----------
    logits : ndarray of shape (N, K)

    Returns
    -------
    ndarray of shape (N, K)

    Examples
    --------
    >>> import numpy as np
    >>> softmax(np.array([[0.0, 0.0], [0.0, np.log(3.0)]]))
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    return np.exp(log_softmax(logits))


def softmax_cross_entropy(logits, y, label_smoothing=0.0):
    r"""Mean softmax cross-entropy over a batch, and its gradient.

    With :math:`\varepsilon` = ``label_smoothing`` and K classes the target
    distribution is :math:`q = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/K`
    (Szegedy et al., 2016; as ``torch.nn.CrossEntropyLoss(label_smoothing=...)``), and

    .. math:: L = -\frac1N \sum_i \sum_k q_{ik} \log \mathrm{softmax}(z_i)_k ,\qquad
              \frac{\partial L}{\partial z_i} = \frac{\mathrm{softmax}(z_i) - q_i}{N}.

    Parameters
    ----------
    logits : ndarray of shape (N, K)
    y : ndarray of int, shape (N,), values in [0, K)
    label_smoothing : float in [0, 1]

    Returns
    -------
    loss : float
    dlogits : ndarray of shape (N, K)

    Examples
    --------
    >>> import numpy as np
    >>> loss, _ = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(loss, 6), round(float(np.log(4)), 6)  # uniform logits: log K
    (1.386294, 1.386294)
    """
    logits = check_array(logits, "logits", ndim=2, min_rows=1)
    n, k = logits.shape
    y = check_labels(y, "y", n, k)
    eps = check_scalar(label_smoothing, "label_smoothing", low=0, high=1)
    logp = log_softmax(logits)
    target = np.full_like(logits, eps / k)
    target[np.arange(n), y] += 1.0 - eps
    loss = -np.sum(target * logp) / n
    dlogits = (np.exp(logp) - target) / n
    return float(loss), dlogits


def half_mse(pred, y):
    r"""HALF the mean squared error (the 1/(2m) convention of the book's objectives), and its gradient.

    .. math:: L = \frac{1}{2m}\sum_i (\hat y_i - y_i)^2 ,\qquad
              \frac{\partial L}{\partial \hat y} = \frac{\hat y - y}{m}

    The factor 1/2 makes the gradient :math:`(\hat y - y)/m`; the mean squared
    error itself, as chapter 1 reports it, is twice this value. For (m, k)
    predictions the squared errors of all k outputs are summed and divided by 2m.
    (PyTorch's ``MSELoss`` has no 1/2 and divides by m·k.)

    Parameters
    ----------
    pred : ndarray of shape (m,) or (m, k)
    y : ndarray, same shape as ``pred``

    Returns
    -------
    loss : float
    dpred : ndarray, same shape as ``pred``

    Examples
    --------
    >>> import numpy as np
    >>> loss, grad = half_mse(np.array([1.0, 3.0]), np.array([0.0, 1.0]))
    >>> loss, grad  # (1 + 4) / (2 * 2)
    (1.25, array([0.5, 1. ]))
    """
    pred = check_array(pred, "pred", ndim=(1, 2), min_rows=1)
    y = check_array(y, "y")
    if y.shape != pred.shape:
        raise ValueError(f"y must have the shape of pred {pred.shape}, got {y.shape}")
    m = pred.shape[0]
    resid = pred - y
    return float(np.vdot(resid, resid) / (2 * m)), resid / m
