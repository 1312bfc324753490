"""Tests for regcode.experiments.ch3_dropout: Monte Carlo dropout and ensembles of sampled sub-networks.

They also pin the chapter's numerical claims that do not depend on training: the variance
x^2 p / (1 - p) of inverted dropout, weight scaling as the exact geometric ensemble of a linear
layer, and the failure of a backward pass that resamples its mask.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from regcode.dropout import dropout_backward, dropout_forward, dropout_mask
from regcode.experiments.ch3_dropout import mc_dropout_predict, mc_dropout_samples
from regcode.gradcheck import numerical_gradient_array, rel_error
from regcode.layers import BatchNorm1d, Dropout, Linear, ReLU, Sequential, mlp
from regcode.losses import log_softmax


def _linear_dropout_model(rng, p=0.3, d_in=6, d_out=4, dtype=np.float64):
    """Dropout on the input of a single linear layer: weight scaling is the exact geometric ensemble."""
    return Sequential(Dropout(p, rng), Linear(d_in, d_out, rng, dtype=dtype))


def _modes(model):
    return [m.training for m in model.modules()]


def geometric_ensemble(logits):
    """Renormalised geometric mean of the sampled sub-networks' probabilities = softmax of the mean logits."""
    return np.exp(log_softmax(logits.mean(axis=0)))


# --- mc_dropout_samples ---


def test_samples_have_one_output_per_pass_and_differ(rng):
    model = mlp((5, 16, 3), rng, drop_prob=0.5)
    X = rng.standard_normal((7, 5))
    samples = mc_dropout_samples(model, X, 4, np.random.default_rng(1))
    assert samples.shape == (4, 7, 3)
    assert not np.allclose(samples[0], samples[1])


def test_samples_are_reproducible_and_follow_the_given_rng(rng):
    model = mlp((5, 16, 3), rng, drop_prob=0.5)
    X = rng.standard_normal((7, 5))
    a = mc_dropout_samples(model, X, 3, np.random.default_rng(7))
    b = mc_dropout_samples(model, X, 3, np.random.default_rng(7))
    c = mc_dropout_samples(model, X, 3, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("training", [True, False])
def test_modes_and_layer_generators_are_restored(rng, training):
    model = mlp((5, 16, 16, 3), rng, drop_prob=0.5, batchnorm=True)
    model.train(training)
    X = rng.standard_normal((8, 5))  # drawn first: the layers share this generator
    dropouts = [m for m in model.layers if isinstance(m, Dropout)]
    own = [d.rng for d in dropouts]
    own_states = [d.rng.bit_generator.state for d in dropouts]
    before = _modes(model)
    mc_dropout_samples(model, X, 3, np.random.default_rng(1))
    assert _modes(model) == before
    assert all(d.rng is r for d, r in zip(dropouts, own, strict=True))
    # The layers' own mask streams are untouched: training continues exactly as without the call.
    assert [d.rng.bit_generator.state for d in dropouts] == own_states


def test_modes_are_restored_when_a_pass_fails(rng):
    model = mlp((5, 16, 3), rng, drop_prob=0.5)
    model.train()
    own = [m.rng for m in model.layers if isinstance(m, Dropout)]
    with pytest.raises(ValueError, match="x must have 5 columns"):
        mc_dropout_samples(model, rng.standard_normal((4, 6)), 2, np.random.default_rng(1))
    assert all(_modes(model))
    assert [m.rng for m in model.layers if isinstance(m, Dropout)] == own


def test_batch_norm_stays_in_evaluation_mode(rng):
    model = mlp((5, 16, 3), rng, drop_prob=0.5, batchnorm=True)
    bn = next(m for m in model.layers if isinstance(m, BatchNorm1d))
    bn.running_mean[...] = 0.3
    bn.running_var[...] = 2.0
    mean_before, var_before = bn.running_mean.copy(), bn.running_var.copy()
    samples = mc_dropout_samples(model, rng.standard_normal((1, 5)), 2, np.random.default_rng(1))
    # One row would make training-mode batch norm raise; the running buffers must not move either.
    assert samples.shape == (2, 1, 3)
    np.testing.assert_array_equal(bn.running_mean, mean_before)
    np.testing.assert_array_equal(bn.running_var, var_before)
    assert bn.num_batches_tracked == 0


@given(p=st.floats(0.05, 0.95), seed=st.integers(0, 2**31 - 1))
def test_a_dropout_only_model_outputs_zero_or_the_scaled_input(p, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 2.0, size=(3, 4))
    samples = mc_dropout_samples(Sequential(Dropout(p, rng)), X, 5, rng)
    kept = samples != 0
    np.testing.assert_allclose(samples[kept], np.broadcast_to(X / (1 - p), samples.shape)[kept])


def test_float32_models_give_float32_samples(rng):
    model = mlp((5, 8, 2), rng, drop_prob=0.2, dtype=np.float32)
    X = rng.standard_normal((3, 5)).astype(np.float32)
    assert mc_dropout_samples(model, X, 2, rng).dtype == np.float32


# --- mc_dropout_predict ---


def test_predict_returns_the_mean_and_std_of_the_samples(rng):
    model = mlp((5, 16, 3), rng, drop_prob=0.5)
    X = rng.standard_normal((6, 5))
    samples = mc_dropout_samples(model, X, 10, np.random.default_rng(3))
    mean, std = mc_dropout_predict(model, X, 10, np.random.default_rng(3))
    np.testing.assert_allclose(mean, samples.mean(axis=0))
    np.testing.assert_allclose(std, samples.std(axis=0))


def test_predict_with_softmax_averages_probabilities(rng):
    model = mlp((5, 16, 3), rng, drop_prob=0.5)
    X = rng.standard_normal((6, 5))
    mean, std = mc_dropout_predict(model, X, 10, np.random.default_rng(3), softmax=True)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0)
    assert np.all(std >= 0) and np.all(mean >= 0)


