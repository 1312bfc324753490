"""The pages of the book, a local server and Chromium, for the browser tests.

The helpers live in scripts/book_site.py, which the PDF handouts (scripts/make_pdf.py) use too;
this module re-exports them for the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from book_site import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    SITE,
    browser,
    chromium_missing_reason,
    serve,
    source_path,
    toc_pages,
    toc_parts,
    wait_for_math,
)

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "ROOT",
    "SITE",
    "browser",
    "chromium_missing_reason",
    "serve",
    "source_path",
    "toc_pages",
    "toc_parts",
    "wait_for_math",
]
