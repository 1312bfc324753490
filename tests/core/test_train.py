"""Tests for regcode.train: minibatches, fit (history, early stopping, divergence), evaluate, predict."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regcode.layers import Linear, Parameter, Sequential, mlp
from regcode.losses import half_mse, softmax_cross_entropy
from regcode.optim import SGD, Adam
from regcode.penalties import l1_grad, l1_penalty, l2_grad, l2_penalty
from regcode.seeds import streams
from regcode.train import (
    EarlyStopping,
    ParameterPenalty,
    early_stopping_epoch,
    evaluate,
    fit,
    minibatches,
    predict,
)


def classification_data(rng, n=60, d=4, k=3):
    X = rng.standard_normal((n, d))
    y = np.argmax(X[:, :k] + 0.3 * rng.standard_normal((n, k)), axis=1)
    return X, y


def overfitting_regression(seed=0, d=30, m=20):
    """More features than samples and noisy targets: gradient descent first learns, then fits noise."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal((d, 1))
    X = rng.standard_normal((m, d))
    y = X @ w_true + 3.0 * rng.standard_normal((m, 1))
    X_val = rng.standard_normal((200, d))
    return X, y, X_val, X_val @ w_true


def linear_model(d, seed=1):
    return Sequential(Linear(d, 1, np.random.default_rng(seed), weight_std=0.01))


# ---------------------------------------------------------------- minibatches


@given(n_samples=st.integers(2, 300), batch_size=st.integers(2, 64), seed=st.integers(0, 2**32 - 1))
def test_minibatches_cover_every_index_once_and_never_leave_one(n_samples, batch_size, seed):
    batches = minibatches(n_samples, batch_size, np.random.default_rng(seed))
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(n_samples))
    sizes = [len(b) for b in batches]
    assert min(sizes) >= 2  # training-mode batch norm needs two samples
    assert all(s == batch_size for s in sizes[:-1])
    assert sizes[-1] <= batch_size + 1  # a leftover single sample joins the last batch


