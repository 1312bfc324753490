"""Data for the book: a seeded synthetic regression problem and two real data sets.

The real data sets ship inside scikit-learn (no download): the 8x8 digits
(1,797 images, 10 classes) and diabetes (442 patients, 10 features).
Splits are seeded and stratified for classification; standardisation is
fitted on the training split only, so no statistic of the validation or
test data leaks into training.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sklearn.datasets
from sklearn.model_selection import KFold, train_test_split

from ._validation import check_array, check_dtype, check_int, check_rng, check_scalar


@dataclass
class Split:
    """Train/validation/test arrays. Empty splits are ``None``.

    ``y_offset`` is the training mean subtracted from regression targets
    (0 for classification); add it back to predictions to get original units.

    Attributes
    ----------
    X_train : ndarray of shape (n_train, d)
    y_train : ndarray of shape (n_train,)
    X_val : ndarray of shape (n_val, d), or None
    y_val : ndarray of shape (n_val,), or None
    X_test : ndarray of shape (n_test, d), or None
    y_test : ndarray of shape (n_test,), or None
    feature_names : list of str
        One name per column of ``X``.
    y_offset : float
    x_mean : ndarray of shape (d,), or None
        Training mean of each column before standardising.
    x_scale : ndarray of shape (d,), or None
        The (floored) training standard deviation each column was divided by.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    feature_names: list
    y_offset: float = 0.0
    x_mean: np.ndarray | None = None
    x_scale: np.ndarray | None = None

    def standardize(self, X):
        """Map raw features to the standardised scale of the splits: ``(X - x_mean) / x_scale``.

        Parameters
        ----------
        X : ndarray of shape (n, d)
            In the units of the original data (e.g. grey levels 0-16 for the digits).

        Returns
        -------
        ndarray of shape (n, d), in the dtype of ``X_train``
        """
        X = self._check_features(X)
        return ((X - self.x_mean) / self.x_scale).astype(self.X_train.dtype)

    def unstandardize(self, X):
        """Map standardised features back to the original units: ``X * x_scale + x_mean``.

        Parameters
        ----------
        X : ndarray of shape (n, d)

        Returns
        -------
        ndarray of shape (n, d), float64
        """
        return self._check_features(X) * self.x_scale + self.x_mean

    def _check_features(self, X):
        if self.x_mean is None:
            raise ValueError("X cannot be mapped: this Split has no standardisation statistics")
        X = check_array(X, "X", ndim=2)
        if X.shape[1] != self.x_mean.shape[0]:
            raise ValueError(f"X must have {self.x_mean.shape[0]} columns, got shape {X.shape}")
        return X


def _seed(rng):
    """An integer seed for scikit-learn, which takes ints rather than Generators."""
    return int(rng.integers(2**31 - 1))


def true_function(x):
    r"""The noiseless target of the synthetic regression problem: ``sin(pi x) + x / 2``.

    .. math:: f(x) = \sin(\pi x) + \frac{x}{2}

    Parameters
    ----------
    x : ndarray of float, any shape

    Returns
    -------
    ndarray, same shape as ``x``

    Examples
    --------
    >>> import numpy as np
    >>> np.round(true_function(np.array([0.0, 0.5, 1.0])), 6)
    array([0.  , 1.25, 0.5 ])
    """
    x = check_array(x, "x")
    return np.sin(np.pi * x) + 0.5 * x


