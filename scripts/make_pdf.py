"""Printable handouts: one PDF per page of the book and one for the whole book, with bookmarks.

Prints the built HTML (run `make book` first) with Debian's headless Chromium through Playwright,
after MathJax has typeset the page, so math and figures look as they do on screen. Jupyter Book's
own `pdfhtml` builder downloads a browser and fails offline; `pdflatex` needs several hundred MB
of TeX.

Every PDF gets an outline (bookmarks): each page's title with its sections (## and ###) below it,
and in the whole-book PDF the pages grouped under the parts of _toc.yml (Chapters, Labs, ...).
The titles are the headings as the page shows them; Chromium's own outline of the tagged PDF
gives the page each heading is printed on.

Usage:
    python scripts/make_pdf.py                  # _build/html -> _build/pdf/
    python scripts/make_pdf.py --nosolutions    # _build/nosolutions/_build/html (make book-nosolutions)
                                                #   -> _build/pdf-nosolutions/
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

from pypdf import PdfReader, PdfWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))

from book_site import (  # noqa: E402
    ROOT,
    SITE,
    browser,
    chromium_missing_reason,
    serve,
    toc_pages,
    toc_parts,
    wait_for_math,
)

OUT = ROOT / "_build" / "pdf"
BOOK_PDF = OUT / "regularization-book.pdf"
NOSOLUTIONS_SITE = ROOT / "_build" / "nosolutions" / "_build" / "html"
NOSOLUTIONS_OUT = ROOT / "_build" / "pdf-nosolutions"
TITLE = "Regularization for Deep Neural Networks"
MARGIN = {"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"}

# The page's own headings, as shown (section numbers included, the "#" permalinks left out).
HEADINGS_JS = """() => {
  const root = document.querySelector('article.bd-article') || document.querySelector('main')
    || document.body;
  return Array.from(root.querySelectorAll('h1, h2, h3')).map(h => {
    const copy = h.cloneNode(true);
    copy.querySelectorAll('a.headerlink').forEach(a => a.remove());
    return {level: Number(h.tagName[1]), text: copy.textContent.replace(/\\s+/g, ' ').trim()};
  }).filter(h => h.text);
}"""


def pdf_name(page):
    """``book/03_dropout`` -> ``03_dropout.pdf``."""
    return f"{Path(page).name}.pdf"


def _key(text):
    """Letters and digits only, lower case: compares a heading with Chromium's outline entries."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _chromium_outline(reader):
    """``[(title, page index)]`` of the outline Chromium wrote, flattened in document order."""
    entries = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                entries.append((item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    return entries


def place_headings(headings, reader):
    """Give each heading (dicts with level and text) the index of the PDF page it is printed on.

    Each heading is matched, in order, to the next entry of Chromium's outline whose text
    contains it (without its section number). A heading not found keeps the page of the heading
    before it, so the bookmarks stay in order even if Chromium wrote no outline.
    """
    outline = [(_key(title), page) for title, page in _chromium_outline(reader)]
    placed, start, page = [], 0, 0
    for heading in headings:
        key = _key(re.sub(r"^[\d.]+\s+", "", heading["text"]))
        for i in range(start, len(outline)):
            if key and key in outline[i][0]:
                page, start = outline[i][1], i + 1
                break
        placed.append({**heading, "page": page})
    return placed


def add_outline(writer, headings, offset=0, parent=None):
    """Bookmarks for one printed page: its title (h1) with its sections (h2, h3) nested below."""
    stack = [(0, parent)]  # (level, outline item) of the enclosing headings
    for heading in headings:
        while len(stack) > 1 and stack[-1][0] >= heading["level"]:
            stack.pop()
        item = writer.add_outline_item(
            title=heading["text"], page_number=offset + heading["page"], parent=stack[-1][1]
        )
        stack.append((heading["level"], item))


def print_page(context, url):
    """Print one page to PDF bytes (after MathJax); return them with its placed headings."""
    page = context.new_page()
    try:
        page.goto(url, wait_until="load")
        wait_for_math(page)
        page.emulate_media(media="print")
        headings = page.evaluate(HEADINGS_JS)
        data = page.pdf(format="A4", print_background=True, margin=MARGIN, outline=True, tagged=True)
    finally:
        page.close()
    return data, place_headings(headings, PdfReader(io.BytesIO(data)))


def print_pages(context, base_url, pages, out=OUT, book_pdf=None, title=TITLE):
    """Print each page to ``out/<name>.pdf`` and all of them to ``book_pdf``, with bookmarks."""
    out = Path(out)
    book_pdf = Path(book_pdf) if book_pdf else (BOOK_PDF if out == OUT else out / BOOK_PDF.name)
    out.mkdir(parents=True, exist_ok=True)
    paths, outlines = [], {}
    for page_name in pages:
        data, headings = print_page(context, f"{base_url}{page_name}.html")
        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(data)), import_outline=False)
        add_outline(writer, headings)
        writer.add_metadata({"/Title": headings[0]["text"] if headings else page_name})
        path = out / pdf_name(page_name)
        with open(path, "wb") as fh:
            writer.write(fh)
        paths.append(path)
        outlines[page_name] = headings
    _write_book(paths, pages, outlines, book_pdf, title)
    return paths


def _write_book(paths, pages, outlines, book_pdf, title):
    """All pages in one PDF; bookmarks grouped by the parts of _toc.yml."""
    path_of = dict(zip(pages, paths, strict=True))
    writer = PdfWriter()
    for caption, part_pages in toc_parts():
        part_pages = [p for p in part_pages if p in path_of]
        if not part_pages:
            continue
        starts = []
        for page_name in part_pages:
            starts.append(len(writer.pages))
            writer.append(str(path_of[page_name]), import_outline=False)
        parent = writer.add_outline_item(title=caption, page_number=starts[0]) if caption else None
        for page_name, start in zip(part_pages, starts, strict=True):
            add_outline(writer, outlines[page_name], offset=start, parent=parent)
    writer.add_metadata({"/Title": title})
    with open(book_pdf, "wb") as fh:
        writer.write(fh)


def build(site=SITE, out=OUT, title=TITLE):
    """Serve the built book, start Chromium and print every page listed in _toc.yml."""
    reason = chromium_missing_reason()
    if reason:
        raise SystemExit(reason)
    if not (Path(site) / "index.html").exists():
        raise SystemExit(
            f"the book is not built in {site}: run `make book` (or `make book-nosolutions`) first"
        )
    with serve(site) as url, browser() as context:
        return print_pages(context, url, toc_pages(), out=out, title=title)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nosolutions", action="store_true", help="print the book without solutions")
    parser.add_argument("--site", type=Path, help="a built book (default: _build/html)")
    parser.add_argument("--out", type=Path, help="where the PDFs go (default: _build/pdf)")
    args = parser.parse_args(argv)
    site = args.site or (NOSOLUTIONS_SITE if args.nosolutions else SITE)
    out = args.out or (NOSOLUTIONS_OUT if args.nosolutions else OUT)
    title = f"{TITLE} (exercises without solutions)" if args.nosolutions else TITLE
    for path in build(site, out, title):
        print(f"wrote {path}")
    print(f"wrote {BOOK_PDF if out == OUT else out / BOOK_PDF.name}")


if __name__ == "__main__":
    main()
