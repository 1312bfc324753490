"""Build the book with every exercise solution removed, for setting graded exercises.

Writes a copy of _config.yml with sphinx-exercise's ``hide_solutions`` switched
on, builds into ``_build/nosolutions/_build/html``, and strips the
``{solution}`` blocks from the notebooks that the download button serves, so
that no solution reaches students through the page or through the .ipynb.

Usage: python scripts/build_nosolutions.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "nosolutions"
# A MyST solution directive: ```{solution} label ... ``` (backtick or colon fence, 3+ marks).
SOLUTION_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}.*?^(?P=fence)[ \t]*$\n?", re.M | re.S)


def strip_solutions(text):
    """Remove every ``{solution}`` directive block from MyST markdown text."""
    return SOLUTION_BLOCK.sub("", text)


def strip_notebook(path):
    """Remove solution blocks from the markdown cells of a notebook file, in place."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = strip_solutions(source)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config.setdefault("sphinx", {})
    sphinx.setdefault("config", {})["hide_solutions"] = True
    # Paths in the copied config are read relative to its new folder: make them absolute.
    for name, path in sphinx.get("local_extensions", {}).items():
        sphinx["local_extensions"][name] = str(ROOT / path)
    OUT.mkdir(parents=True, exist_ok=True)
    config_path = OUT / "_config.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [
            str(jb),
            "build",
            str(ROOT),
            "--config",
            str(config_path),
            "--path-output",
            str(OUT),
            "-W",
            "-n",
            "--keep-going",
        ],
        check=True,
    )
    for source in (OUT / "_build" / "html" / "_sources").rglob("*.ipynb"):
        strip_notebook(source)
    print(f"Book without solutions: {OUT / '_build' / 'html' / 'index.html'}")


if __name__ == "__main__":
    main()
