"""Tests for regcode.experiments.ch1_overfitting (chapter 1)."""

import dataclasses

import numpy as np
import pytest

from regcode.data import load_digits, make_regression_1d, polynomial_features, true_function
from regcode.experiments.ch1_overfitting import (
    BiasVariance,
    ClassifierScores,
    RandomReLUFeatures,
    bias_variance,
    classifier_scores,
    fit_polynomial,
    polynomial_bias_variance,
    polynomial_errors,
    polynomial_learning_curve,
    predict_polynomial,
    random_features_curve,
    sharpness_proxy,
    train_mlp,
)
from regcode.layers import Linear, ReLU, Sequential, mlp
from regcode.linear_model import ridge
from regcode.losses import half_mse, log_softmax, softmax_cross_entropy
from regcode.optim import SGD
from regcode.seeds import streams
from regcode.train import early_stopping_epoch, fit


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------
# Polynomials
# ---------------------------------------------------------------------------


def test_fit_polynomial_recovers_exact_polynomial():
    x = np.linspace(-1, 1, 20)
    coef_true = np.array([0.5, -1.0, 2.0, 0.25])
    y = polynomial_features(x, 3) @ coef_true
    np.testing.assert_allclose(fit_polynomial(x, y, 3), coef_true, atol=1e-10)
    # a higher degree finds the same polynomial (extra coefficients zero)
    np.testing.assert_allclose(fit_polynomial(x, y, 5), np.r_[coef_true, 0.0, 0.0], atol=1e-8)


def test_fit_polynomial_matches_numpy_polyfit():
    x, y = make_regression_1d(30, rng(1))
    ours = fit_polynomial(x, y, 4)
    np.testing.assert_allclose(ours, np.polynomial.polynomial.polyfit(x, y, 4), rtol=1e-8, atol=1e-10)


def test_fit_polynomial_underdetermined_is_min_norm_interpolant():
    x, y = make_regression_1d(5, rng(2))
    coef = fit_polynomial(x, y, 8)
    np.testing.assert_allclose(predict_polynomial(coef, x), y, atol=1e-9)
    np.testing.assert_allclose(coef, np.linalg.pinv(polynomial_features(x, 8)) @ y, atol=1e-8)


def test_predict_polynomial_matches_polyval():
    coef = np.array([1.0, -2.0, 0.5])
    x = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(predict_polynomial(coef, x), np.polynomial.polynomial.polyval(x, coef))


def test_polynomial_errors_training_error_never_increases_with_degree():
    x, y = make_regression_1d(30, rng(3))
    xv, yv = make_regression_1d(100, rng(4))
    train_mse, val_mse = polynomial_errors(x, y, xv, yv, range(12))
    assert train_mse.shape == val_mse.shape == (12,)
    assert np.all(np.diff(train_mse) <= 1e-12)
    coef = fit_polynomial(x, y, 3)
    assert val_mse[3] == pytest.approx(np.mean((predict_polynomial(coef, xv) - yv) ** 2))


def test_polynomial_learning_curve_is_seeded_and_sensible():
    sizes = [5, 20, 200]
    a = polynomial_learning_curve(1, sizes, rng(5), n_repeats=5, n_val=200)
    b = polynomial_learning_curve(1, sizes, rng(5), n_repeats=5, n_val=200)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    train_mse, val_mse = a
    assert train_mse.shape == val_mse.shape == (3,)
    # with many points, training and validation error of a line meet
    assert abs(val_mse[-1] - train_mse[-1]) < 0.1 * val_mse[-1]
    # interpolation: degree + 1 >= m gives zero training error
    train_interp, _ = polynomial_learning_curve(6, [4, 7], rng(6), n_repeats=3, n_val=10)
    assert np.all(train_interp < 1e-12)


def test_polynomial_learning_curve_mean_and_median_summarise_the_same_fits():
    sizes, degree, repeats = [8, 30], 5, 7
    draw = rng(30)
    x_val, y_val = make_regression_1d(50, draw)
    errors = np.empty((2, len(sizes), repeats))
    for i, size in enumerate(sizes):
        for r in range(repeats):
            x, y = make_regression_1d(size, draw)
            coef = fit_polynomial(x, y, degree)
            errors[:, i, r] = [
                np.mean((predict_polynomial(coef, x) - y) ** 2),
                np.mean((predict_polynomial(coef, x_val) - y_val) ** 2),
            ]
    for average, summarise in (("mean", np.mean), ("median", np.median)):
        curve = polynomial_learning_curve(
            degree, sizes, rng(30), n_repeats=repeats, n_val=50, average=average
        )
        np.testing.assert_allclose(curve, summarise(errors, axis=2), rtol=1e-12)


