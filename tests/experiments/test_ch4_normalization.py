"""Tests for regcode.experiments.ch4_normalization: the E[x^2] mistake, momentum conventions,
variance shift, evaluation with batch statistics, recalibration (nested models too), fit's
divergence flag, folding batch norm for inference, the new domains and fine-tuning with frozen or
updated statistics."""

import copy

import numpy as np
import pytest

from regcode import batchnorm
from regcode.experiments import ch4_normalization as bn
from regcode.gradcheck import numerical_gradient_array, rel_error
from regcode.layers import BatchNorm1d, Dropout, Linear, ReLU, Sequential, mlp
from regcode.losses import softmax_cross_entropy
from regcode.optim import SGD
from regcode.train import fit


class SecondMomentBatchNorm1d(BatchNorm1d):
    """The source article's wrong batch norm, as chapter 4 builds it: BatchNorm1d with the wrong kernels."""

    train_forward = staticmethod(bn.batchnorm_forward_second_moment)
    train_backward = staticmethod(bn.batchnorm_backward_second_moment)


def _affine(d, rng):
    return rng.normal(1.0, 0.3, d), rng.normal(0.0, 0.5, d)


# --- the E[x^2] mistake --------------------------------------------------------------------


def test_second_moment_equals_batchnorm_when_the_mean_is_zero():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5))
    x -= x.mean(axis=0)
    gamma, beta = _affine(5, rng)
    right, _ = batchnorm.batchnorm_forward(x, gamma, beta)
    wrong, _ = bn.batchnorm_forward_second_moment(x, gamma, beta)
    np.testing.assert_allclose(wrong, right, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mean", [0.5, 2.0, 10.0])
def test_second_moment_output_variance_is_sigma2_over_sigma2_plus_mu2(mean):
    rng = np.random.default_rng(1)
    x = rng.normal(mean, 1.0, size=(200, 3))
    out, cache = bn.batchnorm_forward_second_moment(x, np.ones(3), np.zeros(3), eps=1e-12)
    mu, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), var / (var + mu**2), rtol=1e-9)
    np.testing.assert_allclose(cache.var, np.mean(x**2, axis=0))


def test_second_moment_backward_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.normal(1.5, 2.0, size=(6, 4))
    gamma, beta = _affine(4, rng)
    dout = rng.normal(size=(6, 4))
    _, cache = bn.batchnorm_forward_second_moment(x, gamma, beta)
    dx, dgamma, dbeta = bn.batchnorm_backward_second_moment(dout, cache)
    assert (
        rel_error(
            dx,
            numerical_gradient_array(
                lambda z: bn.batchnorm_forward_second_moment(z, gamma, beta)[0], x, dout
            ),
        )
        < 1e-7
    )
    assert (
        rel_error(
            dgamma,
            numerical_gradient_array(
                lambda g: bn.batchnorm_forward_second_moment(x, g, beta)[0], gamma, dout
            ),
        )
        < 1e-7
    )
    assert (
        rel_error(
            dbeta,
            numerical_gradient_array(
                lambda b: bn.batchnorm_forward_second_moment(x, gamma, b)[0], beta, dout
            ),
        )
        < 1e-7
    )


def test_second_moment_and_correct_backward_differ_when_the_mean_is_not_zero():
    rng = np.random.default_rng(3)
    x = rng.normal(3.0, 1.0, size=(8, 2))
    dout = rng.normal(size=(8, 2))
    _, wrong_cache = bn.batchnorm_forward_second_moment(x, np.ones(2), np.zeros(2))
    _, right_cache = batchnorm.batchnorm_forward(x, np.ones(2), np.zeros(2))
    assert (
        rel_error(
            bn.batchnorm_backward_second_moment(dout, wrong_cache)[0],
            batchnorm.batchnorm_backward(dout, right_cache)[0],
        )
        > 0.1
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"x": np.ones((4, 2), dtype=int)}, TypeError, "x"),
        ({"x": np.ones((1, 2))}, ValueError, "x"),
        ({"x": np.ones(4)}, ValueError, "x"),
        ({"gamma": np.ones(3)}, ValueError, "gamma"),
        ({"beta": np.ones(3)}, ValueError, "beta"),
        ({"eps": 0.0}, ValueError, "eps"),
        ({"eps": "1e-5"}, TypeError, "eps"),
    ],
)
def test_second_moment_forward_bad_input(kwargs, error, name):
    args = {"x": np.arange(8.0).reshape(4, 2), "gamma": np.ones(2), "beta": np.zeros(2), "eps": 1e-5}
    args.update(kwargs)
    with pytest.raises(error, match=name):
        bn.batchnorm_forward_second_moment(**args)


def test_second_moment_backward_bad_dout():
    _, cache = bn.batchnorm_forward_second_moment(np.arange(8.0).reshape(4, 2), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="dout"):
        bn.batchnorm_backward_second_moment(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match="dout"):
        bn.batchnorm_backward_second_moment(np.ones((4, 2), dtype=int), cache)


def test_second_moment_layer_matches_functional_and_gradchecks():
    rng = np.random.default_rng(4)
    x = rng.normal(2.0, 1.0, size=(5, 3))
    layer = SecondMomentBatchNorm1d(3)
    layer.gamma.data[:] = [0.5, 1.0, 2.0]
    out = layer(x)
    expected, _ = bn.batchnorm_forward_second_moment(x, layer.gamma.data, layer.beta.data)
    np.testing.assert_allclose(out, expected)
    dout = rng.normal(size=x.shape)
    dx = layer.backward(dout)

    def f(z):
        fresh = SecondMomentBatchNorm1d(3)
        fresh.gamma.data[:] = layer.gamma.data
        return fresh(z)

    assert rel_error(dx, numerical_gradient_array(f, x.copy(), dout)) < 1e-7
    # running "variance" averages E[x^2] * N / (N - 1), and evaluation uses it
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * np.mean(x**2, axis=0) * 5 / 4)
    layer.eval()
    np.testing.assert_allclose(
        layer(x),
        batchnorm.batchnorm_inference(
            x, layer.gamma.data, layer.beta.data, layer.running_mean, layer.running_var
        )[0],
    )
    assert layer.backward(dout).shape == x.shape
    with pytest.raises(ValueError, match="x"):
        SecondMomentBatchNorm1d(3)(x[:1])
    assert "SecondMomentBatchNorm1d(3" in repr(layer)


# --- momentum conventions ------------------------------------------------------------------


def test_momentum_conversions():
    assert bn.keras_to_torch_momentum(0.99) == pytest.approx(0.01)
    assert bn.keras_to_torch_momentum(0.9) == pytest.approx(0.1)


def test_keras_update_equals_torch_update_with_converted_momentum():
    rng = np.random.default_rng(5)
    keras_momentum = 0.99
    mean_keras = mean_torch = np.zeros(3)
    var_torch = np.ones(3)
    for _ in range(20):
        batch = rng.normal(2.0, 3.0, size=(8, 3))
        mean_keras = keras_momentum * mean_keras + (1 - keras_momentum) * batch.mean(axis=0)
        mean_torch, var_torch = batchnorm.update_running_stats(
            mean_torch,
            var_torch,
            batch.mean(axis=0),
            batch.var(axis=0),
            8,
            bn.keras_to_torch_momentum(keras_momentum),
        )
    np.testing.assert_allclose(mean_torch, mean_keras, rtol=1e-12)


@pytest.mark.parametrize("func", [bn.keras_to_torch_momentum])
def test_momentum_conversion_bad_input(func):
    with pytest.raises(ValueError, match="momentum"):
        func(1.5)
    with pytest.raises(ValueError, match="momentum"):
        func(-0.1)
    with pytest.raises(TypeError, match="momentum"):
        func("0.9")


# --- variance shift ------------------------------------------------------------------------


def test_dropout_variance_ratio_closed_forms():
    assert bn.dropout_variance_ratio(0.0, 1.0, 0.5) == pytest.approx(0.5)
    assert bn.dropout_variance_ratio(3.0, 2.0, 0.0) == pytest.approx(1.0)
    ratios = bn.dropout_variance_ratio(np.array([0.0, 1.0, 2.0]), 1.0, 0.2)
    assert ratios.shape == (3,)
    assert np.all(np.diff(ratios) < 0)  # a larger mean makes the shift worse


def test_dropout_variance_ratio_matches_monte_carlo():
    from regcode.dropout import dropout_forward

    rng = np.random.default_rng(6)
    x = rng.normal(1.0, 2.0, size=(200_000, 1))
    out, _ = dropout_forward(x, 0.3, rng)
    assert x.var() / out.var() == pytest.approx(bn.dropout_variance_ratio(1.0, 4.0, 0.3), rel=0.02)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((0.0, 1.0, 1.0), ValueError, "p"),
        ((0.0, 1.0, "0.5"), TypeError, "p"),
        ((0.0, 0.0, 0.5), ValueError, "var"),
        ((0.0, np.nan, 0.5), ValueError, "var"),
        ((np.inf, 1.0, 0.5), ValueError, "mean"),
        (("a", 1.0, 0.5), TypeError, "mean"),
        ((0.0, np.array([1 + 1j]), 0.5), TypeError, "var"),
    ],
)
def test_dropout_variance_ratio_bad_input(args, error, name):
    with pytest.raises(error, match=name):
        bn.dropout_variance_ratio(*args)


