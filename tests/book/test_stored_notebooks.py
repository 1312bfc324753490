"""The chapters are committed as a fresh kernel left them: executed top to bottom, without errors.

Strict nbval checks that the stored outputs reproduce; these tests check how they were stored:
every code cell ran, in order, in one kernel (execution counts 1, 2, 3, ...), no cell stored an
error, and no glued number carries more digits than the prose can show (``regcode.book.glue``
refuses a float without a format; this catches a value glued some other way).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

BOOK = Path(__file__).resolve().parents[2] / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
LONG_NUMBER = re.compile(r"-?\d+\.\d{7,}")  # more decimals than any number the prose prints


def test_the_five_chapters_are_there():
    assert [p.stem[:2] for p in CHAPTERS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_code_cell_ran_once_in_order_without_error(path):
    code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    errors = [cell.get("id") for cell in code for out in cell.outputs if out.output_type == "error"]
    assert errors == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_glued_numbers_are_rounded_to_what_the_prose_shows(path):
    long = []
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("application/papermill.record/text/plain")
            if text is not None and LONG_NUMBER.search(text):
                long.append((out.get("metadata", {}).get("scrapbook", {}).get("name"), text))
    assert long == []