# ---------------------------------------------------------------------------
# Bias and variance
# ---------------------------------------------------------------------------


def test_bias_variance_example_and_identity():
    predictions = rng(7).standard_normal((50, 8))
    f_true = rng(8).standard_normal(8)
    bias2, variance = bias_variance(predictions, f_true)
    assert bias2 + variance == pytest.approx(np.mean((predictions - f_true) ** 2))
    assert bias_variance(np.array([[1.0, 2.0], [3.0, 2.0]]), np.array([0.0, 2.0])) == (2.0, 0.5)


def test_bias_variance_of_identical_fits_has_no_variance():
    predictions = np.tile(np.array([1.0, 2.0, 3.0]), (4, 1))
    bias2, variance = bias_variance(predictions, np.array([1.0, 2.0, 4.0]))
    assert variance == 0.0
    assert bias2 == pytest.approx(1 / 3)


def test_polynomial_bias_variance_sum_matches_measured_error():
    result = polynomial_bias_variance([0, 1, 3, 6], rng(9), n_train=40, n_repeats=200, n_test=200)
    assert isinstance(result, BiasVariance)
    assert result.noise == pytest.approx(0.09)
    np.testing.assert_allclose(result.total, result.test_mse, rtol=0.02)
    # bias falls with degree, variance rises
    assert result.bias2[0] > result.bias2[1] > result.bias2[2]
    assert result.variance[3] > result.variance[0]
    assert np.all(result.test_mse_median > 0)


def test_polynomial_bias_variance_without_noise_and_right_degree_has_small_bias():
    result = polynomial_bias_variance([9], rng(10), n_train=40, n_repeats=20, n_test=100, noise_std=0.0)
    assert result.noise == 0.0
    assert result.bias2[0] < 1e-5
    assert result.variance[0] < 1e-5


# ---------------------------------------------------------------------------
# Random features and double descent
# ---------------------------------------------------------------------------


def test_random_relu_features_shape_scale_and_seed():
    X = rng(13).standard_normal((7, 3))
    features = RandomReLUFeatures(3, 50, rng(14))
    phi = features(X)
    assert phi.shape == (7, 50)
    assert np.all(phi >= 0)
    expected = np.maximum(X @ features.weight + features.bias, 0) / np.sqrt(50)
    np.testing.assert_allclose(phi, expected)
    np.testing.assert_array_equal(RandomReLUFeatures(3, 50, rng(14)).transform(X), phi)
    assert RandomReLUFeatures(3, 4, rng(0), dtype=np.float32)(X.astype(np.float32)).dtype == np.float32


def _toy_classification():
    data_rng = rng(15)
    X = data_rng.standard_normal((80, 6))
    y = np.argmax(X[:, :3] + 0.5 * data_rng.standard_normal((80, 3)), axis=1)
    return X[:30], y[:30], X[30:], y[30:]


def test_random_features_curve_interpolates_beyond_threshold():
    X, y, Xt, yt = _toy_classification()
    result = random_features_curve(X, y, Xt, yt, [5, 15, 60, 200], rng(16), n_seeds=2)
    assert result.train_mse.shape == result.test_mse.shape == result.coef_norm.shape == (2, 4)
    assert np.all(result.train_mse[:, 2:] < 1e-12)  # P >> m: interpolation
    assert np.all(result.train_mse[:, 0] > 1e-3)  # P << m: least squares
    assert np.all((result.test_error >= 0) & (result.test_error <= 1))


