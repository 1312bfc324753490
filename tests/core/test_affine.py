"""Tests for regcode.affine: the fully connected layer and the ReLU as forward/backward pairs."""

import numpy as np
import pytest

from regcode.affine import affine_backward, affine_forward, relu_backward, relu_forward
from regcode.gradcheck import numerical_gradient_array, rel_error


@pytest.mark.parametrize("bias", [True, False])
def test_affine_backward_matches_finite_differences(rng, bias):
    x, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    b = rng.standard_normal(3) if bias else None
    dout = rng.standard_normal((5, 3))
    out, cache = affine_forward(x, w, b)
    np.testing.assert_allclose(out, x @ w + (0 if b is None else b))
    dx, dw, db = affine_backward(dout, cache)
    assert rel_error(dx, numerical_gradient_array(lambda z: affine_forward(z, w, b)[0], x, dout)) < 1e-8
    assert rel_error(dw, numerical_gradient_array(lambda z: affine_forward(x, z, b)[0], w, dout)) < 1e-8
    if bias:
        assert rel_error(db, numerical_gradient_array(lambda z: affine_forward(x, w, z)[0], b, dout)) < 1e-8
    else:
        assert db is None


def test_relu_backward_matches_finite_differences(rng):
    x = rng.standard_normal((6, 5))
    x[np.abs(x) < 0.05] = 0.5  # away from the kink
    dout = rng.standard_normal(x.shape)
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    num = numerical_gradient_array(lambda z: relu_forward(z)[0], x, dout)
    assert rel_error(relu_backward(dout, cache), num) < 1e-8


def test_relu_gradient_at_zero_is_zero():
    out, cache = relu_forward(np.array([0.0, -1.0, 2.0]))
    np.testing.assert_array_equal(relu_backward(np.ones(3), cache), [0.0, 0.0, 1.0])


def test_float32_stays_float32(rng):
    x, w = rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal((2, 2)).astype(np.float32)
    out, cache = affine_forward(x, w, np.zeros(2, dtype=np.float32))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in affine_backward(np.ones_like(out), cache))
