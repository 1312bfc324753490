"""Tests for what chapter 2 (penalties) adds to regcode and for the claims it makes.

Covers ``linear_model.penalized_loss``, ``ch2_penalties.lasso_gd``, ``ch2_penalties.cross_validate``,
``penalties.lam_from_gaussian_prior`` and ``penalties.lam_from_laplace_prior``, training with input
noise (``noisy_input_loss``, ``noisy_input_gd``), the weight-decay identities the chapter states for
SGD, Adam and AdamW, and the digits network of the chapter's second half (``train_digits_mlp`` with
its data augmentation and max-norm options, ``digits_scores``,
``scale_invariant_weights``).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from regcode import data, layers, losses, optim, penalties, train
from regcode import linear_model as linear
from regcode.experiments import ch2_penalties as ch2
from regcode.gradcheck import numerical_gradient, rel_error
from regcode.seeds import streams


@pytest.fixture(scope="module")
def diabetes():
    d = data.load_diabetes()
    return d.X_train, d.y_train


def small_problem(seed=0, m=30, n=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w_true = np.array([3.0, -2.0, 0.0, 0.0, 1.0, 0.0])[:n]
    y = X @ w_true + 0.5 * rng.standard_normal(m)
    return X, y


# --- penalized_loss -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_penalized_loss_gradient_matches_finite_differences(kind):
    X, y = small_problem()
    w = np.random.default_rng(1).standard_normal(X.shape[1])  # no exact zeros: L1 is differentiable
    _, grad = linear.penalized_loss(X, y, w, 0.3, kind)
    numeric = numerical_gradient(lambda v: linear.penalized_loss(X, y, v, 0.3, kind)[0], w)
    assert rel_error(grad, numeric) < 1e-7


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_penalized_loss_is_half_mse_plus_penalty(kind):
    X, y = small_problem()
    w = np.linspace(-1, 1, X.shape[1])
    loss, _ = linear.penalized_loss(X, y, w, 0.7, kind)
    penalty = penalties.l1_penalty(w, 0.7) if kind == "l1" else penalties.l2_penalty(w, 0.7)
    assert loss == pytest.approx(np.mean((X @ w - y) ** 2) / 2 + penalty, rel=1e-12)


def test_penalized_loss_is_zero_gradient_at_ridge_and_subgradient_optimal_at_lasso(diabetes):
    X, y = diabetes
    _, grad = linear.penalized_loss(X, y, linear.ridge(X, y, 0.5), 0.5, "l2")
    assert np.abs(grad).max() < 1e-8
    w = linear.lasso(X, y, 5.0)
    data_grad = linear.penalized_loss(X, y, w, 0.0)[1]
    nonzero = w != 0
    # KKT: -grad = lam*sign(w) on the support, |grad| <= lam off it
    assert np.allclose(-data_grad[nonzero], 5.0 * np.sign(w[nonzero]), atol=1e-6)
    assert np.all(np.abs(data_grad[~nonzero]) <= 5.0 + 1e-6)


def test_penalized_loss_bad_inputs():
    X, y = small_problem()
    w = np.zeros(X.shape[1])
    with pytest.raises(ValueError, match="kind"):
        linear.penalized_loss(X, y, w, 0.1, kind="l3")
    with pytest.raises(ValueError, match="w must have shape"):
        linear.penalized_loss(X, y, np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="lam"):
        linear.penalized_loss(X, y, w, -0.1)
    with pytest.raises(TypeError, match="w must be a float"):
        linear.penalized_loss(X, y, np.zeros(X.shape[1], dtype=int), 0.1)
    with pytest.raises(ValueError, match="y must have"):
        linear.penalized_loss(X, y[:-1], w, 0.1)
    with pytest.raises(ValueError, match="w contains NaN"):
        linear.penalized_loss(X, y, np.full(X.shape[1], np.nan), 0.1)


# --- lasso_gd: subgradient versus proximal ---------------------------------------------------------


def test_proximal_full_batch_reaches_the_lasso_with_its_exact_zeros(diabetes):
    X, y = diabetes
    step = 1.0 / np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1]
    w_exact = linear.lasso(X, y, 5.0)
    w_ista = ch2.lasso_gd(X, y, 5.0, lr=step, epochs=3000, method="proximal")
    assert np.array_equal(w_ista == 0, w_exact == 0)
    assert np.sum(w_exact == 0) >= 3
    assert np.abs(w_ista - w_exact).max() < 1e-6


def test_subgradient_gives_no_exact_zeros_and_a_worse_objective(diabetes):
    X, y = diabetes
    step = 1.0 / np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1]
    w_sub = ch2.lasso_gd(X, y, 5.0, lr=step, epochs=300, method="subgradient")
    w_exact = linear.lasso(X, y, 5.0)
    assert np.sum(w_sub == 0) == 0
    objective = [linear.penalized_loss(X, y, w, 5.0, "l1")[0] for w in (w_sub, w_exact)]
    assert objective[0] > objective[1] + 1.0


@pytest.mark.parametrize("lr", [1e-4, 1e-2, 1.0])
def test_a_proximal_step_keeps_a_zero_only_if_the_gradient_is_below_lambda_whatever_the_step(lr):
    # The chapter's argument that a decaying step does not stop mini-batch noise from kicking
    # coefficients off 0: from w = 0, soft_threshold(-lr * g, lr * lam) is 0 iff |g| <= lam.
    lam = 0.5
    grads = np.array([-0.7, -0.5, -0.2, 0.0, 0.3, 0.5, 0.9])
    stepped = penalties.soft_threshold(np.zeros_like(grads) - lr * grads, lr * lam)
    np.testing.assert_array_equal(stepped == 0, np.abs(grads) <= lam)


def test_minibatch_gradients_at_the_lasso_solution_exceed_lambda_on_removed_coefficients(diabetes):
    X, y = diabetes
    w = linear.lasso(X, y, 5.0)
    removed = w == 0
    resid = X @ w - y
    assert np.all(np.abs(X.T @ resid / len(y))[removed] <= 5.0 + 1e-6)  # the full batch holds them at 0
    order = np.random.default_rng(0).permutation(len(y))
    pulls = [np.abs(X[b].T @ resid[b]) / len(b) for b in np.array_split(order, len(y) // 32)]
    assert np.mean(np.array(pulls)[:, removed] > 5.0) > 0.25  # batches of ~32 often do not


def test_lasso_gd_minibatch_is_seeded_and_returns_iterates():
    X, y = small_problem()
    runs = [
        ch2.lasso_gd(
            X, y, 0.1, lr=0.05, epochs=3, batch_size=8, rng=np.random.default_rng(3), return_iterates=True
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    w, iterates = runs[0]
    assert iterates.shape == (3 * 4 + 1, X.shape[1])  # 30 rows in batches of 8: 4 steps per epoch
    np.testing.assert_array_equal(iterates[0], 0.0)
    np.testing.assert_array_equal(iterates[-1], w)


def test_lasso_gd_keeps_float32_and_uses_w0():
    X, y = small_problem()
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    w = ch2.lasso_gd(X32, y32, 0.1, lr=0.05, epochs=2)
    assert w.dtype == np.float32
    w0 = np.ones(X.shape[1])
    _, iterates = ch2.lasso_gd(X, y, 0.1, lr=0.05, epochs=1, w0=w0, return_iterates=True)
    np.testing.assert_array_equal(iterates[0], w0)
    assert w0[0] == 1.0  # not modified in place


def test_lasso_gd_bad_inputs():
    X, y = small_problem()
    with pytest.raises(ValueError, match="method"):
        ch2.lasso_gd(X, y, 0.1, lr=0.1, epochs=1, method="coordinate")
    with pytest.raises(ValueError, match="lr"):
        ch2.lasso_gd(X, y, 0.1, lr=0.0, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        ch2.lasso_gd(X, y, 0.1, lr=0.1, epochs=0)
    with pytest.raises(TypeError, match="rng"):
        ch2.lasso_gd(X, y, 0.1, lr=0.1, epochs=1, batch_size=5)
    with pytest.raises(ValueError, match="batch_size"):
        ch2.lasso_gd(X, y, 0.1, lr=0.1, epochs=1, batch_size=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="w0 must have shape"):
        ch2.lasso_gd(X, y, 0.1, lr=0.1, epochs=1, w0=np.zeros(2))
    with pytest.raises(ValueError, match="diverged"):
        ch2.lasso_gd(X * 1e3, y, 0.1, lr=10.0, epochs=200)


# --- training with input noise: noisy_input_loss, noisy_input_gd ---------------------------------


def test_noisy_input_gradient_matches_finite_differences_for_a_fixed_draw():
    X, y = small_problem()
    w = np.linspace(-1, 1, X.shape[1])
    _, grad = ch2.noisy_input_loss(X, y, w, 0.7, np.random.default_rng(5))
    # The same seed draws the same noise matrix, so the loss is a fixed function of w.
    numeric = numerical_gradient(lambda v: ch2.noisy_input_loss(X, y, v, 0.7, np.random.default_rng(5))[0], w)
    assert rel_error(grad, numeric) < 1e-7


def test_noisy_input_loss_is_the_ridge_objective_with_lambda_sigma_squared_in_expectation():
    # Moment check: the mean over many draws of the loss and of the gradient is the ridge objective
    # and its gradient with lambda = sigma^2, within a few standard errors.
    X, y = small_problem(m=40)
    w, sigma, draws = np.array([1.0, -0.5, 0.3, 0.0, 2.0, -1.0]), 0.8, 20_000
    rng = np.random.default_rng(11)
    losses_, grads = zip(*(ch2.noisy_input_loss(X, y, w, sigma, rng) for _ in range(draws)), strict=True)
    losses_, grads = np.array(losses_), np.array(grads)
    ridge_loss, ridge_grad = linear.penalized_loss(X, y, w, sigma**2, "l2")
    assert abs(losses_.mean() - ridge_loss) < 4 * losses_.std() / np.sqrt(draws)
    se = grads.std(axis=0) / np.sqrt(draws)
    assert np.all(np.abs(grads.mean(axis=0) - ridge_grad) < 4 * se)
    data_loss = linear.penalized_loss(X, y, w, 0.0)[0]
    assert ridge_loss - data_loss == pytest.approx(sigma**2 / 2 * w @ w)  # the penalty it adds


def test_noisy_input_loss_without_noise_is_the_data_loss_and_draws_m_times_n_numbers():
    X, y = small_problem()
    w = np.linspace(-1, 1, X.shape[1])
    rng = np.random.default_rng(2)
    loss, grad = ch2.noisy_input_loss(X, y, w, 0.0, rng)
    expected = linear.penalized_loss(X, y, w, 0.0)
    assert loss == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(grad, expected[1], rtol=1e-12)
    after = np.random.default_rng(2)
    after.standard_normal(X.shape)
    assert rng.standard_normal() == after.standard_normal()  # one (m, n) draw per call


def test_noisy_input_gd_is_gd_on_the_noisy_gradients_and_lands_near_ridge():
    X, y = small_problem(m=200)
    iterates = ch2.noisy_input_gd(X, y, 1.0, lr=0.1, steps=3000, rng=np.random.default_rng(0))
    assert iterates.shape == (3001, X.shape[1])
    np.testing.assert_array_equal(iterates[0], 0.0)
    # Step by step, the update of noisy_input_loss with the same stream.
    rng = np.random.default_rng(0)
    w = np.zeros(X.shape[1])
    for t in range(1, 4):
        w = w - 0.1 * ch2.noisy_input_loss(X, y, w, 1.0, rng)[1]
        np.testing.assert_array_equal(iterates[t], w)
    w_avg = iterates[1500:].mean(axis=0)
    w_ridge, w_ls = linear.ridge(X, y, 1.0), linear.ridge(X, y, 0.0)
    assert np.linalg.norm(w_avg - w_ridge) < 0.05 * np.linalg.norm(w_ls - w_ridge)


def test_noisy_input_gd_without_noise_is_plain_gradient_descent_and_uses_w0():
    X, y = small_problem()
    w0 = np.ones(X.shape[1])
    iterates = ch2.noisy_input_gd(X, y, 0.0, lr=0.05, steps=5, rng=np.random.default_rng(0), w0=w0)
    w = w0.copy()
    for t in range(1, 6):
        w = w - 0.05 * linear.penalized_loss(X, y, w, 0.0)[1]
        np.testing.assert_allclose(iterates[t], w, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(iterates[0], w0)
    assert w0[0] == 1.0  # not modified in place


def test_noisy_input_bad_inputs():
    X, y = small_problem()
    w, rng = np.zeros(X.shape[1]), np.random.default_rng(0)
    with pytest.raises(ValueError, match="noise_std"):
        ch2.noisy_input_loss(X, y, w, -0.1, rng)
    with pytest.raises(TypeError, match="rng"):
        ch2.noisy_input_loss(X, y, w, 0.1, 0)
    with pytest.raises(ValueError, match="w must have shape"):
        ch2.noisy_input_loss(X, y, np.zeros(2), 0.1, rng)
    with pytest.raises(ValueError, match="y must have"):
        ch2.noisy_input_loss(X, y[:-1], w, 0.1, rng)
    with pytest.raises(ValueError, match="steps"):
        ch2.noisy_input_gd(X, y, 0.1, lr=0.1, steps=0, rng=rng)
    with pytest.raises(ValueError, match="lr"):
        ch2.noisy_input_gd(X, y, 0.1, lr=0.0, steps=1, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        ch2.noisy_input_gd(X, y, 0.1, lr=0.1, steps=1, rng=None)
    with pytest.raises(ValueError, match="w must have shape"):
        ch2.noisy_input_gd(X, y, 0.1, lr=0.1, steps=1, rng=rng, w0=np.zeros(2))
    with pytest.raises(ValueError, match="diverged"):
        ch2.noisy_input_gd(X * 1e3, y, 0.1, lr=10.0, steps=200, rng=rng)


# --- cross_validate -------------------------------------------------------------------------------


def test_cross_validate_ridge_agrees_with_a_scikit_learn_pipeline_on_the_same_folds():
    # An independent computation: scikit-learn standardises on each training fold and fits an
    # intercept (the same as centring y); its alpha is m_train * lambda (the 1/(2m) convention).
    X, y = small_problem(m=40)
    lams = np.array([0.01, 0.1, 1.0])
    cv = ch2.cross_validate(X, y, lams, method="ridge", n_splits=4, rng=np.random.default_rng(7))
    folds = data.kfold_indices(40, 4, np.random.default_rng(7))
    expected = np.array(
        [
            [
                np.mean(
                    (
                        make_pipeline(StandardScaler(), Ridge(alpha=len(tr) * lam))
                        .fit(X[tr], y[tr])
                        .predict(X[va])
                        - y[va]
                    )
                    ** 2
                )
                for lam in lams
            ]
            for tr, va in folds
        ]
    )
    np.testing.assert_allclose(cv.fold_val_mse, expected, rtol=1e-8)
    np.testing.assert_allclose(cv.val_se, expected.std(axis=0, ddof=1) / 2.0, rtol=1e-8)


def test_cross_validate_lasso_order_of_lams_does_not_matter_and_rules_are_consistent():
    X, y = small_problem(m=60)
    lams = np.array([0.01, 1.0, 0.1, 0.3, 0.03])
    cv = ch2.cross_validate(X, y, lams, method="lasso", rng=np.random.default_rng(0))
    order = np.argsort(lams)
    cv_sorted = ch2.cross_validate(X, y, lams[order], method="lasso", rng=np.random.default_rng(0))
    np.testing.assert_allclose(cv.val_mse[order], cv_sorted.val_mse, rtol=1e-6)
    assert cv.lam_min == lams[np.argmin(cv.val_mse)]
    assert cv.lam_1se >= cv.lam_min
    best = np.argmin(cv.val_mse)
    assert cv.val_mse[lams == cv.lam_1se][0] <= cv.val_mse[best] + cv.val_se[best]
    assert np.all(np.diff(cv.train_mse[order]) >= -1e-9)  # training error grows with lambda


def test_cross_validate_bad_inputs():
    X, y = small_problem()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="method"):
        ch2.cross_validate(X, y, [0.1], method="elastic", rng=rng)
    with pytest.raises(ValueError, match="lams"):
        ch2.cross_validate(X, y, [-0.1], rng=rng)
    with pytest.raises(ValueError, match="lams"):
        ch2.cross_validate(X, y, [], rng=rng)
    with pytest.raises(ValueError, match="n_splits"):
        ch2.cross_validate(X, y, [0.1], n_splits=1, rng=rng)
    with pytest.raises(ValueError, match="n_splits"):
        ch2.cross_validate(X, y, [0.1], n_splits=31, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        ch2.cross_validate(X, y, [0.1], rng=0)
    with pytest.raises(TypeError, match="X must be a float"):
        ch2.cross_validate(X.astype(int), y, [0.1], rng=rng)


# --- priors ---------------------------------------------------------------------------------------


def test_gaussian_prior_map_is_the_ridge_solution(diabetes):
    X, y = diabetes
    sigma, tau = 50.0, 3.0
    lam = penalties.lam_from_gaussian_prior(sigma, tau, X.shape[0])
    posterior_mean = np.linalg.solve(X.T @ X / sigma**2 + np.eye(X.shape[1]) / tau**2, X.T @ y / sigma**2)
    np.testing.assert_allclose(linear.ridge(X, y, lam), posterior_mean, rtol=1e-10)


def test_laplace_prior_objective_is_a_scaled_lasso_objective(diabetes):
    X, y = diabetes
    m = X.shape[0]
    sigma, b = 50.0, 4.0
    lam = penalties.lam_from_laplace_prior(sigma, b, m)

    def neg_log_posterior(w):
        return np.sum((y - X @ w) ** 2) / (2 * sigma**2) + np.abs(w).sum() / b

    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(X.shape[1]) * 10 for _ in range(3)]
    scaled = [m / sigma**2 * linear.penalized_loss(X, y, w, lam, "l1")[0] for w in ws]
    np.testing.assert_allclose([neg_log_posterior(w) for w in ws], scaled, rtol=1e-12)
    w_map = linear.lasso(X, y, lam)
    for w in ws:  # the lasso solution is the MAP: nothing nearby is more probable
        assert neg_log_posterior(w_map) <= neg_log_posterior(w_map + 1e-3 * w)


def test_prior_lams_values_and_bad_inputs():
    assert penalties.lam_from_gaussian_prior(2.0, 1.0, 100) == pytest.approx(0.04)
    assert penalties.lam_from_laplace_prior(2.0, 0.5, 100) == pytest.approx(0.08)
    for fn in (penalties.lam_from_gaussian_prior, penalties.lam_from_laplace_prior):
        with pytest.raises(ValueError, match="noise_std"):
            fn(0.0, 1.0, 10)
        with pytest.raises(ValueError, match="prior"):
            fn(1.0, -1.0, 10)
        with pytest.raises(ValueError, match="n_samples"):
            fn(1.0, 1.0, 0)
        with pytest.raises(TypeError, match="n_samples"):
            fn(1.0, 1.0, 10.5)
        with pytest.raises(TypeError, match="noise_std"):
            fn("1", 1.0, 10)


# --- the weight-decay identities chapter 2 states -------------------------------------------------


def test_sgd_weight_decay_is_a_gradient_step_on_the_l2_objective():
    X, y = small_problem()
    w = np.random.default_rng(2).standard_normal(X.shape[1])
    param = layers.Parameter(w.copy())
    param.grad = linear.penalized_loss(X, y, w, 0.0)[1]
    optim.SGD([param], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(param.data, w - 0.1 * linear.penalized_loss(X, y, w, 0.5, "l2")[1], rtol=1e-14)
    np.testing.assert_allclose(param.data, 0.95 * w - 0.1 * param.grad, rtol=1e-12)


def test_adamw_decays_every_weight_alike_and_adam_l2_ignores_the_scale_of_lambda():
    steps = 50
    for cls in (optim.Adam, optim.AdamW):
        results = []
        for lam in (1e-4, 1e-1):
            p = layers.Parameter(np.array([0.5, -2.0]))
            opt = cls([p], lr=1e-3, weight_decay=lam)
            for _ in range(steps):
                p.grad = np.zeros(2)  # no loss gradient: only the decay acts
                opt.step()
            results.append(p.data.copy())
            if cls is optim.AdamW:
                np.testing.assert_allclose(p.data, np.array([0.5, -2.0]) * (1 - 1e-3 * lam) ** steps)
        if cls is optim.Adam:  # the update is invariant to the gradient's scale: lambda drops out
            np.testing.assert_allclose(results[0], results[1], rtol=1e-4)
            np.testing.assert_allclose(np.abs(results[0] - [0.5, -2.0]), steps * 1e-3, rtol=3e-2)


# --- the digits network: train_digits_mlp, digits_scores, scale_invariant_weights ----------------


@pytest.fixture(scope="module")
def digits():
    return data.load_digits(streams(0).data, n_train=60)


def small_run(digits, seed=0, **kwargs):
    options = dict(lr=0.05, epochs=2, batch_size=16, hidden=(16, 16)) | kwargs
    return ch2.train_digits_mlp(digits, streams(seed), **options)


def test_train_digits_mlp_is_build_then_fit_with_the_seed_streams(digits):
    model, history = small_run(digits, momentum=0.9, weight_decay=1e-2)
    rngs = streams(0)
    expected = layers.mlp((64, 16, 16, 10), rngs.init)
    opt = optim.SGD(optim.decay_groups(expected.parameters(), 1e-2), lr=0.05, momentum=0.9)
    hist = train.fit(
        expected, losses.softmax_cross_entropy, opt, digits.X_train, digits.y_train,
        epochs=2, batch_size=16, rng=rngs.batches,
    )  # fmt: skip
    for (name, p), (_, q) in zip(model.named_parameters(), expected.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert history.train_loss == hist.train_loss
    assert model[0].weight.data.dtype == np.float64


def test_changing_the_penalty_changes_nothing_else(digits):
    # Same seed: the same initial weights and the same batches whatever the decay; zero decay is no decay.
    first_batches = []
    for wd in (0.0, 0.5):
        model, _ = small_run(digits, weight_decay=wd, epochs=1, lr=1e-12)  # a step too small to move
        first_batches.append(model[0].weight.data.copy())
    np.testing.assert_allclose(first_batches[0], first_batches[1], rtol=0, atol=1e-9)
    a, _ = small_run(digits)
    b, _ = small_run(digits, weight_decay=0.0, l1_first_layer=0.0)
    np.testing.assert_array_equal(a[0].weight.data, b[0].weight.data)


def test_weight_decay_shrinks_the_weights_and_spares_the_biases(digits):
    plain, _ = small_run(digits, epochs=5)
    decayed, _ = small_run(digits, epochs=5, weight_decay=0.5)
    assert np.linalg.norm(decayed[0].weight.data) < 0.9 * np.linalg.norm(plain[0].weight.data)
    groups = optim.decay_groups(decayed.parameters(), 0.5)
    assert all(not p.decay for p in groups[1]["params"])  # biases: the undecayed group


def test_l1_first_layer_is_recorded_as_the_penalty(digits):
    model, history = small_run(digits, l1_first_layer=1e-3)
    assert len(history.penalty) == history.epochs
    assert history.penalty[-1] == pytest.approx(1e-3 * np.abs(model[0].weight.data).sum())
    _, no_penalty = small_run(digits)
    assert no_penalty.penalty == []


@pytest.mark.parametrize(("name", "cls"), [("sgd", optim.SGD), ("adam", optim.Adam), ("adamw", optim.AdamW)])
def test_the_optimizer_is_the_one_asked_for_with_decay_on_the_weights_only(digits, name, cls, monkeypatch):
    made = []

    class Recording(cls):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setitem(ch2._OPTIMIZERS, name, Recording)
    small_run(digits, optimizer=name, lr=1e-3, epochs=1, weight_decay=0.1)
    (opt,) = made
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    assert all(p.decay for p in opt.param_groups[0]["params"])
    assert not any(p.decay for p in opt.param_groups[1]["params"])


def test_invariant_decay_touches_only_the_matrices_batch_norm_follows(digits):
    model, _ = small_run(digits, batchnorm=True, decay="invariant", weight_decay=0.3, epochs=3)
    invariant = ch2.scale_invariant_weights(model)
    assert [p.data.shape for p in invariant] == [(64, 16), (16, 16)]
    assert all(p is not model[-1].weight for p in invariant)  # no batch norm after the output layer
    plain, _ = small_run(digits, batchnorm=True, epochs=3)
    for p, q in zip(invariant, ch2.scale_invariant_weights(plain), strict=True):
        assert np.linalg.norm(p.data) < np.linalg.norm(q.data)


def test_scale_invariant_weights_really_are_scale_invariant(digits):
    model = layers.mlp((64, 16, 16, 10), streams(0).init, batchnorm=True)
    x, labels = digits.X_train[:20], digits.y_train[:20]
    loss, dout = losses.softmax_cross_entropy(model(x), labels)
    model.backward(dout)
    grads = [p.grad.copy() for p in ch2.scale_invariant_weights(model)]
    for p in ch2.scale_invariant_weights(model):
        p.data *= 3.0
        p.grad = None
    loss3, dout3 = losses.softmax_cross_entropy(model(x), labels)
    model.backward(dout3)
    assert loss3 == pytest.approx(loss, rel=1e-4)  # up to batch norm's eps
    for g, p in zip(grads, ch2.scale_invariant_weights(model), strict=True):
        np.testing.assert_allclose(p.grad, g / 3.0, rtol=0, atol=1e-3 * np.abs(g).max())
    assert ch2.scale_invariant_weights(layers.mlp((4, 8, 2), streams(0).init)) == []


def test_the_callback_runs_after_every_epoch(digits):
    epochs = []
    small_run(digits, epochs=3, callback=lambda epoch, model, history: epochs.append(epoch))
    assert epochs == [1, 2, 3]


# --- max-norm: train_digits_mlp(max_norm=...) with optim.MaxNormSGD ---------------------------


def test_train_digits_mlp_with_max_norm_is_fit_with_max_norm_sgd(digits):
    model, history = small_run(digits, momentum=0.9, max_norm=0.5, epochs=3)
    for layer in (model[0], model[2], model[4]):
        assert np.all(np.linalg.norm(layer.weight.data, axis=0) <= 0.5 * (1 + 1e-12))
    rngs = streams(0)
    expected = layers.mlp((64, 16, 16, 10), rngs.init)
    opt = optim.MaxNormSGD(optim.decay_groups(expected.parameters(), 0.0), lr=0.05, c=0.5, momentum=0.9)
    hist = train.fit(
        expected, losses.softmax_cross_entropy, opt, digits.X_train, digits.y_train,
        epochs=3, batch_size=16, rng=rngs.batches,
    )  # fmt: skip
    for (name, p), (_, q) in zip(model.named_parameters(), expected.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert history.train_loss == hist.train_loss


# --- data augmentation: train_digits_mlp(augment_shift=...) ---------------------------------------


def test_augmented_training_is_one_fit_per_epoch_on_the_images_and_fresh_shifted_copies(digits):
    model, history = small_run(digits, momentum=0.9, augment_shift=1, epochs=3)
    rngs = streams(0)
    expected = layers.mlp((64, 16, 16, 10), rngs.init)
    opt = optim.SGD(optim.decay_groups(expected.parameters(), 0.0), lr=0.05, momentum=0.9)
    raw = digits.unstandardize(digits.X_train)
    train_loss = []
    for _ in range(3):
        shifted = digits.standardize(data.augment_digits(raw, rngs.dropout, max_shift=1))
        X_epoch = np.concatenate([digits.X_train, shifted])
        y_epoch = np.concatenate([digits.y_train, digits.y_train])
        one = train.fit(
            expected, losses.softmax_cross_entropy, opt, X_epoch, y_epoch,
            epochs=1, batch_size=16, rng=rngs.batches,
        )  # fmt: skip
        train_loss += one.train_loss
    for (name, p), (_, q) in zip(model.named_parameters(), expected.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    assert history.train_loss == train_loss and history.epochs == 3 and len(history.train_acc) == 3


def test_augmentation_changes_the_training_data_and_nothing_else(digits):
    plain, _ = small_run(digits)
    unshifted, _ = small_run(digits, augment_shift=0)
    np.testing.assert_array_equal(plain[0].weight.data, unshifted[0].weight.data)  # 0: no augmentation
    shifted, _ = small_run(digits, augment_shift=1, lr=1e-12, epochs=1)  # a step too small to move
    start = layers.mlp((64, 16, 16, 10), streams(0).init)  # the same initial weights as without shifts
    np.testing.assert_allclose(shifted[0].weight.data, start[0].weight.data, rtol=0, atol=1e-9)


def test_augmented_training_calls_back_every_epoch_and_records_the_l1_penalty(digits):
    epochs = []
    _, history = small_run(
        digits, epochs=3, augment_shift=1, l1_first_layer=1e-3,
        callback=lambda epoch, model, history: epochs.append((epoch, history.epochs)),
    )  # fmt: skip
    assert epochs == [(1, 1), (2, 2), (3, 3)]
    assert len(history.penalty) == 3


def test_the_augmentation_and_max_norm_bad_inputs(digits):
    with pytest.raises(ValueError, match="max_norm must be in"):
        small_run(digits, max_norm=0.0)
    with pytest.raises(ValueError, match='max_norm needs optimizer="sgd"'):
        small_run(digits, max_norm=1.0, optimizer="adam")
    with pytest.raises(ValueError, match="augment_shift must be >= 0"):
        small_run(digits, augment_shift=-1)
    with pytest.raises(ValueError, match="augment_shift must be <= 7"):
        small_run(digits, augment_shift=8)
    with pytest.raises(TypeError, match="augment_shift must be an integer"):
        small_run(digits, augment_shift=1.0)
    ten_pixels = data.Split(
        digits.X_train[:, :10],
        digits.y_train,
        None,
        None,
        None,
        None,
        [],
        x_mean=np.zeros(10),
        x_scale=np.ones(10),
    )
    with pytest.raises(ValueError, match="augment_shift needs 8x8 images"):
        small_run(ten_pixels, augment_shift=1)


def test_digits_scores_matches_evaluate(digits):
    model, _ = small_run(digits)
    scores = ch2.digits_scores(model, digits)
    keys = ("acc", "loss", "error_confidence")
    assert sorted(scores) == sorted(f"{s}_{k}" for s in ("train", "val", "test") for k in keys)
    loss, acc = train.evaluate(model, losses.softmax_cross_entropy, digits.X_test, digits.y_test)
    assert (scores["test_loss"], scores["test_acc"]) == (loss, acc)
    assert list(ch2.digits_scores(model, digits, splits=["val"])) == [f"val_{k}" for k in keys]


def test_digits_scores_confidence_on_errors(digits):
    model, _ = small_run(digits, epochs=1)
    probs = losses.softmax(train.predict(model, digits.X_val))
    wrong = probs.argmax(axis=1) != digits.y_val
    assert wrong.any()
    score = ch2.digits_scores(model, digits, splits=("val",))["val_error_confidence"]
    assert score == pytest.approx(probs[wrong].max(axis=1).mean(), rel=1e-12)
    # A network that makes no error has no confidence on errors: NaN, not a number that looks measured.
    always_zero = layers.Sequential(layers.Linear(64, 10, streams(0).init))
    always_zero[0].weight.data[:] = 0.0
    always_zero[0].bias.data[:] = np.eye(10)[0]  # predicts class 0 for every image
    zeros = data.Split(digits.X_val[:3], np.zeros(3, dtype=np.int64), None, None, None, None, [])
    assert np.isnan(ch2.digits_scores(always_zero, zeros, splits=("train",))["train_error_confidence"])


def test_the_digits_network_bad_inputs(digits):
    with pytest.raises(TypeError, match="digits"):
        ch2.train_digits_mlp((digits.X_train, digits.y_train), streams(0), lr=0.1, epochs=1)
    with pytest.raises(TypeError, match="rngs"):
        ch2.train_digits_mlp(digits, np.random.default_rng(0), lr=0.1, epochs=1)
    with pytest.raises(ValueError, match="optimizer"):
        small_run(digits, optimizer="rmsprop")
    with pytest.raises(ValueError, match="decay"):
        small_run(digits, decay="biases")
    with pytest.raises(ValueError, match='decay="invariant" needs batchnorm'):
        small_run(digits, decay="invariant", weight_decay=0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        small_run(digits, weight_decay=-0.1)
    with pytest.raises(ValueError, match="l1_first_layer"):
        small_run(digits, l1_first_layer=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        small_run(digits, momentum=1.0)
    with pytest.raises(ValueError, match="lr"):
        small_run(digits, lr=0.0)
    with pytest.raises(TypeError, match="hidden"):
        small_run(digits, hidden=(16.0,))
    with pytest.raises(TypeError, match="batchnorm"):
        small_run(digits, batchnorm="yes")
    regression = data.load_diabetes()
    with pytest.raises(TypeError, match="digits.y_train"):
        ch2.train_digits_mlp(regression, streams(0), lr=0.1, epochs=1)
    with pytest.raises(ValueError, match="digits has no val split"):
        ch2.digits_scores(layers.mlp((10, 4, 10), streams(0).init), regression, splits=("val",))
    model, _ = small_run(digits)
    with pytest.raises(ValueError, match="splits"):
        ch2.digits_scores(model, digits, splits=("validation",))
    with pytest.raises(TypeError, match="splits"):
        ch2.digits_scores(model, digits, splits="val")
    with pytest.raises(TypeError, match="model"):
        ch2.scale_invariant_weights([model[0]])
