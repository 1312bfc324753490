"""A converted chapter in JupyterLab, as a student opens it: Run All, then every figure and no error.

JupyterLab (the project's) runs headless on a free localhost port with no token, in a temporary
folder that holds one plain chapter (scripts/convert_notebooks.py, student variant) and a copy
of regcode, as in the zip. Debian's Chromium opens the chapter, clears the stored outputs (so
that what is checked comes from this run), runs all cells from the Run menu and waits until
every cell has run. Then each figure must show as a loaded ``<img>``, as many as the chapter has
figures, and no cell may show an error, on the page or in the saved notebook. A screenshot goes
to _build/screenshots/jupyterlab-<chapter>.png.

The chapter is the first one; set REGCODE_LAB_CHAPTER (e.g. ``03_dropout``) for another.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import nbformat
import pytest

from .site import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

import convert_notebooks  # noqa: E402

SCREENSHOTS = ROOT / "_build" / "screenshots"
RUN_TIMEOUT_MS = 300_000
# JupyterLab settings for the test: every cell in the DOM (no virtual scrolling), no news or update checks.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _chapter():
    name = os.environ.get("REGCODE_LAB_CHAPTER")
    chapters = convert_notebooks.chapters()
    if not chapters:
        pytest.fail("no chapter notebooks in book/")
    if not name:
        return chapters[0]
    matches = [p for p in chapters if p.stem == name or p.name == name]
    if not matches:
        pytest.fail(f"REGCODE_LAB_CHAPTER={name!r} names no chapter in book/")
    return matches[0]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyterlab(folder, home):
    """JupyterLab serving ``folder`` on a free port of 127.0.0.1 with no token; yields its URL."""
    settings = home / "lab-settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
        "MPLCONFIGDIR": str(home / "matplotlib"),
    }
    env.pop("PYTHONPATH", None)
    port = _free_port()
    log = open(home / "jupyterlab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={folder}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}api/status", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log_text = (home / "jupyterlab.log").read_text()[-3000:]
                    raise RuntimeError(f"JupyterLab did not start: {log_text}") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _menu(page, menu, item):
    page.locator(".lm-MenuBar-item", has_text=menu).first.click()
    page.locator(".lm-Menu-item:visible", has_text=item).first.click()


def test_a_plain_chapter_runs_in_jupyterlab_with_every_figure(chromium, tmp_path):
    chapter = _chapter()
    expected = convert_notebooks.source_figure_count(nbformat.read(str(chapter), as_version=4))
    folder = tmp_path / "work"
    folder.mkdir()
    convert_notebooks.convert_chapters(tmp_path / "plain", ("students",))
    shutil.copy(tmp_path / "plain" / "students" / chapter.name, folder / chapter.name)
    shutil.copytree(ROOT / "regcode", folder / "regcode", ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    with jupyterlab(folder, home) as url:
        page = chromium.new_page()
        try:
            page.goto(f"{url}lab/tree/{chapter.name}", wait_until="load")
            page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=60_000)
            idle = (
                "() => document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'"
            )
            page.wait_for_function(idle, timeout=60_000)
            # JupyterLab renders a long notebook in batches: wait until every code cell is in the page.
            stored = json.loads((folder / chapter.name).read_text())["cells"]
            n_code = sum(c["cell_type"] == "code" for c in stored)
            page.wait_for_function(
                f"() => document.querySelectorAll('.jp-Notebook .jp-CodeCell').length === {n_code}",
                timeout=60_000,
            )
            page.wait_for_function(
                f"() => document.querySelectorAll('.jp-RenderedImage img').length === {expected}",
                timeout=60_000,
            )

            # The stored figures show before anything runs; clear them: what follows is this run's.
            prompts = "[...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]"
            _menu(page, "Edit", "Clear Outputs of All Cells")
            cleared = f"""() => document.querySelectorAll('.jp-RenderedImage img').length === 0
                && {prompts}.every(p => !/\\d/.test(p.textContent))"""
            page.wait_for_function(cleared, timeout=30_000)

            _menu(page, "Run", "Run All Cells")
            # Wait until the run has started (a prompt shows "[*]:" or a count), then until nothing is
            # queued or running and the kernel is idle. A cell that raises cancels the cells after it.
            started = f"() => {prompts}.some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"
            page.wait_for_function(started, timeout=60_000)
            settled = f"""() => !{prompts}.some(p => p.textContent.includes('*'))
                && document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle'"""
            page.wait_for_function(settled, timeout=RUN_TIMEOUT_MS, polling=500)
            shown = page.locator(".jp-OutputArea-output").all_inner_texts()
            tracebacks = [t for t in shown if "Traceback" in t or "Error:" in t.split("\n", 1)[0]]
            assert not tracebacks, f"error output shown: {tracebacks[0][:1000]}"
            counts = page.eval_on_selector_all(
                ".jp-Notebook .jp-CodeCell .jp-InputPrompt", "els => els.map(e => e.textContent.trim())"
            )
            not_run = [i for i, text in enumerate(counts) if not re.search(r"\[\d+\]", text)]
            assert not not_run, f"code cells {not_run} did not run"

            images = page.eval_on_selector_all(
                ".jp-RenderedImage img", "els => els.map(e => ({w: e.naturalWidth, complete: e.complete}))"
            )
            assert len(images) == expected, f"{len(images)} figures rendered, the chapter has {expected}"
            assert all(img["complete"] and img["w"] > 0 for img in images), images

            first = page.locator(".jp-RenderedImage img").first
            first.scroll_into_view_if_needed()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"jupyterlab-{chapter.stem}.png"))

            # Save, and check the notebook itself: every cell ran, no error output.
            page.locator(".jp-Notebook").first.click()
            page.keyboard.press("Control+s")
            saved = lambda: json.loads((folder / chapter.name).read_text())  # noqa: E731
            deadline = time.monotonic() + 30
            while any(c.get("execution_count") is None for c in saved()["cells"] if c["cell_type"] == "code"):
                assert time.monotonic() < deadline, "the notebook was not saved"
                time.sleep(0.5)
            outputs = [o for c in saved()["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
            errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
            assert not errors, errors
            assert sum("image/png" in o.get("data", {}) for o in outputs) == expected
        finally:
            page.close()