def test_minibatches_are_shuffled_and_seeded():
    a = minibatches(50, 10, np.random.default_rng(3))
    b = minibatches(50, 10, np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(np.concatenate(a), np.arange(50))


def test_minibatches_merge_a_final_single_sample():
    assert [len(b) for b in minibatches(21, 10, np.random.default_rng(0))] == [10, 11]
    assert [len(b) for b in minibatches(22, 10, np.random.default_rng(0))] == [10, 10, 2]


# ---------------------------------------------------------------- fit


def test_fit_records_one_entry_per_epoch(rng):
    X, y = classification_data(rng)
    model = mlp((4, 16, 3), np.random.default_rng(1))
    history = fit(
        model,
        softmax_cross_entropy,
        Adam(model.parameters(), lr=1e-2),
        X[:40],
        y[:40],
        epochs=7,
        batch_size=16,
        rng=rng,
        X_val=X[40:],
        y_val=y[40:],
    )
    assert history.epochs == 7
    for values in (history.train_loss, history.val_loss, history.train_acc, history.val_acc):
        assert len(values) == 7
    assert all(0.0 <= a <= 1.0 for a in history.train_acc + history.val_acc)
    assert history.best_epoch == 1 + int(np.argmin(history.val_loss))
    assert not history.stopped_early and not history.diverged
    assert history.train_loss[-1] < history.train_loss[0]  # it learns
    assert model.training  # fit leaves the model in training mode


def test_fit_regression_has_no_accuracy_and_no_validation_by_default(rng):
    X = rng.standard_normal((30, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    model = linear_model(3)
    history = fit(model, half_mse, SGD(model.parameters(), lr=0.1), X, y, epochs=20, batch_size=10, rng=rng)
    assert history.epochs == 20 and history.val_loss == [] and history.train_acc == []
    assert history.best_epoch is None
    assert history.train_loss[-1] < 1e-3 * history.train_loss[0]


def test_fit_history_losses_are_the_evaluation_losses(rng):
    X, y = classification_data(rng)
    model = mlp((4, 8, 3), np.random.default_rng(1), drop_prob=0.5)
    history = fit(
        model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), X, y, epochs=3, batch_size=20, rng=rng
    )
    # Measured in evaluation mode (no dropout), on the final weights of each epoch.
    loss, acc = evaluate(model, softmax_cross_entropy, X, y)
    assert (loss, acc) == (history.train_loss[-1], history.train_acc[-1])


def test_fit_is_reproducible():
    X, y = classification_data(np.random.default_rng(0))
    histories = []
    for _ in range(2):
        model = mlp((4, 8, 3), np.random.default_rng(1), drop_prob=0.3, batchnorm=True)
        histories.append(
            fit(
                model,
                softmax_cross_entropy,
                Adam(model.parameters(), lr=1e-2),
                X,
                y,
                epochs=3,
                batch_size=16,
                rng=np.random.default_rng(2),
            )
        )
    assert histories[0] == histories[1]


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    X, y, X_val, y_val = overfitting_regression()
    model = linear_model(X.shape[1])
    patience = 10
    history = fit(
        model,
        half_mse,
        SGD(model.parameters(), lr=0.02),
        X,
        y,
        epochs=400,
        batch_size=len(X),
        rng=np.random.default_rng(2),
        X_val=X_val,
        y_val=y_val,
        patience=patience,
    )
    best = history.best_epoch
    assert history.stopped_early
    assert 1 < best < history.epochs < 400  # validation loss fell, then rose: a real early stop
    assert history.epochs == best + patience
    assert min(history.val_loss) == history.val_loss[best - 1]
    assert all(v >= history.val_loss[best - 1] for v in history.val_loss[best:])
    # The restored model is the one from the best epoch, not the last one.
    restored_loss, _ = evaluate(model, half_mse, X_val, y_val)
    assert restored_loss == pytest.approx(history.val_loss[best - 1], rel=1e-12)
    assert restored_loss < history.val_loss[-1]


def test_early_stopping_without_restore_keeps_the_last_weights():
    X, y, X_val, y_val = overfitting_regression()
    model = linear_model(X.shape[1])
    history = fit(
        model,
        half_mse,
        SGD(model.parameters(), lr=0.02),
        X,
        y,
        epochs=400,
        batch_size=len(X),
        rng=np.random.default_rng(2),
        X_val=X_val,
        y_val=y_val,
        patience=10,
        restore_best=False,
    )
    assert history.stopped_early
    assert evaluate(model, half_mse, X_val, y_val)[0] == pytest.approx(history.val_loss[-1], rel=1e-12)


def test_min_delta_counts_small_improvements_as_none():
    X, y, X_val, y_val = overfitting_regression()
    runs = {}
    for min_delta in (0.0, 0.05):
        model = linear_model(X.shape[1])
        runs[min_delta] = fit(
            model,
            half_mse,
            SGD(model.parameters(), lr=0.02),
            X,
            y,
            epochs=400,
            batch_size=len(X),
            rng=np.random.default_rng(2),
            X_val=X_val,
            y_val=y_val,
            patience=10,
            min_delta=min_delta,
        )
    assert runs[0.05].best_epoch < runs[0.0].best_epoch


def test_diverged_run_is_flagged_not_raised(rng):
    X, y = classification_data(rng, n=40, d=5)
    model = mlp((5, 16, 3), np.random.default_rng(3))
    # A learning rate of 1e4 makes the weights overflow within a few epochs. Overflow warnings
    # would be errors here (pyproject turns RuntimeWarning into errors): fit must stay quiet.
    history = fit(
        model,
        softmax_cross_entropy,
        SGD(model.parameters(), lr=1e4),
        X,
        y,
        epochs=300,
        batch_size=40,
        rng=rng,
        X_val=X,
        y_val=y,
    )
    assert history.diverged
    assert history.epochs < 300
    assert len(history.val_loss) == history.epochs
    assert all(np.isfinite(history.train_loss))


def test_divergence_on_the_last_step_of_an_epoch_is_flagged():
    # One batch per epoch: the overflowing step is always the last one, found by the evaluation.
    X, y = np.ones((2, 1)), np.zeros((2, 1))
    model = Sequential(Linear(1, 1, np.random.default_rng(0), bias=False))
    model[0].weight.data[...] = 1e300
    history = fit(
        model,
        half_mse,
        SGD(model.parameters(), lr=1e10),
        X,
        y,
        epochs=5,
        batch_size=2,
        rng=np.random.default_rng(0),
    )
    assert history.diverged and history.epochs == 0


def test_fit_calls_the_penalty(rng):
    X, y = classification_data(rng)
    norms = {}
    for lam in (0.0, 1.0):
        model = mlp((4, 16, 3), np.random.default_rng(1))
        weights = [m.weight for m in model if isinstance(m, Linear)]
        fit(
            model,
            softmax_cross_entropy,
            SGD(model.parameters(), lr=0.1),
            X,
            y,
            epochs=20,
            batch_size=20,
            rng=np.random.default_rng(2),
            penalty=ParameterPenalty(weights, lam),
        )
        norms[lam] = sum(np.sum(w.data**2) for w in weights)
    assert norms[1.0] < 0.5 * norms[0.0]


# ---------------------------------------------------------------- evaluate and predict


def test_evaluate_and_predict_use_eval_mode_and_restore_the_mode(rng):
    model = mlp((4, 8, 3), rng, drop_prob=0.5, batchnorm=True)
    X, y = classification_data(rng, n=10)
    for mode in (True, False):
        model.train(mode)
        out1, out2 = predict(model, X), predict(model, X)
        np.testing.assert_array_equal(out1, out2)  # no dropout noise, running statistics
        assert model.training is mode
        loss, acc = evaluate(model, softmax_cross_entropy, X, y)
        assert model.training is mode
        assert loss == pytest.approx(softmax_cross_entropy(out1, y)[0])
        assert acc == pytest.approx(np.mean(out1.argmax(axis=1) == y))


def test_evaluate_regression_has_no_accuracy(rng):
    X = rng.standard_normal((5, 2))
    loss, acc = evaluate(linear_model(2), half_mse, X, np.zeros((5, 1)))
    assert acc is None and loss > 0


# ---------------------------------------------------------------- ParameterPenalty (owned by train)


@pytest.mark.parametrize(
    ("kind", "value_fn", "grad_fn"), [("l2", l2_penalty, l2_grad), ("l1", l1_penalty, l1_grad)]
)
def test_parameter_penalty_adds_value_and_gradient(rng, kind, value_fn, grad_fn):
    a = Parameter(rng.standard_normal((3, 2)))
    b = Parameter(rng.standard_normal(4))
    existing = rng.standard_normal((3, 2))
    a.grad = existing.copy()  # a gradient from the data loss is already there
    penalty = ParameterPenalty([a, b], lam=0.3, kind=kind)
    total = penalty()
    assert total == pytest.approx(value_fn(a.data, 0.3) + value_fn(b.data, 0.3))
    np.testing.assert_allclose(a.grad, existing + grad_fn(a.data, 0.3))
    np.testing.assert_allclose(b.grad, grad_fn(b.data, 0.3))


def test_parameter_penalty_leaves_other_parameters_alone(rng):
    a, b = Parameter(rng.standard_normal(3)), Parameter(rng.standard_normal(3))
    ParameterPenalty([a], lam=1.0)()
    assert b.grad is None


# ------------------------------------------------ early stopping: one rule, in fit and on recorded curves


def test_early_stopping_epoch_examples():
    curve = [1.0, 0.8, 0.9, 0.85, 0.7, 0.75]
    assert early_stopping_epoch(curve, patience=2) == (2, 4)
    assert early_stopping_epoch(curve, patience=3) == (5, None)
    assert early_stopping_epoch(curve, patience=1) == (2, 3)
    # an improvement smaller than min_delta does not count
    assert early_stopping_epoch([1.0, 0.95, 0.9, 0.85], patience=2, min_delta=0.1) == (1, 3)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=1, max_size=40),
    st.integers(1, 8),
)
def test_early_stopping_epoch_properties(curve, patience):
    best, stop = early_stopping_epoch(curve, patience)
    seen = curve if stop is None else curve[:stop]
    # the restored epoch is the first minimum of what was seen
    assert best == int(np.argmin(seen)) + 1
    if stop is not None:
        assert stop - best == patience