def make_regression_1d(n_samples, rng, *, noise_std=0.3, low=-1.0, high=1.0, dtype=np.float64):
    r"""Noisy samples of :func:`true_function`: :math:`y = \sin(\pi x) + x/2 + \epsilon`.

    Parameters
    ----------
    n_samples : int >= 1
    rng : numpy.random.Generator
    noise_std : float >= 0
        Standard deviation of the Gaussian noise :math:`\epsilon`.
    low, high : float
        ``x`` is uniform on ``[low, high]``.
    dtype : float32 or float64
        Of ``x`` and ``y``.

    Returns
    -------
    x : ndarray of shape (n_samples,)
    y : ndarray of shape (n_samples,)
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    check_rng(rng)
    noise_std = check_scalar(noise_std, "noise_std", low=0)
    low = check_scalar(low, "low")
    high = check_scalar(high, "high")
    if not low < high:
        raise ValueError(f"low must be < high, got low={low}, high={high}")
    dtype = check_dtype(dtype)
    x = rng.uniform(low, high, n_samples)
    y = true_function(x) + noise_std * rng.standard_normal(n_samples)
    return x.astype(dtype), y.astype(dtype)


def polynomial_features(x, degree):
    """Columns ``1, x, x**2, ..., x**degree`` for 1-D ``x`` (shape (m, degree + 1)).

    Keep ``x`` in [-1, 1]: there the columns stay of order 1 and least
    squares is well conditioned enough up to degree ~20.

    Parameters
    ----------
    x : ndarray of shape (m,)
    degree : int >= 0

    Returns
    -------
    ndarray of shape (m, degree + 1)
        Column ``j`` is ``x**j`` (a Vandermonde matrix, ``numpy.vander(x, degree + 1, increasing=True)``).

    Examples
    --------
    >>> import numpy as np
    >>> polynomial_features(np.array([2.0, -1.0]), degree=3)
    array([[ 1.,  2.,  4.,  8.],
           [ 1., -1.,  1., -1.]])
    """
    x = check_array(x, "x", ndim=1)
    degree = check_int(degree, "degree", low=0)
    return np.vander(x, degree + 1, increasing=True)


def split_standardize(
    X,
    y,
    rng,
    *,
    val_size=0.2,
    test_size=0.2,
    n_train=None,
    stratify=False,
    center_y=False,
    dtype=np.float64,
    feature_names=None,
    min_scale=0.0,
):
    """Seeded train/validation/test split, standardised with training statistics only.

    Each column is mapped to ``(x - mean) / max(std, min_scale)`` with the
    mean and (population) standard deviation of the training split, as
    scikit-learn's ``StandardScaler`` does; a column that is constant in the
    training split is only centred.

    Parameters
    ----------
    X : ndarray of shape (m, d)
    y : ndarray of shape (m,)
    rng : numpy.random.Generator
    val_size, test_size : float in [0, 1)
        Fractions of all samples held out for validation and test.
    n_train : int, optional
        Keep only this many training samples (a stratified subsample when
        ``stratify``); the held-out sets do not change.
    stratify : bool
        Keep class proportions equal across splits (classification).
    center_y : bool
        Subtract the training mean from every split's ``y`` (regression).
    dtype : float32 or float64
        Of the ``X`` arrays (and of ``y`` with ``center_y``).
    feature_names : sequence of str, optional
        Names of the columns of ``X``; default ``"x0"``, ``"x1"``, ...
    min_scale : float >= 0
        Floor on the standard deviation used for scaling, in the units of
        ``X``. A column that is almost constant in a small training split
        (a corner pixel that is 0 in all but two images) has a tiny standard
        deviation, and dividing by it puts validation values tens or hundreds
        of standard deviations away. The floor keeps such columns on their
        original scale.

    Returns
    -------
    Split
    """
    X = check_array(X, "X", ndim=2, min_rows=2)
    min_scale = check_scalar(min_scale, "min_scale", low=0)
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    check_rng(rng)
    val_size = check_scalar(val_size, "val_size", low=0, high=1, high_inclusive=False)
    test_size = check_scalar(test_size, "test_size", low=0, high=1, high_inclusive=False)
    if val_size + test_size >= 1:
        raise ValueError(f"val_size + test_size must be < 1, got {val_size + test_size}")
    dtype = check_dtype(dtype)

    def split(X, y, size):
        if size == 0:
            return X, y, None, None
        parts = train_test_split(
            X, y, test_size=size, random_state=_seed(rng), stratify=y if stratify else None
        )
        return parts[0], parts[2], parts[1], parts[3]

    X_rest, y_rest, X_test, y_test = split(X, y, test_size)
    X_train, y_train, X_val, y_val = split(X_rest, y_rest, val_size / (1.0 - test_size))
    if n_train is not None:
        n_train = check_int(n_train, "n_train", low=2)
        if n_train > len(y_train):
            raise ValueError(f"n_train must be <= {len(y_train)} (the training split), got {n_train}")
        if n_train < len(y_train):
            X_train, _, y_train, _ = train_test_split(
                X_train,
                y_train,
                train_size=n_train,
                random_state=_seed(rng),
                stratify=y_train if stratify else None,
            )
    # Statistics of the training split only: nothing about the held-out data leaks into training.
    mean, scale = X_train.mean(axis=0), np.maximum(X_train.std(axis=0), min_scale)
    scale[scale == 0.0] = 1.0  # a constant column stays constant (0) instead of dividing by 0
    y_offset = float(np.mean(y_train)) if center_y else 0.0

    def prep(X, y):
        if X is None:
            return None, None
        y = (y - y_offset).astype(dtype) if center_y else y
        return ((X - mean) / scale).astype(dtype), y

    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(X.shape[1])]
    return Split(
        *prep(X_train, y_train),
        *prep(X_val, y_val),
        *prep(X_test, y_test),
        feature_names=names,
        y_offset=y_offset,
        x_mean=mean,
        x_scale=scale,
    )


@functools.cache
def _digits_arrays():
    """The 1,797 digits as float64 images and int64 labels, read once per process (read-only)."""
    bunch = sklearn.datasets.load_digits()
    X, y = bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    X.flags.writeable = y.flags.writeable = False
    return X, y


def load_digits(rng, *, n_train=None, val_size=0.2, test_size=0.2, dtype=np.float64):
    """The 8x8 handwritten digits, split and standardised.

    1,797 images of 64 pixels (values 0-16), labels 0-9 as ``int64``.
    With the defaults 60 % train, 20 % validation, 20 % test, stratified.
    Pass ``n_train`` (e.g. 200) for the small-data regime where
    regularisation matters. Pixels are standardised with the training
    split's statistics, with the standard deviation floored at 1 grey level
    (``min_scale=1.0`` in :func:`split_standardize`): in a split of 200
    images some edge pixels are almost always 0, and dividing by their tiny
    standard deviation would put validation pixels 100+ units from 0.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the splits and the training subsample.
    n_train : int >= 2, optional
        Keep only this many training images (stratified); default: the whole training split.
    val_size, test_size : float in [0, 1)
        Fractions of all images held out for validation and test.
    dtype : float32 or float64
        Of the pixel arrays.

    Returns
    -------
    Split
        ``X_*`` of shape (n, 64), ``y_*`` of shape (n,) with labels 0-9, feature names
        ``"pixel_<row>_<col>"``.

    Examples
    --------
    >>> import numpy as np
    >>> data = load_digits(np.random.default_rng(0), n_train=200)
    >>> data.X_train.shape, data.X_val.shape, data.X_test.shape
    ((200, 64), (360, 64), (360, 64))
    """
    X, y = _digits_arrays()
    return split_standardize(
        X,
        y,
        rng,
        val_size=val_size,
        test_size=test_size,
        n_train=n_train,
        stratify=True,
        dtype=dtype,
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        min_scale=1.0,
    )


def load_diabetes(rng=None, *, val_size=0.0, test_size=0.0, n_train=None, dtype=np.float64):
    """The diabetes regression data (442 x 10), standardised, with centred target.

    With the default sizes (no hold-out, ``rng`` unused) the whole data set
    is returned as the training split: standardised columns and centred
    ``y``, ready for :func:`regcode.linear_model.lasso_path` without intercept.
    Pass ``n_train`` (e.g. 50) to keep a random subset of the training split
    for the small-data regime; the held-out splits are the same as without it,
    and the standardisation uses the kept training rows only.

    Parameters
    ----------
    rng : numpy.random.Generator, optional
        Draws the splits and the training subsample; required with hold-out sets or ``n_train``.
    val_size, test_size : float in [0, 1)
        Fractions of all patients held out for validation and test.
    n_train : int >= 2, optional
        Keep only this many training rows; default: the whole training split.
    dtype : float32 or float64
        Of ``X`` and ``y``.

    Returns
    -------
    Split
        ``X_*`` of shape (n, 10), ``y_*`` of shape (n,) centred with the training
        mean (``y_offset``), scikit-learn's feature names.

    Raises
    ------
    ValueError
        If ``rng`` is None with ``val_size`` or ``test_size`` > 0 or ``n_train`` set.

    Examples
    --------
    >>> data = load_diabetes()
    >>> data.X_train.shape, round(float(data.X_train.mean()), 12) == 0.0
    ((442, 10), True)
    >>> small = load_diabetes(np.random.default_rng(0), test_size=0.25, n_train=50)
    >>> small.X_train.shape, small.X_test.shape
    ((50, 10), (111, 10))
    """
    bunch = sklearn.datasets.load_diabetes(scaled=False)
    if rng is None:
        if val_size or test_size or n_train is not None:
            raise ValueError("rng must be given when val_size or test_size is > 0 or n_train is set")
        rng = np.random.default_rng(0)  # no random choice is made without hold-out sets
    return split_standardize(
        bunch.data,
        bunch.target.astype(np.float64),
        rng,
        val_size=val_size,
        test_size=test_size,
        n_train=n_train,
        center_y=True,
        dtype=dtype,
        feature_names=bunch.feature_names,
    )


def kfold_indices(n_samples, n_splits, rng):
    """Shuffled k-fold splits of ``range(n_samples)``, from scikit-learn's ``KFold``.

    Parameters
    ----------
    n_samples : int >= 2
    n_splits : int in [2, n_samples]
    rng : numpy.random.Generator
        Shuffles the rows before splitting.

    Returns
    -------
    list of (train_idx, val_idx) pairs of int arrays

    Examples
    --------
    >>> import numpy as np
    >>> folds = kfold_indices(10, 5, np.random.default_rng(0))
    >>> len(folds), sorted(np.concatenate([val for _, val in folds]).tolist()) == list(range(10))
    (5, True)
    """
    n_samples = check_int(n_samples, "n_samples", low=2)
    n_splits = check_int(n_splits, "n_splits", low=2)
    if n_splits > n_samples:
        raise ValueError(f"n_splits must be <= n_samples ({n_samples}), got {n_splits}")
    check_rng(rng)
    folds = KFold(n_splits=n_splits, shuffle=True, random_state=_seed(rng))
    return list(folds.split(np.zeros((n_samples, 1))))


def augment_digits(images, rng, *, max_shift=1):
    """Copies of 8x8 digit images, each shifted by a random whole number of pixels.

    Each image moves by ``(dy, dx)``, both drawn uniformly from
    ``{-max_shift, ..., max_shift}``; pixels that enter from the border are
    0 (background). A shift of one pixel keeps a digit a digit, so the shifted
    copies are new training examples with the same labels: data augmentation.

    Parameters
    ----------
    images : ndarray of shape (n, 64)
        Raw images, rows of 8x8 pixels in reading order (``Split.unstandardize``
        maps standardised digits back to grey levels).
    rng : numpy.random.Generator
        Draws the shifts.
    max_shift : int >= 0

    Returns
    -------
    ndarray of shape (n, 64)
        The shifted images, same dtype as ``images``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((1, 64)); image[0, 27] = 16.0  # one lit pixel at row 3, column 3
    >>> shifted = augment_digits(image, np.random.default_rng(0), max_shift=1)
    >>> int(np.flatnonzero(shifted[0])[0]) in {18, 19, 20, 26, 27, 28, 34, 35, 36}
    True
    """
    images = check_array(images, "images", ndim=2)
    if images.shape[1] != 64:
        raise ValueError(f"images must have 64 columns (8x8 pixels), got shape {images.shape}")
    check_rng(rng)
    max_shift = check_int(max_shift, "max_shift", low=0)
    if max_shift > 7:
        raise ValueError(f"max_shift must be <= 7 for 8x8 images, got {max_shift}")
    n = images.shape[0]
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    padded = np.pad(images.reshape(n, 8, 8), ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    out = np.empty((n, 8, 8), dtype=images.dtype)
    for i, (dy, dx) in enumerate(shifts):
        # The window of the padded image that the shifted image shows.
        top, left = max_shift - dy, max_shift - dx
        out[i] = padded[i, top : top + 8, left : left + 8]
    return out.reshape(n, 64)
