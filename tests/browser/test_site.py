"""The built book as a reader sees it, in Debian's Chromium with no network.

For every page in _toc.yml: it loads with no console error and no request
outside the site; images load and have alt text; math is typeset; no error
output is shown; internal links and anchors resolve; exercise solutions stay
hidden until their dropdown is opened. A full-page screenshot of each page is
saved in _build/screenshots/ for review.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from bs4 import BeautifulSoup

from .site import ROOT, SITE, source_path, toc_pages, wait_for_math

PAGES = toc_pages()
SCREENSHOTS = ROOT / "_build" / "screenshots"
MATH_IN_SOURCE = re.compile(r"\$[^$\n]+\$|\\begin\{|```\{math\}|:math:`")


@cache
def _ids_in(path):
    soup = BeautifulSoup(Path(path).read_text(), "html.parser")
    return {tag["id"] for tag in soup.find_all(id=True)}


def _open(chromium, url):
    """Open ``url``; return the page and the lists of console errors and requests it made."""
    page = chromium.new_page()
    errors, requests = [], []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: requests.append(req.url))
    page.goto(url, wait_until="load")
    wait_for_math(page)
    return page, errors, requests


@pytest.mark.parametrize("page_name", PAGES)
def test_page_as_a_reader_sees_it(chromium, site_url, page_name):
    url = urljoin(site_url, f"{page_name}.html")
    page, errors, requests = _open(chromium, url)
    try:
        # Loads cleanly, offline.
        assert not errors, f"console errors on {page_name}: {errors}"
        outside = [r for r in requests if not r.startswith((site_url, "data:", "blob:", "about:"))]
        assert not outside, f"{page_name} requested resources outside the site: {outside}"

        # Images: loaded and described.
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => ({src: e.src, w: e.naturalWidth, alt: e.alt}))"
        )
        for img in images:
            assert img["w"] > 0, f"image did not load: {img['src']}"
            assert img["alt"].strip(), f"image without alt text: {img['src']}"

        # Math: typeset where the source has math; no raw TeX left in the prose.
        if MATH_IN_SOURCE.search(source_path(page_name).read_text()):
            assert page.locator("mjx-container").count() > 0, f"no typeset math on {page_name}"
        prose = page.evaluate(
            """() => { const c = document.querySelector('main').cloneNode(true);
                       c.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove());
                       return c.innerText; }"""
        )
        for raw in ("$$", "\\[", "\\begin{"):
            assert raw not in prose, f"untypeset math {raw!r} on {page_name}"

        # No error output.
        assert page.locator(".output.traceback, .output.error, .output.stderr").count() == 0
        for text in ("Traceback (most recent call last)", "NameError"):
            assert text not in page.inner_text("main"), f"{text!r} shown on {page_name}"

        # Internal links and anchors resolve.
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            if not href.startswith(site_url):
                continue
            target, fragment = urldefrag(href)
            rel = urlparse(target).path.lstrip("/") or "index.html"
            path = SITE / rel
            if path.is_dir():
                path = path / "index.html"
            assert path.exists(), f"{page_name}: broken link {href}"
            if fragment and path.suffix == ".html":
                assert fragment in _ids_in(path), f"{page_name}: missing anchor {href}"

        # Exercise solutions: hidden until opened.
        solutions = page.locator("div.solution.dropdown")
        for i in range(solutions.count()):
            solution = solutions.nth(i)
            body = solution.locator(".section, p").last
            assert not body.is_visible(), f"solution {i} on {page_name} is visible before clicking"
            solution.locator("button.toggle-button").first.click()
            body.wait_for(state="visible", timeout=5000)

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{Path(page_name).name}.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("query", ["dropout", "batch normalization"])
def test_search_finds_the_topics(chromium, site_url, query):
    page, errors, _ = _open(chromium, urljoin(site_url, f"search.html?q={query.replace(' ', '+')}"))
    try:
        results = page.locator("#search-results ul.search li")
        results.first.wait_for(timeout=15000)
        assert results.count() >= 1
        assert not errors, errors
    finally:
        page.close()
