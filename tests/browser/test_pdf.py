"""The printable handouts: one PDF per page and one for the book, with the right titles."""

from __future__ import annotations

import json
import re
import sys
import unicodedata

import pytest

from .site import ROOT, source_path, toc_pages, toc_parts

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
        limit = 160 if page == "book/api" else 80  # the API reference prints every docstring
        assert 1 <= len(reader.pages) <= limit, f"{path.name}: {len(reader.pages)} pages"
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


def _bookmarks(reader):
    """``[(depth, title, page index)]`` of a PDF's outline, in document order."""
    marks = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                marks.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return marks


def _section_count(page):
    """The number of ``##`` headings in a page's source (outside code fences)."""
    path = source_path(page)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text()
    text = re.sub(r"^(`{3,}).*?^\1\s*$", "", text, flags=re.M | re.S)
    return len(re.findall(r"^## ", text, re.M))


def _key(text):
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", text).lower())


def test_every_pdf_has_bookmarks_for_its_title_and_sections(pdfs):
    from pypdf import PdfReader

    found = checked = 0
    for page, path in zip(toc_pages(), pdfs, strict=True):
        reader = PdfReader(str(path))
        marks = _bookmarks(reader)
        assert marks and marks[0][0] == 0, f"{path.name}: no outline"
        assert _words(_title(page)) in _words(marks[0][1]), f"{path.name}: first bookmark {marks[0][1]!r}"
        assert [d for d, _, _ in marks].count(1) == _section_count(page), f"{path.name}: {marks}"
        pages = [p for _, _, p in marks]
        assert pages == sorted(pages) and pages[-1] < len(reader.pages), f"{path.name}: {marks}"
        # Each bookmark points at the page that prints its heading (plain-text titles only:
        # text extraction garbles typeset math).
        texts = [_key(p.extract_text()) for p in reader.pages]
        for _, title, index in marks:
            if title.isascii():
                checked += 1
                found += _key(re.sub(r"^[\d.]+\s+", "", title)) in texts[index]
    assert checked > 50 and found >= 0.9 * checked, f"{found} of {checked} bookmarks on their heading's page"


def test_whole_book_bookmarks_follow_the_parts_of_the_toc(pdfs):
    from pypdf import PdfReader

    book = PdfReader(str(make_pdf.BOOK_PDF))
    marks = _bookmarks(book)
    top = [title for depth, title, _ in marks if depth == 0]
    parts = toc_parts()
    assert top == [_title(parts[0][1][0])] + [caption for caption, _ in parts[1:]]
    captions, part, page_titles = dict(parts[1:]), None, []
    for depth, title, _ in marks:
        part = title if depth == 0 else part
        if depth == 1 and part in captions:
            page_titles.append(title)
    assert len(page_titles) == len(toc_pages()) - 1
    for title, page in zip(page_titles, toc_pages()[1:], strict=True):
        assert _words(_title(page)) in _words(title), f"{title!r} is not the page {page}"
    counts = [len(PdfReader(str(p)).pages) for p in pdfs]
    starts = dict(zip(toc_pages(), [sum(counts[:i]) for i in range(len(counts))], strict=True))
    for depth, title, index in marks:
        if depth == 0 and title in captions:
            assert index == starts[captions[title][0]], f"part {title!r} starts at page {index}"
