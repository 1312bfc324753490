"""Tests for regcode.data: the synthetic problem, seeded stratified splits, train-only standardisation."""

import numpy as np
import pytest

from regcode.data import (
    load_diabetes,
    load_digits,
    make_regression_1d,
    polynomial_features,
    split_standardize,
    true_function,
)


def assert_standardised(X):
    """Columns with mean 0 and (for non-constant columns) std 1."""
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-10)
    std = X.std(axis=0)
    varying = std > 0
    np.testing.assert_allclose(std[varying], 1.0, rtol=1e-10)
    return varying


def class_fractions(y, k=10):
    return np.bincount(y, minlength=k) / len(y)


# ---------------------------------------------------------------- synthetic regression


def test_true_function_values():
    np.testing.assert_allclose(
        true_function(np.array([0.0, 0.5, 1.0, -0.5])), [0.0, 1.25, 0.5, -1.25], atol=1e-15
    )


def test_make_regression_1d(rng):
    x, y = make_regression_1d(200, rng, noise_std=0.3, low=-2.0, high=1.0)
    assert x.shape == y.shape == (200,)
    assert x.dtype == y.dtype == np.float64
    assert np.all((-2.0 <= x) & (x <= 1.0))
    residual = y - true_function(x)
    assert residual.std() == pytest.approx(0.3, rel=0.15)  # relative standard error 1/sqrt(400) = 5 %


def test_make_regression_1d_without_noise_is_the_true_function(rng):
    x, y = make_regression_1d(20, rng, noise_std=0.0)
    np.testing.assert_array_equal(y, true_function(x))


def test_make_regression_1d_is_seeded():
    a = make_regression_1d(10, np.random.default_rng(4))
    b = make_regression_1d(10, np.random.default_rng(4))
    c = make_regression_1d(10, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], c[0])


def test_make_regression_1d_float32(rng):
    x, y = make_regression_1d(5, rng, dtype=np.float32)
    assert x.dtype == y.dtype == np.float32


def test_polynomial_features():
    x = np.array([2.0, -1.0, 0.5])
    np.testing.assert_array_equal(
        polynomial_features(x, 3), [[1, 2, 4, 8], [1, -1, 1, -1], [1, 0.5, 0.25, 0.125]]
    )
    assert polynomial_features(x, 0).shape == (3, 1)


# ---------------------------------------------------------------- split_standardize


@pytest.fixture
def raw(rng):
    X = rng.normal(loc=[5.0, -3.0, 0.0], scale=[2.0, 0.5, 10.0], size=(200, 3))
    y = rng.integers(0, 4, size=200)
    return X, y


def test_split_sizes_and_train_only_standardisation(raw, rng):
    X, y = raw
    split = split_standardize(X, y, rng, val_size=0.25, test_size=0.25)
    assert split.X_train.shape == (100, 3) and split.X_val.shape == (50, 3) and split.X_test.shape == (50, 3)
    assert_standardised(split.X_train)
    # Validation and test are transformed with the TRAINING statistics, so they are close to
    # standardised but not exactly: their own means are not 0.
    for held_out in (split.X_val, split.X_test):
        assert np.all(np.abs(held_out.mean(axis=0)) < 0.5)
        assert np.all(np.abs(held_out.mean(axis=0)) > 1e-6)
    assert split.feature_names == ["x0", "x1", "x2"]


def test_split_keeps_every_sample_once_with_its_label(rng):
    ids = np.arange(200)
    X = np.column_stack([ids.astype(float), rng.standard_normal(200)])
    split = split_standardize(X, ids, rng)
    parts = [(split.X_train, split.y_train), (split.X_val, split.y_val), (split.X_test, split.y_test)]
    np.testing.assert_array_equal(np.sort(np.concatenate([y for _, y in parts])), ids)
    # Column 0 is the id, standardised by one affine map for all splits: it must still match y.
    scale, offset = np.polyfit(split.X_train[:, 0], split.y_train, 1)
    for X_part, y_part in parts:
        np.testing.assert_allclose(scale * X_part[:, 0] + offset, y_part, atol=1e-8)