def _bn_net(rng, drop_prob=0.0):
    return mlp([4, 8, 8, 3], rng, batchnorm=True, drop_prob=drop_prob)


def test_batchnorm_input_variances_leaves_state_and_mode_alone():
    rng = np.random.default_rng(7)
    model = mlp([4, 64, 64, 3], rng, batchnorm=True, drop_prob=0.5)
    X = rng.normal(size=(400, 4))
    before = model.state_dict()
    model.eval()
    train_vars = bn.batchnorm_input_variances(model, X, training=True)
    eval_vars = bn.batchnorm_input_variances(model, X, training=False)
    assert not model.training
    assert len(train_vars) == len(eval_vars) == 2
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    assert all(b.num_batches_tracked == 0 for b in model.layers if isinstance(b, BatchNorm1d))
    # the first BN sees no dropout; its input variance is the same in both modes
    np.testing.assert_allclose(train_vars[0], eval_vars[0])
    np.testing.assert_allclose(eval_vars[0], (X @ model[0].weight.data).var(axis=0, ddof=1))
    # the second sees dropout(p=0.5) in training: a larger variance
    assert np.mean(train_vars[1]) > np.mean(eval_vars[1])


def test_recalibrate_batchnorm_sets_statistics_of_the_eval_mode_inputs():
    rng = np.random.default_rng(8)
    model = _bn_net(rng, drop_prob=0.3)
    X = rng.normal(size=(40, 4))
    model.train()
    assert bn.recalibrate_batchnorm(model, X) is model
    assert model.training
    eval_vars = bn.batchnorm_input_variances(model, X, training=False)
    bn_layers = [b for b in model.layers if isinstance(b, BatchNorm1d)]
    for layer, var in zip(bn_layers, eval_vars, strict=True):
        np.testing.assert_allclose(layer.running_var, var)
    # first BN: running mean is the mean of its input
    np.testing.assert_allclose(bn_layers[0].running_mean, (X @ model[0].weight.data).mean(axis=0))


def test_recalibrated_eval_output_matches_full_batch_training_output():
    rng = np.random.default_rng(9)
    model = _bn_net(rng)  # no dropout: training mode differs only by the statistics
    X = rng.normal(size=(500, 4))
    bn.recalibrate_batchnorm(model, X)
    model.eval()
    eval_out = model(X)
    full_batch = bn.predict_with_batch_statistics(model, X)
    # biased (training) versus unbiased (running) variance: a relative 1/(2N) difference
    np.testing.assert_allclose(eval_out, full_batch, rtol=5e-3, atol=5e-3)


def test_predict_with_batch_statistics_depends_on_the_batch_and_keeps_buffers():
    rng = np.random.default_rng(10)
    model = _bn_net(rng)
    X = rng.normal(size=(12, 4))
    before = model.state_dict()
    whole = bn.predict_with_batch_statistics(model, X)
    in_fours = bn.predict_with_batch_statistics(model, X, batch_size=4)
    model.train()
    np.testing.assert_allclose(in_fours[:4], model.forward(X[:4]))
    model.load_state_dict(before)
    assert not np.allclose(whole[:4], in_fours[:4])
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    assert model.training


@pytest.mark.parametrize(
    ("batch_size", "error"), [(1, ValueError), (5, ValueError), (2.0, TypeError), (True, TypeError)]
)
def test_predict_with_batch_statistics_bad_batch_size(batch_size, error):
    model = _bn_net(np.random.default_rng(11))
    with pytest.raises(error, match="batch_size"):
        bn.predict_with_batch_statistics(model, np.ones((11, 4)), batch_size=batch_size)


@pytest.mark.parametrize(
    "func",
    [
        lambda m, X: bn.batchnorm_input_variances(m, X, training=True),
        bn.recalibrate_batchnorm,
        bn.predict_with_batch_statistics,
    ],
)
def test_model_helpers_bad_input(func):
    rng = np.random.default_rng(12)
    model = _bn_net(rng)
    with pytest.raises(TypeError, match="model"):
        func("a model", np.ones((5, 4)))
    with pytest.raises(TypeError, match="X"):
        func(model, np.ones((5, 4), dtype=int))
    with pytest.raises(ValueError, match="X"):
        func(model, np.ones((1, 4)))


