"""Run the student zip as a student would, and fail if any chapter does not run or misses a figure.

1. Unzip ``_build/notebooks.zip`` into a temporary folder.
2. Create a fresh virtual environment there (``python3 -m venv``) and install the
   zip's ``requirements.txt`` and nothing else; check that no book tooling
   (myst-nb, Jupyter Book, Sphinx) came with it and that ``import regcode``
   finds the zip's copy.
3. Execute each chapter with nbclient in that environment, offline (pip has no
   index and every proxy points nowhere), from the unzipped folder, in a kernel
   that is the environment's own Python.
4. Check that no cell raised and that each chapter shows as many ``image/png``
   outputs as its source has figures (figure-metadata cells plus
   ``{glue:figure}`` directives).

Usage: python scripts/check_student_zip.py [--zip _build/notebooks.zip] [--python python3] [chapter ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

import convert_notebooks  # noqa: E402
import make_notebooks_zip  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("myst_nb", "jupyter_book", "myst_parser", "sphinx", "nbval")
OFFLINE = {
    "PIP_NO_INDEX": "1",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "no_proxy": "",
    "NO_PROXY": "",
}

# Runs inside the student environment: execute one notebook and write it back.
RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
path, folder, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(path, as_version=4)
for cell in nb.cells:  # what the zip stored must not count as a result of this run
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
client = NotebookClient(nb, timeout=timeout, kernel_name="student", allow_errors=True,
                        resources={"metadata": {"path": folder}})
client.execute()
nbformat.write(nb, path)
"""


def _run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


def make_venv(python, folder, requirements):
    """A fresh venv in ``folder`` with ``requirements`` installed; returns its python."""
    _run([python, "-m", "venv", str(folder)])
    venv_python = folder / "bin" / "python"
    version = _run(
        [str(venv_python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    ).stdout.strip()
    if tuple(map(int, version.split("."))) < tuple(map(int, make_notebooks_zip.python_version().split("."))):
        raise SystemExit(
            f"{python} is Python {version}; the zip promises {make_notebooks_zip.python_version()}+"
        )
    _run([str(venv_python), "-m", "pip", "install", "--quiet", "-r", str(requirements)])
    return venv_python, version


def kernel_spec(venv_python, data_dir):
    """A kernelspec "student" that starts the venv's own Python (no user or system kernelspec can win)."""
    spec = data_dir / "kernels" / "student"
    spec.mkdir(parents=True)
    argv = [str(venv_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "student", "language": "python"})
    )


def check_environment(venv_python, top, env):
    found = _run(
        [
            str(venv_python),
            "-c",
            f"import importlib.util as u; print([m for m in {FORBIDDEN!r} if u.find_spec(m)])",
        ],
        env=env,
    ).stdout.strip()
    if found != "[]":
        raise SystemExit(f"the student requirements pulled in book tooling: {found}")
    where = _run([str(venv_python), "-c", "import regcode; print(regcode.__file__)"], cwd=top, env=env).stdout
    if not Path(where.strip()).resolve().is_relative_to(top.resolve()):
        raise SystemExit(f"import regcode found {where.strip()}, not the zip's copy in {top}")


def execute(venv_python, notebook, top, env, timeout):
    start = time.perf_counter()
    _run([str(venv_python), "-c", RUNNER, str(notebook), str(top), str(timeout)], cwd=top, env=env)
    return time.perf_counter() - start


def problems(executed, expected_figures):
    """What is wrong with an executed notebook (an empty list if nothing)."""
    found, errors = [], []
    cells = [c for c in executed["cells"] if c["cell_type"] == "code"]
    for index, cell in enumerate(cells):
        if cell.get("execution_count") is None:
            found.append(f"code cell {index} was not executed")
        for output in cell.get("outputs", []):
            if output["output_type"] == "error":
                errors.append(f"code cell {index} raised {output['ename']}: {output['evalue']}")
    if errors:  # the first error, and how many cells failed after it (often its consequences)
        found.append(
            errors[0] + (f" (and {len(errors) - 1} later cells raised too)" if len(errors) > 1 else "")
        )
    images = sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
    if images != expected_figures:
        found.append(f"{images} image/png outputs, but the chapter has {expected_figures} figures")
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="chapter file names to run (default: all in the zip)")
    parser.add_argument(
        "--zip", type=Path, default=ROOT / "_build" / make_notebooks_zip.ZIP_NAMES["students"]
    )
    parser.add_argument(
        "--python", default=os.environ.get("PYTHON", "python3"), help="the Python for the venv"
    )
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    if not args.zip.exists():
        raise SystemExit(f"{args.zip} not found: run `make notebooks`")
    failures = {}
    with tempfile.TemporaryDirectory(prefix="student-zip-") as tmp:
        tmp = Path(tmp)
        with zipfile.ZipFile(args.zip) as zf:
            zf.extractall(tmp / "unzipped")
        top = tmp / "unzipped" / make_notebooks_zip.TOP
        notebooks = sorted(top.glob(convert_notebooks.CHAPTER_GLOB))
        if args.chapters:
            notebooks = [n for n in notebooks if n.name in args.chapters or n.stem in args.chapters]
        if not notebooks:
            raise SystemExit("no chapters to run")
        start = time.perf_counter()
        venv_python, version = make_venv(args.python, tmp / "venv", top / "requirements.txt")
        seconds = time.perf_counter() - start
        print(f"fresh venv (Python {version}) with the zip's requirements.txt: {seconds:.0f} s", flush=True)
        jupyter = {f"JUPYTER_{k}": str(tmp / k.lower()) for k in ("DATA_DIR", "CONFIG_DIR", "RUNTIME_DIR")}
        env = {
            **os.environ,
            **OFFLINE,
            **jupyter,
            "IPYTHONDIR": str(tmp / "ipython"),
            "MPLCONFIGDIR": str(tmp / "mpl"),
        }
        env["JUPYTER_PATH"] = str(tmp / "data_dir")
        env.pop("PYTHONPATH", None)
        kernel_spec(venv_python, tmp / "data_dir")
        check_environment(venv_python, top, env)
        for notebook in notebooks:
            source = ROOT / "book" / notebook.name
            expected = convert_notebooks.source_figure_count(nbformat.read(str(source), as_version=4))
            try:
                seconds = execute(venv_python, notebook, top, env, args.timeout)
            except subprocess.CalledProcessError as exc:
                failures[notebook.name] = [f"nbclient failed: {exc.stderr.strip()[-2000:]}"]
                continue
            found = problems(json.loads(notebook.read_text()), expected)
            status = "ok" if not found else "FAILED"
            print(f"{notebook.name}: {status} in {seconds:.1f} s, {expected} figures", flush=True)
            if found:
                failures[notebook.name] = found
    for name, found in failures.items():
        print(f"\n{name}:\n  " + "\n  ".join(found))
    if failures:
        raise SystemExit(f"{len(failures)} of {len(notebooks)} chapters failed in the student environment")
    print(f"all {len(notebooks)} chapters ran in a fresh environment with only the zip's requirements.txt")


if __name__ == "__main__":
    main()
