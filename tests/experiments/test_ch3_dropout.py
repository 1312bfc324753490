"""Tests for regcode.experiments.ch3_dropout: Monte Carlo dropout and ensembles of sampled sub-networks,
the chapter's training runs (separate random streams, weight decay, max-norm, ensemble members and bootstrap
resamples, Gal & Ghahramani's L2 strength), the Gaussian-dropout and DropConnect layers, and the two wrong
backward passes.

They also pin the chapter's numerical claims that do not depend on training: the variance
x^2 p / (1 - p) of inverted dropout, weight scaling as the exact geometric ensemble of a linear
layer, and the failure of a backward pass that resamples its mask. The claims about trained
networks are checked in the notebook itself (regcode.book.check).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from regcode.dropout import dropout_backward, dropout_forward, dropout_mask
from regcode.experiments.ch3_dropout import (
    DropConnectLinear,
    GaussianDropout,
    bootstrap_indices,
    dropout_backward_resampled,
    dropout_backward_unmasked,
    gal_weight_decay,
    mc_dropout_predict,
    mc_dropout_samples,
    member_streams,
    train_mlp,
    train_regressor,
)
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


# --- the wrong backward passes of "Common mistakes" ---


def _gradcheck_setup(rng, p=0.4):
    x, dout = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    numeric = numerical_gradient_array(lambda z: dropout_forward(z, p, np.random.default_rng(1))[0], x, dout)
    return dout, numeric


def test_the_wrong_backward_passes_fail_the_gradient_check_the_right_one_passes(rng):
    dout, numeric = _gradcheck_setup(rng)
    _, cache = dropout_forward(np.zeros_like(dout), 0.4, np.random.default_rng(1))
    assert rel_error(dropout_backward(dout, cache), numeric) < 1e-9
    assert rel_error(dropout_backward_resampled(dout, 0.4, np.random.default_rng(2)), numeric) > 0.5
    assert rel_error(dropout_backward_unmasked(dout, 0.4), numeric) > 0.5


def test_the_wrong_backward_passes_keep_shape_dtype_and_scale():
    dout = np.ones((3, 5), dtype=np.float32)
    resampled = dropout_backward_resampled(dout, 0.5, np.random.default_rng(0))
    unmasked = dropout_backward_unmasked(dout, 0.5)
    assert resampled.shape == unmasked.shape == dout.shape
    assert resampled.dtype == unmasked.dtype == np.float32
    assert set(np.unique(resampled)) <= {0.0, 2.0}  # a scaled mask, drawn afresh
    np.testing.assert_array_equal(unmasked, 2.0)  # every unit gets the gradient, dropped or not


# --- train_mlp: one run of the digits experiments ---


@pytest.fixture(scope="module")
def digits():
    from regcode.data import load_digits
    from regcode.seeds import streams

    return load_digits(streams(0).data, n_train=60)


SMALL = {"sizes": (64, 16, 10), "epochs": 2, "batch_size": 20}


def test_train_mlp_is_reproducible_and_records_the_epochs(digits):
    a, hist_a = train_mlp(digits, 3, drop_prob=0.5, **SMALL)
    b, hist_b = train_mlp(digits, 3, drop_prob=0.5, **SMALL)
    assert hist_a.epochs == 2 and len(hist_a.val_acc) == 2
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[key])
    assert hist_a.val_loss == hist_b.val_loss


def test_train_mlp_draws_the_weights_independently_of_the_dropout(digits):
    # With a negligible learning rate the trained weights are the initial ones: the same for every p.
    kwargs = {**SMALL, "lr": 1e-12}
    plain, _ = train_mlp(digits, 0, drop_prob=0.0, **kwargs)
    dropped, _ = train_mlp(digits, 0, drop_prob=0.5, **kwargs)
    plain_weights = [p.data for p in plain.parameters()]
    dropped_weights = [p.data for p in dropped.parameters()]
    for w0, w1 in zip(plain_weights, dropped_weights, strict=True):
        np.testing.assert_allclose(w0, w1, atol=1e-9)
    other, _ = train_mlp(digits, 1, drop_prob=0.0, **kwargs)
    assert not np.allclose(other.parameters()[0].data, plain_weights[0])


def test_train_mlp_options_build_the_network_they_name(digits):
    model, history = train_mlp(digits, 0, sizes=(64, 10), input_drop_prob=0.2, epochs=1, validation=False)
    assert [type(m).__name__ for m in model.layers] == ["Dropout", "Linear"]
    assert model.layers[0].p == 0.2
    assert history.val_acc == [] and len(history.train_acc) == 1

    class MarkedDropout(Dropout):
        pass

    model, _ = train_mlp(digits, 0, drop_prob=0.3, dropout_layer=MarkedDropout, **SMALL)
    dropouts = [m for m in model.layers if isinstance(m, Dropout)]
    assert dropouts and all(type(m) is MarkedDropout and m.p == 0.3 for m in dropouts)


def test_weight_decay_shrinks_the_weights_but_not_the_biases(digits):
    kwargs = {**SMALL, "epochs": 5}
    plain, _ = train_mlp(digits, 0, **kwargs)
    decayed, _ = train_mlp(digits, 0, weight_decay=1.0, **kwargs)
    assert np.linalg.norm(decayed.layers[0].weight.data) < np.linalg.norm(plain.layers[0].weight.data)


# --- gal_weight_decay and train_regressor: MC dropout as Gal & Ghahramani train it ---


def test_gal_weight_decay_is_the_formula_and_the_gaussian_prior_without_dropout():
    from regcode.penalties import lam_from_gaussian_prior

    assert gal_weight_decay(0.5, 2.0, 0.3, 40) == pytest.approx(0.5 * 4.0 * 0.09 / 40)
    # p = 0: the MAP estimate of ridge with prior standard deviation 1/l.
    assert gal_weight_decay(0.0, 2.0, 0.3, 40) == pytest.approx(lam_from_gaussian_prior(0.3, 0.5, 40))
    assert gal_weight_decay(0.8, 1.0, 0.3, 40) < gal_weight_decay(0.1, 1.0, 0.3, 40)


def _squared_norm(model):
    return sum(np.sum(param.data**2) for param in model.parameters())


def test_train_regressor_fits_and_the_penalty_shrinks_the_weights():
    x = np.linspace(-1, 1, 30)
    y = np.sin(2 * x)
    kwargs = {"drop_prob": 0.1, "hidden": (16,), "epochs": 200}
    model = train_regressor(x, y, 0, lam=0.0, **kwargs)
    assert model.eval()(x[:, None]).shape == (30, 1)
    mse = np.mean((model(x[:, None])[:, 0] - y) ** 2)
    assert mse < 0.1 * np.var(y)
    shrunk = train_regressor(x, y, 0, lam=1.0, **kwargs)
    assert _squared_norm(shrunk) < _squared_norm(model)
    again = train_regressor(x, y, 0, lam=0.0, **kwargs)
    np.testing.assert_array_equal(again.layers[0].weight.data, model.layers[0].weight.data)


def test_train_regressor_swaps_the_dropout_layers():
    class MarkedDropout(Dropout):
        pass

    x = np.linspace(-1, 1, 10)
    model = train_regressor(
        x, x, 0, drop_prob=0.5, lam=0.0, hidden=(8, 8), epochs=2, dropout_layer=MarkedDropout
    )
    assert sum(type(m) is MarkedDropout for m in model.layers) == 2


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda d: train_mlp(object(), 0), TypeError, "data"),
        (lambda d: train_mlp(d, -1), ValueError, "seed"),
        (lambda d: train_mlp(d, 0.5), TypeError, "seed"),
        (lambda d: train_mlp(d, 0, drop_prob=1.0), ValueError, "drop_prob"),
        (lambda d: train_mlp(d, 0, weight_decay=-0.1), ValueError, "weight_decay"),
        (lambda d: train_mlp(d, 0, validation="yes"), TypeError, "validation"),
        (lambda d: train_mlp(d, 0, input_drop_prob=1.5), ValueError, "input_drop_prob"),
        (lambda d: train_mlp(d, 0, dropout_layer=3), TypeError, "dropout_layer"),
        (lambda d: train_mlp(d, 0, epochs=0), ValueError, "epochs"),
        (lambda d: gal_weight_decay(1.0, 1.0, 0.3, 40), ValueError, "drop_prob"),
        (lambda d: gal_weight_decay(0.5, 0.0, 0.3, 40), ValueError, "length_scale"),
        (lambda d: gal_weight_decay(0.5, 1.0, -0.3, 40), ValueError, "noise_std"),
        (lambda d: gal_weight_decay(0.5, 1.0, 0.3, 0), ValueError, "n_samples"),
        (lambda d: train_regressor(np.arange(5), np.ones(5), 0, drop_prob=0.1, lam=0.0), TypeError, "x"),
        (lambda d: train_regressor(np.ones(5), np.ones(4), 0, drop_prob=0.1, lam=0.0), ValueError, "y"),
        (lambda d: train_regressor(np.ones(5), np.ones(5), 0, drop_prob=0.1, lam=-1.0), ValueError, "lam"),
        (lambda d: train_regressor(np.ones(5), np.ones(5), "0", drop_prob=0.1, lam=0.0), TypeError, "seed"),
        (lambda d: dropout_backward_resampled(np.ones(3), 1.0, np.random.default_rng(0)), ValueError, "p"),
        (lambda d: dropout_backward_resampled(np.ones(3), 0.5, None), TypeError, "rng"),
        (
            lambda d: dropout_backward_resampled(np.arange(3), 0.5, np.random.default_rng(0)),
            TypeError,
            "dout",
        ),
        (lambda d: dropout_backward_unmasked(np.ones(3), -0.5), ValueError, "p"),
        (lambda d: dropout_backward_unmasked(np.ones(3) * np.nan, 0.5), ValueError, "dout"),
    ],
)
def test_new_functions_reject_bad_input_naming_the_argument(digits, call, error, match):
    with pytest.raises(error, match=f"^{match}"):
        call(digits)


def test_train_mlp_follows_the_dtype_of_the_data():
    from regcode.data import load_digits
    from regcode.seeds import streams

    data32 = load_digits(streams(0).data, n_train=40, dtype=np.float32)
    model, _ = train_mlp(data32, 0, drop_prob=0.5, sizes=(64, 8, 10), epochs=1)
    assert all(param.data.dtype == np.float32 for param in model.parameters())


# --- GaussianDropout: the layer around gaussian_dropout_forward / _backward ---


def test_gaussian_dropout_layer_passes_the_gradient_check(rng):
    x, dout = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    layer = GaussianDropout(0.4, np.random.default_rng(1))
    layer(x)
    dx = layer.backward(dout)

    def same_noise(z):
        return GaussianDropout(0.4, np.random.default_rng(1))(z)

    assert rel_error(dx, numerical_gradient_array(same_noise, x, dout)) < 1e-9


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_gaussian_dropout_layer_matches_the_moments_of_bernoulli_dropout(p):
    x = np.full((400, 1000), 1.5)
    out = GaussianDropout(p, np.random.default_rng(0))(x)
    bernoulli = Dropout(p, np.random.default_rng(0))(x)
    assert out.mean() == pytest.approx(1.5, rel=0.01) and bernoulli.mean() == pytest.approx(1.5, rel=0.01)
    assert out.var() == pytest.approx(1.5**2 * p / (1 - p), rel=0.02)
    assert out.var() == pytest.approx(bernoulli.var(), rel=0.05)
    assert np.all(out != 0)  # Gaussian noise never switches a unit off


def test_gaussian_dropout_layer_modes_and_repr(rng):
    layer = GaussianDropout(0.5, rng)
    x = rng.standard_normal((3, 4))
    assert np.array_equal(layer.eval()(x), x)
    assert np.array_equal(layer.backward(np.ones((3, 4))), np.ones((3, 4)))  # identity in evaluation
    assert repr(layer) == "GaussianDropout(p=0.5)"
    with pytest.raises(RuntimeError, match="before forward"):
        GaussianDropout(0.5, rng).backward(np.ones((3, 4)))


def test_gaussian_dropout_trains_through_train_mlp_and_is_sampled_by_mc_dropout(digits):
    model, history = train_mlp(digits, 0, drop_prob=0.5, dropout_layer=GaussianDropout, **SMALL)
    noisy = [m for m in model.layers if isinstance(m, GaussianDropout)]
    assert len(noisy) == 1 and history.epochs == 2
    samples = mc_dropout_samples(model, digits.X_val[:5], 3, np.random.default_rng(0))
    assert not np.allclose(samples[0], samples[1])


# --- DropConnectLinear ---


def _dropconnect(rng, p=0.4, seed=1):
    return DropConnectLinear(6, 3, rng, p=p, mask_rng=np.random.default_rng(seed))


def test_dropconnect_layer_passes_the_gradient_check(rng):
    x, dout = rng.standard_normal((5, 6)), rng.standard_normal((5, 3))
    layer = _dropconnect(np.random.default_rng(0))
    layer(x)
    dx = layer.backward(dout)
    dw, db = layer.weight.grad, layer.bias.grad

    def output(z, w=None, b=None):
        fresh = _dropconnect(np.random.default_rng(0))  # the same weights and the same mask
        if w is not None:
            fresh.weight.data[...] = w
        if b is not None:
            fresh.bias.data[...] = b
        return fresh(z)

    w0, b0 = layer.weight.data.copy(), layer.bias.data.copy()
    assert rel_error(dx, numerical_gradient_array(output, x, dout)) < 1e-9
    assert rel_error(dw, numerical_gradient_array(lambda w: output(x, w=w), w0, dout)) < 1e-9
    assert rel_error(db, numerical_gradient_array(lambda b: output(x, b=b), b0, dout)) < 1e-9
    dropped = layer._cache.mask == 0
    assert dropped.any() and np.all(dw[dropped] == 0)  # a dropped weight gets no gradient


def test_dropconnect_layer_is_unbiased_and_drops_a_fraction_p_of_the_weights():
    layer = _dropconnect(np.random.default_rng(0), p=0.3)
    x = np.random.default_rng(2).standard_normal((4, 6))
    outputs, dropped = [], []
    for _ in range(4000):
        outputs.append(layer(x))
        dropped.append(np.mean(layer._cache.mask == 0))  # the scaled mask of this call
    outputs = np.stack(outputs)
    std_error = outputs.std(axis=0) / np.sqrt(len(outputs))
    assert np.all(np.abs(outputs.mean(axis=0) - layer.eval()(x)) < 5 * std_error)
    assert np.mean(dropped) == pytest.approx(0.3, abs=0.01)


def test_dropconnect_from_linear_shares_the_parameters_and_evaluates_as_the_linear_layer(rng):
    linear = Linear(6, 3, rng)
    layer = DropConnectLinear.from_linear(linear, 0.5, np.random.default_rng(0))
    assert layer.weight is linear.weight and layer.bias is linear.bias
    x = rng.standard_normal((4, 6))
    np.testing.assert_array_equal(layer.eval()(x), linear.eval()(x))
    assert repr(layer) == "DropConnectLinear(6, 3, p=0.5, bias=True)"
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    no_bias = DropConnectLinear.from_linear(Linear(6, 3, rng, bias=False), 0.5, rng)
    assert no_bias.bias is None and no_bias(x).shape == (4, 3)


def test_train_mlp_with_dropconnect_starts_from_the_plain_networks_weights(digits):
    kwargs = {**SMALL, "sizes": (64, 16, 16, 10), "lr": 1e-12}
    plain, _ = train_mlp(digits, 0, **kwargs)
    connected, _ = train_mlp(digits, 0, dropconnect_prob=0.5, **kwargs)
    kinds = [type(m).__name__ for m in connected.layers]
    assert kinds == ["Linear", "ReLU", "DropConnectLinear", "ReLU", "DropConnectLinear"]
    for w0, w1 in zip(plain.parameters(), connected.parameters(), strict=True):
        np.testing.assert_allclose(w0.data, w1.data, atol=1e-9)


# --- max-norm: train_mlp(max_norm=...) ---


def test_max_norm_sgd_with_a_radius_never_reached_is_plain_sgd(digits):
    plain, _ = train_mlp(digits, 0, drop_prob=0.5, **SMALL)
    loose, _ = train_mlp(digits, 0, drop_prob=0.5, max_norm=1e6, **SMALL)
    tight, _ = train_mlp(digits, 0, drop_prob=0.5, max_norm=0.5, **SMALL)
    for a, b in zip(plain.parameters(), loose.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    weights = [param.data for param in tight.parameters() if param.data.ndim == 2]
    assert all(np.all(np.linalg.norm(w, axis=0) <= 0.5 + 1e-12) for w in weights)


# --- ensemble members and bootstrap resamples ---


def test_member_zero_is_the_seed_and_other_members_are_independent_streams():
    from regcode.seeds import streams

    for a, b in zip(member_streams(3, 0), streams(3), strict=True):
        assert a.random() == b.random()
    draws = {k: [g.random() for g in member_streams(3, k)] for k in range(4)}
    flat = [value for values in draws.values() for value in values]
    assert len(set(flat)) == len(flat)  # 16 streams, no two alike
    assert [g.random() for g in member_streams(3, 2)] == draws[2]  # reproducible


def test_bootstrap_indices_draw_with_replacement_about_63_percent_distinct():
    idx = bootstrap_indices(200, 0, 0)
    assert idx.shape == (200,) and idx.min() >= 0 and idx.max() < 200
    np.testing.assert_array_equal(idx, bootstrap_indices(200, 0, 0))
    assert not np.array_equal(idx, bootstrap_indices(200, 0, 1))
    distinct = [len(np.unique(bootstrap_indices(200, 0, k))) / 200 for k in range(200)]
    expected = 1 - (1 - 1 / 200) ** 200
    assert np.mean(distinct) == pytest.approx(expected, abs=0.01)


def test_train_mlp_members_and_bootstrap(digits):
    base, _ = train_mlp(digits, 0, **SMALL)
    first, _ = train_mlp(digits, 0, member=0, **SMALL)
    second, _ = train_mlp(digits, 0, member=1, **SMALL)
    bagged, _ = train_mlp(digits, 0, member=1, bootstrap=True, **SMALL)
    for a, b in zip(base.parameters(), first.parameters(), strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    assert not np.allclose(base.layers[0].weight.data, second.layers[0].weight.data)
    assert not np.allclose(second.layers[0].weight.data, bagged.layers[0].weight.data)
    # The same member, resampled: the same initial weights (a negligible step changes nothing else).
    kwargs = {**SMALL, "lr": 1e-12}
    still, _ = train_mlp(digits, 0, member=1, **kwargs)
    still_bagged, _ = train_mlp(digits, 0, member=1, bootstrap=True, **kwargs)
    np.testing.assert_allclose(still.layers[0].weight.data, still_bagged.layers[0].weight.data, atol=1e-9)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda d: GaussianDropout(1.0, np.random.default_rng(0)), ValueError, "p"),
        (lambda d: GaussianDropout(0.5, 0), TypeError, "rng"),
        (lambda d: GaussianDropout(0.5, np.random.default_rng(0))(np.arange(3)), TypeError, "x"),
        (lambda d: DropConnectLinear(3, 2, np.random.default_rng(0), p=1.0, mask_rng=None), ValueError, "p"),
        (
            lambda d: DropConnectLinear(3, 2, np.random.default_rng(0), p=0.5, mask_rng=1),
            TypeError,
            "mask_rng",
        ),
        (
            lambda d: DropConnectLinear.from_linear("linear", 0.5, np.random.default_rng(0)),
            TypeError,
            "layer",
        ),
        (lambda d: _dropconnect(np.random.default_rng(0))(np.ones((2, 5))), ValueError, "x"),
        (lambda d: member_streams(0, -1), ValueError, "member"),
        (lambda d: member_streams("0", 1), TypeError, "seed"),
        (lambda d: bootstrap_indices(0, 0, 0), ValueError, "n_samples"),
        (lambda d: bootstrap_indices(10, 0, 1.5), TypeError, "member"),
        (lambda d: train_mlp(d, 0, dropconnect_prob=1.0), ValueError, "dropconnect_prob"),
        (lambda d: train_mlp(d, 0, max_norm=-1.0), ValueError, "max_norm"),
        (lambda d: train_mlp(d, 0, member=-1), ValueError, "member"),
        (lambda d: train_mlp(d, 0, bootstrap=1), TypeError, "bootstrap"),
    ],
)
def test_variants_and_ensembles_reject_bad_input_naming_the_argument(digits, call, error, match):
    with pytest.raises(error, match=f"^{match}"):
        call(digits)