def test_early_stopping_epoch_agrees_with_fit():
    data_rng = np.random.default_rng(11)
    X = data_rng.standard_normal((60, 5))
    y = (X[:, 0] + 0.8 * data_rng.standard_normal(60) > 0).astype(np.int64)
    Xv = data_rng.standard_normal((40, 5))
    yv = (Xv[:, 0] > 0).astype(np.int64)

    def run(**options):
        run_rng = np.random.default_rng(12)
        model = mlp((5, 32, 2), run_rng)
        history = fit(
            model,
            softmax_cross_entropy,
            SGD(model.parameters(), lr=0.5),
            X,
            y,
            epochs=60,
            batch_size=10,
            rng=run_rng,
            X_val=Xv,
            y_val=yv,
            **options,
        )
        return history

    long_run = run()
    stopped = run(patience=3)
    assert stopped.stopped_early
    assert early_stopping_epoch(long_run.val_loss, 3) == (stopped.best_epoch, stopped.epochs)


# ---------------------------------------------------------------- callbacks, penalties and the defects fixed


def small_problem(seed=0):
    data_rng = np.random.default_rng(seed)
    X = data_rng.standard_normal((30, 3))
    return X, (X[:, 0] > 0).astype(np.int64)


def test_callback_sees_every_epoch_after_its_metrics():
    X, y = small_problem()
    model = mlp((3, 8, 2), np.random.default_rng(1))
    seen = []

    def callback(epoch, cb_model, history):
        assert cb_model is model
        seen.append((epoch, history.epochs, float(np.abs(model.layers[0].weight.data).sum())))

    fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), X, y,
        epochs=4, batch_size=10, rng=np.random.default_rng(2), callback=callback)  # fmt: skip
    assert [(e, n) for e, n, _ in seen] == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert len({w for *_, w in seen}) == 4  # the weights moved between calls


