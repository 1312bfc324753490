"""The built book for a browser: its pages, a local server, and Debian's Chromium through Playwright.

Used by scripts/make_pdf.py (the PDF handouts) and by the browser tests (tests/browser/site.py
re-exports it), so the script does not depend on the test package.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Flags that keep Chromium from calling home: the book must work with no network at all.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def toc_pages():
    """The documents listed in _toc.yml, in reading order, e.g. ["book/intro", "book/01_overfitting"]."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    chapters = list(toc.get("chapters", []))
    for part in toc.get("parts", []):
        chapters.extend(part.get("chapters", []))
    for entry in chapters:
        pages.append(entry["file"])
        pages.extend(section["file"] for section in entry.get("sections", []))
    return [str(Path(p).with_suffix("")) for p in pages]


def toc_parts():
    """``[(caption, pages)]`` in reading order; the root page and any part without a caption get ``None``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = [(None, [toc["root"]])]
    groups = [(None, toc.get("chapters", []))] + [
        (p.get("caption"), p.get("chapters", [])) for p in toc.get("parts", [])
    ]
    for caption, chapters in groups:
        pages = []
        for entry in chapters:
            pages.append(entry["file"])
            pages.extend(section["file"] for section in entry.get("sections", []))
        if pages:
            parts.append((caption, pages))
    return [(caption, [str(Path(p).with_suffix("")) for p in pages]) for caption, pages in parts]


def source_path(page):
    """The source file of a page (.md or .ipynb)."""
    for suffix in (".md", ".ipynb"):
        path = ROOT / f"{page}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(page)


def chromium_missing_reason():
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        return (
            f"Chromium not found at {CHROMIUM}. Install Debian's package with "
            "`apt-get update && apt-get install -y chromium` (or set CHROMIUM=/path/to/chromium)."
        )
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(directory=SITE):
    """Serve ``directory`` on an ephemeral port of 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def browser():
    """A headless Debian Chromium driven by Playwright, with a fresh profile."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def wait_for_math(page):
    """Wait until MathJax 3 has typeset the page (returns at once on pages without MathJax)."""
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise.then(() => true) : true")
