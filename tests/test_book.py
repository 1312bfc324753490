"""Tests for regcode.book: glue works with and without myst-nb, converts numpy scalars, closes figures."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import regcode.book as book
from regcode.book import glue


@pytest.fixture
def recorded(monkeypatch):
    """Replace myst-nb's glue with a recorder of its arguments."""
    calls = []
    monkeypatch.setattr(book, "_myst_glue", lambda name, value, display: calls.append((name, value, display)))
    return calls


def test_glue_with_myst_nb_runs():
    # Outside a notebook myst-nb's glue has no kernel to store into; it must still not raise.
    assert book._myst_glue is not None  # myst-nb is installed in the book's environment
    assert glue("test_value", np.float64(0.25)) is None
    fig, _ = plt.subplots()
    glue("test_fig", fig)
    assert not plt.fignum_exists(fig.number)


def test_glue_converts_numpy_scalars(recorded):
    glue("ch0_float", np.float64(0.25))
    glue("ch0_int", np.int64(3), display=True)
    (name, value, display), (_, int_value, int_display) = recorded
    assert name == "ch0_float" and value == 0.25 and type(value) is float and display is False
    assert type(int_value) is int and int_display is True


def test_glue_closes_figures(recorded):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert plt.fignum_exists(fig.number)
    glue("ch0_fig", fig)
    assert recorded[0][1] is fig
    assert not plt.fignum_exists(fig.number)


def test_glue_without_myst_nb_still_closes_figures(monkeypatch):
    monkeypatch.setattr(book, "_myst_glue", None)
    fig, _ = plt.subplots()
    glue("ch0_fig", fig)  # does nothing else, as on Colab
    assert not plt.fignum_exists(fig.number)
    glue("ch0_value", np.float32(1.5))


# --- regcode.book._ipython_glue: myst-nb's output format without importing myst_nb (added with chapter 3) ---


def test_ipython_glue_matches_myst_nb(monkeypatch):
    """The lightweight glue emits exactly what ``myst_nb.glue`` emits (same mime bundle and metadata)."""
    import IPython.display
    import myst_nb.ext.glue as myst_glue_module

    ours, theirs = [], []
    monkeypatch.setattr(IPython.display, "display", lambda *args, **kwargs: ours.append((args, kwargs)))
    monkeypatch.setattr(
        myst_glue_module, "ipy_display", lambda *args, **kwargs: theirs.append((args, kwargs))
    )
    for value, display in [(0.25, False), ("text", True), (3, False)]:
        book._ipython_glue("name", value, display)
        myst_glue_module.glue("name", value, display)
    assert ours == theirs and len(ours) == 3
    assert ours[0][1]["metadata"]["scrapbook"] == {
        "name": "name",
        "mime_prefix": "application/papermill.record/",
    }
