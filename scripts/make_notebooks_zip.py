"""Write the notebooks students and instructors download: _build/notebooks.zip and
_build/notebooks-solutions.zip.

Each zip holds one folder with

- the chapters converted to plain Jupyter notebooks (scripts/convert_notebooks.py):
  no exercise solutions in ``notebooks.zip``, solutions in collapsed blocks in
  ``notebooks-solutions.zip``;
- ``regcode/``, the whole package, beside them: a notebook opened in the folder
  imports it without installing it;
- ``requirements.txt``: numpy, matplotlib, scikit-learn and JupyterLab, at the
  versions of the project's requirements.txt (nothing that builds or tests the book);
- ``runtime.txt`` (Binder's Python version), a small ``pyproject.toml`` (``pip install .``
  installs regcode into any environment), ``LICENSE`` and a README.

The student zip's content is also what the GitHub workflow publishes to the
``notebooks`` branch that Binder and Colab open.

Usage: python scripts/make_notebooks_zip.py [--variant students|instructors|both] [--out-dir _build]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import convert_notebooks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOP = "regularization-book"
ZIP_NAMES = {"students": "notebooks.zip", "instructors": "notebooks-solutions.zip"}
# What a student needs to run the chapters, and nothing else; versions from requirements.txt.
STUDENT_PACKAGES = ("numpy", "matplotlib", "scikit-learn", "jupyterlab")
# Fixed timestamps: the same sources give the same zip.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def python_version():
    """The oldest supported Python, "3.11", from pyproject.toml's requires-python (">=3.11")."""
    spec = project()["requires-python"]
    match = re.fullmatch(r">=\s*(\d+\.\d+)", spec.strip())
    if not match:
        raise SystemExit(f"requires-python should read '>=X.Y', got {spec!r}")
    return match.group(1)


def student_requirements():
    """requirements.txt for students: STUDENT_PACKAGES at the project's pinned versions."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line.split("#")[0].strip())
        if match:
            pins[_normalise(match.group(1))] = f"{match.group(1)}=={match.group(2)}"
    missing = [name for name in STUDENT_PACKAGES if _normalise(name) not in pins]
    if missing:
        raise SystemExit(f"requirements.txt pins no version of {missing}")
    lines = [pins[_normalise(name)] for name in STUDENT_PACKAGES]
    return (
        "# What the notebooks need, at the versions the book was run with.\n"
        f"# Python {python_version()} or newer. Install: pip install -r requirements.txt\n"
        + "\n".join(lines)
        + "\n"
    )


def zip_pyproject():
    """A pyproject.toml that installs regcode (with its subpackages) and its own dependencies."""
    meta = project()
    deps = ", ".join(json.dumps(d) for d in meta["dependencies"])  # a JSON string is a TOML basic string
    return (
        "# `pip install .` installs regcode into the current environment (the notebooks also\n"
        "# import it from this folder without installing it).\n"
        "[build-system]\n"
        'requires = ["setuptools>=68"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        + "".join(
            f"{key} = {json.dumps(meta[key])}\n"
            for key in ("name", "version", "description", "requires-python")
        )
        + f"dependencies = [{deps}]\n\n"
        "[tool.setuptools.packages.find]\n"
        'include = ["regcode", "regcode.*"]\n'
    )


def readme(variant, notebooks):
    version = python_version()
    url = convert_notebooks.book_url()
    chapters = "\n".join(f"- `{p.name}`" for p in notebooks)
    if variant == "students":
        exercises = "The exercises are at the end of each chapter; their solutions are not included."
    else:
        exercises = (
            "This is the instructors' copy: each exercise is followed by its solution in a collapsed\n"
            '"Solution" block. Hand students `notebooks.zip`, which has no solutions.'
        )
    return f"""\
# Regularization for Deep Neural Networks: the notebooks

The chapters of the book ({url}) as Jupyter notebooks, with the `regcode` package
they import. Every notebook already shows the book's results: read it as it is, then run it
and change things.

{chapters}

{exercises}

## Run them

You need Python {version} or newer.

1. Unzip this folder and open a terminal in it.
2. Create a virtual environment and install the packages (once):

       python3 -m venv .venv
       .venv/bin/pip install -r requirements.txt

   On Windows: `py -m venv .venv` and `.venv\\Scripts\\pip install -r requirements.txt`.
3. Start JupyterLab in this folder and open a chapter:

       .venv/bin/jupyter lab

   (Windows: `.venv\\Scripts\\jupyter lab`.) "Run > Run All Cells" runs a chapter in seconds.

The notebooks import `regcode` from the folder beside them, so nothing else is installed.
Any environment with numpy, matplotlib, scikit-learn and Jupyter works too; `pip install .`
installs `regcode` into it. With the versions in `requirements.txt` your numbers match the
book's; other versions may differ in the last digits.

## What is here

- `NN_*.ipynb`: the chapters;
- `regcode/`: the tested numpy code behind every number and figure;
- `requirements.txt`: numpy, matplotlib, scikit-learn and JupyterLab, pinned;
- `runtime.txt`: the Python version, for Binder;
- `pyproject.toml`: `pip install .` installs `regcode`;
- `LICENSE`: code MIT, text and figures CC BY 4.0.
"""


def package_files():
    """Every file of the regcode package (subpackages included), without caches."""
    files = []
    for path in sorted((ROOT / "regcode").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            files.append(path)
    if (ROOT / "regcode" / "__init__.py") not in files:
        raise SystemExit("regcode/__init__.py not found")
    return files


def _write(zf, name, data):
    info = zipfile.ZipInfo(f"{TOP}/{name}", date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def build(out_path=None, variant="students", notebooks_dir=None):
    """Write the zip of ``variant``; returns its path.

    ``notebooks_dir`` holds converted notebooks to use; by default the chapters are
    converted here.
    """
    out_path = Path(out_path) if out_path else ROOT / "_build" / ZIP_NAMES[variant]
    with tempfile.TemporaryDirectory() as tmp:
        if notebooks_dir is None:
            written = convert_notebooks.convert_chapters(tmp, (variant,))[variant]
        else:
            written = sorted(Path(notebooks_dir).glob(convert_notebooks.CHAPTER_GLOB))
        if not written:
            raise SystemExit("no converted notebooks to zip")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out_path, "w") as zf:
            for notebook in written:
                _write(zf, notebook.name, notebook.read_bytes())
            for path in package_files():
                _write(zf, path.relative_to(ROOT).as_posix(), path.read_bytes())
            _write(zf, "requirements.txt", student_requirements())
            _write(zf, "runtime.txt", f"python-{python_version()}\n")
            _write(zf, "pyproject.toml", zip_pyproject())
            _write(zf, "LICENSE", (ROOT / "LICENSE").read_bytes())
            _write(zf, "README.md", readme(variant, written))
    return out_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=(*ZIP_NAMES, "both"), default="both")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "_build")
    args = parser.parse_args(argv)
    variants = tuple(ZIP_NAMES) if args.variant == "both" else (args.variant,)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            written = convert_notebooks.convert_chapters(tmp, variants)
            for variant in variants:
                path = build(args.out_dir / ZIP_NAMES[variant], variant, Path(tmp) / variant)
                print(f"wrote {path} ({variant}: {len(written[variant])} notebooks)")
    except convert_notebooks.ConversionError as exc:
        raise SystemExit(f"make_notebooks_zip: {exc}") from None


if __name__ == "__main__":
    main()