def test_random_features_curve_peaks_at_threshold_and_ridge_removes_peak():
    X, y, Xt, yt = _toy_classification()
    n_features = [5, 30, 300]
    min_norm = random_features_curve(X, y, Xt, yt, n_features, rng(17), n_seeds=3)
    ridged = random_features_curve(X, y, Xt, yt, n_features, rng(17), lam=1e-2, n_seeds=3)
    test_min_norm = min_norm.test_mse.mean(axis=0)
    assert test_min_norm[1] > test_min_norm[0] and test_min_norm[1] > test_min_norm[2]
    assert ridged.test_mse.mean(axis=0)[1] < test_min_norm[1]
    assert min_norm.coef_norm.mean(axis=0)[1] > min_norm.coef_norm.mean(axis=0)[2]


def test_random_features_curve_regression_targets():
    x, y = make_regression_1d(40, rng(18))
    xt, yt = make_regression_1d(50, rng(19))
    result = random_features_curve(x[:, None], y, xt[:, None], yt, [3, 10], rng(20), lam=1e-3, n_seeds=1)
    assert result.test_error is None
    assert result.test_mse.shape == (1, 2)
    assert np.all(np.isfinite(result.test_mse))


def test_random_features_curve_solves_all_classes_like_one_fit_per_class():
    X, y, Xt, yt = _toy_classification()
    result = random_features_curve(X, y, Xt, yt, [12, 40], rng(24), lam=1e-2, n_seeds=1)
    draw = rng(24)
    for j, n in enumerate([12, 40]):
        features = RandomReLUFeatures(X.shape[1], n, draw)
        F, Ft = features(X), features(Xt)
        Y = np.eye(3)[y]
        W = np.column_stack([ridge(F, Y[:, c], 1e-2) for c in range(3)])
        np.testing.assert_allclose(
            result.test_mse[0, j], np.mean(np.sum((Ft @ W - np.eye(3)[yt]) ** 2, axis=1))
        )
        assert result.test_error[0, j] == np.mean((Ft @ W).argmax(axis=1) != yt)


def test_bias_free_features_on_centred_inputs_interpolate_exactly_from_p_equal_m():
    X, y, Xt, yt = _toy_classification()
    X, Xt = X - X.mean(axis=0), Xt - X.mean(axis=0)  # centred on the training set
    m = X.shape[0]
    features = RandomReLUFeatures(X.shape[1], 500, rng(25), bias_std=0.0)
    assert np.all(features(X).max(axis=0) > 0)  # no unit is zero on every training input
    result = random_features_curve(X, y, Xt, yt, [m - 1, m], rng(26), n_seeds=3, bias_std=0.0)
    assert np.all(result.train_mse[:, 0] > 1e-6)  # P < m: cannot interpolate
    assert np.all(result.train_mse[:, 1] < 1e-12)  # P = m: interpolates


def test_random_features_curve_same_rng_same_features_for_every_lam():
    X, y, Xt, yt = _toy_classification()
    a = random_features_curve(X, y, Xt, yt, [200], rng(21), lam=0.0)
    b = random_features_curve(X, y, Xt, yt, [200], rng(21), lam=1e-12)
    np.testing.assert_allclose(a.test_mse, b.test_mse, rtol=1e-4)


# ---------------------------------------------------------------------------
# The network on the digits
# ---------------------------------------------------------------------------

SMALL = {"hidden": (16,), "lr": 3e-3, "epochs": 12, "batch_size": 16}


@pytest.fixture(scope="module")
def digits_small():
    return load_digits(streams(0).data, n_train=60)


def test_train_mlp_builds_the_network_for_the_data_and_records_every_epoch(digits_small):
    model, history = train_mlp(digits_small, streams(0), **SMALL)
    assert isinstance(model, Sequential)
    assert [p.data.shape for p in model.parameters()] == [(64, 16), (16,), (16, 10), (10,)]
    assert all(p.data.dtype == np.float64 for p in model.parameters())
    assert history.epochs == len(history.val_loss) == len(history.val_acc) == SMALL["epochs"]
    assert history.train_loss[-1] < history.train_loss[0]


def test_train_mlp_same_seed_same_run_other_seed_other_run(digits_small):
    _, a = train_mlp(digits_small, streams(3), **SMALL)
    _, b = train_mlp(digits_small, streams(3), **SMALL)
    _, c = train_mlp(digits_small, streams(4), **SMALL)
    assert a.val_loss == b.val_loss and a.train_loss == b.train_loss
    assert a.val_loss != c.val_loss


