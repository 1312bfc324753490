"""Parity of regcode's linear models and data preparation with scikit-learn.

regcode writes the objectives with the book's conventions,

* ridge: ``(1/2m) ||y - Xw||^2 + (lam/2) ||w||^2``  = sklearn ``Ridge(alpha=m * lam)`` / m,
* lasso: ``(1/2m) ||y - Xw||^2 + lam ||w||_1``      = sklearn ``Lasso(alpha=lam)``,

both without intercept, and solves them with its own code (closed form and
FISTA); scikit-learn (Cholesky, coordinate descent) is the reference. The
diabetes data (442 x 10) is standardised with a centred target, so no
intercept is needed. The tolerances are absolute, on coefficients of order
1-100 (the target is in its original units).
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.datasets
import sklearn.linear_model as sk
from sklearn.preprocessing import StandardScaler

from regcode import data as rdata
from regcode import linear_model as linear

COEF_TOL = 1e-6
SK_LASSO = {"tol": 1e-12, "max_iter": 100_000}  # coordinate descent to (near) machine precision


def assert_close(actual, expected, what, atol=COEF_TOL):
    """Assert ``max|actual - expected| <= atol``; print the difference (``pytest -s`` shows it)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    diff = float(np.max(np.abs(actual - expected))) if actual.size else 0.0
    print(f"{what}: max|diff| = {diff:.1e}")
    assert diff <= atol, f"{what}: max abs difference {diff:.3e} > {atol:.1e}"
    return diff


@pytest.fixture(scope="module")
def diabetes():
    split = rdata.load_diabetes()
    return split.X_train, split.y_train


@pytest.fixture(scope="module")
def wide():
    """More features than samples: ridge takes its dual (m x m) branch."""
    rng = np.random.default_rng(60)
    X = rng.standard_normal((30, 80))
    y = X[:, :5] @ rng.normal(0, 2, 5) + 0.5 * rng.standard_normal(30)
    return X, y


# --------------------------------------------------------------------------- ridge


@pytest.mark.parametrize("lam", [1e-6, 1e-3, 0.1, 1.0, 10.0])
def test_ridge_matches_sklearn_on_diabetes(diabetes, lam):
    X, y = diabetes
    m = X.shape[0]
    ref = sk.Ridge(alpha=m * lam, fit_intercept=False).fit(X, y).coef_
    w = linear.ridge(X, y, lam)
    assert_close(w, ref, f"ridge diabetes lam={lam}")
    # The conventions matter: alpha=lam (no factor m) is a visibly different model.
    if lam >= 0.1:
        assert np.max(np.abs(w - sk.Ridge(alpha=lam, fit_intercept=False).fit(X, y).coef_)) > 0.1


@pytest.mark.parametrize("lam", [1e-4, 0.01, 1.0])
def test_ridge_dual_branch_matches_sklearn(wide, lam):
    X, y = wide
    m = X.shape[0]
    ref = sk.Ridge(alpha=m * lam, fit_intercept=False).fit(X, y).coef_
    assert_close(linear.ridge(X, y, lam), ref, f"ridge wide (dual) lam={lam}")


@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_ridge_lam0_is_least_squares_min_norm(diabetes, wide, shape):
    X, y = diabetes if shape == "tall" else wide
    ref = sk.LinearRegression(fit_intercept=False).fit(X, y).coef_  # scipy lstsq: minimum norm
    w = linear.ridge(X, y, 0.0)
    assert_close(w, ref, f"ridge lam=0 vs LinearRegression ({shape})")
    if shape == "wide":  # interpolates, and is the limit of ridge as lam -> 0
        assert_close(X @ w, y, "ridge lam=0 interpolates (wide)")
        assert_close(linear.ridge(X, y, 1e-10), w, "ridge lam=1e-10 vs lam=0 (wide)", atol=1e-8)


# --------------------------------------------------------------------------- lasso


@pytest.mark.parametrize("frac", [0.5, 0.1, 0.01, 1e-3, 1e-5])
def test_lasso_matches_sklearn_on_diabetes(diabetes, frac):
    X, y = diabetes
    lam = frac * linear.lasso_lam_max(X, y)
    ref = sk.Lasso(alpha=lam, fit_intercept=False, **SK_LASSO).fit(X, y).coef_
    w = linear.lasso(X, y, lam)
    assert_close(w, ref, f"lasso diabetes lam={frac}*lam_max")
    # Same support, with exact zeros in regcode (a prox step, not a small number).
    np.testing.assert_array_equal(w == 0, ref == 0)
    if frac >= 0.1:
        assert np.any(w == 0), "strong penalties must remove some coefficients exactly"