def test_batchnorm_input_variances_bad_training_flag():
    model = _bn_net(np.random.default_rng(13))
    with pytest.raises(TypeError, match="training"):
        bn.batchnorm_input_variances(model, np.ones((5, 4)), training="yes")


def test_helpers_work_on_a_hand_built_sequential():
    rng = np.random.default_rng(14)
    model = Sequential(
        Linear(3, 5, rng, bias=False), BatchNorm1d(5), ReLU(), Dropout(0.2, rng), Linear(5, 2, rng)
    )
    X = rng.normal(size=(20, 3))
    assert len(bn.batchnorm_input_variances(model, X, training=True)) == 1
    assert bn.predict_with_batch_statistics(model, X, batch_size=10).shape == (20, 2)


# --- fit reports divergence instead of raising (chapter 4's learning-rate sweep relies on it) --


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_flags_divergence_without_warnings_or_errors(dtype):
    rng = np.random.default_rng(15)
    X = rng.normal(size=(64, 8)).astype(dtype)
    y = rng.integers(0, 3, 64)
    model = mlp([8, 32, 32, 32, 3], rng, weight_std=3.0, dtype=dtype)
    history = fit(
        model, softmax_cross_entropy, SGD(model.parameters(), lr=50.0, momentum=0.9), X, y,
        epochs=30, batch_size=16, rng=rng, X_val=X, y_val=y,
    )  # fmt: skip
    assert history.diverged
    assert history.epochs < 30
    assert len(history.val_loss) == history.epochs


def test_recalibrate_second_moment_layers_with_their_own_statistic():
    # The E[x^2] layer divides by sqrt(E[x^2] + eps) in training; recalibrating it with the
    # variance instead would evaluate a different network from the one that was trained.
    rng = np.random.default_rng(16)
    model = _bn_net(rng)
    model.layers = [
        SecondMomentBatchNorm1d(b.num_features) if isinstance(b, BatchNorm1d) else b for b in model.layers
    ]
    X = rng.normal(3.0, 1.0, size=(500, 4))  # a mean far from 0: E[x^2] and the variance differ
    bn.recalibrate_batchnorm(model, X)
    first = model.layers[1]
    z = X @ model[0].weight.data
    np.testing.assert_allclose(first.running_var, np.mean(z * z, axis=0) * 500 / 499)
    model.eval()
    eval_out = model(X)
    full_batch = bn.predict_with_batch_statistics(model, X)
    np.testing.assert_allclose(eval_out, full_batch, rtol=5e-3, atol=5e-3)


# --- nested models: every helper finds batch norm at any depth (a defect of the first version) ---


def _nested(rng, drop_prob=0.3):
    inner = Sequential(Linear(4, 8, rng, bias=False), BatchNorm1d(8), ReLU(), Dropout(drop_prob, rng))
    return Sequential(
        inner, Sequential(Linear(8, 6, rng, bias=False), BatchNorm1d(6), ReLU()), Linear(6, 3, rng)
    )


def test_helpers_find_batch_norm_in_nested_sequentials():
    rng = np.random.default_rng(17)
    model = _nested(rng)
    X = rng.normal(size=(60, 4))
    layers = bn.batchnorm_layers(model)
    assert [layer.num_features for layer in layers] == [8, 6]
    before = [layer.running_var.copy() for layer in layers]
    bn.recalibrate_batchnorm(model, X)
    eval_vars = bn.batchnorm_input_variances(model, X, training=False)
    assert [v.shape for v in eval_vars] == [(8,), (6,)]
    for layer, var, old in zip(layers, eval_vars, before, strict=True):
        np.testing.assert_allclose(layer.running_var, var)
        assert not np.allclose(layer.running_var, old)
    # Recalibrated, training mode differs only by dropout, which sits before the second batch norm.
    train_vars = bn.batchnorm_input_variances(model, X, training=True)
    np.testing.assert_allclose(train_vars[0], eval_vars[0])
    assert np.mean(train_vars[1]) > np.mean(eval_vars[1])
    model.eval()
    plain = model(X[:10])
    assert not np.allclose(bn.predict_with_batch_statistics(model, X[:10]), plain)
    np.testing.assert_array_equal(model(X[:10]), plain)  # buffers untouched by the wrong evaluation


# --- the test bed: digits_split and train_digits_mlp ------------------------------------------


