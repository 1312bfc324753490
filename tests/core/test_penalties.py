"""Tests for regcode.penalties: values, gradients (centred differences) and the L1 prox."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from regcode.gradcheck import numerical_gradient, rel_error
from regcode.penalties import (
    l1_grad,
    l1_penalty,
    l2_grad,
    l2_penalty,
    soft_threshold,
)

W = np.array([1.0, -2.0, 0.5, 0.0])


def away_from_zero(rng, shape, margin=0.1):
    """Random weights with |w| >= margin, so finite differences never cross the kink of |w|."""
    w = rng.uniform(margin, 2.0, size=shape)
    return w * rng.choice([-1.0, 1.0], size=shape)


# ---------------------------------------------------------------- values


def test_penalty_values_by_hand():
    assert l1_penalty(W, 0.5) == pytest.approx(0.5 * 3.5)
    assert l2_penalty(W, 0.5) == pytest.approx(0.5 / 2 * (1 + 4 + 0.25))


def test_penalties_return_python_floats():
    for value in (l1_penalty(W, 0.1), l2_penalty(W, 0.1)):
        assert type(value) is float


def test_l2_is_not_doubled():
    # The source article added the L2 penalty to itself: the book's convention is (lam/2)*sum(w^2).
    w = np.array([3.0, 4.0])
    assert l2_penalty(w, 1.0) == pytest.approx(12.5)
    np.testing.assert_allclose(l2_grad(w, 1.0), w)


def test_l1_is_lam_times_the_norm():
    # The article wrote lam*sum(w) next to sum(|w|); the L1 penalty is lam * sum(|w|), >= 0.
    w = np.array([-1.0, -2.0])
    assert l1_penalty(w, 0.5) == pytest.approx(1.5)


# ---------------------------------------------------------------- gradients


def test_l2_grad_matches_finite_differences(rng):
    w = rng.standard_normal((4, 3))
    num = numerical_gradient(lambda z: l2_penalty(z, 0.7), w)
    assert rel_error(l2_grad(w, 0.7), num) < 1e-7


def test_l1_grad_matches_finite_differences_away_from_zero(rng):
    w = away_from_zero(rng, (4, 3))
    num = numerical_gradient(lambda z: l1_penalty(z, 0.7), w)
    assert rel_error(l1_grad(w, 0.7), num) < 1e-7


def test_l1_grad_at_zero_is_zero():
    np.testing.assert_array_equal(l1_grad(np.array([0.0, 2.0, -3.0]), 0.5), [0.0, 0.5, -0.5])


@pytest.mark.parametrize("fn", [l1_grad, l2_grad, soft_threshold])
def test_array_outputs_keep_shape_and_dtype(fn):
    w = np.arange(-3, 3, dtype=np.float32).reshape(2, 3)
    out = fn(w, 0.5)
    assert out.shape == w.shape
    assert out.dtype == np.float32


# ---------------------------------------------------------------- soft threshold (the L1 prox)


def test_soft_threshold_closed_form():
    w = np.array([3.0, -3.0, 0.5, -0.5, 1.0, 0.0])
    np.testing.assert_array_equal(soft_threshold(w, 1.0), [2.0, -2.0, 0.0, 0.0, 0.0, 0.0])


def prox_objective(z, w, t):
    return 0.5 * np.sum((z - w) ** 2, axis=-1) + t * np.sum(np.abs(z), axis=-1)


@given(
    w=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-10, 10, allow_subnormal=False)),
    t=st.floats(0, 5, allow_subnormal=False),
    seed=st.integers(0, 2**32 - 1),
)
def test_soft_threshold_is_the_prox_of_the_l1_norm(w, t, seed):
    z = soft_threshold(w, t)
    # Closed form: sign(w) * max(|w| - t, 0), with exact zeros where |w| <= t.
    np.testing.assert_allclose(z, np.sign(w) * np.maximum(np.abs(w) - t, 0.0), rtol=0, atol=1e-12)
    assert np.all(z[np.abs(w) <= t] == 0.0)
    # Optimality (0 in the subdifferential of 1/2||z - w||^2 + t||z||_1):
    # z_i - w_i + t sign(z_i) = 0 on the support, |w_i| <= t off it.
    support = z != 0
    np.testing.assert_allclose(z[support] - w[support] + t * np.sign(z[support]), 0.0, atol=1e-12)
    assert np.all(np.abs(w[~support]) <= t)
    # And z minimises the objective: no perturbation, large or small, does better.
    rng = np.random.default_rng(seed)
    best = prox_objective(z, w, t)
    for scale in (1e-6, 1e-3, 1e-1, 10.0):
        deltas = scale * rng.standard_normal((20, w.size))
        assert np.all(prox_objective(z + deltas, w, t) >= best - 1e-12 * (1.0 + best))


def test_soft_threshold_with_t_zero_is_identity(rng):
    w = rng.standard_normal(10)
    np.testing.assert_array_equal(soft_threshold(w, 0.0), w)
