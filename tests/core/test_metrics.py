"""Tests for regcode.metrics: reliability bins and the expected calibration error."""

import numpy as np
import pytest

from regcode.losses import softmax
from regcode.metrics import expected_calibration_error, reliability_bins


def test_ece_by_hand():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    y = np.array([0, 1, 0, 0])  # correct, wrong, correct, wrong
    # 10 bins: confidences 0.9, 0.8, 0.6, 0.7 each alone; gaps 0.1, 0.8, 0.4, 0.7.
    assert expected_calibration_error(probs, y, n_bins=10) == pytest.approx((0.1 + 0.8 + 0.4 + 0.7) / 4)


def test_bins_partition_the_predictions_and_are_closed_on_the_right():
    probs = np.array([[0.5, 0.5], [0.75, 0.25], [1.0, 0.0]])
    bins = reliability_bins(probs, np.array([0, 0, 0]), n_bins=4)
    assert bins.counts.tolist() == [0, 1, 1, 1]  # 0.5 in (0.25, 0.5], 0.75 in (0.5, 0.75], 1 in (0.75, 1]
    np.testing.assert_allclose(bins.edges, [0, 0.25, 0.5, 0.75, 1.0])


def test_a_calibrated_classifier_has_an_ece_near_zero_and_an_overconfident_one_does_not():
    rng = np.random.default_rng(0)
    n, k = 20_000, 4
    logits = rng.standard_normal((n, k)) * 2.0
    probs = softmax(logits)
    y = np.array([rng.choice(k, p=p) for p in probs])  # labels drawn from the predicted distribution
    assert expected_calibration_error(probs, y) < 0.02
    sharpened = softmax(3.0 * logits)  # same argmax, far more confident
    assert expected_calibration_error(sharpened, y) > 0.1
    assert expected_calibration_error(sharpened, y) > 5 * expected_calibration_error(probs, y)


def test_ece_is_between_zero_and_one_and_ignores_empty_bins():
    rng = np.random.default_rng(1)
    probs = softmax(rng.standard_normal((50, 3)))
    y = rng.integers(0, 3, 50)
    for n_bins in (1, 5, 15, 100):
        assert 0.0 <= expected_calibration_error(probs, y, n_bins) <= 1.0
