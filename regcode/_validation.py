"""Input checks shared by every public function.

Each check raises ``TypeError`` or ``ValueError`` with a message that names
the argument and says what was expected, in the style of scikit-learn.
"""

from __future__ import annotations

import numbers

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)
_FLOAT_CHARS = "fd"  # the dtype characters of float32 and float64


def check_array(x, name, *, ndim=None, min_rows=None, allow_nonfinite=False):
    """Return ``x`` as a float32 or float64 array, or raise.

    Integer, boolean, complex and object arrays raise ``TypeError`` (they are
    never silently converted, because integer division and overflow give
    wrong answers). NaN or infinite entries raise ``ValueError``.
    """
    arr = x if type(x) is np.ndarray else np.asarray(x)
    if arr.dtype.char not in _FLOAT_CHARS:
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        raise ValueError(f"{name} must be {_ndim_text(ndim)}, got shape {arr.shape}")
    if min_rows is not None and arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows, got shape {arr.shape}")
    if not allow_nonfinite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _ndim_text(ndim):
    dims = [int(d) for d in np.atleast_1d(ndim)]
    return " or ".join(f"{d}-D" for d in dims)


def check_scalar(value, name, *, low=None, high=None, low_inclusive=True, high_inclusive=True):
    """Return ``value`` as a float after checking it is a real number in range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        # An unbounded side is open: [0, inf), not [0, inf].
        left = "[" if low_inclusive and low is not None else "("
        right = "]" if high_inclusive and high is not None else ")"
        low_text = "-inf" if low is None else f"{low:g}"
        high_text = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{low_text}, {high_text}{right}, got {value:g}")
    return value


def check_int(value, name, *, low=None):
    """Return ``value`` as an int after checking it is an integer >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return value


def check_rng(rng, name="rng"):
    """Check that ``rng`` is a ``numpy.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_labels(y, name, n_samples, n_classes=None):
    """Check integer class labels of shape (n_samples,) in [0, n_classes)."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.shape != (n_samples,):
        raise ValueError(f"{name} must have shape ({n_samples},), got {y.shape}")
    if y.size and y.min() < 0:
        raise ValueError(f"{name} must hold labels >= 0, got a minimum of {y.min()}")
    if y.size and n_classes is not None and y.max() >= n_classes:
        raise ValueError(f"{name} must be in [0, {n_classes}), got values in [{y.min()}, {y.max()}]")
    return y


def check_targets(y, name, n_samples):
    """Check integer class labels of shape (n_samples,) or float regression targets with n_samples rows."""
    arr = np.asarray(y)
    if np.issubdtype(arr.dtype, np.integer):
        return check_labels(arr, name, n_samples)
    arr = check_array(arr, name, ndim=(1, 2))
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} must have {n_samples} rows (one per sample), got shape {arr.shape}")
    return arr


def check_bool(value, name):
    """Check that ``value`` is ``True`` or ``False`` (numpy booleans included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def check_choice(value, name, choices):
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_int_sequence(values, name, low):
    """A non-empty 1-D sequence of integers >= ``low``, as an int array."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence of integers, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.min() < low:
        raise ValueError(f"{name} must be >= {low}, got a minimum of {arr.min()}")
    return arr.astype(int)


def check_dtype(dtype, name="dtype"):
    """Return ``dtype`` as float32 or float64, or raise."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt
