"""Tests for regcode.losses: stable log-softmax, cross-entropy with label smoothing, half MSE."""

import numpy as np
import pytest

from regcode.gradcheck import numerical_gradient, rel_error
from regcode.losses import half_mse, log_softmax, softmax_cross_entropy


def test_log_softmax_by_hand():
    out = log_softmax(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(out, np.log([[0.25, 0.75]]))


def test_log_softmax_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [1e300, 1e300, 0.0]])
    out = log_softmax(logits)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0], [0.0, -1000.0, -2000.0])
    np.testing.assert_allclose(out[1, :2], np.log(0.5))


def test_log_softmax_is_shift_invariant_and_normalised(rng):
    z = rng.standard_normal((4, 6))
    np.testing.assert_allclose(log_softmax(z + 500.0), log_softmax(z), atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)).sum(axis=1), 1.0)


def test_cross_entropy_by_hand():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    y = np.array([0, 2])
    loss, grad = softmax_cross_entropy(logits, y)
    p0 = np.exp([2.0, 1.0, 0.0]) / np.exp([2.0, 1.0, 0.0]).sum()
    assert loss == pytest.approx((-np.log(p0[0]) + np.log(3.0)) / 2)
    assert type(loss) is float
    np.testing.assert_allclose(grad, (np.array([p0, [1 / 3] * 3]) - np.eye(3)[y]) / 2)


def test_cross_entropy_of_huge_logits_is_finite():
    loss, grad = softmax_cross_entropy(np.array([[1e4, 0.0], [0.0, 1e4]]), np.array([1, 1]))
    assert loss == pytest.approx(1e4 / 2)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.5, 1.0])
def test_cross_entropy_gradient_matches_finite_differences(rng, label_smoothing):
    y = rng.integers(0, 5, size=6)
    # The elementwise relative error is only informative where the gradient is not ~0 (a finite
    # difference has an absolute error ~1e-10, so an entry of 1e-4 would show 1e-6 however correct
    # it is). With label smoothing softmax(z) - q can be ~0 by chance: draw until it is not.
    while True:
        logits = 2.0 * rng.standard_normal((6, 5))
        loss, grad = softmax_cross_entropy(logits, y, label_smoothing)
        if np.min(np.abs(grad)) > 1e-3:
            break
    num = numerical_gradient(lambda z: softmax_cross_entropy(z, y, label_smoothing)[0], logits)
    assert rel_error(grad, num) < 1e-7


def test_label_smoothing_target(rng):
    # dL/dz = (softmax(z) - q) / N, so the target q can be read off the gradient.
    n, k, eps = 4, 5, 0.2
    logits = rng.standard_normal((n, k))
    y = np.array([0, 4, 2, 2])
    _, grad = softmax_cross_entropy(logits, y, eps)
    target = np.exp(log_softmax(logits)) - n * grad
    expected = np.full((n, k), eps / k)
    expected[np.arange(n), y] += 1 - eps  # 0.84 on the true class, 0.04 elsewhere
    np.testing.assert_allclose(target, expected, atol=1e-12)
    np.testing.assert_allclose(target.sum(axis=1), 1.0)


def test_label_smoothing_loss_is_minimised_by_the_smoothed_target():
    # The loss is smallest, and the gradient zero, where softmax(z) equals the smoothed target.
    k, eps = 4, 0.2
    q = np.full(k, eps / k)
    q[1] += 1 - eps
    logits = np.log(q)[None, :]
    loss, grad = softmax_cross_entropy(logits, np.array([1]), eps)
    np.testing.assert_allclose(grad, 0.0, atol=1e-15)
    assert loss == pytest.approx(-np.sum(q * np.log(q)))  # the entropy of q
    assert softmax_cross_entropy(np.array([[0.0, 9.0, 0.0, 0.0]]), np.array([1]), eps)[0] > loss


def test_mse_value_and_gradient(rng):
    pred, y = rng.standard_normal(8), rng.standard_normal(8)
    loss, grad = half_mse(pred, y)
    assert loss == pytest.approx(np.sum((pred - y) ** 2) / 16)  # 1/(2m)
    np.testing.assert_allclose(grad, (pred - y) / 8)


@pytest.mark.parametrize("shape", [(7,), (7, 3)])
def test_mse_gradient_matches_finite_differences(rng, shape):
    pred, y = rng.standard_normal(shape), rng.standard_normal(shape)
    num = numerical_gradient(lambda z: half_mse(z, y)[0], pred)
    assert rel_error(half_mse(pred, y)[1], num) < 1e-7


def test_mse_sums_outputs_and_divides_by_samples(rng):
    pred, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    assert half_mse(pred, y)[0] == pytest.approx(np.sum((pred - y) ** 2) / 10)
