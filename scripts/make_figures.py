"""The figure pack: every figure of the chapters as SVG and PNG, with its caption and licence.

A figure of the book is the ``image/png`` output of a cell whose metadata holds
``mystnb.figure.name``, ``mystnb.figure.caption`` and ``mystnb.image.alt`` (CONTRIBUTING.md).
A PNG cannot be turned back into a vector image, so each chapter is executed again, in a fresh
kernel, with a hook on ``matplotlib.pyplot.show``: while a figure cell runs, every figure it shows
is also saved as SVG and as a 200-dpi PNG, named after the cell's figure name. Both files carry
the licence in their metadata.

Writes, in ``_build/figures/`` (or ``--out``):

- ``<chapter>/<name>.svg`` and ``<chapter>/<name>.png`` (``<name>-2``, ... for further figures
  shown by the same cell);
- ``<chapter>/<name>.txt``: the caption, the alt text and the credit line;
- ``figures.json``: the same for every figure, for scripts;
- ``README.md``: every caption, and how to credit the figures (CC BY 4.0).

Usage: python scripts/make_figures.py [NOTEBOOK ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "figures"
BOOK_TITLE = "Regularization for Deep Neural Networks"
AUTHORS = "The regcode authors"
LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
PNG_DPI = 200
GLUE_MIME = "application/papermill.record/text/plain"

# Run first in the kernel: pyplot.show also saves each figure while a figure cell runs.
HOOK = '''\
import matplotlib.pyplot as _figure_pack_plt
from pathlib import Path as _FigurePackPath

_figure_pack_plt.rcParams["svg.hashsalt"] = "regcode-figure-pack"  # the same SVG ids on every run


class _FigurePack:
    """While a figure cell runs, save every figure pyplot.show() shows as SVG and PNG."""

    def __init__(self, out, dpi):
        self.out, self.dpi, self.name, self.saved = _FigurePackPath(out), dpi, None, {{}}
        self.show = _figure_pack_plt.show

    def start(self, name, svg_metadata, png_metadata):
        self.name, self.svg_metadata, self.png_metadata = name, svg_metadata, png_metadata

    def stop(self):
        self.name = None

    def __call__(self, *args, **kwargs):
        if self.name is not None:
            for num in _figure_pack_plt.get_fignums():
                files = self.saved.setdefault(self.name, [])
                stem = self.name if not files else f"{{self.name}}-{{len(files) + 1}}"
                figure = _figure_pack_plt.figure(num)
                figure.savefig(self.out / f"{{stem}}.svg", format="svg", metadata=self.svg_metadata)
                png = self.out / f"{{stem}}.png"
                figure.savefig(png, format="png", dpi=self.dpi, metadata=self.png_metadata)
                files.append(stem)
        return self.show(*args, **kwargs)


_figure_pack = _FigurePack({out!r}, {dpi!r})
_figure_pack_plt.show = _figure_pack
'''


def figure_cells(nb):
    """``[(index, name, caption, alt)]`` of the figure cells of a notebook (a dict)."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {}).get("mystnb", {})
        figure = meta.get("figure", {})
        if cell["cell_type"] != "code" or not figure:
            continue
        name, caption, alt = figure.get("name"), figure.get("caption"), meta.get("image", {}).get("alt")
        missing = [key for key, value in (("name", name), ("caption", caption), ("alt", alt)) if not value]
        if missing:
            raise ValueError(f"cell {index} has mystnb.figure metadata without {', '.join(missing)}")
        found.append((index, name, caption, alt))
    return found


def credit(chapter_title):
    return f'From "{BOOK_TITLE}", {chapter_title}. (c) {AUTHORS}, licensed under {LICENCE} ({LICENCE_URL}).'


def _instrument(nb, out_dir, title):
    """A copy of ``nb`` with the hook first and start/stop cells around every figure cell."""
    import nbformat

    rights = f"{LICENCE} ({LICENCE_URL}), {AUTHORS}"
    figures = {index: name for index, name, _, _ in figure_cells(nb)}
    cells = [nbformat.v4.new_code_cell(HOOK.format(out=str(out_dir), dpi=PNG_DPI))]
    for index, cell in enumerate(nb["cells"]):
        if index in figures:
            svg_meta = {
                "Title": figures[index],
                "Rights": rights,
                "Source": f"{BOOK_TITLE}, {title}",
                "Date": None,
            }
            png_meta = {"Title": figures[index], "Copyright": rights, "Source": f"{BOOK_TITLE}, {title}"}
            start = f"_figure_pack.start({figures[index]!r}, {svg_meta!r}, {png_meta!r})"
            cells.append(nbformat.v4.new_code_cell(start))
        cells.append(cell)
        if index in figures:
            cells.append(nbformat.v4.new_code_cell("_figure_pack.stop()"))
    cells.append(nbformat.v4.new_code_cell("print(__import__('json').dumps(_figure_pack.saved))"))
    for cell in cells:  # nbformat 4.5 wants an id on every cell; older notebooks have none
        cell.setdefault("id", uuid.uuid4().hex[:8])
    return nbformat.from_dict({**nb, "cells": cells, "nbformat": 4, "nbformat_minor": 5})


