"""Book plumbing: numbers for the prose, and checks that keep the prose true.

The chapters quote computed numbers in their prose with ``{glue:text}``.
:func:`glue` stores a value in the notebook in myst-nb's format, already
formatted at the precision the prose shows, so the stored text is the same on
every machine. On Colab or a bare Jupyter without myst-nb it stores nothing.

:func:`check` states a claim of the prose as a condition on the results. In the
book's test suite (``REGCODE_STRICT_CHECKS=1``, set by ``make test``) a false
claim fails the notebook; in a reader's session it prints a note and the
chapter runs on, so a reader who changed ``SEED`` sees which sentences
describe the book's run rather than theirs.
"""

from __future__ import annotations

import importlib.util
import numbers
import os

import numpy as np

#: Environment variable that turns a false :func:`check` into an error.
STRICT_ENV = "REGCODE_STRICT_CHECKS"


def _ipython_glue(name, value):
    """``myst_nb.glue(name, value, display=False)``, without importing myst_nb.

    Importing ``myst_nb.ext.glue`` pulls in nbformat and jsonschema, whose
    RFC 3987 grammars take about 3 s of CPU to compile: a large share of a
    chapter's time budget. The output format is myst-nb's, unchanged.
    """
    from IPython import get_ipython
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    if get_ipython() is None:  # a plain Python process (a script, a doctest): nowhere to store
        return
    mimebundle, metadata = format_display_data(value)
    mime_prefix = "application/papermill.record/"
    metadata["scrapbook"] = {"name": name, "mime_prefix": mime_prefix}
    ipy_display({mime_prefix + k: v for k, v in mimebundle.items()}, raw=True, metadata=metadata)


# On Colab or a bare Jupyter without myst-nb, glue stores nothing.
_myst_glue = _ipython_glue if importlib.util.find_spec("myst_nb") is not None else None


def glue(name, value, fmt=None):
    """Store ``value`` under ``name`` for ``{glue:text}`name``` in the book's prose.

    A float is stored as text formatted with ``fmt`` (for example ``".3f"``,
    ``".1%"`` or ``".2g"``): the precision the prose shows, and no more, so a
    last-digit difference between machines cannot change what is stored.
    Integers and strings are stored as they are (``fmt`` optional); the prose
    may still format an integer, ``{glue:text}`n_params:,```.

    Parameters
    ----------
    name : str
        Key, unique in the notebook; by convention ``ch<N>_<what>``.
    value : int, float or str
        numpy scalars are accepted and converted.
    fmt : str, optional
        A format specification (``format(value, fmt)``); required for floats.

    Returns
    -------
    None
        (So that a plumbing cell ending in ``glue(...)`` shows no output.)

    Raises
    ------
    TypeError
        If ``name`` is not a string, ``value`` is not a number or a string,
        or ``value`` is a float and ``fmt`` is missing.
    ValueError
        If ``name`` is empty, ``fmt`` does not apply to ``value``, or the
        float is NaN or infinite.

    Examples
    --------
    >>> glue("ch0_val_mse", 0.1115855056222187, fmt=".3f")  # stores the text '0.112'
    >>> glue("ch0_n_train", 30)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if not name:
        raise ValueError("name must not be empty")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise TypeError(f"value must be an int, a float or a str, got {type(value).__name__}")
    if fmt is not None and not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format specification string, got {type(fmt).__name__}")
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        if fmt is None:
            raise TypeError(
                f"value {value!r} is a float: pass fmt, the precision the prose shows (e.g. fmt='.3f')"
            )
        if not np.isfinite(value):
            raise ValueError(f"value must be finite, got {value}")
    if fmt is not None:
        try:
            value = format(value, fmt)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"fmt {fmt!r} does not apply to {value!r}: {exc}") from None
    if _myst_glue is not None:
        _myst_glue(name, value)


def strict_checks():
    """Whether a false :func:`check` raises (``REGCODE_STRICT_CHECKS=1``, as in ``make test``).

    Returns
    -------
    bool
        True if the environment variable ``REGCODE_STRICT_CHECKS`` is ``"1"``.
    """
    return os.environ.get(STRICT_ENV, "") == "1"


def check(condition, claim):
    """Keep a claim of the prose in agreement with the results.

    Parameters
    ----------
    condition : bool
        The claim, computed from the results (numpy booleans are accepted).
    claim : str
        The claim in words, as the prose states it.

    Returns
    -------
    None
        A claim that holds prints nothing; a false one prints a note (or raises).

    Raises
    ------
    AssertionError
        If the claim is false and ``REGCODE_STRICT_CHECKS=1`` (the book's tests).
    TypeError
        If ``claim`` is not a string or ``condition`` is not a boolean.

    Examples
    --------
    >>> check(0.93 > 0.90, "dropout raises the validation accuracy")
    >>> check(0.88 > 0.90, "dropout raises the validation accuracy")  # doctest: +ELLIPSIS
    Note: the text says: dropout raises the validation accuracy. That is not so in this run...
    """
    if not isinstance(claim, str) or not claim:
        raise TypeError(f"claim must be a non-empty string, got {claim!r}")
    if not isinstance(condition, (bool, np.bool_)):
        raise TypeError(f"condition must be a bool, got {type(condition).__name__}")
    if condition:
        return None
    if strict_checks():
        raise AssertionError(f"the text says: {claim}; the results of this run disagree")
    print(
        f"Note: the text says: {claim}. That is not so in this run: the text describes the book's "
        "stored run (SEED = 0), and yours differs (another seed, or other settings)."
    )
    return None