def test_train_mlp_with_patience_retraces_the_long_run_and_restores_its_best_epoch(digits_small):
    settings = {**SMALL, "epochs": 40, "lr": 1e-2}
    long_model, long_history = train_mlp(digits_small, streams(1), **settings)
    es_model, es_history = train_mlp(digits_small, streams(1), **settings, patience=3)
    assert es_history.val_loss == long_history.val_loss[: es_history.epochs]
    assert (es_history.best_epoch, es_history.epochs if es_history.stopped_early else None) == (
        early_stopping_epoch(long_history.val_loss, 3)
    )
    restored = classifier_scores(es_model, digits_small.X_val, digits_small.y_val)
    assert restored.loss == pytest.approx(es_history.val_loss[es_history.best_epoch - 1], rel=1e-12)


def test_train_mlp_float32_data_gives_a_float32_network(digits_small):
    data32 = load_digits(streams(0).data, n_train=60, dtype=np.float32)
    model, _ = train_mlp(data32, streams(0), hidden=(8,), epochs=1)
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert digits_small.X_train.dtype == np.float64


def test_train_mlp_sgd_is_plain_sgd_on_the_same_network(digits_small):
    settings = {"hidden": (16,), "lr": 0.05, "epochs": 3, "batch_size": 20}
    model, history = train_mlp(digits_small, streams(2), **settings, optimizer="sgd")
    rngs = streams(2)
    reference = mlp((64, 16, 10), rngs.init)
    expected = fit(
        reference,
        softmax_cross_entropy,
        SGD(reference.parameters(), lr=0.05),
        digits_small.X_train,
        digits_small.y_train,
        epochs=3,
        batch_size=20,
        rng=rngs.batches,
        X_val=digits_small.X_val,
        y_val=digits_small.y_val,
    )
    assert history.train_loss == expected.train_loss and history.val_loss == expected.val_loss
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_train_mlp_without_validation_makes_the_same_updates(digits_small):
    settings = {**SMALL, "optimizer": "sgd", "lr": 0.05}
    _, with_val = train_mlp(digits_small, streams(5), **settings)
    _, without = train_mlp(digits_small, streams(5), **settings, validation=False)
    # The same updates; without validation the training split is scored after the last epoch only.
    assert without.train_loss == with_val.train_loss[-1:] and without.train_acc == with_val.train_acc[-1:]
    assert without.epochs == with_val.epochs
    assert without.val_loss == [] and without.best_epoch is None
    no_val = load_digits(streams(0).data, n_train=60, val_size=0.0)
    assert train_mlp(no_val, streams(0), hidden=(8,), epochs=1, validation=False)[1].epochs == 1