def test_digits_split_is_float64_seeded_and_shifted():
    split = bn.digits_split(0, n_train=120)
    assert split.X_train.shape == (120, 64) and split.X_train.dtype == np.float64
    assert split.X_val.shape == split.X_test.shape == (360, 64)
    again = bn.digits_split(0, n_train=120)
    np.testing.assert_array_equal(again.X_train, split.X_train)
    np.testing.assert_array_equal(again.y_test, split.y_test)
    assert not np.array_equal(bn.digits_split(1, n_train=120).y_train, split.y_train)
    shifted = bn.digits_split(0, n_train=120, shift=10.0)
    for name in ("X_train", "X_val", "X_test"):
        np.testing.assert_array_equal(getattr(shifted, name), getattr(split, name) + 10.0)
    np.testing.assert_array_equal(shifted.y_train, split.y_train)


def test_digits_split_returns_new_arrays_every_call():
    split = bn.digits_split(0, n_train=50)
    split.X_train[:] = 0.0
    split.y_val[:] = 0
    fresh = bn.digits_split(0, n_train=50)
    assert np.abs(fresh.X_train).sum() > 0
    assert len(np.unique(fresh.y_val)) == 10


def _initial_state(store):
    """A setup for train_digits_mlp that keeps a copy of the initial weights of the Linear layers."""

    def setup(model):
        store.append([layer.weight.data.copy() for layer in model.layers if isinstance(layer, Linear)])

    return setup


SMALL = {"hidden": 2, "width": 16, "n_train": 60, "epochs": 2}


def test_train_digits_mlp_is_reproducible_and_returns_a_trained_model():
    model, history = bn.train_digits_mlp(0, 0.05, **SMALL)
    _, again = bn.train_digits_mlp(0, 0.05, **SMALL)
    assert history.epochs == 2 and not history.diverged
    assert history.val_acc == again.val_acc and history.train_loss == again.train_loss
    assert len(bn.batchnorm_layers(model)) == 2
    assert model[0].bias is None  # a norm after the Linear replaces its bias


def test_train_digits_mlp_one_seed_same_start_whatever_the_other_settings():
    starts = []
    for options in ({"norm": "none"}, {"norm": "batchnorm", "drop_prob": 0.3}, {"norm": "layernorm"}):
        bn.train_digits_mlp(3, 0.01, **SMALL, **options, setup=_initial_state(starts))
    for weights in starts[1:]:
        for weight, first in zip(weights, starts[0], strict=True):
            np.testing.assert_array_equal(weight, first)
    other_seed = []
    bn.train_digits_mlp(4, 0.01, **SMALL, norm="none", setup=_initial_state(other_seed))
    assert not np.array_equal(other_seed[0][0], starts[0][0])


def test_train_digits_mlp_dropout_changes_nothing_but_the_masks():
    # p = 0 and a tiny p draw the same batches: the first-epoch losses differ only by the masks' effect
    _, plain = bn.train_digits_mlp(0, 0.01, **SMALL, drop_prob=0.0)
    _, dropped = bn.train_digits_mlp(0, 0.01, **SMALL, drop_prob=1e-9)
    np.testing.assert_allclose(dropped.train_loss, plain.train_loss, rtol=1e-6)


def test_train_digits_mlp_swaps_the_batchnorm_class_and_calls_the_hooks():
    class Counting(BatchNorm1d):
        calls = 0

        @staticmethod
        def train_forward(x, gamma, beta, eps):
            Counting.calls += 1
            return batchnorm._batchnorm_forward(x, gamma, beta, eps)

    epochs_seen, setups = [], []
    model, history = bn.train_digits_mlp(
        0, 0.05, **SMALL, batchnorm_class=Counting, setup=setups.append,
        callback=lambda epoch, m, h: epochs_seen.append((epoch, h.epochs)),
    )  # fmt: skip
    layers = bn.batchnorm_layers(model)
    assert all(type(layer) is Counting for layer in layers) and len(layers) == 2
    assert Counting.calls == 2 * 2 * 2  # 2 layers x 2 batches of 32 (60 images) x 2 epochs
    assert setups == [model]
    assert epochs_seen == [(1, 1), (2, 2)]


def test_train_digits_mlp_weight_decay_shrinks_only_the_weights():
    decayed, _ = bn.train_digits_mlp(0, 0.05, **SMALL, weight_decay=0.5)
    plain, _ = bn.train_digits_mlp(0, 0.05, **SMALL)
    assert np.linalg.norm(decayed[0].weight.data) < 0.9 * np.linalg.norm(plain[0].weight.data)
    # gamma has decay=False: it moves only through its gradient, by a comparable amount in both runs
    assert np.abs(decayed[1].gamma.data - 1).max() < 1.0