def test_same_seed_same_split(raw):
    X, y = raw
    a = split_standardize(X, y, np.random.default_rng(9))
    b = split_standardize(X, y, np.random.default_rng(9))
    c = split_standardize(X, y, np.random.default_rng(10))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.X_train, c.X_train)


def test_stratified_split_keeps_class_proportions(rng):
    y = np.repeat(np.arange(4), [100, 60, 30, 10])
    X = rng.standard_normal((200, 2))
    split = split_standardize(X, y, rng, val_size=0.2, test_size=0.2, stratify=True)
    expected = np.bincount(y) / len(y)
    for part in (split.y_train, split.y_val, split.y_test):
        # Each class count is within one sample of its share of the split.
        assert np.all(np.abs(np.bincount(part, minlength=4) - expected * len(part)) <= 1)


def test_n_train_subsamples_training_only(raw):
    X, y = raw
    full = split_standardize(X, y, np.random.default_rng(1), stratify=True)
    small = split_standardize(X, y, np.random.default_rng(1), stratify=True, n_train=30)
    assert small.X_train.shape == (30, 3)
    assert_standardised(small.X_train)  # the scaler is fitted on the subsample
    np.testing.assert_array_equal(small.y_val, full.y_val)  # the held-out sets do not change
    np.testing.assert_array_equal(small.y_test, full.y_test)


def test_no_hold_out_gives_none(raw, rng):
    X, y = raw
    split = split_standardize(X, y, rng, val_size=0.0, test_size=0.0)
    assert split.X_val is None and split.y_val is None and split.X_test is None and split.y_test is None
    assert split.X_train.shape == X.shape


def test_center_y_subtracts_the_training_mean(rng):
    X = rng.standard_normal((100, 2))
    y = 50.0 + rng.standard_normal(100)
    split = split_standardize(X, y, rng, center_y=True)
    assert split.y_train.mean() == pytest.approx(0.0, abs=1e-12)
    assert split.y_offset == pytest.approx(50.0, abs=0.5)
    assert abs(split.y_val.mean()) < 1.0 and split.y_val.mean() != 0.0


# ---------------------------------------------------------------- real data sets


def test_load_digits_default_split():
    data = load_digits(np.random.default_rng(0))
    assert (
        data.X_train.shape == (1077, 64) and data.X_val.shape == (360, 64) and data.X_test.shape == (360, 64)
    )
    assert data.X_train.dtype == np.float64
    for y in (data.y_train, data.y_val, data.y_test):
        assert y.dtype == np.int64
        assert set(np.unique(y)) == set(range(10))
    # Centred; scaled to std 1 except pixels whose training std is below 1 grey level (min_scale),
    # which keep their raw std (< 1).
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-10)
    std = data.X_train.std(axis=0)
    assert np.all(std <= 1.0 + 1e-10)
    assert np.sum(np.isclose(std, 1.0)) > 32
    # Stratified: every class has about a tenth of each split.
    full = np.concatenate([data.y_train, data.y_val, data.y_test])
    for y in (data.y_train, data.y_val, data.y_test):
        np.testing.assert_allclose(class_fractions(y), class_fractions(full), atol=2.5 / len(y))
    assert data.feature_names[9] == "pixel_1_1"


def test_load_digits_small_float32_split():
    data = load_digits(np.random.default_rng(0), n_train=200, dtype=np.float32)
    assert data.X_train.shape == (200, 64) and data.X_val.shape == (360, 64)
    assert data.X_train.dtype == data.X_val.dtype == np.float32
    assert data.y_train.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(data.y_train), np.full(10, 20))  # stratified subsample


def test_load_diabetes_whole_data_set():
    data = load_diabetes()
    assert data.X_train.shape == (442, 10) and data.X_val is None
    assert_standardised(data.X_train)
    assert data.y_train.mean() == pytest.approx(0.0, abs=1e-9)
    assert data.y_offset == pytest.approx(152.133, abs=1e-3)  # the mean disease progression
    assert data.feature_names[:3] == ["age", "sex", "bmi"]


def test_load_diabetes_with_hold_out():
    data = load_diabetes(np.random.default_rng(0), val_size=0.2, test_size=0.2)
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 442
    assert data.y_train.dtype == np.float64
    assert data.y_train.mean() == pytest.approx(0.0, abs=1e-9)