def test_train_mlp_full_batch_sgd_takes_one_step_per_epoch(digits_small):
    m = len(digits_small.y_train)
    settings = {"hidden": (8,), "lr": 0.1, "epochs": 1, "optimizer": "sgd", "validation": False}
    one_batch, _ = train_mlp(digits_small, streams(6), **settings, batch_size=m)
    larger, _ = train_mlp(digits_small, streams(6), **settings, batch_size=10 * m)  # still one batch
    for p, q in zip(one_batch.parameters(), larger.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


# ---------------------------------------------------------------------------
# The sharpness proxy
# ---------------------------------------------------------------------------


def _linear_regression(seed=50, m=40, d=5, k=3):
    draw = rng(seed)
    layer = Linear(d, k, draw)
    layer.bias.data[:] = draw.standard_normal(k)
    X = draw.standard_normal((m, d))
    # near the layer's own fit, with a small residual: the gradient is not zero
    Y = X @ layer.weight.data + layer.bias.data + 0.05 * draw.standard_normal((m, k))
    return layer, X, Y


def test_sharpness_proxy_matches_its_expectation_for_a_quadratic_loss():
    # For half_mse on a linear layer the increase is exactly quadratic in the move:
    # E = k (s_W^2 ||X||_F^2 + m s_b^2) / (2m), with s = rho ||array|| / sqrt(size) per array.
    layer, X, Y = _linear_regression()
    m, k = Y.shape
    rho = 0.2
    s_w = rho * np.linalg.norm(layer.weight.data) / np.sqrt(layer.weight.data.size)
    s_b = rho * np.linalg.norm(layer.bias.data) / np.sqrt(k)
    expected = k * (s_w**2 * np.sum(X**2) + m * s_b**2) / (2 * m)
    estimate = sharpness_proxy(layer, X, Y, rng(51), rho=rho, n_draws=4000, loss_fn=half_mse)
    assert estimate == pytest.approx(expected, rel=0.05)
    # one scale for all entries: s = rho ||theta|| / sqrt(n)
    theta = np.concatenate([layer.weight.data.ravel(), layer.bias.data])
    s = rho * np.linalg.norm(theta) / np.sqrt(theta.size)
    expected_global = k * s**2 * (np.sum(X**2) + m) / (2 * m)
    estimate = sharpness_proxy(layer, X, Y, rng(52), rho=rho, n_draws=4000, per_layer=False, loss_fn=half_mse)
    assert estimate == pytest.approx(expected_global, rel=0.05)


def test_sharpness_proxy_estimate_is_within_its_standard_error():
    # The 5% tolerance above is at least five standard errors: the spread of one-draw estimates says so.
    layer, X, Y = _linear_regression()
    singles = [
        sharpness_proxy(layer, X, Y, rng(100 + i), rho=0.2, n_draws=1, loss_fn=half_mse) for i in range(400)
    ]
    assert np.std(singles) / np.sqrt(4000) < 0.01 * np.mean(singles)


def test_sharpness_proxy_restores_the_weights_and_the_mode_and_is_zero_without_a_move():
    model = mlp((4, 8, 3), rng(53))
    X, y = rng(54).standard_normal((20, 4)), rng(55).integers(0, 3, 20)
    before = [p.data.copy() for p in model.parameters()]
    model.train()
    assert sharpness_proxy(model, X, y, rng(56), rho=0.0) == 0.0
    increase = sharpness_proxy(model, X, y, rng(56), rho=0.2, n_draws=3)
    assert increase != 0.0
    assert increase == sharpness_proxy(model, X, y, rng(56), rho=0.2, n_draws=3)  # same draws, same value
    for p, w in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, w)
    assert all(module.training for module in model.modules())


def test_sharpness_proxy_per_layer_ignores_a_rescaling_that_keeps_the_function():
    model = Sequential(Linear(4, 16, rng(57)), ReLU(), Linear(16, 3, rng(58)))
    model[0].bias.data[:] = 0.1 * rng(59).standard_normal(16)
    X, y = rng(60).standard_normal((30, 4)), rng(61).integers(0, 3, 30)
    scores = {}
    for c in (1.0, 10.0):
        if c != 1.0:  # W1, b1 -> c W1, c b1 and W2 -> W2 / c: the same function
            model[0].weight.data *= c
            model[0].bias.data *= c
            model[2].weight.data /= c
        logits = model(X)
        scores[c] = [
            sharpness_proxy(model, X, y, rng(62), rho=0.05, per_layer=flag) for flag in (True, False)
        ]
    np.testing.assert_allclose(model(X), logits)
    assert scores[10.0][0] == pytest.approx(scores[1.0][0], rel=1e-9)
    assert scores[10.0][1] > 10 * scores[1.0][1]  # the isotropic move now shakes the small layer hard


def _classifier():
    layer = Linear(3, 4, rng(40))
    return Sequential(layer)


def test_classifier_scores_match_the_definitions():
    model = _classifier()
    X = rng(41).standard_normal((50, 3))
    y = rng(42).integers(0, 4, 50)
    scores = classifier_scores(model, X, y)
    assert isinstance(scores, ClassifierScores)
    logits = model(X)
    probs = np.exp(log_softmax(logits))
    wrong = probs.argmax(axis=1) != y
    assert scores.loss == pytest.approx(softmax_cross_entropy(logits, y)[0], rel=1e-12)
    assert scores.accuracy == pytest.approx(np.mean(~wrong))
    assert scores.error_confidence == pytest.approx(probs[wrong].max(axis=1).mean())
    assert 0.25 <= scores.error_confidence <= 1.0  # the largest of 4 probabilities


def test_classifier_scores_without_errors_has_no_error_confidence():
    model = _classifier()
    X = rng(43).standard_normal((10, 3))
    y = model(X).argmax(axis=1)
    scores = classifier_scores(model, X, y)
    assert scores.accuracy == 1.0
    assert np.isnan(scores.error_confidence)