def test_train_digits_mlp_shift_is_removed_by_training_mode_batch_norm():
    # The first batch norm removes a constant shift of the input in training mode, so the weights follow
    # the same path; with statistics recomputed exactly, the two networks compute the same function.
    outputs = []
    for shift in (0.0, 10.0):
        model, _ = bn.train_digits_mlp(2, 0.03, **SMALL, shift=shift)
        data = bn.digits_split(2, n_train=60, shift=shift)
        bn.recalibrate_batchnorm(model, data.X_train).eval()
        outputs.append(model(data.X_val))
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": "0.1"}, TypeError, "lr"),
        ({"norm": "groupnorm"}, ValueError, "norm"),
        ({"hidden": 0}, ValueError, "hidden"),
        ({"width": 2.0}, TypeError, "width"),
        ({"n_train": 1}, ValueError, "n_train"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"batch_size": 1}, ValueError, "batch_size"),
        ({"drop_prob": 1.0}, ValueError, "drop_prob"),
        ({"weight_std": -1.0}, ValueError, "weight_std"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay"),
        ({"shift": np.nan}, ValueError, "shift"),
        ({"batchnorm_class": Linear}, TypeError, "batchnorm_class"),
        ({"batchnorm_class": "BatchNorm1d"}, TypeError, "batchnorm_class"),
        ({"batchnorm_class": SecondMomentBatchNorm1d, "norm": "none"}, ValueError, "batchnorm_class"),
        ({"setup": "zero"}, TypeError, "setup"),
        ({"callback": 3}, TypeError, "callback"),
    ],
)
def test_train_digits_mlp_bad_input(kwargs, error, name):
    args = {"seed": 0, "lr": 0.1, **SMALL, "epochs": 1}
    args.update(kwargs)
    with pytest.raises(error, match=f"^{name}"):
        bn.train_digits_mlp(**args)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": "0"}, TypeError, "seed"),
        ({"n_train": 1}, ValueError, "n_train"),
        ({"n_train": 5000}, ValueError, "n_train"),
        ({"shift": "1"}, TypeError, "shift"),
        ({"shift": np.inf}, ValueError, "shift"),
    ],
)
def test_digits_split_bad_input(kwargs, error, name):
    args = {"seed": 0, **kwargs}
    with pytest.raises(error, match=f"^{name}"):
        bn.digits_split(**args)


# --- batch norm in practice: folding, new domains, fine-tuning --------------------------------


def _trained_looking_bn_net(rng, *, bias=False, dropout=False):
    """An MLP whose batch norms have non-trivial gamma, beta and running statistics."""
    model = mlp((5, 7, 6, 3), rng, batchnorm=True, drop_prob=0.3 if dropout else 0.0, dropout_rng=rng)
    for layer in bn.batchnorm_layers(model):
        d = layer.num_features
        layer.gamma.data[...] = rng.normal(1.0, 0.3, d)
        layer.beta.data[...] = rng.normal(0.0, 0.5, d)
        layer.running_mean[...] = rng.normal(0.0, 2.0, d)
        layer.running_var[...] = rng.uniform(0.2, 3.0, d)
    if bias:  # a Linear with a bias before a batch norm folds too
        linear = Linear(5, 7, rng)
        linear.weight.data[...] = model[0].weight.data
        linear.bias.data[...] = rng.normal(size=7)
        model.layers[0] = linear
    return model


@pytest.mark.parametrize(("bias", "dropout"), [(False, False), (True, False), (False, True)])
def test_fold_batchnorm_layers_computes_the_evaluation_mode_output(bias, dropout):
    rng = np.random.default_rng(10)
    model = _trained_looking_bn_net(rng, bias=bias, dropout=dropout)
    x = rng.normal(size=(20, 5))
    before = model.state_dict()
    folded = bn.fold_batchnorm_layers(model)
    expected = model.eval()(x)
    np.testing.assert_allclose(folded(x), expected, rtol=1e-12, atol=1e-12)
    assert not any(isinstance(layer, BatchNorm1d) for layer in folded.modules())
    assert len(folded) == len(model) - 2 and not folded.training
    assert all(isinstance(folded[i], Linear) and folded[i].bias is not None for i in (0, 2 + dropout))
    for key, value in model.state_dict().items():  # the original is left as it was
        np.testing.assert_array_equal(value, before[key])


