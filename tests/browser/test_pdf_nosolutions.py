"""The PDF of the book without solutions (make pdf-nosolutions) holds no solution text.

Positive control: the same search finds every solution in the PDF of the normal book. The labs
are shown as student versions in both editions, so neither PDF holds a line of a lab solution;
their control is the instructor versions, where the same search finds every line.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata

import pytest

from .site import ROOT, serve

sys.path.insert(0, str(ROOT / "scripts"))

import build_nosolutions  # noqa: E402
import make_pdf  # noqa: E402

CHAPTERS = [f"book/{p.stem}" for p in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))]
LABS = sorted((ROOT / "book" / "labs" / "instructor").glob("lab*.ipynb"))


def _key(text):
    """Letters and digits only: compares source text with text extracted from a PDF."""
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", text).lower())


def _solution_runs():
    """Eight plain words from the body of every exercise solution of the chapters."""
    runs = []
    for page in CHAPTERS:
        cells = json.loads((ROOT / f"{page}.ipynb").read_text())["cells"]
        for cell in cells:
            if cell["cell_type"] != "markdown":
                continue
            for block in build_nosolutions.SOLUTION_BLOCK.finditer("".join(cell["source"])):
                for line in block.group(0).splitlines()[1:-1]:
                    words = [w for w in line.split() if re.fullmatch(r"[A-Za-z,.;]+", w)]
                    if len(words) >= 8 and " ".join(words[:8]) in " ".join(line.split()):
                        runs.append(" ".join(words[:8]))
                        break
    return runs


def _sources(path):
    return " ".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])


def _lab_solution_lines():
    """The lines of the lab solutions that the book does not also show elsewhere.

    A line such as ``mean = x.mean(axis=0)`` is also chapter code, and a docstring of a student
    version may state the formula its solution implements; such lines prove nothing.
    """
    shown = [lab.parent.parent / lab.name for lab in LABS] + [ROOT / f"{page}.ipynb" for page in CHAPTERS]
    public = _key(" ".join(_sources(path) for path in shown))
    lines = []
    for lab in LABS:
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", _sources(lab), re.S):
            lines += [s.strip() for s in block.splitlines() if len(s.strip()) > 20 and _key(s) not in public]
    return lines


def _pdf_text(paths):
    from pypdf import PdfReader

    return _key(" ".join(page.extract_text() for path in paths for page in PdfReader(str(path)).pages))


@pytest.fixture(scope="module")
def nosolutions_pdfs(chromium, tmp_path_factory):
    build_nosolutions.main()  # the edition as `make pdf-nosolutions` prints it, built afresh
    out = tmp_path_factory.mktemp("pdf-nosolutions")
    pages = CHAPTERS + [f"book/labs/{lab.stem}" for lab in LABS]
    with serve(make_pdf.NOSOLUTIONS_SITE) as url:
        return make_pdf.print_pages(chromium, url, pages, out=out)


@pytest.fixture(scope="module")
def normal_pdfs(chromium, site_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf-normal")
    return make_pdf.print_pages(
        chromium, site_url, CHAPTERS + [f"book/labs/{lab.stem}" for lab in LABS], out=out
    )


def test_pdf_without_solutions_has_the_exercises_but_no_solution(nosolutions_pdfs, normal_pdfs):
    runs = _solution_runs()
    assert len(runs) >= 10, "the chapters should have exercise solutions"
    hidden, normal = _pdf_text(nosolutions_pdfs), _pdf_text(normal_pdfs)
    missing = [run for run in runs if _key(run) not in normal]
    assert not missing, f"control: not found in the normal book's PDF: {missing}"
    leaked = [run for run in runs if _key(run) in hidden]
    assert not leaked, f"solution text in the PDF without solutions: {leaked}"
    assert _key("Exercise") in hidden  # the exercises themselves are still there


def test_neither_pdf_holds_a_lab_solution(nosolutions_pdfs, normal_pdfs):
    lines = _lab_solution_lines()
    instructor = _key(" ".join(_sources(lab) for lab in LABS))
    assert len(lines) >= 10 and all(_key(line) in instructor for line in lines)  # control
    for text in (_pdf_text(nosolutions_pdfs), _pdf_text(normal_pdfs)):
        assert _key("raise NotImplementedError()") in text  # the stubs are printed
        leaked = [line for line in lines if _key(line) in text]
        assert not leaked, f"lab solution lines in a PDF: {leaked}"


def test_pdf_without_solutions_has_bookmarks(nosolutions_pdfs):
    from pypdf import PdfReader

    book = PdfReader(str(nosolutions_pdfs[0].parent / make_pdf.BOOK_PDF.name))
    titles = [item.title for item in book.outline if not isinstance(item, list)]
    assert titles == ["Chapters", "Labs"]
    for path in nosolutions_pdfs:
        assert PdfReader(str(path)).outline, f"{path.name} has no bookmarks"
