"""Tests for regcode.linear: closed-form ridge, lasso by proximal gradient, the lasso path."""

import numpy as np
import pytest

import regcode.linear_model as linear
from regcode.linear_model import ConvergenceWarning, lasso, lasso_lam_max, lasso_path, ridge


def problem(rng, m, n, noise=0.1):
    X = rng.standard_normal((m, n))
    w = np.zeros(n)
    w[: max(1, n // 3)] = rng.uniform(1.0, 2.0, size=max(1, n // 3))
    y = X @ w + noise * rng.standard_normal(m)
    return X, y


def ridge_gradient(X, y, w, lam):
    """Gradient of (1/2m)||y - Xw||^2 + (lam/2)||w||^2; zero at the ridge solution."""
    return X.T @ (X @ w - y) / X.shape[0] + lam * w


# ---------------------------------------------------------------- ridge


@pytest.mark.parametrize(("m", "n"), [(30, 5), (5, 30)], ids=["tall-primal", "wide-dual"])
def test_ridge_solves_the_normal_equations(rng, m, n):
    X, y = problem(rng, m, n)
    w = ridge(X, y, 0.3)
    assert w.shape == (n,)
    np.testing.assert_allclose(ridge_gradient(X, y, w, 0.3), 0.0, atol=1e-12)


@pytest.mark.parametrize(("m", "n"), [(30, 5), (5, 30)], ids=["tall", "wide"])
def test_ridge_primal_and_dual_forms_agree(rng, m, n):
    X, y = problem(rng, m, n)
    lam = 0.3
    primal = np.linalg.solve(X.T @ X + m * lam * np.eye(n), X.T @ y)
    dual = X.T @ np.linalg.solve(X @ X.T + m * lam * np.eye(m), y)
    np.testing.assert_allclose(primal, dual, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ridge(X, y, lam), primal, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("m", "n"), [(30, 5), (5, 30)], ids=["tall", "wide"])
def test_ridge_lam_zero_is_the_min_norm_least_squares_solution(rng, m, n):
    X, y = problem(rng, m, n)
    np.testing.assert_allclose(ridge(X, y, 0.0), np.linalg.pinv(X) @ y, rtol=1e-9, atol=1e-12)


def test_ridge_lam_zero_is_the_limit_of_small_lam(rng):
    X, y = problem(rng, 5, 30)
    np.testing.assert_allclose(ridge(X, y, 1e-10), ridge(X, y, 0.0), atol=1e-6)


def test_ridge_shrinks_with_lam(rng):
    X, y = problem(rng, 20, 8)
    norms = [np.linalg.norm(ridge(X, y, lam)) for lam in (0.0, 0.01, 0.1, 1.0, 10.0)]
    assert np.all(np.diff(norms) < 0)


def test_ridge_docstring_example():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(ridge(X, np.array([1.0, 2.0, 3.0]), 0.0), [1.0, 2.0])


# ---------------------------------------------------------------- lasso


def kkt_residual(X, y, w, lam):
    """c = X^T (y - Xw) / m: the lasso optimum has |c| <= lam, with c = lam * sign(w) on the support."""
    return X.T @ (y - X @ w) / X.shape[0]


@pytest.mark.parametrize(("m", "n"), [(40, 10), (10, 40)], ids=["tall", "wide"])
def test_lasso_satisfies_kkt_with_exact_zeros(rng, m, n):
    X, y = problem(rng, m, n)
    lam = 0.2 * lasso_lam_max(X, y)
    w = lasso(X, y, lam)
    support = w != 0
    assert 0 < support.sum() < n  # some coefficients exactly 0, some not
    c = kkt_residual(X, y, w, lam)
    assert np.all(np.abs(c) <= lam + 1e-8)
    np.testing.assert_allclose(c[support], lam * np.sign(w[support]), atol=1e-8)


def test_lasso_zeros_are_exact_not_tiny(rng):
    X, y = problem(rng, 40, 10)
    w = lasso(X, y, 0.5 * lasso_lam_max(X, y))
    small = np.abs(w) < 1e-6
    assert small.any()
    assert np.all(w[small] == 0.0)


def test_lasso_lam_max_formula(rng):
    X, y = problem(rng, 25, 6)
    assert lasso_lam_max(X, y) == pytest.approx(np.max(np.abs(X.T @ y)) / 25)


def test_lasso_is_zero_from_lam_max_on(rng):
    X, y = problem(rng, 30, 8)
    lam_max = lasso_lam_max(X, y)
    for lam in (lam_max, 1.5 * lam_max, 10 * lam_max):
        np.testing.assert_array_equal(lasso(X, y, lam), np.zeros(8))
    assert np.count_nonzero(lasso(X, y, 0.99 * lam_max)) >= 1


def test_lasso_lam_zero_is_least_squares(rng):
    X, y = problem(rng, 40, 6)
    np.testing.assert_allclose(lasso(X, y, 0.0), np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-7)


def test_lasso_orthogonal_design_is_soft_thresholding():
    # With X^T X / m = I / 2 the lasso decouples: w_j = soft_threshold(X^T y / m, lam)_j / (1/2).
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    y = np.array([2.0, 0.1, -2.0, -0.1])
    np.testing.assert_allclose(lasso(X, y, lam=0.2), [1.6, 0.0], atol=1e-9)


def test_lasso_warm_start_at_the_solution_is_a_fixed_point(rng):
    X, y = problem(rng, 30, 8)
    lam = 0.1 * lasso_lam_max(X, y)
    w_star = lasso(X, y, lam)
    # One proximal-gradient step from the solution stays there; one step from 0 does not.
    np.testing.assert_allclose(lasso(X, y, lam, w0=w_star, max_iter=1), w_star, atol=1e-9)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        assert np.max(np.abs(lasso(X, y, lam, max_iter=1) - w_star)) > 1e-2


# ---------------------------------------------------------------- lasso path


def test_lasso_path_shape_and_rows(rng):
    X, y = problem(rng, 30, 7)
    lams = lasso_lam_max(X, y) * np.array([1.0, 0.5, 0.1, 0.01])
    coefs = lasso_path(X, y, lams)
    assert coefs.shape == (4, 7)
    np.testing.assert_array_equal(coefs[0], 0.0)
    for lam, row in zip(lams, coefs, strict=True):
        np.testing.assert_allclose(row, lasso(X, y, lam), atol=1e-8)
    # Fewer coefficients are exactly zero as lam decreases.
    nonzero = np.count_nonzero(coefs, axis=1)
    assert np.all(np.diff(nonzero) >= 0)
    assert nonzero[-1] > nonzero[0]


def test_lasso_path_warm_starts_from_the_previous_solution(rng, monkeypatch):
    X, y = problem(rng, 30, 7)
    starts = []
    original = linear._lasso_gram

    def recording(gram, xty, lam, w0, *args):
        starts.append(w0.copy())
        return original(gram, xty, lam, w0, *args)

    monkeypatch.setattr(linear, "_lasso_gram", recording)
    lams = lasso_lam_max(X, y) * np.array([0.5, 0.2, 0.05])
    coefs = lasso_path(X, y, lams)
    np.testing.assert_array_equal(starts[0], 0.0)
    for i in (1, 2):
        np.testing.assert_array_equal(starts[i], coefs[i - 1])


def test_lasso_warns_when_it_stops_at_max_iter(rng):
    X = rng.standard_normal((40, 8))
    y = X @ rng.standard_normal(8)
    lam = 0.1 * lasso_lam_max(X, y)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        lasso(X, y, lam, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        lasso_path(X, y, [lam], max_iter=3)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lasso(X, y, lam)  # converges: no warning


def test_lams_that_are_not_numbers_raise_a_type_error_naming_lams():
    X = np.eye(3)
    with pytest.raises(TypeError, match="lams"):
        lasso_path(X, np.ones(3), ["a", "b"])