def test_classifier_scores_use_evaluation_mode_and_restore_the_mode(digits_small):
    model, _ = train_mlp(digits_small, streams(0), hidden=(8,), epochs=1)
    model.train()
    classifier_scores(model, digits_small.X_test, digits_small.y_test)
    assert all(module.training for module in model.modules())


# ---------------------------------------------------------------------------
# Bad input: errors name the argument
# ---------------------------------------------------------------------------

X_BAD, Y_BAD, XT_BAD, YT_BAD = _toy_classification()
x_ok, y_ok = make_regression_1d(10, rng(22))
DIGITS_BAD = load_digits(streams(0).data, n_train=20)
DIGITS_NO_VAL = load_digits(streams(0).data, n_train=20, val_size=0.0)
DIGITS_FLOAT_Y = dataclasses.replace(DIGITS_BAD, y_train=DIGITS_BAD.y_train * 1.0)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: fit_polynomial(x_ok, y_ok, -1), ValueError, "degree"),
        (lambda: fit_polynomial(x_ok, y_ok, 2.5), TypeError, "degree"),
        (lambda: fit_polynomial(np.arange(10), y_ok, 2), TypeError, "x"),
        (lambda: fit_polynomial(x_ok, y_ok[:5], 2), ValueError, "y"),
        (lambda: fit_polynomial(x_ok[:, None], y_ok, 2), ValueError, "x"),
        (lambda: predict_polynomial(np.ones((2, 2)), x_ok), ValueError, "coef"),
        (lambda: polynomial_errors(x_ok, y_ok, x_ok, y_ok, []), ValueError, "degrees"),
        (lambda: polynomial_errors(x_ok, y_ok, x_ok, y_ok, [1.5]), TypeError, "degrees"),
        (lambda: polynomial_errors(x_ok, y_ok, x_ok, y_ok, [-1, 2]), ValueError, "degrees"),
        (lambda: polynomial_errors(x_ok, y_ok, x_ok, y_ok[:3], [1]), ValueError, "y_eval"),
        (lambda: polynomial_learning_curve(1, [0, 5], rng()), ValueError, "sizes"),
        (lambda: polynomial_learning_curve(1, [5], 0), TypeError, "rng"),
        (lambda: polynomial_learning_curve(1, [5], rng(), n_repeats=0), ValueError, "n_repeats"),
        (lambda: polynomial_learning_curve(1, [5], rng(), noise_std=-1.0), ValueError, "noise_std"),
        (lambda: polynomial_learning_curve(1, [5], rng(), average="mode"), ValueError, "average"),
        (lambda: bias_variance(np.ones(3), np.ones(3)), ValueError, "predictions"),
        (lambda: bias_variance(np.ones((2, 3)), np.ones(2)), ValueError, "f_true"),
        (lambda: bias_variance(np.ones((2, 3), dtype=int), np.ones(3)), TypeError, "predictions"),
        (lambda: polynomial_bias_variance([1], rng(), n_repeats=1), ValueError, "n_repeats"),
        (lambda: polynomial_bias_variance([1], rng(), n_train=0), ValueError, "n_train"),
        (lambda: polynomial_bias_variance([1], np.random.RandomState(0)), TypeError, "rng"),
        (lambda: RandomReLUFeatures(0, 5, rng()), ValueError, "in_features"),
        (lambda: RandomReLUFeatures(2, 5, rng(), bias_std=-1.0), ValueError, "bias_std"),
        (lambda: RandomReLUFeatures(2, 5, rng())(np.ones((3, 4))), ValueError, "X"),
        (lambda: RandomReLUFeatures(2, 5, rng())(np.ones((3, 2), dtype=int)), TypeError, "X"),
        (
            lambda: random_features_curve(X_BAD, Y_BAD, XT_BAD[:, :2], YT_BAD, [5], rng()),
            ValueError,
            "X_test",
        ),
        (lambda: random_features_curve(X_BAD, Y_BAD[:3], XT_BAD, YT_BAD, [5], rng()), ValueError, "y_train"),
        (lambda: random_features_curve(X_BAD, -Y_BAD - 1, XT_BAD, YT_BAD, [5], rng()), ValueError, "y_train"),
        (lambda: random_features_curve(X_BAD, Y_BAD, XT_BAD, YT_BAD * 1.0, [5], rng()), TypeError, "y_test"),
        (
            lambda: random_features_curve(X_BAD, Y_BAD, XT_BAD, YT_BAD, [0, 5], rng()),
            ValueError,
            "n_features",
        ),
        (
            lambda: random_features_curve(X_BAD, Y_BAD, XT_BAD, YT_BAD, [5], rng(), lam=-1.0),
            ValueError,
            "lam",
        ),
        (
            lambda: random_features_curve(X_BAD, Y_BAD, XT_BAD, YT_BAD, [5], rng(), n_seeds=0),
            ValueError,
            "n_seeds",
        ),
        (
            lambda: random_features_curve(X_BAD, Y_BAD, XT_BAD, YT_BAD, [5], rng(), bias_std=-1.0),
            ValueError,
            "bias_std",
        ),
        (lambda: train_mlp((X_BAD, Y_BAD), streams(0)), TypeError, "data"),
        (lambda: train_mlp(DIGITS_NO_VAL, streams(0)), ValueError, "data"),
        (lambda: train_mlp(DIGITS_BAD, rng()), TypeError, "rngs"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), hidden=[8, 0]), ValueError, "hidden"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), hidden=[8.5]), TypeError, "hidden"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), lr=0.0), ValueError, "lr"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), epochs=0), ValueError, "epochs"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), batch_size=2.0), TypeError, "batch_size"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), patience=0), ValueError, "patience"),
        (lambda: train_mlp(DIGITS_FLOAT_Y, streams(0)), TypeError, "y_train"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), optimizer="rmsprop"), ValueError, "optimizer"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), validation="no"), TypeError, "validation"),
        (lambda: train_mlp(DIGITS_BAD, streams(0), patience=3, validation=False), ValueError, "patience"),
        (lambda: sharpness_proxy("model", X_BAD, Y_BAD, rng()), TypeError, "model"),
        (lambda: sharpness_proxy(_classifier(), X_BAD[:, :3].astype(int), Y_BAD, rng()), TypeError, "X"),
        (lambda: sharpness_proxy(_classifier(), X_BAD[:, :3], Y_BAD[:5], rng()), ValueError, "y"),
        (lambda: sharpness_proxy(_classifier(), X_BAD[:, :3], Y_BAD, 0), TypeError, "rng"),
        (lambda: sharpness_proxy(_classifier(), X_BAD[:, :3], Y_BAD, rng(), rho=-0.1), ValueError, "rho"),
        (
            lambda: sharpness_proxy(_classifier(), X_BAD[:, :3], Y_BAD, rng(), n_draws=0),
            ValueError,
            "n_draws",
        ),
        (
            lambda: sharpness_proxy(_classifier(), X_BAD[:, :3], Y_BAD, rng(), per_layer=1),
            TypeError,
            "per_layer",
        ),
        (
            lambda: sharpness_proxy(_classifier(), X_BAD[:, :3], Y_BAD, rng(), loss_fn="mse"),
            TypeError,
            "loss_fn",
        ),
        (lambda: classifier_scores("model", X_BAD[:, :3], Y_BAD), TypeError, "model"),
        (lambda: classifier_scores(_classifier(), X_BAD[:, :3].astype(int), Y_BAD), TypeError, "X"),
        (lambda: classifier_scores(_classifier(), X_BAD[:, :3], Y_BAD * 1.0), TypeError, "y"),
        (lambda: classifier_scores(_classifier(), X_BAD[:, :3], Y_BAD[:5]), ValueError, "y"),
        (lambda: classifier_scores(_classifier(), X_BAD[:, :3], Y_BAD + 4), ValueError, "y"),
    ],
)
def test_bad_input_names_the_argument(call, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()


def test_bias_variance_uses_true_function_of_data_module():
    # the decomposition measures bias against the data's own noiseless target
    result = polynomial_bias_variance([15], rng(23), n_train=200, n_repeats=5, n_test=50, noise_std=0.0)
    assert result.bias2[0] < 1e-6
    x = np.linspace(-1, 1, 5)
    np.testing.assert_allclose(true_function(x), np.sin(np.pi * x) + 0.5 * x)