def test_fit_records_the_penalty_it_adds():
    X, y = small_problem()
    model = mlp((3, 8, 2), np.random.default_rng(1))
    penalty = ParameterPenalty([model.layers[0].weight], lam=0.1)
    history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), X, y,
                  epochs=3, batch_size=10, rng=np.random.default_rng(2), penalty=penalty)  # fmt: skip
    assert len(history.penalty) == 3
    assert history.penalty[-1] == pytest.approx(l2_penalty(model.layers[0].weight.data, 0.1))


def test_fit_accepts_labels_as_a_list():
    X, y = small_problem()
    model = mlp((3, 8, 2), np.random.default_rng(1))
    history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1), X, list(y),
                  epochs=2, batch_size=10, rng=np.random.default_rng(2), X_val=X, y_val=list(y))  # fmt: skip
    assert history.epochs == 2 and len(history.val_acc) == 2


def test_fit_refuses_an_optimiser_built_on_another_models_parameters():
    X, y = small_problem()
    model, other = mlp((3, 8, 2), np.random.default_rng(1)), mlp((3, 8, 2), np.random.default_rng(1))
    with pytest.raises(ValueError, match="^optimizer updates 4 parameter"):
        fit(model, softmax_cross_entropy, SGD(other.parameters(), lr=0.1), X, y,
            epochs=1, batch_size=10, rng=np.random.default_rng(2))  # fmt: skip


def test_an_optimiser_on_a_subset_of_the_parameters_is_fine():
    X, y = small_problem()
    model = mlp((3, 8, 2), np.random.default_rng(1))
    first = model.layers[0].weight.data.copy()
    fit(model, softmax_cross_entropy, SGD(model.layers[-1].parameters(), lr=0.1), X, y,
        epochs=1, batch_size=10, rng=np.random.default_rng(2))  # fmt: skip
    np.testing.assert_array_equal(model.layers[0].weight.data, first)  # frozen: not in the optimiser


def test_early_stopping_rule_counts_patience_from_the_last_improvement():
    rule = EarlyStopping(patience=2, min_delta=0.05)
    decisions = [rule.update(loss) for loss in [1.0, 0.97, 0.9, 0.89, 0.88]]
    # 0.97 and 0.89 improve by less than min_delta: epochs 2 and 4 do not count.
    assert decisions == [False, False, False, False, True] and rule.best_epoch == 3


def _every_epoch_run(every_epoch, **kwargs):
    rngs = streams(0)
    X = rngs.data.standard_normal((60, 3))
    y = (X[:, 0] - X[:, 2] > 0).astype(np.int64)
    model = mlp((3, 16, 2), rngs.init, drop_prob=0.2, dropout_rng=rngs.dropout)
    history = fit(model, softmax_cross_entropy, SGD(model.parameters(), lr=0.1, momentum=0.9), X, y,
                  epochs=6, batch_size=16, rng=rngs.batches, every_epoch=every_epoch, **kwargs)  # fmt: skip
    return model, history


def test_scores_after_the_last_epoch_only_are_the_last_entries_of_the_full_history():
    calls = []
    model_all, all_epochs = _every_epoch_run(True, X_val=np.ones((4, 3)), y_val=np.array([0, 1, 0, 1]))
    model_last, last_only = _every_epoch_run(
        False, X_val=np.ones((4, 3)), y_val=np.array([0, 1, 0, 1]), callback=lambda e, m, h: calls.append(e)
    )
    for (name, p), (_, q) in zip(model_all.named_parameters(), model_last.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)  # evaluation draws nothing
    for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
        assert getattr(last_only, key) == getattr(all_epochs, key)[-1:], key
    assert last_only.epochs == all_epochs.epochs == 6 and last_only.epochs_run == 6
    assert all_epochs.epochs_run is None and last_only.best_epoch is None
    assert calls == [1, 2, 3, 4, 5, 6]


def test_scores_after_the_last_epoch_only_exclude_early_stopping():
    with pytest.raises(ValueError, match="every_epoch"):
        _every_epoch_run(False, X_val=np.ones((4, 3)), y_val=np.array([0, 1, 0, 1]), patience=2)
    with pytest.raises(TypeError, match="every_epoch"):
        _every_epoch_run("no")