@pytest.mark.parametrize("lam", [0.05, 0.2])
def test_lasso_matches_sklearn_wide(wide, lam):
    X, y = wide
    ref = sk.Lasso(alpha=lam, fit_intercept=False, **SK_LASSO).fit(X, y).coef_
    w = linear.lasso(X, y, lam)
    assert_close(w, ref, f"lasso wide lam={lam}")
    np.testing.assert_array_equal(w == 0, ref == 0)
    assert np.count_nonzero(w) <= X.shape[0]  # a lasso solution has at most m nonzeros here


def test_lasso_path_matches_sklearn(diabetes):
    X, y = diabetes
    lam_max = linear.lasso_lam_max(X, y)
    lams = lam_max * np.geomspace(1.0, 1e-3, 50)
    alphas, ref, _ = sk.lasso_path(X, y, alphas=lams, **SK_LASSO)
    np.testing.assert_array_equal(alphas, lams)  # same order: large to small
    coefs = linear.lasso_path(X, y, lams)
    assert coefs.shape == (50, X.shape[1])  # sklearn returns the transpose, (n_features, n_alphas)
    assert_close(coefs, ref.T, "lasso_path diabetes (50 lams)")
    np.testing.assert_array_equal(coefs == 0, ref.T == 0)
    assert np.all(coefs[0] == 0)  # at lam_max the solution is all zeros
    assert np.all(coefs[-1] != 0)  # at lam_max / 1000 every feature is in


def test_lasso_lam_max_is_the_threshold(diabetes):
    X, y = diabetes
    lam_max = linear.lasso_lam_max(X, y)
    # scikit-learn's default grid starts at the same value.
    alphas, _, _ = sk.lasso_path(X, y)
    assert_close(lam_max, alphas[0], "lasso_lam_max vs sklearn's alpha_max", atol=1e-12 * lam_max)
    above = linear.lasso(X, y, lam_max * (1 + 1e-6))
    below = linear.lasso(X, y, lam_max * (1 - 1e-3))
    assert np.all(above == 0)
    assert np.count_nonzero(below) == 1  # the first feature to enter, alone
    ref_below = sk.Lasso(alpha=lam_max * (1 - 1e-3), fit_intercept=False, **SK_LASSO).fit(X, y).coef_
    np.testing.assert_array_equal(below == 0, ref_below == 0)
    assert_close(below, ref_below, "lasso just below lam_max")


# --------------------------------------------------------------------------- data


def test_diabetes_full_data_is_standard_scaled():
    bunch = sklearn.datasets.load_diabetes(scaled=False)
    split = rdata.load_diabetes()
    assert_close(split.X_train, StandardScaler().fit_transform(bunch.data), "diabetes X", atol=1e-12)
    assert_close(split.y_train, bunch.target - bunch.target.mean(), "diabetes y", atol=1e-12)
    assert split.y_offset == pytest.approx(bunch.target.mean(), rel=1e-15)
    assert split.feature_names == list(bunch.feature_names)
    assert split.X_val is None and split.X_test is None


def test_diabetes_split_uses_training_statistics_only():
    bunch = sklearn.datasets.load_diabetes(scaled=False)
    X_raw, y_raw = bunch.data, bunch.target.astype(np.float64)
    seed, sizes = 7, {"val_size": 0.2, "test_size": 0.2}
    split = rdata.load_diabetes(np.random.default_rng(seed), **sizes)
    # The same split of the row indices (same seed, same random draws) tells which rows went where.
    idx = rdata.split_standardize(X_raw, np.arange(len(y_raw)), np.random.default_rng(seed), **sizes)
    assert_close(idx.X_train, split.X_train, "index-tracking split reproduces the split", atol=0)
    rows = {"train": idx.y_train, "val": idx.y_val, "test": idx.y_test}
    assert sorted(np.concatenate(list(rows.values())).tolist()) == list(range(len(y_raw)))
    assert [len(r) for r in rows.values()] == [264, 89, 89]

    scaler = StandardScaler().fit(X_raw[rows["train"]])
    offset = y_raw[rows["train"]].mean()
    for name, X, y in (
        ("train", split.X_train, split.y_train),
        ("val", split.X_val, split.y_val),
        ("test", split.X_test, split.y_test),
    ):
        assert_close(X, scaler.transform(X_raw[rows[name]]), f"diabetes {name} X", atol=1e-12)
        assert_close(y, y_raw[rows[name]] - offset, f"diabetes {name} y", atol=1e-12)
    assert split.y_offset == pytest.approx(offset, rel=1e-15)
    # A scaler fitted on all rows (leakage) gives visibly different training inputs.
    leaky = StandardScaler().fit(X_raw).transform(X_raw[rows["train"]])
    assert np.max(np.abs(leaky - split.X_train)) > 1e-3
