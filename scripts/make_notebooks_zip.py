"""Write _build/notebooks.zip: the chapters and regcode, for students who download instead of cloning.

The zip holds the chapter notebooks at its top level with ``regcode/`` beside
them, so ``import regcode`` works from a notebook opened in the unzipped
folder without installing anything; ``requirements.txt`` and
``pyproject.toml`` are included for a full install.

Usage: python scripts/make_notebooks_zip.py [output.zip]
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = "regularization-book"

STUDENT_README = """\
# Regularization for Deep Neural Networks: notebooks

The chapters of the book as Jupyter notebooks, with the `regcode` package they import.

1. Unzip this folder and open a terminal in it.
2. Install the pinned packages (once), preferably in a virtual environment:

       python -m venv .venv
       .venv/bin/pip install -r requirements.txt     # Windows: .venv\\Scripts\\pip ...

   Any environment with numpy, matplotlib, scikit-learn and Jupyter also works:
   the notebooks import `regcode` from the folder beside them.
3. Start Jupyter in this folder (`.venv/bin/jupyter lab`) and open a chapter.

Each chapter runs top to bottom in seconds. With the pinned versions your numbers
match the book's; other versions may differ in the last digits.
"""


def build(out_path):
    notebooks = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise SystemExit("no chapter notebooks found in book/")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for nb in notebooks:
            zf.write(nb, f"{TOP}/{nb.name}")
        for py in sorted((ROOT / "regcode").glob("*.py")):
            zf.write(py, f"{TOP}/regcode/{py.name}")
        for name in ("requirements.txt", "pyproject.toml", "LICENSE"):
            zf.write(ROOT / name, f"{TOP}/{name}")
        zf.writestr(f"{TOP}/README.md", STUDENT_README)
    return out_path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "notebooks.zip"
    print(f"wrote {build(target)}")
