"""The printable handouts: one PDF per page and one for the book, with the right titles."""

from __future__ import annotations

import json
import re
import sys
import unicodedata

import pytest

from .site import ROOT, source_path, toc_pages

sys.path.insert(0, str(ROOT / "scripts"))

import make_pdf  # noqa: E402


def _words(text):
    """Whitespace-normalised text with ligatures (the PDF's "ﬁ") unfolded."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _title(page):
    """The page's `#` title, from its source."""
    path = source_path(page)
    if path.suffix == ".ipynb":
        text = "\n".join(
            "".join(c["source"])
            for c in json.loads(path.read_text())["cells"]
            if c["cell_type"] == "markdown"
        )
    else:
        text = path.read_text()
    return re.search(r"^# (.+)$", text, re.M).group(1).strip().replace("`", "")


@pytest.fixture(scope="module")
def pdfs(chromium, site_url):
    # The fixtures skip with a message when Chromium or the built book is missing.
    return make_pdf.print_pages(chromium, site_url, toc_pages())


def test_one_pdf_per_page_with_its_title(pdfs):
    from pypdf import PdfReader

    pages = toc_pages()
    assert [p.name for p in pdfs] == [make_pdf.pdf_name(p) for p in pages]
    for page, path in zip(pages, pdfs, strict=True):
        reader = PdfReader(str(path))
        assert 1 <= len(reader.pages) <= 80, f"{path.name}: {len(reader.pages)} pages"
        first = _words(reader.pages[0].extract_text())
        assert _words(_title(page)) in first, f"{path.name} does not start with its title"


def test_whole_book_pdf_is_all_pages_in_order(pdfs):
    from pypdf import PdfReader

    book = PdfReader(str(make_pdf.BOOK_PDF))
    counts = [len(PdfReader(str(p)).pages) for p in pdfs]
    assert len(book.pages) == sum(counts)
    start = 0
    for page, count in zip(toc_pages(), counts, strict=True):
        assert _words(_title(page)) in _words(book.pages[start].extract_text())
        start += count
