"""Tests for regcode.experiments.ch5_faq: the helpers behind chapter 5's measurements.

They also pin claims of the chapter that do not depend on a particular run: two trainings with the
same seed share initial weights and batch order (so that changing the labels or the label smoothing
changes nothing else), the intercept of ridge is not shrunk, and the one-SE choice is never less
regularised than the cross-validation minimum.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from regcode import linear_model
from regcode.experiments import ch5_faq as ch5
from regcode.layers import Linear, Sequential, mlp
from regcode.seeds import streams


def toy_classification(seed=0, m=40):
    X = np.random.default_rng(seed).standard_normal((m, 2))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)


# --- train_classifier ---


def test_train_classifier_learns_a_separable_problem():
    X, y = toy_classification()
    model, history = ch5.train_classifier(X, y, 0, sizes=(2, 16, 2), epochs=30, lr=1e-2, batch_size=8)
    assert isinstance(model, Sequential)
    assert history.epochs == 30
    assert history.train_acc[-1] > 0.9


def test_train_classifier_records_validation_curves():
    X, y = toy_classification()
    _, history = ch5.train_classifier(
        X[:30], y[:30], 0, sizes=(2, 8, 2), epochs=3, batch_size=8, X_val=X[30:], y_val=y[30:]
    )
    assert len(history.val_acc) == len(history.val_loss) == 3


def test_train_classifier_is_reproducible_and_trains_in_float64_by_default():
    X, y = toy_classification()
    a, _ = ch5.train_classifier(X, y, 3, sizes=(2, 8, 2), epochs=3, batch_size=8)
    b, _ = ch5.train_classifier(X, y, 3, sizes=(2, 8, 2), epochs=3, batch_size=8)
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert pa.data.dtype == np.float64
        np.testing.assert_array_equal(pa.data, pb.data, err_msg=name)


def test_same_seed_same_start_whatever_the_targets():
    """With one epoch of lr -> 0 the weights stay at their start: the start depends on the seed only."""
    X, y = toy_classification()
    start = mlp((2, 8, 2), streams(5).init)
    for smoothing, labels in [(0.0, y), (0.3, 1 - y)]:
        model, _ = ch5.train_classifier(
            X, labels, 5, sizes=(2, 8, 2), epochs=1, lr=1e-300, batch_size=8, label_smoothing=smoothing
        )
        for (_, p), (_, q) in zip(model.named_parameters(), start.named_parameters(), strict=True):
            np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-250)


def test_label_smoothing_caps_the_training_confidence():
    from regcode.losses import softmax
    from regcode.train import predict

    X, y = toy_classification(m=60)
    model, _ = ch5.train_classifier(
        X, y, 0, sizes=(2, 32, 2), epochs=200, lr=1e-2, batch_size=60, label_smoothing=0.2
    )
    confidence = softmax(predict(model, X)).max(axis=1).mean()
    assert confidence < 1 - 0.2 + 0.2 / 2 + 1e-3  # the optimum of the smoothed loss, 0.9


@pytest.mark.parametrize(
    ("kwargs", "exc", "name"),
    [
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.0}, TypeError, "seed"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"label_smoothing": 1.0}, ValueError, "label_smoothing"),
        ({"label_smoothing": "0.1"}, TypeError, "label_smoothing"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"sizes": (3, 4, 2)}, ValueError, "x"),
    ],
)
def test_train_classifier_rejects_bad_input(kwargs, exc, name):
    X, y = toy_classification()
    args = {"seed": 0, "sizes": (2, 4, 2), "epochs": 1, "batch_size": 8} | kwargs
    with pytest.raises(exc, match=f"^{name}"):
        ch5.train_classifier(X, y, **args)


# --- first_epoch_at ---


def test_first_epoch_at_is_one_based_and_none_when_never_reached():
    assert ch5.first_epoch_at([1.0], 1.0) == 1
    assert ch5.first_epoch_at([0.2, 0.99, 1.0, 0.98, 1.0], 1.0) == 3
    assert ch5.first_epoch_at([0.2, 0.5], 0.6) is None
    assert ch5.first_epoch_at(np.array([3, 7, 9]), 5) == 2  # integers too


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.floats(0, 1))
def test_first_epoch_at_is_the_first_index_at_or_above(values, level):
    epoch = ch5.first_epoch_at(values, level)
    if epoch is None:
        assert all(v < level for v in values)
    else:
        assert values[epoch - 1] >= level and all(v < level for v in values[: epoch - 1])


@pytest.mark.parametrize(
    ("values", "level", "exc", "name"),
    [
        ([], 1.0, ValueError, "values"),
        ([[1.0]], 1.0, ValueError, "values"),
        ([True, False], 1.0, TypeError, "values"),
        ([0.5, np.nan], 1.0, ValueError, "values"),
        ([0.5], "1", TypeError, "level"),
    ],
)
def test_first_epoch_at_rejects_bad_input(values, level, exc, name):
    with pytest.raises(exc, match=f"^{name}"):
        ch5.first_epoch_at(values, level)


# --- ridge_intercept_predict ---


def test_ridge_intercept_predict_does_not_shrink_the_intercept(rng):
    X, y, X_new = rng.standard_normal((30, 4)), rng.standard_normal(30), rng.standard_normal((5, 4))
    for lam in [0.0, 0.1, 100.0]:
        shifted = ch5.ridge_intercept_predict(X, y + 7.0, X_new, lam)
        np.testing.assert_allclose(shifted, ch5.ridge_intercept_predict(X, y, X_new, lam) + 7.0)
    # a huge lambda shrinks the slopes to zero and predicts the mean of y
    np.testing.assert_allclose(ch5.ridge_intercept_predict(X, y, X_new, 1e12), y.mean(), atol=1e-8)


def test_ridge_intercept_predict_without_penalty_is_least_squares_with_a_constant(rng):
    X, y, X_new = rng.standard_normal((30, 4)), rng.standard_normal(30), rng.standard_normal((5, 4))
    ones = np.ones((30, 1))
    coef = np.linalg.lstsq(np.hstack([ones, X]), y, rcond=None)[0]
    expected = np.hstack([np.ones((5, 1)), X_new]) @ coef
    np.testing.assert_allclose(ch5.ridge_intercept_predict(X, y, X_new, 0.0), expected, rtol=1e-10)


def test_ridge_intercept_predict_matches_ridge_on_centred_data(rng):
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    w = linear_model.ridge(X - X.mean(axis=0), y - y.mean(), 0.5)
    np.testing.assert_allclose(
        ch5.ridge_intercept_predict(X, y, X, 0.5), (X - X.mean(axis=0)) @ w + y.mean(), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("args", "exc", "name"),
    [
        ((np.ones(3), np.ones(3), np.ones((2, 1)), 0.1), ValueError, "X_fit"),
        ((np.ones((3, 2)), np.ones(4), np.ones((2, 2)), 0.1), ValueError, "y_fit"),
        ((np.ones((3, 2)), np.ones(3), np.ones((2, 3)), 0.1), ValueError, "X_new"),
        ((np.ones((3, 2)), np.ones(3), np.ones((2, 2)), -1.0), ValueError, "lam"),
        ((np.ones((3, 2), dtype=int), np.ones(3), np.ones((2, 2)), 0.1), TypeError, "X_fit"),
    ],
)
def test_ridge_intercept_predict_rejects_bad_input(args, exc, name):
    with pytest.raises(exc, match=f"^{name}"):
        ch5.ridge_intercept_predict(*args)


# --- one_standard_error ---


def test_one_standard_error_picks_the_largest_lambda_within_one_se():
    lams = [1e-3, 1e-2, 1e-1, 1.0, 10.0]
    mean = [0.9, 0.30, 0.32, 0.35, 0.8]
    assert ch5.one_standard_error(lams, mean, [0.1] * 5) == (1, 3)
    assert ch5.one_standard_error(lams, mean, [0.0] * 5) == (1, 1)  # no noise: the minimum itself


@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 1)), min_size=1, max_size=20))
def test_one_se_is_never_less_regularised_than_the_minimum(rows):
    mean, se = np.array(rows).T
    lams = np.logspace(-3, 1, len(rows))
    best, one_se = ch5.one_standard_error(lams, mean, se)
    assert mean[best] == mean.min() and one_se >= best
    assert mean[one_se] <= mean[best] + se[best]


@pytest.mark.parametrize(
    ("args", "exc", "name"),
    [
        (([1.0, 0.1], [1.0, 2.0], [0.1, 0.1]), ValueError, "lams"),
        (([], [], []), ValueError, "lams"),
        (([0.1, 1.0], [1.0, 2.0, 3.0], [0.1, 0.1]), ValueError, "mean"),
        (([0.1, 1.0], [1.0, 2.0], [0.1]), ValueError, "se"),
        (([0.1, 1.0], [1.0, 2.0], [0.1, -0.1]), ValueError, "se"),
        (([0.1, 1.0], [1, 2], [0.1, 0.1]), TypeError, "mean"),
    ],
)
def test_one_standard_error_rejects_bad_input(args, exc, name):
    with pytest.raises(exc, match=f"^{name}"):
        ch5.one_standard_error(*args)


# --- seconds_per_step ---


def test_seconds_per_step_times_training_steps(rng):
    model = Sequential(Linear(4, 3, rng))
    before = model.layers[0].weight.data.copy()
    X, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    seconds = ch5.seconds_per_step(model, X, y, n_steps=3)
    assert isinstance(seconds, float) and seconds >= 0.0
    assert not np.array_equal(model.layers[0].weight.data, before)  # the steps updated the weights


@pytest.mark.parametrize(
    ("model", "n_steps", "exc", "name"),
    [("net", 3, TypeError, "model"), (None, 0, ValueError, "n_steps"), (None, 2.0, TypeError, "n_steps")],
)
def test_seconds_per_step_rejects_bad_input(rng, model, n_steps, exc, name):
    model = Sequential(Linear(4, 3, rng)) if model is None else model
    with pytest.raises(exc, match=f"^{name}"):
        ch5.seconds_per_step(model, rng.standard_normal((8, 4)), np.zeros(8, dtype=int), n_steps=n_steps)


# --- fit_temperature ---


def mean_cross_entropy(logits, y, temperature):
    from regcode.losses import softmax_cross_entropy

    return softmax_cross_entropy(logits / temperature, y)[0]


def test_fit_temperature_solves_the_two_class_example_in_closed_form():
    """Margin 2 on every example, 3 of 4 right: the optimum has sigmoid(2 / T) = 3/4, T = 2 / log 3."""
    logits = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [0.0, 2.0]])
    assert ch5.fit_temperature(logits, np.array([0, 1, 0, 0])) == pytest.approx(2 / np.log(3), rel=1e-9)


def test_fit_temperature_recovers_the_temperature_that_drew_the_labels(rng):
    logits = 3.0 * rng.standard_normal((20_000, 5))
    for true_temperature in (0.5, 2.0):
        probs = np.exp(logits / true_temperature)
        probs /= probs.sum(axis=1, keepdims=True)
        y = (probs.cumsum(axis=1) < rng.random((20_000, 1))).sum(axis=1)  # one draw per row
        assert ch5.fit_temperature(logits, y) == pytest.approx(true_temperature, rel=0.05)


def test_fit_temperature_minimises_the_cross_entropy(rng):
    logits, y = 2.0 * rng.standard_normal((300, 4)), rng.integers(0, 4, 300)
    y[:150] = logits[:150].argmax(axis=1)  # half of the labels follow the logits
    temperature = ch5.fit_temperature(logits, y)
    best = mean_cross_entropy(logits, y, temperature)
    for factor in (0.99, 1.01, 0.5, 2.0):
        assert best < mean_cross_entropy(logits, y, factor * temperature)
    # same minimiser as a generic scalar minimiser
    from scipy.optimize import minimize_scalar

    reference = minimize_scalar(
        lambda log_t: mean_cross_entropy(logits, y, np.exp(log_t)),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert temperature == pytest.approx(np.exp(reference.x), rel=1e-5)


def test_fit_temperature_scales_with_the_logits(rng):
    logits, y = rng.standard_normal((200, 3)), rng.integers(0, 3, 200)
    y[:120] = logits[:120].argmax(axis=1)
    temperature = ch5.fit_temperature(logits, y)
    assert ch5.fit_temperature(3.0 * logits, y) == pytest.approx(3.0 * temperature, rel=1e-8)


def test_fit_temperature_returns_the_nearer_bound_when_the_optimum_is_outside(rng):
    logits = rng.standard_normal((50, 3))
    right, wrong = logits.argmax(axis=1), logits.argmin(axis=1)
    assert ch5.fit_temperature(logits, right) == 0.05  # always right: sharpen without limit
    assert ch5.fit_temperature(logits, wrong) == 20.0  # always the least likely class: flatten
    assert ch5.fit_temperature(logits, right, min_temperature=0.5) == 0.5


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "name"),
    [
        ((np.ones(3), np.zeros(3, dtype=int)), {}, ValueError, "logits"),
        ((np.ones((3, 2), dtype=int), np.zeros(3, dtype=int)), {}, TypeError, "logits"),
        ((np.array([[0.0, np.inf]]), np.zeros(1, dtype=int)), {}, ValueError, "logits"),
        ((np.ones((3, 2)), np.zeros(4, dtype=int)), {}, ValueError, "y"),
        ((np.ones((3, 2)), np.full(3, 2)), {}, ValueError, "y"),
        ((np.ones((3, 2)), np.zeros(3)), {}, TypeError, "y"),
        ((np.ones((3, 2)), np.zeros(3, dtype=int)), {"min_temperature": 0.0}, ValueError, "min_temperature"),
        ((np.ones((3, 2)), np.zeros(3, dtype=int)), {"max_temperature": 0.01}, ValueError, "max_temperature"),
        ((np.ones((3, 2)), np.zeros(3, dtype=int)), {"rtol": "1e-6"}, TypeError, "rtol"),
    ],
)
def test_fit_temperature_rejects_bad_input(args, kwargs, exc, name):
    with pytest.raises(exc, match=f"^{name}"):
        ch5.fit_temperature(*args, **kwargs)