def _glued(nb):
    """``{name: text}`` of the values a notebook glued (myst-nb's scrapbook outputs)."""
    values = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook", {})
            if scrap.get("name") and GLUE_MIME in output.get("data", {}):
                values[scrap["name"]] = output["data"][GLUE_MIME]
    return values


def plain_caption(caption, glued):
    """The MyST caption as plain text: glued numbers filled in, references as their targets."""

    def glue(match):
        name, _, fmt = match.group(2).partition(":")
        if name not in glued:
            return match.group(0)
        try:
            value = ast.literal_eval(glued[name])
        except (ValueError, SyntaxError):
            value = glued[name]
        try:
            return format(value, fmt) if fmt else str(value)
        except (TypeError, ValueError):
            return str(value)

    text = re.sub(r"\{(glue:text|glue)\}`([^`]+)`", glue, caption)
    text = re.sub(r"\{ref\}`([^`<]+?)\s*<[^`]+>`", r"\1", text)  # {ref}`text <label>`
    text = re.sub(r"\{cite:p\}`([^`]+)`", r"(\1)", text)
    text = re.sub(r"\{[a-z:]+\}`([^`]+)`", r"\1", text)  # numref, ref, eq, cite:t, doc: their target
    return " ".join(text.split())


def chapter_title(nb, path):
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = re.search(r"^# (.+)$", "".join(cell["source"]), re.M)
            if match:
                number = re.match(r"(\d+)_", path.name)
                prefix = f"chapter {int(number.group(1))}, " if number else ""
                return f'{prefix}"{match.group(1).strip()}"'
    return path.stem


def pack_notebook(path, out, timeout=900):
    """Execute one notebook with the hook; write its figures; return their manifest entries."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)  # sources as strings, whatever the file stores
    figures = figure_cells(nb)
    if not figures:
        print(f"{path.name}: no figure cells (mystnb.figure metadata); nothing to render", file=sys.stderr)
        return []
    title = chapter_title(nb, path)
    out_dir = Path(out) / path.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    instrumented = _instrument(nb, out_dir.resolve(), title)
    client = NotebookClient(
        instrumented,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    saved = json.loads("".join(instrumented.cells[-1].outputs[0]["text"]))
    glued = _glued(instrumented)
    entries = []
    for number, (_, name, caption, alt) in enumerate(figures, start=1):
        stems = saved.get(name)
        if not stems:
            raise RuntimeError(
                f"{path.name}: the cell of {name} showed no figure (does it end with plt.show()?)"
            )
        entry = {
            "name": name,
            "chapter": path.stem,
            "chapter_title": title,
            "number": number,
            "files": [f"{path.stem}/{stem}.{ext}" for stem in stems for ext in ("svg", "png")],
            "caption": plain_caption(caption, glued),
            "caption_myst": caption,
            "alt": alt,
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "credit": credit(title),
        }
        files = ", ".join(entry["files"])
        (out_dir / f"{name}.txt").write_text(
            f"{entry['caption']}\n\nAlt text: {alt}\n\nFiles: {files}\n\n{entry['credit']}\n"
        )
        entries.append(entry)
    print(f"{path.name}: {len(entries)} figures")
    return entries


def write_index(entries, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures.json").write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n")
    lines = [
        f"# Figures of {BOOK_TITLE}",
        "",
        f"Every figure of the book's chapters as SVG (for slides) and PNG ({PNG_DPI} dpi), with its caption.",
        "",
        f"**Licence.** The figures are (c) {AUTHORS} and licensed under the Creative Commons Attribution",
        f"4.0 International License ({LICENCE}, {LICENCE_URL}): you may copy, adapt and share them,",
        "also in your own course material, provided you credit the source. Credit each figure with the",
        "line given under it (also in its `.txt` file and in `figures.json`).",
        "",
    ]
    for entry in entries:
        lines += [
            f"## {entry['name']} ({entry['chapter']}, figure {entry['number']})",
            "",
            entry["caption"],
            "",
            f"Files: {', '.join(f'`{f}`' for f in entry['files'])}",
            "",
            f"Credit: {entry['credit']}",
            "",
        ]
    if not entries:
        lines += ["No chapter has figure cells yet (cells with `mystnb.figure` metadata).", ""]
    (out / "README.md").write_text("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in book/")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    entries = [entry for path in notebooks for entry in pack_notebook(path, args.out)]
    write_index(entries, args.out)
    print(f"wrote {len(entries)} figures to {args.out}")


if __name__ == "__main__":
    main()
