"""Printable handouts: one PDF per page of the book and one for the whole book, in _build/pdf/.

Prints the built HTML (run `make book` first) with Debian's headless Chromium
through Playwright, after MathJax has typeset the page, so math and figures
look as they do on screen. Jupyter Book's own `pdfhtml` builder downloads a
browser and fails offline; `pdflatex` needs several hundred MB of TeX.

Usage: python scripts/make_pdf.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from pypdf import PdfWriter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.site import SITE, browser, chromium_missing_reason, serve, toc_pages, wait_for_math  # noqa: E402

OUT = ROOT / "_build" / "pdf"
BOOK_PDF = OUT / "regularization-book.pdf"


def pdf_name(page):
    """``book/03_dropout`` -> ``03_dropout.pdf``."""
    return f"{Path(page).name}.pdf"


def print_pages(context, base_url, pages):
    """Print each page (after MathJax) to OUT/<name>.pdf with an open browser context."""
    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for page_name in pages:
        page = context.new_page()
        page.goto(f"{base_url}{page_name}.html", wait_until="load")
        wait_for_math(page)
        page.emulate_media(media="print")
        path = OUT / pdf_name(page_name)
        page.pdf(
            path=str(path),
            format="A4",
            print_background=True,
            margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
        )
        page.close()
        paths.append(path)
    writer = PdfWriter()
    for path in paths:
        writer.append(str(path))
    with open(BOOK_PDF, "wb") as fh:
        writer.write(fh)
    return paths


def build():
    """Serve the built book, start Chromium and print every page listed in _toc.yml."""
    reason = chromium_missing_reason()
    if reason:
        raise SystemExit(reason)
    if not (SITE / "index.html").exists():
        raise SystemExit("the book is not built: run `make book` first")
    with serve(SITE) as url, browser() as context:
        return print_pages(context, url, toc_pages())


if __name__ == "__main__":
    for path in build():
        print(f"wrote {path}")
    print(f"wrote {BOOK_PDF}")
