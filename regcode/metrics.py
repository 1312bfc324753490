r"""Calibration: does a classifier's confidence match how often it is right?

A classifier is *calibrated* when, among the predictions it makes with
confidence (largest class probability) about :math:`c`, a fraction :math:`c`
is correct. Guo et al. (2017) measure the gap with equal-width confidence bins
:math:`B_1, \dots, B_M`, :math:`B_b = \big(\frac{b-1}{M}, \frac{b}{M}\big]`:

.. math:: \mathrm{ECE} = \sum_{b=1}^{M} \frac{|B_b|}{n}\,
          \big|\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\big|,

where :math:`\mathrm{acc}(B_b)` is the accuracy and :math:`\mathrm{conf}(B_b)`
the mean confidence of the predictions in bin :math:`b`. A reliability diagram
(:func:`regcode.plotting.plot_reliability_diagram`) draws the two per bin.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_array, check_int, check_labels


class ReliabilityBins(NamedTuple):
    """Per-bin statistics of :func:`reliability_bins`; arrays of shape (n_bins,)."""

    #: Bin edges, shape (n_bins + 1,): 0, 1/M, ..., 1.
    edges: np.ndarray
    #: Mean confidence of the predictions in each bin (NaN for an empty bin).
    confidence: np.ndarray
    #: Accuracy of the predictions in each bin (NaN for an empty bin).
    accuracy: np.ndarray
    #: Number of predictions in each bin.
    counts: np.ndarray


def _check_probs(probs, y):
    probs = check_array(probs, "probs", ndim=2, min_rows=1)
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("probs must hold probabilities: rows of non-negative values that sum to 1")
    y = check_labels(y, "y", probs.shape[0], probs.shape[1])
    return probs, y


def reliability_bins(probs, y, n_bins=15):
    """Confidence, accuracy and count of the predictions in equal-width confidence bins.

    Parameters
    ----------
    probs : ndarray of shape (n, K)
        Predicted class probabilities (rows sum to 1), e.g. ``regcode.losses.softmax(logits)``.
    y : ndarray of int, shape (n,)
        True labels in [0, K).
    n_bins : int >= 1
        Number M of equal-width bins on [0, 1]; 15 as in Guo et al. (2017).

    Returns
    -------
    ReliabilityBins
        A prediction with confidence :math:`c` falls in bin :math:`\\lceil cM \\rceil` (the bins are
        closed on the right; confidence 0 cannot occur for K >= 1 classes).

    Raises
    ------
    TypeError
        If ``probs`` is not a float array or ``y`` does not hold integer labels.
    ValueError
        If the rows of ``probs`` are not probabilities, shapes do not match, or ``n_bins < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    >>> bins = reliability_bins(probs, np.array([0, 1, 0, 1]), n_bins=2)
    >>> bins.counts.tolist(), bins.accuracy.tolist(), np.round(bins.confidence, 3).tolist()
    ([0, 4], [nan, 0.75], [nan, 0.75])
    """
    probs, y = _check_probs(probs, y)
    n_bins = check_int(n_bins, "n_bins", low=1)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin b holds (edges[b], edges[b + 1]]: the index of the first edge >= the confidence, minus one.
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(index, weights=confidence, minlength=n_bins) / counts
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / counts
    return ReliabilityBins(edges, mean_conf, accuracy, counts)


def expected_calibration_error(probs, y, n_bins=15):
    """Expected calibration error (ECE) of predicted probabilities, in [0, 1] (Guo et al., 2017).

    The weighted mean, over equal-width confidence bins, of the gap between
    accuracy and mean confidence (formula in the module docstring). 0 for a
    calibrated classifier; it is not a proper score (a classifier that
    predicts the class frequencies has ECE near 0), so report it beside the
    accuracy and the cross-entropy.

    Parameters
    ----------
    probs : ndarray of shape (n, K)
        Predicted class probabilities (rows sum to 1).
    y : ndarray of int, shape (n,)
    n_bins : int >= 1

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    >>> expected_calibration_error(probs, np.array([0, 1, 0, 1]), n_bins=2)  # one bin: |0.75 - 0.75|
    0.0
    >>> round(expected_calibration_error(probs, np.array([0, 1, 0, 1]), n_bins=10), 3)  # four bins of one
    0.4
    """
    bins = reliability_bins(probs, y, n_bins)
    filled = bins.counts > 0
    gaps = np.abs(bins.accuracy[filled] - bins.confidence[filled])
    return float(np.sum(bins.counts[filled] * gaps) / bins.counts.sum())