def test_fold_batchnorm_layers_keeps_what_it_cannot_fold_and_enters_nested_sequentials():
    rng = np.random.default_rng(11)
    inner = _trained_looking_bn_net(rng)
    lonely = BatchNorm1d(5)  # after no Linear: stays
    lonely.running_mean[...] = rng.normal(size=5)
    model = Sequential(lonely, inner, ReLU())
    folded = bn.fold_batchnorm_layers(model)
    assert isinstance(folded[0], BatchNorm1d) and folded[0] is not lonely
    assert isinstance(folded[1], Sequential) and len(folded[1]) == len(inner) - 2
    x = rng.normal(size=(8, 5))
    np.testing.assert_allclose(folded(x), model.eval()(x), rtol=1e-12, atol=1e-12)


def test_fold_batchnorm_layers_on_the_test_bed_agrees_with_the_trained_network():
    model, _ = bn.train_digits_mlp(0, 0.1, **SMALL)
    data = bn.digits_split(0, n_train=60)
    folded = bn.fold_batchnorm_layers(model)
    np.testing.assert_allclose(folded(data.X_val), model.eval()(data.X_val), rtol=1e-10, atol=1e-10)
    assert len(folded) == len(model) - SMALL["hidden"]


def test_fold_batchnorm_layers_bad_input():
    with pytest.raises(TypeError, match="^model"):
        bn.fold_batchnorm_layers(Linear(2, 2, np.random.default_rng(0)))


def test_new_domain_split_low_contrast_is_the_affine_change_of_the_grey_levels():
    split = bn.new_domain_split(0, "low-contrast", n_per_class=3, n_train=120)
    base = bn.digits_split(0, n_train=120)
    assert split.X_train.shape == (30, 64) and np.array_equal(np.bincount(split.y_train), [3] * 10)
    raw_val = base.unstandardize(base.X_val)
    np.testing.assert_allclose(split.unstandardize(split.X_val), 0.5 * raw_val + 4.0, atol=1e-10)
    np.testing.assert_array_equal(split.y_val, base.y_val)
    np.testing.assert_array_equal(split.y_test, base.y_test)
    # every fine-tuning image is a changed training image with its label
    raw_train = base.unstandardize(base.X_train)
    for image, label in zip(split.unstandardize(split.X_train), split.y_train, strict=True):
        matches = np.flatnonzero(np.all(np.abs(0.5 * raw_train + 4.0 - image) < 1e-9, axis=1))
        assert matches.size >= 1 and base.y_train[matches[0]] == label


def test_new_domain_split_off_centre_moves_each_image_by_at_most_one_pixel():
    split = bn.new_domain_split(1, "off-centre", n_train=120)
    base = bn.digits_split(1, n_train=120)
    moved = split.unstandardize(split.X_val).reshape(-1, 8, 8)
    original = base.unstandardize(base.X_val).reshape(-1, 8, 8)
    padded = np.pad(original, ((0, 0), (1, 1), (1, 1)))
    windows = np.stack(
        [padded[:, 1 - dy : 9 - dy, 1 - dx : 9 - dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    )
    assert np.all(np.any(np.all(np.abs(windows - moved) < 1e-9, axis=(2, 3)), axis=0))
    assert np.mean(np.all(np.abs(moved - original) < 1e-9, axis=(1, 2))) < 0.3  # most images moved


def test_new_domain_split_is_seeded_and_leaves_the_test_bed_alone():
    first = bn.new_domain_split(2, "off-centre", n_train=120)
    again = bn.new_domain_split(2, "off-centre", n_train=120)
    np.testing.assert_array_equal(first.X_train, again.X_train)
    np.testing.assert_array_equal(first.X_test, again.X_test)
    assert not np.array_equal(bn.new_domain_split(3, "off-centre", n_train=120).y_train, first.y_train)
    before = bn.digits_split(2, n_train=120)
    bn.new_domain_split(2, "low-contrast", n_train=120)
    np.testing.assert_array_equal(bn.digits_split(2, n_train=120).X_val, before.X_val)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"kind": "rotated"}, ValueError, "kind"),
        ({"seed": -1}, ValueError, "seed"),
        ({"n_per_class": 0}, ValueError, "n_per_class"),
        ({"n_per_class": 50}, ValueError, "n_per_class"),
        ({"n_per_class": 2.0}, TypeError, "n_per_class"),
    ],
)
def test_new_domain_split_bad_input(kwargs, error, name):
    args = {"seed": 0, "kind": "off-centre", "n_train": 120, **kwargs}
    with pytest.raises(error, match=f"^{name}"):
        bn.new_domain_split(**args)


