"""Tests for regcode.book: glue stores values at display precision; check keeps the prose honest."""

import numpy as np
import pytest

import regcode.book as book
from regcode.book import check, glue


@pytest.fixture
def recorded(monkeypatch):
    """Replace the store with a recorder of what would be stored."""
    calls = []
    monkeypatch.setattr(book, "_myst_glue", lambda name, value: calls.append((name, value)))
    return calls


def test_floats_are_stored_formatted(recorded):
    assert glue("ch0_mse", 0.1115855056222187, fmt=".3f") is None  # no output in a plumbing cell
    glue("ch0_pct", np.float64(0.9583333), fmt=".1%")
    glue("ch0_big", np.float32(599085.08), fmt=",.0f")
    assert recorded == [("ch0_mse", "0.112"), ("ch0_pct", "95.8%"), ("ch0_big", "599,085")]


def test_last_digit_differences_between_machines_store_the_same_text(recorded):
    # The review's example: two CPUs printed these two values for one quantity.
    glue("a", 0.11158550562221876, fmt=".3f")
    glue("a", 0.1115855056222187, fmt=".3f")
    assert recorded[0] == recorded[1] == ("a", "0.112")


def test_integers_and_strings_are_stored_as_they_are(recorded):
    glue("ch0_n", np.int64(30))
    glue("ch0_name", "ReLU")
    glue("ch0_n_fmt", 85002, fmt=",")
    assert recorded == [("ch0_n", 30), ("ch0_name", "ReLU"), ("ch0_n_fmt", "85,002")]
    assert type(recorded[0][1]) is int


def test_a_float_without_fmt_is_refused(recorded):
    with pytest.raises(TypeError, match="^value 0.25 is a float: pass fmt"):
        glue("ch0_float", 0.25)
    assert recorded == []


def test_glue_outside_a_kernel_stores_nothing_and_does_not_print(capsys):
    # myst-nb is installed here, but a plain Python process has no notebook to store into.
    assert book._myst_glue is not None
    glue("ch0_value", 0.25, fmt=".2f")
    assert capsys.readouterr().out == ""


def test_ipython_glue_matches_myst_nb(monkeypatch):
    """The lightweight glue emits exactly what ``myst_nb.glue(..., display=False)`` emits."""
    import IPython
    import IPython.display
    import myst_nb.ext.glue as myst_glue_module

    ours, theirs = [], []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())  # pretend to run in a kernel
    monkeypatch.setattr(IPython.display, "display", lambda *args, **kwargs: ours.append((args, kwargs)))
    monkeypatch.setattr(
        myst_glue_module, "ipy_display", lambda *args, **kwargs: theirs.append((args, kwargs))
    )
    for value in ("0.112", "text", 3):
        book._ipython_glue("name", value)
        myst_glue_module.glue("name", value, display=False)
    assert ours == theirs and len(ours) == 3
    assert ours[0][1]["metadata"]["scrapbook"] == {
        "name": "name",
        "mime_prefix": "application/papermill.record/",
    }
    # The stored text of a formatted float is its repr, which myst-nb's {glue:text} literal-evals.
    assert ours[0][0][0]["application/papermill.record/text/plain"] == "'0.112'"


def test_check_is_silent_when_the_claim_holds(monkeypatch, capsys):
    for strict in ("1", ""):
        monkeypatch.setenv(book.STRICT_ENV, strict)
        assert check(np.bool_(True), "a claim") is None
    assert capsys.readouterr().out == ""


def test_check_fails_in_the_books_tests(monkeypatch):
    monkeypatch.setenv(book.STRICT_ENV, "1")
    with pytest.raises(
        AssertionError, match="^the text says: dropout helps; the results of this run disagree"
    ):
        check(False, "dropout helps")


def test_check_prints_a_note_for_a_reader(monkeypatch, capsys):
    monkeypatch.delenv(book.STRICT_ENV, raising=False)
    assert check(False, "dropout helps") is None  # the chapter runs on
    out = capsys.readouterr().out
    assert out.startswith("Note: the text says: dropout helps.") and "SEED = 0" in out
