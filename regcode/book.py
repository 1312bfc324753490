"""Notebook plumbing: glue values into the book's prose when myst-nb is present.

The chapters quote computed numbers in their prose with ``{glue:text}``;
``myst_nb.glue`` stores them in the notebook for the book build. On Colab
or a bare Jupyter without myst-nb, :func:`glue` does nothing, so the
notebooks still run.
"""

from __future__ import annotations

import importlib.util

import matplotlib.pyplot as plt
import numpy as np


def _ipython_glue(name, value, display):
    """``myst_nb.glue``, without importing myst_nb.

    Importing ``myst_nb.ext.glue`` pulls in nbformat and jsonschema, whose
    RFC 3987 grammars take about 3 s of CPU to compile: a large share of a
    chapter's time budget. The output format is myst-nb's, unchanged.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    mimebundle, metadata = format_display_data(value)
    mime_prefix = "" if display else "application/papermill.record/"
    metadata["scrapbook"] = {"name": name, "mime_prefix": mime_prefix}
    ipy_display({mime_prefix + k: v for k, v in mimebundle.items()}, raw=True, metadata=metadata)


# On Colab or a bare Jupyter without myst-nb, glue stores nothing.
_myst_glue = _ipython_glue if importlib.util.find_spec("myst_nb") is not None else None


def glue(name, value, display=False):
    """Store ``value`` under ``name`` for ``{glue:text}``/``{glue:figure}`` in the book.

    numpy scalars are converted to Python numbers (so that the stored text is
    ``0.25``, not ``np.float64(0.25)``); format them in the prose, e.g.
    ``{glue:text}`name:.2f```. Figures are closed after gluing so that they
    are not shown twice.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if not name:
        raise ValueError("name must not be empty")
    if isinstance(value, np.generic):
        value = value.item()
    if _myst_glue is not None:
        _myst_glue(name, value, display=display)
    if isinstance(value, plt.Figure):
        plt.close(value)
