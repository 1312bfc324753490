"""Tests for regcode.batchnorm: batch and layer normalisation, forward, backward, running statistics."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from regcode.batchnorm import (
    batchnorm_backward,
    batchnorm_backward_staged,
    batchnorm_forward,
    batchnorm_inference,
    batchnorm_inference_backward,
    layernorm_backward,
    layernorm_forward,
    update_running_stats,
)
from regcode.gradcheck import numerical_gradient_array, rel_error

N, D = 6, 4


@pytest.fixture
def inputs(rng):
    x = 3.0 * rng.standard_normal((N, D)) + rng.uniform(-2, 2, size=D)
    gamma = rng.uniform(0.5, 2.0, size=D)
    beta = rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    return x, gamma, beta, dout


def grad_errors(forward, backward, x, gamma, beta, dout):
    """Relative errors of backward's (dx, dgamma, dbeta) against centred differences."""
    _, cache = forward(x, gamma, beta)
    analytic = backward(dout, cache)
    numeric = [
        numerical_gradient_array(lambda _: forward(x, gamma, beta)[0], arg, dout) for arg in (x, gamma, beta)
    ]
    return [rel_error(a, n) for a, n in zip(analytic, numeric, strict=True)]


# ---------------------------------------------------------------- batch norm, training mode


def test_forward_by_hand():
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    out, cache = batchnorm_forward(x, np.array([2.0, 1.0]), np.array([0.5, -1.0]))
    # Column means (2, 20), biased variances (1, 100).
    np.testing.assert_allclose(cache.mean, [2.0, 20.0])
    np.testing.assert_allclose(cache.var, [1.0, 100.0])
    xhat = np.array([[-1.0, -1.0], [1.0, 1.0]]) * np.sqrt(
        np.array([1.0, 100.0]) / (np.array([1.0, 100.0]) + 1e-5)
    )
    np.testing.assert_allclose(out, xhat * [2.0, 1.0] + [0.5, -1.0])


def test_forward_uses_the_biased_variance(rng):
    x = rng.standard_normal((5, 3))
    _, cache = batchnorm_forward(x, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(cache.var, x.var(axis=0, ddof=0))


def test_variance_is_not_the_raw_second_moment(rng):
    # The article's mistake: E[x^2] instead of Var[x]. With a non-zero mean they differ.
    x = rng.standard_normal((50, 2)) + 5.0
    out, _ = batchnorm_forward(x, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-4)
    wrong = (x - x.mean(axis=0)) / np.sqrt(np.mean(x**2, axis=0))
    assert np.all(wrong.std(axis=0) < 0.3)


def test_training_backward_matches_finite_differences(inputs):
    errors = grad_errors(batchnorm_forward, batchnorm_backward, *inputs)
    assert max(errors) < 1e-7, errors


def test_staged_backward_matches_finite_differences(inputs):
    errors = grad_errors(batchnorm_forward, batchnorm_backward_staged, *inputs)
    assert max(errors) < 1e-7, errors


def test_compact_and_staged_backward_agree(inputs):
    x, gamma, beta, dout = inputs
    _, cache = batchnorm_forward(x, gamma, beta)
    for compact, staged in zip(
        batchnorm_backward(dout, cache), batchnorm_backward_staged(dout, cache), strict=True
    ):
        np.testing.assert_allclose(compact, staged, rtol=1e-10, atol=1e-12)


def test_training_dx_sums_to_zero_per_feature(inputs):
    # The output is invariant to adding a constant to a column, so dx has zero column sums.
    x, gamma, beta, dout = inputs
    _, cache = batchnorm_forward(x, gamma, beta)
    dx, _, _ = batchnorm_backward(dout, cache)
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-12)


@given(
    x=hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 16), st.integers(1, 5)),
        elements=st.floats(-100, 100, allow_subnormal=False),
    ),
    eps=st.sampled_from([1e-5, 1e-3, 0.1]),
)
def test_training_output_has_mean_zero_and_unit_variance(x, eps):
    out, _ = batchnorm_forward(x, np.ones(x.shape[1]), np.zeros(x.shape[1]), eps=eps)
    var = x.var(axis=0)  # biased, as batch norm uses
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-8)
    # Variance exactly 1 but for eps: var / (var + eps), which is 1 - O(eps / var).
    np.testing.assert_allclose(out.var(axis=0), var / (var + eps), rtol=1e-9, atol=1e-12)


def test_gamma_and_beta_set_the_output_statistics(inputs):
    x, gamma, beta, _ = inputs
    out, _ = batchnorm_forward(x, gamma, beta, eps=1e-12)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-9)


def test_float32_stays_float32(inputs):
    x, gamma, beta, dout = (a.astype(np.float32) for a in inputs)
    out, cache = batchnorm_forward(x, gamma, beta)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in batchnorm_backward(dout, cache))


# ---------------------------------------------------------------- batch norm, evaluation mode


