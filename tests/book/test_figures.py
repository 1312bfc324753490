"""make figures (scripts/make_figures.py), on a small synthetic chapter with the book's figure convention."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import make_figures  # noqa: E402


def figure_cell(source, name, caption, alt):
    cell = new_code_cell(source)
    cell.metadata["mystnb"] = {"figure": {"name": name, "caption": caption}, "image": {"alt": alt}}
    return cell


def synthetic_chapter(path):
    """A chapter with two figure cells (one shows two figures), a plain plot and a glued number."""
    nb = new_notebook(
        cells=[
            new_markdown_cell("(ch-demo)=\n# A demo chapter\n\nText."),
            new_code_cell(
                "import matplotlib.pyplot as plt\nimport numpy as np\nfrom regcode.book import glue\nSEED = 0"
            ),
            figure_cell(
                "fig, ax = plt.subplots()\nax.plot(np.arange(5) ** 2, label='squares')\nax.legend()\n"
                "plt.show()",
                "fig-ch9-squares",
                "Squares grow fast: {glue:text}`ch9_last` at 4. "
                "See {numref}`fig-ch9-pair` and {cite:p}`key2020`.",
                "A rising curve of five points.",
            ),
            new_code_cell("glue('ch9_last', 4**2)\nglue('ch9_ratio', 0.12345, fmt='.2f')"),
            new_code_cell("plt.plot([1, 2])\nplt.show()  # a plot without figure metadata: not in the pack"),
            figure_cell(
                "for k in (1, 2):\n    plt.figure()\n    plt.bar(['a', 'b'], [k, 2 * k])\nplt.show()",
                "fig-ch9-pair",
                "Two bar charts, ratio {glue:text}`ch9_ratio`; see {ref}`the demo <ch-demo>`.",
                "Two bar charts of two bars each.",
            ),
        ]
    )
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("figures")
    chapter = synthetic_chapter(tmp / "09_demo.ipynb")
    out = tmp / "pack"
    make_figures.main([str(chapter), "--out", str(out)])
    return out


def test_every_figure_as_svg_and_png_with_licence_metadata(pack):
    from PIL import Image

    files = sorted(p.name for p in (pack / "09_demo").iterdir())
    assert files == [
        "fig-ch9-pair-2.png",
        "fig-ch9-pair-2.svg",
        "fig-ch9-pair.png",
        "fig-ch9-pair.svg",
        "fig-ch9-pair.txt",
        "fig-ch9-squares.png",
        "fig-ch9-squares.svg",
        "fig-ch9-squares.txt",
    ]
    svg = (pack / "09_demo" / "fig-ch9-squares.svg").read_text()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "CC BY 4.0" in svg and "fig-ch9-squares" in svg and "squares" in svg  # the legend, as text
    png = Image.open(pack / "09_demo" / "fig-ch9-squares.png")
    assert png.info["Copyright"].startswith("CC BY 4.0")
    assert png.size[0] == 2 * 640  # 6.4 in at 200 dpi


def test_manifest_and_readme_carry_captions_and_credit(pack):
    entries = json.loads((pack / "figures.json").read_text())
    assert [e["name"] for e in entries] == ["fig-ch9-squares", "fig-ch9-pair"]
    squares, pair = entries
    assert squares["caption"] == "Squares grow fast: 16 at 4. See fig-ch9-pair and (key2020)."
    assert pair["caption"] == "Two bar charts, ratio 0.12; see the demo."
    assert pair["files"] == [
        "09_demo/fig-ch9-pair.svg",
        "09_demo/fig-ch9-pair.png",
        "09_demo/fig-ch9-pair-2.svg",
        "09_demo/fig-ch9-pair-2.png",
    ]
    assert squares["alt"] == "A rising curve of five points."
    assert squares["licence"] == "CC BY 4.0" and 'chapter 9, "A demo chapter"' in squares["credit"]
    readme = (pack / "README.md").read_text()
    assert (
        "Creative Commons Attribution" in readme
        and squares["caption"] in readme
        and squares["credit"] in readme
    )
    sidecar = (pack / "09_demo" / "fig-ch9-squares.txt").read_text()
    assert squares["caption"] in sidecar and "Alt text: A rising curve" in sidecar and "CC BY 4.0" in sidecar


def test_svg_is_the_same_on_every_run(pack, tmp_path):
    chapter = synthetic_chapter(tmp_path / "09_demo.ipynb")
    make_figures.main([str(chapter), "--out", str(tmp_path / "again")])
    for name in ("fig-ch9-squares.svg", "fig-ch9-pair-2.svg"):
        assert (tmp_path / "again" / "09_demo" / name).read_text() == (pack / "09_demo" / name).read_text()


def test_a_figure_cell_without_alt_text_is_an_error():
    nb = {"cells": [figure_cell("plt.show()", "fig-x", "A caption.", "")]}
    with pytest.raises(ValueError, match="without alt"):
        make_figures.figure_cells(nb)


def test_a_figure_cell_that_shows_nothing_is_an_error(tmp_path):
    nb = new_notebook(cells=[figure_cell("x = 1", "fig-ch9-none", "Nothing.", "Nothing shown.")])
    nbformat.write(nb, tmp_path / "09_none.ipynb")
    with pytest.raises(RuntimeError, match="showed no figure"):
        make_figures.pack_notebook(tmp_path / "09_none.ipynb", tmp_path / "out")


def test_chapters_without_figure_cells_are_reported(tmp_path, capsys):
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), tmp_path / "08_plain.ipynb")
    make_figures.main([str(tmp_path / "08_plain.ipynb"), "--out", str(tmp_path / "out")])
    assert "no figure cells" in capsys.readouterr().err
    assert "No chapter has figure cells yet" in (tmp_path / "out" / "README.md").read_text()