def test_min_scale_floors_the_standard_deviation():
    rng = np.random.default_rng(0)
    X = np.column_stack([5.0 * rng.normal(size=200), np.r_[np.zeros(199), 16.0]])
    y = np.arange(200) % 2
    plain = split_standardize(X, y, np.random.default_rng(1), val_size=0.25, test_size=0.25)
    floored = split_standardize(X, y, np.random.default_rng(1), val_size=0.25, test_size=0.25, min_scale=1.0)
    # The well-spread column is unchanged; the almost-constant one is divided by 1, not its tiny std.
    np.testing.assert_array_equal(plain.X_val[:, 0], floored.X_val[:, 0])
    assert np.max(np.abs(floored.X_train[:, 1])) <= 16.0
    with pytest.raises(ValueError, match="min_scale"):
        split_standardize(X, y, np.random.default_rng(1), min_scale=-1.0)


def test_digits_validation_pixels_stay_within_a_few_dozen_units():
    split = load_digits(np.random.default_rng(0), n_train=200)
    assert np.max(np.abs(split.X_val)) < 20.0


# --- load_diabetes(n_train=...): the small-data regime of chapter 2 ---------------------------------


def test_load_diabetes_n_train_keeps_the_test_split_and_subsamples_the_training_split():
    full = load_diabetes(np.random.default_rng(0), test_size=0.25)
    small = load_diabetes(np.random.default_rng(0), test_size=0.25, n_train=50)
    assert small.X_train.shape == (50, 10) and len(full.y_train) == 331
    # Same held-out patients (compared in original units, since the standardisation differs) ...
    np.testing.assert_allclose(small.y_test + small.y_offset, full.y_test + full.y_offset)
    # ... and the 50 training patients are a subset of the full training split.
    assert set(np.round(small.y_train + small.y_offset, 6)) <= set(np.round(full.y_train + full.y_offset, 6))
    assert_standardised(small.X_train)  # statistics of the 50 kept rows only
    assert small.y_train.mean() == pytest.approx(0.0, abs=1e-9)


def test_load_diabetes_n_train_bad_inputs():
    with pytest.raises(ValueError, match="rng"):
        load_diabetes(n_train=50)
    with pytest.raises(ValueError, match="n_train"):
        load_diabetes(np.random.default_rng(0), test_size=0.25, n_train=400)
    with pytest.raises(ValueError, match="n_train"):
        load_diabetes(np.random.default_rng(0), test_size=0.25, n_train=1)
    with pytest.raises(TypeError, match="n_train"):
        load_diabetes(np.random.default_rng(0), test_size=0.25, n_train=50.5)


# ---------------------------------------------------------------- standardising, and shifted digits


def test_split_maps_between_raw_and_standardised_features():
    import sklearn.datasets

    data = load_digits(np.random.default_rng(0), n_train=200)
    raw = data.unstandardize(data.X_train)
    assert raw.min() >= -1e-9 and raw.max() <= 16 + 1e-9  # grey levels
    np.testing.assert_allclose(np.round(raw), raw, atol=1e-9)  # whole grey levels, as in the data set
    np.testing.assert_allclose(data.standardize(raw), data.X_train, atol=1e-12)
    assert set(map(tuple, np.round(raw).astype(int))) <= set(
        map(tuple, sklearn.datasets.load_digits().data.astype(int))
    )


def test_augment_digits_shifts_each_image_within_the_frame():
    from regcode.data import augment_digits

    rng = np.random.default_rng(0)
    images = np.zeros((500, 64))
    images[:, 27] = 16.0  # one lit pixel at (3, 3)
    out = augment_digits(images, rng, max_shift=1)
    rows, cols = np.divmod(out.argmax(axis=1), 8)
    assert set(rows) == {2, 3, 4} and set(cols) == {2, 3, 4}  # all nine shifts occur
    assert np.all(out.sum(axis=1) == 16.0)  # nothing is lost away from the border
    np.testing.assert_array_equal(augment_digits(images, rng, max_shift=0), images)
    edge = np.zeros((200, 64))
    edge[:, 0] = 1.0  # the corner pixel leaves the frame for some shifts and is not wrapped around
    assert set(augment_digits(edge, rng, max_shift=1).sum(axis=1)) == {0.0, 1.0}