def test_inference_backward_matches_finite_differences(inputs, rng):
    x, gamma, beta, dout = inputs
    running_mean, running_var = rng.standard_normal(D), rng.uniform(0.5, 3.0, size=D)

    def forward(x, gamma, beta):
        return batchnorm_inference(x, gamma, beta, running_mean, running_var)

    errors = grad_errors(forward, batchnorm_inference_backward, x, gamma, beta, dout)
    assert max(errors) < 1e-7, errors


def test_inference_with_the_batch_statistics_equals_training_mode(inputs):
    x, gamma, beta, _ = inputs
    train_out, _ = batchnorm_forward(x, gamma, beta)
    eval_out, _ = batchnorm_inference(x, gamma, beta, x.mean(axis=0), x.var(axis=0))
    np.testing.assert_allclose(eval_out, train_out, rtol=1e-12, atol=1e-12)


def test_inference_is_per_sample(inputs, rng):
    # Evaluation mode is an affine map of each sample: one row alone gives the same output.
    x, gamma, beta, _ = inputs
    stats = rng.standard_normal(D), rng.uniform(0.5, 3.0, size=D)
    full, _ = batchnorm_inference(x, gamma, beta, *stats)
    single, _ = batchnorm_inference(x[2:3], gamma, beta, *stats)
    np.testing.assert_allclose(single, full[2:3])


# ---------------------------------------------------------------- running statistics


def test_update_running_stats_by_hand():
    # Batch of N = 4 with biased variance 3: the unbiased variance is 3 * 4 / 3 = 4.
    mean, var = update_running_stats(np.zeros(2), np.ones(2), np.array([2.0, -1.0]), np.array([3.0, 0.75]), 4)
    np.testing.assert_allclose(mean, [0.2, -0.1])
    np.testing.assert_allclose(var, [0.9 + 0.1 * 4.0, 0.9 + 0.1 * 1.0])


def test_update_running_stats_momentum(rng):
    mean0, var0 = rng.standard_normal(3), rng.uniform(1, 2, 3)
    bmean, bvar = rng.standard_normal(3), rng.uniform(1, 2, 3)
    mean, var = update_running_stats(mean0, var0, bmean, bvar, 5, momentum=0.0)
    np.testing.assert_array_equal(mean, mean0)
    np.testing.assert_array_equal(var, var0)
    mean, var = update_running_stats(mean0, var0, bmean, bvar, 5, momentum=1.0)
    np.testing.assert_allclose(mean, bmean)
    np.testing.assert_allclose(var, bvar * 5 / 4)


# ---------------------------------------------------------------- layer norm


def test_layernorm_backward_matches_finite_differences(inputs):
    errors = grad_errors(layernorm_forward, layernorm_backward, *inputs)
    assert max(errors) < 1e-7, errors


def test_layernorm_normalises_rows(inputs):
    x, _, _, _ = inputs
    out, _ = layernorm_forward(x, np.ones(D), np.zeros(D), eps=1e-12)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=1), 1.0, rtol=1e-9)


def test_layernorm_does_not_depend_on_the_batch(inputs):
    x, gamma, beta, _ = inputs
    full, _ = layernorm_forward(x, gamma, beta)
    single, _ = layernorm_forward(x[3:4], gamma, beta)  # a batch of one is fine
    np.testing.assert_allclose(single, full[3:4], rtol=1e-12)


def test_layernorm_is_batchnorm_of_the_transpose(inputs):
    x, _, _, _ = inputs
    ln, _ = layernorm_forward(x, np.ones(D), np.zeros(D))
    bn, _ = batchnorm_forward(x.T, np.ones(N), np.zeros(N))
    np.testing.assert_allclose(ln, bn.T, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- folding batch norm into the layer before it


def test_folded_layer_equals_linear_then_batchnorm_in_evaluation(rng):
    from regcode.batchnorm import batchnorm_inference, fold_batchnorm

    x, w = rng.standard_normal((7, 5)), rng.standard_normal((5, 4))
    b = rng.standard_normal(4)
    gamma, beta = rng.uniform(0.5, 2, 4), rng.standard_normal(4)
    mean, var = rng.standard_normal(4), rng.uniform(0.1, 3, 4)
    expected, _ = batchnorm_inference(x @ w + b, gamma, beta, mean, var, eps=1e-5)
    w_fold, b_fold = fold_batchnorm(w, b, gamma, beta, mean, var, eps=1e-5)
    np.testing.assert_allclose(x @ w_fold + b_fold, expected, rtol=1e-12, atol=1e-12)
    w_fold0, b_fold0 = fold_batchnorm(w, None, gamma, beta, mean, var)  # a layer without bias
    expected0, _ = batchnorm_inference(x @ w, gamma, beta, mean, var)
    np.testing.assert_allclose(x @ w_fold0 + b_fold0, expected0, rtol=1e-12, atol=1e-12)
