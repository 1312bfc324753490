"""The teaching kit: the notebooks zip for students and the book without solutions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import build_nosolutions  # noqa: E402
import make_notebooks_zip  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def _normalise(text):
    """Letters, digits and single spaces only: compares Markdown with its rendered HTML text."""
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", text).split())


def _visible_text(html):
    from bs4 import BeautifulSoup

    return _normalise(BeautifulSoup(html, "html.parser").get_text(" "))


def _solution_texts():
    """A distinctive line from the body of every solution block in the chapters."""
    texts = []
    for path in CHAPTERS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            source = "".join(cell["source"])
            for match in build_nosolutions.SOLUTION_BLOCK.finditer(source):
                body = [ln.strip() for ln in match.group(0).splitlines()[1:-1]]
                body = [ln for ln in body if not ln.startswith((":", "`", "$"))]
                # Plain prose words only (no inline math or code), long enough to be distinctive.
                for line in body:
                    words = [w for w in re.split(r"\s+", line) if re.fullmatch(r"[A-Za-z,.;]+", w)]
                    run = _normalise(" ".join(words[:8]))
                    if len(words) >= 8 and run in _normalise(line):
                        texts.append(run)
                        break
    return texts


def test_strip_solutions_removes_only_solution_blocks():
    text = (
        "```{exercise} Try it\n:label: ex-a\nDo this.\n```\n\n"
        "```{solution} ex-a\n:class: dropdown\nThe answer is 42.\n```\n"
        "Text after.\n"
        "::::{solution} ex-b\n:class: dropdown\n```python\nprint(1)\n```\n::::\nEnd.\n"
    )
    stripped = build_nosolutions.strip_solutions(text)
    assert "{exercise} Try it" in stripped and "Do this." in stripped
    assert "42" not in stripped and "print(1)" not in stripped and "{solution}" not in stripped
    assert "Text after." in stripped and "End." in stripped


def test_notebooks_zip_runs_a_chapter_without_installing(tmp_path):
    if not CHAPTERS:
        pytest.skip("no chapter notebooks yet")
    archive = make_notebooks_zip.build(tmp_path / "notebooks.zip")
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "unzipped")
    top = tmp_path / "unzipped" / make_notebooks_zip.TOP
    for required in ("README.md", "requirements.txt", "pyproject.toml", "regcode/__init__.py"):
        assert f"{make_notebooks_zip.TOP}/{required}" in names
    assert {p.name for p in top.glob("*.ipynb")} == {p.name for p in CHAPTERS}
    # Run the shortest chapter from the unzipped folder. PYTHONPATH puts the zip's regcode ahead of
    # the editable install, and the probe below proves that is the copy the kernel imports.
    chapter = min(CHAPTERS, key=lambda p: p.stat().st_size).name
    env = {**os.environ, "PYTHONPATH": str(top), "OMP_NUM_THREADS": "1"}
    probe = subprocess.run(
        [sys.executable, "-c", "import regcode; print(regcode.__file__)"],
        cwd=top,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(probe.stdout.strip()).is_relative_to(top)
    jupyter = Path(sys.executable).with_name("jupyter")
    subprocess.run(
        [str(jupyter), "execute", "--inplace", chapter],
        cwd=top,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    executed = json.loads((top / chapter).read_text())
    outputs = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs and not any(o["output_type"] == "error" for o in outputs)


@pytest.fixture(scope="session")
def built_book():
    """The normal build in _build/html (the positive control), built here if it is missing."""
    html = ROOT / "_build" / "html"
    if not (html / "index.html").exists():
        jupyter_book = Path(sys.executable).with_name("jupyter-book")
        subprocess.run(
            [str(jupyter_book), "build", str(ROOT), "-W", "-n", "--keep-going"],
            check=True,
            capture_output=True,
            timeout=900,
        )
    return html


def test_book_without_solutions_has_exercises_but_no_solutions(built_book):
    if not CHAPTERS:
        pytest.skip("no chapter notebooks yet")
    solutions = _solution_texts()
    assert solutions, "the chapters should have exercise solutions to hide"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_nosolutions.py")],
        check=True,
        capture_output=True,
        timeout=900,
    )
    html_dir = build_nosolutions.OUT / "_build" / "html"
    pages = {p.name: p.read_text() for p in html_dir.glob("book/*.html")}
    sources = [_normalise(p.read_text()) for p in (html_dir / "_sources").rglob("*.ipynb")]
    assert sources, "the download button's notebooks should be in the build"
    assert any('class="exercise' in html for html in pages.values())
    for html in pages.values():
        assert 'class="solution' not in html
    hidden = [_visible_text(html) for html in pages.values()] + sources
    # Positive control: the same search finds every solution in the normal build.
    normal = " ".join(_visible_text(p.read_text()) for p in built_book.glob("book/*.html"))
    for text in solutions:
        assert text in normal, f"control: {text!r} not found in the normal build"
        assert not any(text in content for content in hidden), f"solution text leaked: {text!r}"