def test_mc_mean_of_a_linear_model_converges_to_the_evaluation_output(rng):
    # E[W^T (m x / (1-p))] = W^T x: the MC mean of raw outputs is unbiased for a linear layer.
    model = _linear_dropout_model(rng)
    X = rng.standard_normal((5, 6))
    mean, std = mc_dropout_predict(model, X, 2000, np.random.default_rng(1))
    model.eval()
    exact = model(X)
    assert np.all(np.abs(mean - exact) < 5 * std / np.sqrt(2000) + 1e-12)


# --- ensembles of sampled sub-networks ---


def test_softmax_mc_prediction_is_the_arithmetic_ensemble(rng):
    model = mlp((5, 16, 3), rng, drop_prob=0.5)
    X = rng.standard_normal((6, 5))
    logits = mc_dropout_samples(model, X, 8, np.random.default_rng(2))
    mean, _ = mc_dropout_predict(model, X, 8, np.random.default_rng(2), softmax=True)
    probs = np.exp(log_softmax(logits.reshape(-1, 3))).reshape(logits.shape)
    np.testing.assert_allclose(mean, probs.mean(axis=0))
    np.testing.assert_allclose(mean.sum(axis=1), 1.0)


def test_weight_scaling_is_the_geometric_ensemble_of_a_linear_layer(rng):
    """Exact in expectation for a linear layer: the distance shrinks like 1/sqrt(T)."""
    model = _linear_dropout_model(rng, p=0.5, d_in=20, d_out=5)
    X = rng.standard_normal((50, 20))
    model.eval()
    weight_scaled = np.exp(log_softmax(model(X)))
    gaps = [
        np.abs(
            geometric_ensemble(mc_dropout_samples(model, X, t, np.random.default_rng(4))) - weight_scaled
        ).mean()
        for t in (10, 1000)
    ]
    assert gaps[1] < gaps[0] / 5  # sqrt(100) = 10 in expectation; 5 leaves room for sampling noise


def test_weight_scaling_is_not_the_mean_through_a_relu(rng):
    """Through a nonlinearity the mean over masks differs from weight scaling by more than sampling noise."""
    model = Sequential(
        Linear(3, 40, rng), ReLU(), Dropout(0.5, rng), Linear(40, 40, rng), ReLU(), Linear(40, 2, rng)
    )
    X = rng.standard_normal((30, 3))
    samples = mc_dropout_samples(model, X, 1000, np.random.default_rng(5))
    model.eval()
    gap = np.sqrt(np.mean((samples.mean(axis=0) - model(X)) ** 2))
    noise = np.sqrt(np.mean(samples.var(axis=0)) / 1000)
    assert gap > 5 * noise


# --- the chapter's claims about dropout_forward / dropout_backward ---


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_inverted_dropout_adds_variance_x2_p_over_1_minus_p(p):
    x = np.full(400_000, 1.5)
    out, _ = dropout_forward(x, p, np.random.default_rng(0))
    assert out.mean() == pytest.approx(1.5, rel=0.01)
    assert out.var() == pytest.approx(1.5**2 * p / (1 - p), rel=0.03)


def test_a_resampled_mask_fails_the_gradient_check(rng):
    x, dout = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    _, cache = dropout_forward(x, 0.4, np.random.default_rng(1))
    numeric = numerical_gradient_array(
        lambda z: dropout_forward(z, 0.4, np.random.default_rng(1))[0], x, dout
    )
    assert rel_error(dropout_backward(dout, cache), numeric) < 1e-9
    resampled = dout * dropout_mask(dout.shape, 0.4, np.random.default_rng(2))
    assert rel_error(resampled, numeric) > 0.5


# --- bad input: errors name the argument ---


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m, X, r: mc_dropout_samples("model", X, 2, r), TypeError, "model"),
        (lambda m, X, r: mc_dropout_samples(mlp((5, 3), r), X, 2, r), ValueError, "model"),
        (lambda m, X, r: mc_dropout_samples(Sequential(Dropout(0.0, r)), X, 2, r), ValueError, "model"),
        (lambda m, X, r: mc_dropout_samples(m, X.astype(int), 2, r), TypeError, "X"),
        (lambda m, X, r: mc_dropout_samples(m, X[0], 2, r), ValueError, "X"),
        (lambda m, X, r: mc_dropout_samples(m, X * np.nan, 2, r), ValueError, "X"),
        (lambda m, X, r: mc_dropout_samples(m, X, 0, r), ValueError, "n_samples"),
        (lambda m, X, r: mc_dropout_samples(m, X, 2.0, r), TypeError, "n_samples"),
        (lambda m, X, r: mc_dropout_samples(m, X, 2, 0), TypeError, "rng"),
        (lambda m, X, r: mc_dropout_predict(m, X, 2, r, softmax=1), TypeError, "softmax"),
        (lambda m, X, r: mc_dropout_predict(m, X, -1, r), ValueError, "n_samples"),
        (lambda m, X, r: mc_dropout_predict(m, X, 2, None), TypeError, "rng"),
    ],
)
def test_bad_input_raises_naming_the_argument(rng, call, error, match):
    model = mlp((5, 8, 3), rng, drop_prob=0.5)
    X = rng.standard_normal((4, 5))
    with pytest.raises(error, match=match):
        call(model, X, rng)