def _fine_tuning_problem():
    model, _ = bn.train_digits_mlp(0, 0.1, **SMALL)
    data = bn.new_domain_split(0, "low-contrast", n_per_class=2, n_train=60)
    return model, data


def test_fine_tune_frozen_keeps_the_statistics_and_trains_everything_else():
    model, data = _fine_tuning_problem()
    before = model.state_dict()
    tuned, diverged = bn.fine_tune(
        model, data.X_train, data.y_train, lr=0.01, epochs=3, batch_size=4,
        rng=np.random.default_rng(0), freeze_batchnorm=True,
    )  # fmt: skip
    assert not diverged and not tuned.training
    state = tuned.state_dict()
    for key, value in before.items():
        if "running" in key:
            np.testing.assert_array_equal(state[key], value)
        else:  # weights, gamma and beta all moved
            assert not np.array_equal(state[key], value), key
    counts = [layer.num_batches_tracked for layer in bn.batchnorm_layers(model)]
    assert [layer.num_batches_tracked for layer in bn.batchnorm_layers(tuned)] == counts
    for key, value in model.state_dict().items():  # the original is left as it was
        np.testing.assert_array_equal(value, before[key])


def test_fine_tune_updated_moves_the_statistics_towards_the_new_domain():
    model, data = _fine_tuning_problem()
    tuned, diverged = bn.fine_tune(
        model, data.X_train, data.y_train, lr=0.01, epochs=30, batch_size=4,
        rng=np.random.default_rng(0), freeze_batchnorm=False,
    )  # fmt: skip
    assert not diverged
    old, new = bn.batchnorm_layers(model)[0], bn.batchnorm_layers(tuned)[0]
    # 30 epochs of 5 batches: (1 - 0.1)^150 of the old running mean is left, nothing visible
    first_inputs = data.X_train @ tuned[0].weight.data
    target = first_inputs.mean(axis=0)
    assert np.abs(new.running_mean - target).max() < 0.5 * np.abs(old.running_mean - target).max()


def test_fine_tune_frozen_step_is_a_gradient_step_of_the_evaluation_mode_network():
    model, data = _fine_tuning_problem()
    n = data.X_train.shape[0]
    tuned, _ = bn.fine_tune(
        model, data.X_train, data.y_train, lr=0.05, epochs=1, batch_size=n,
        rng=np.random.default_rng(0), freeze_batchnorm=True,
    )  # fmt: skip
    reference = copy.deepcopy(model).eval()  # one batch: the order of the samples does not matter
    reference.zero_grad()
    _, dout = softmax_cross_entropy(reference.forward(data.X_train), data.y_train)
    reference.backward(dout)
    for param, tuned_param in zip(reference.parameters(), tuned.parameters(), strict=True):
        np.testing.assert_allclose(tuned_param.data, param.data - 0.05 * param.grad, rtol=1e-10, atol=1e-12)


def test_fine_tune_is_reproducible_and_reports_divergence():
    model, data = _fine_tuning_problem()
    args = {"epochs": 2, "batch_size": 4, "freeze_batchnorm": False}
    a, _ = bn.fine_tune(model, data.X_train, data.y_train, lr=0.01, rng=np.random.default_rng(1), **args)
    b, _ = bn.fine_tune(model, data.X_train, data.y_train, lr=0.01, rng=np.random.default_rng(1), **args)
    np.testing.assert_array_equal(a(data.X_val), b(data.X_val))
    # with frozen statistics nothing rescales the growing weights: the outputs overflow
    args["freeze_batchnorm"] = True
    _, diverged = bn.fine_tune(
        model, data.X_train, data.y_train, lr=1e12, rng=np.random.default_rng(1), **args
    )
    assert diverged


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"model": "net"}, TypeError, "model"),
        ({"X": np.ones((1, 64))}, ValueError, "X"),
        ({"y": np.zeros(3, dtype=int)}, ValueError, "y"),
        ({"y": np.zeros(20)}, TypeError, "y"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"batch_size": 1}, ValueError, "batch_size"),
        ({"rng": 0}, TypeError, "rng"),
        ({"freeze_batchnorm": "yes"}, TypeError, "freeze_batchnorm"),
    ],
)
def test_fine_tune_bad_input(kwargs, error, name):
    model, data = _fine_tuning_problem()
    args = {
        "model": model, "X": data.X_train, "y": data.y_train, "lr": 0.01, "epochs": 1, "batch_size": 4,
        "rng": np.random.default_rng(0), "freeze_batchnorm": True,
    }  # fmt: skip
    args.update(kwargs)
    with pytest.raises(error, match=f"^{name}"):
        bn.fine_tune(**args)
