"""Notebook plumbing: glue values into the book's prose when myst-nb is present.

The chapters quote computed numbers in their prose with ``{glue:text}``;
``myst_nb.glue`` stores them in the notebook for the book build. On Colab
or a bare Jupyter without myst-nb, :func:`glue` does nothing, so the
notebooks still run.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

try:
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover - exercised only without myst-nb
    _myst_glue = None


def glue(name, value, display=False):
    """Store ``value`` under ``name`` for ``{glue:text}``/``{glue:figure}`` in the book.

    numpy scalars are converted to Python numbers (so that the stored text is
    ``0.25``, not ``np.float64(0.25)``); format them in the prose, e.g.
    ``{glue:text}`name:.2f```. Figures are closed after gluing so that they
    are not shown twice.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if _myst_glue is not None:
        _myst_glue(name, value, display=display)
    if isinstance(value, plt.Figure):
        plt.close(value)
