"""Tests for regcode.gradcheck: the finite-difference tools every other gradient test relies on."""

import numpy as np
import pytest

from regcode.gradcheck import numerical_gradient, numerical_gradient_array, rel_error


def test_numerical_gradient_of_a_cubic(rng):
    x = rng.uniform(0.5, 2.0, size=(3, 4))
    grad = numerical_gradient(lambda z: np.sum(z**3), x)
    assert grad.shape == x.shape
    assert rel_error(grad, 3 * x**2) < 1e-8


def test_numerical_gradient_array_is_the_vector_jacobian_product(rng):
    A = rng.standard_normal((5, 3))
    x = rng.standard_normal(3)
    dout = rng.standard_normal(5)
    # For f(x) = A x the backward pass is A^T dout; f is linear, so the differences are exact.
    grad = numerical_gradient_array(lambda z: A @ z, x, dout)
    assert rel_error(grad, A.T @ dout) < 1e-9


def test_numerical_gradient_restores_x(rng):
    x = rng.standard_normal((4, 3))
    before = x.copy()
    numerical_gradient(lambda z: np.sum(np.sin(z)), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_sees_perturbations_in_place(rng):
    # f reads a closure variable, not its argument: the perturbation must reach it (this is
    # how the layer tests check parameter gradients).
    w = rng.standard_normal(4)
    c = rng.standard_normal(4)
    grad = numerical_gradient(lambda _: float(c @ w), w)
    assert rel_error(grad, c) < 1e-9


def test_rel_error_values():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([1.1])) == pytest.approx(0.1 / 2.1)
    # Below |a| + |b| = 1e-8 the denominator is floored, so tiny absolute errors stay tiny.
    assert rel_error(np.array([0.0]), np.array([1e-12])) == pytest.approx(1e-4)
    # The maximum over entries, not an average.
    assert rel_error(np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0, 3.0])) == pytest.approx(0.5)


def test_rel_error_flags_a_wrong_gradient(rng):
    x = rng.uniform(0.5, 2.0, size=5)
    grad = numerical_gradient(lambda z: np.sum(z**2), x)
    assert rel_error(grad, 2 * x) < 1e-8
    assert rel_error(grad, 2 * x * 1.01) > 1e-3  # a 1 % error is caught
    assert rel_error(grad, x) > 0.3  # a missing factor 2 is caught


def test_rejects_float32_input():
    with pytest.raises(TypeError, match="^x must be float64"):
        numerical_gradient(np.sum, np.ones(3, dtype=np.float32))
