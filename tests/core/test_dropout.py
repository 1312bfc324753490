"""Tests for regcode.dropout: inverted dropout (p = DROP probability) and the original variant."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from regcode.dropout import dropout_backward, dropout_forward, dropout_mask, vanilla_dropout_forward
from regcode.gradcheck import numerical_gradient_array, rel_error
from regcode.layers import Dropout

drop_probs = st.floats(0.0, 0.95, allow_subnormal=False)
seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------- semantics


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_mask_values_are_zero_or_the_inverse_keep_probability(rng, p):
    mask = dropout_mask((200, 50), p, rng)
    assert mask.dtype == np.float64
    np.testing.assert_array_equal(np.unique(mask), [0.0, 1.0 / (1.0 - p)])


def test_p_is_the_drop_probability_not_the_keep_probability(rng):
    mask = dropout_mask((1000, 100), 0.9, rng)
    assert 0.88 < np.mean(mask == 0) < 0.92  # 90 % dropped, not 10 %


def test_forward_scales_survivors_by_inverse_keep_probability(rng):
    x = rng.uniform(1.0, 2.0, size=(50, 40))
    out, mask = dropout_forward(x, 0.25, rng)
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.75)
    np.testing.assert_array_equal(out, x * mask)


def test_same_seed_same_mask():
    x = np.ones((8, 8))
    out1, _ = dropout_forward(x, 0.5, np.random.default_rng(7))
    out2, _ = dropout_forward(x, 0.5, np.random.default_rng(7))
    np.testing.assert_array_equal(out1, out2)


def test_p_zero_and_eval_are_the_identity(rng):
    x = rng.standard_normal((4, 5))
    for out, cache in (dropout_forward(x, 0.0, rng), dropout_forward(x, 0.5, None, train=False)):
        np.testing.assert_array_equal(out, x)
        assert cache is None  # nothing to remember for the backward pass


def test_backward_reuses_the_forward_mask(rng):
    x = rng.standard_normal((6, 5))
    out, cache = dropout_forward(x, 0.4, rng)
    dout = rng.standard_normal(x.shape)
    dx = dropout_backward(dout, cache)
    # Gradient only where a unit survived, scaled like the forward pass.
    np.testing.assert_array_equal(dx, dout * cache)
    np.testing.assert_array_equal(dx == 0, out == 0)
    # Calling backward again gives the same gradient: nothing is resampled.
    np.testing.assert_array_equal(dropout_backward(dout, cache), dx)


def test_backward_in_eval_is_identity(rng):
    dout = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(dropout_backward(dout, None), dout)


def test_backward_matches_finite_differences_with_a_fixed_mask(rng):
    x = rng.standard_normal((5, 6))
    dout = rng.standard_normal((5, 6))
    _, cache = dropout_forward(x, 0.3, np.random.default_rng(11))
    dx = dropout_backward(dout, cache)
    # Reseeding inside f gives every evaluation the same mask.
    num = numerical_gradient_array(lambda z: dropout_forward(z, 0.3, np.random.default_rng(11))[0], x, dout)
    assert rel_error(dx, num) < 1e-7


def test_float32_stays_float32(rng):
    x = rng.standard_normal((4, 4)).astype(np.float32)
    out, mask = dropout_forward(x, 0.5, rng)
    assert out.dtype == np.float32
    assert mask.dtype == np.float32
    assert dropout_mask((3,), 0.5, rng, dtype=np.float32).dtype == np.float32


def test_vanilla_dropout_scales_at_test_time(rng):
    x = rng.uniform(1.0, 2.0, size=(40, 30))
    out, mask = vanilla_dropout_forward(x, 0.3, rng)
    np.testing.assert_array_equal(np.unique(mask), [0.0, 1.0])
    np.testing.assert_array_equal(out, x * mask)  # survivors are NOT rescaled in training
    out_eval, cache = vanilla_dropout_forward(x, 0.3, None, train=False)
    assert cache is None
    np.testing.assert_allclose(out_eval, 0.7 * x)  # ... so evaluation multiplies by 1 - p


def test_vanilla_and_inverted_differ_only_by_the_factor_one_minus_p(rng):
    x = rng.standard_normal((10, 10))
    vanilla, _ = vanilla_dropout_forward(x, 0.5, np.random.default_rng(3))
    inverted, _ = dropout_forward(x, 0.5, np.random.default_rng(3))
    np.testing.assert_allclose(inverted, vanilla / 0.5)


# ---------------------------------------------------------------- properties


@given(
    x=hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-10, 10, allow_subnormal=False)),
    p=drop_probs,
    seed=seeds,
)
def test_inverted_dropout_preserves_the_mean(x, p, seed):
    n_masks = 4000
    out, _ = dropout_forward(np.tile(x, (n_masks, 1)), p, np.random.default_rng(seed))
    # Each entry of the average is x * (fraction kept) / (1 - p); the scaled Bernoulli has
    # mean 1 and variance p / (1 - p), so the average has standard deviation
    # |x| * sqrt(p / ((1 - p) * n_masks)). Six standard deviations: a false alarm has
    # probability ~2e-9 per entry.
    std = np.abs(x) * np.sqrt(p / ((1.0 - p) * n_masks))
    assert np.all(np.abs(out.mean(axis=0) - x) <= 6 * std + 1e-12)


@given(p=drop_probs, seed=seeds)
def test_dropout_drops_a_fraction_p(p, seed):
    n = 20_000
    out, _ = dropout_forward(np.ones(n), p, np.random.default_rng(seed))
    dropped = np.count_nonzero(out == 0)
    # The number dropped is Binomial(n, p): within six standard deviations of n p.
    assert abs(dropped - n * p) <= 6 * np.sqrt(n * p * (1 - p)) + 1


@given(
    x=hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
        elements=st.floats(-1e6, 1e6, width=32),
    ),
    p=drop_probs,
    seed=seeds,
)
def test_eval_mode_dropout_is_the_identity(x, p, seed):
    out, cache = dropout_forward(x, p, np.random.default_rng(seed), train=False)
    assert cache is None
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out, x)
    layer = Dropout(p, np.random.default_rng(seed)).eval()
    out_layer = layer(x)
    assert out_layer.dtype == x.dtype
    np.testing.assert_array_equal(out_layer, x)


# ---------------------------------------------------------------- Gaussian dropout and DropConnect


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_gaussian_dropout_matches_the_moments_of_inverted_dropout(p):
    from regcode.dropout import gaussian_dropout_forward

    x = np.full(400_000, 1.5)
    gauss, _ = gaussian_dropout_forward(x, p, np.random.default_rng(0))
    bern, _ = dropout_forward(x, p, np.random.default_rng(1))
    for out in (gauss, bern):
        assert out.mean() == pytest.approx(1.5, rel=0.01)
        assert out.var() == pytest.approx(1.5**2 * p / (1 - p), rel=0.03)
    assert np.count_nonzero(gauss == 0.0) == 0  # no unit is dropped outright


def test_gaussian_dropout_backward_reuses_the_noise_and_evaluation_is_the_identity(rng):
    from regcode.dropout import gaussian_dropout_backward, gaussian_dropout_forward

    x, dout = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    _, cache = gaussian_dropout_forward(x, 0.3, np.random.default_rng(5))
    num = numerical_gradient_array(
        lambda z: gaussian_dropout_forward(z, 0.3, np.random.default_rng(5))[0], x, dout
    )
    assert rel_error(gaussian_dropout_backward(dout, cache), num) < 1e-9
    out, cache = gaussian_dropout_forward(x, 0.3, None, train=False)
    assert out is x and cache is None
    assert gaussian_dropout_forward(x.astype(np.float32), 0.3, rng)[0].dtype == np.float32


@pytest.mark.parametrize("bias", [True, False])
def test_dropconnect_backward_matches_finite_differences(rng, bias):
    from regcode.dropout import dropconnect_backward, dropconnect_forward

    x, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    b = rng.standard_normal(3) if bias else None
    dout = rng.standard_normal((5, 3))

    def forward(x_, w_, b_):
        return dropconnect_forward(x_, w_, b_, 0.4, np.random.default_rng(7))[0]  # the same mask each call

    _, cache = dropconnect_forward(x, w, b, 0.4, np.random.default_rng(7))
    dx, dw, db = dropconnect_backward(dout, cache)
    assert rel_error(dx, numerical_gradient_array(lambda z: forward(z, w, b), x, dout)) < 1e-8
    assert rel_error(dw, numerical_gradient_array(lambda z: forward(x, z, b), w, dout)) < 1e-8
    if bias:
        assert rel_error(db, numerical_gradient_array(lambda z: forward(x, w, z), b, dout)) < 1e-8
    else:
        assert db is None
    assert np.all(dw[cache.mask == 0] == 0)  # a dropped connection gets no gradient


def test_dropconnect_drops_weights_not_units_and_keeps_the_mean(rng):
    from regcode.dropout import dropconnect_forward

    x = np.ones((1, 200))
    w = np.ones((200, 1))
    outs = [dropconnect_forward(x, w, None, 0.5, np.random.default_rng(s))[0][0, 0] for s in range(2000)]
    # Each output sums 200 weights, each kept w.p. 1/2 and scaled by 2: mean 200, variance 200 * 4 * 1/4.
    assert np.mean(outs) == pytest.approx(200.0, rel=0.01)
    assert np.var(outs) == pytest.approx(200.0, rel=0.1)
    out, cache = dropconnect_forward(x, w, None, 0.5, None, train=False)
    assert out[0, 0] == 200.0 and cache.mask is None
