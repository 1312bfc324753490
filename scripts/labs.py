"""The labs: student versions, instructor versions and autograding, with nbgrader.

The instructor versions, ``book/labs/instructor/labN_*.ipynb``, are the sources: each reference
solution sits between nbgrader's ``### BEGIN SOLUTION`` and ``### END SOLUTION`` markers, and
each checker cell is an nbgrader autograder cell (``grade: true``, locked, with its points). They
are committed with their outputs and tested by strict nbval.

``build`` runs ``nbgrader generate_assignment`` on them, which replaces every solution with a
stub (``raise NotImplementedError()``), clears the outputs and records checksums of the locked
cells. The results are the student versions, ``book/labs/labN_*.ipynb``: what the book shows and
what students download.

``grade`` autogrades a folder of submitted lab notebooks with ``nbgrader autograde`` (a fresh
kernel per notebook, the checker cells restored from the instructor version, a time limit per
cell) and writes a CSV with one row per student, lab and task.

Usage::

    python scripts/labs.py build                    # student versions into book/labs/
    python scripts/labs.py execute                  # re-execute the instructor versions in place
    python scripts/labs.py grade SUBMISSIONS [--csv grades.csv] [--timeout 120]

In SUBMISSIONS, a notebook in a subfolder belongs to the student named by the subfolder
(``alice/lab2_dropout.ipynb``); a notebook at the top belongs to the student named by its file
name (``alice.ipynb``). The lab is recognised from the notebook's graded cells, so renamed files
are graded too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABS = ROOT / "book" / "labs"
INSTRUCTOR = LABS / "instructor"
DEFAULT_TIMEOUT = 120  # seconds per cell; every lab cell runs in seconds
CSV_FIELDS = ["student", "lab", "task", "points", "max_points"]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def instructor_versions():
    """The instructor notebooks, in lab order."""
    labs = sorted(INSTRUCTOR.glob("lab[0-9]*_*.ipynb"))
    if not labs:
        raise SystemExit(f"no lab notebooks in {INSTRUCTOR}")
    return labs


def graded_cells(path):
    """``{grade_id: points}`` of the autograder cells of a notebook."""
    cells = json.loads(Path(path).read_text())["cells"]
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: cell["metadata"]["nbgrader"].get("points", 0)
        for cell in cells
        if cell["metadata"].get("nbgrader", {}).get("grade")
    }


def _api(root, timeout=DEFAULT_TIMEOUT):
    """An nbgrader API on a course directory at ``root`` (imported here: only this script needs nbgrader)."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    # nbgrader runs the `alembic` command of its own environment: put it on PATH when the
    # script is run as .venv/bin/python without activating the environment.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.Execute.timeout = timeout
    config.NbGraderAPI.log_level = "WARN"
    return NbGraderAPI(config=config)


def _run(result, what):
    if not result["success"]:
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('log', '')}\n{result.get('error', '')}")


def _generate(api, root):
    """Copy every instructor version into the course's source folder and generate its release."""
    for lab in instructor_versions():
        source = root / "source" / lab.stem
        source.mkdir(parents=True, exist_ok=True)
        shutil.copy(lab, source / lab.name)
        _run(api.generate_assignment(lab.stem), f"generate_assignment {lab.stem}")


def build(out_dir=LABS):
    """Write the student version of every lab into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="labs-course-") as tmp:
        root = Path(tmp)
        _generate(_api(root), root)
        for lab in instructor_versions():
            release = root / "release" / lab.stem / lab.name
            nb = json.loads(release.read_text())
            for cell in nb["cells"]:  # execution timestamps of the instructor run
                cell["metadata"].pop("execution", None)
            # A fixed kernel and language record: the release must not depend on who built it.
            nb["metadata"] = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
            target = out_dir / lab.name
            target.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
            written.append(target)
    return written


def execute():
    """Re-execute every instructor version top to bottom in a fresh kernel, in place."""
    jupyter = Path(sys.executable).with_name("jupyter")
    for lab in instructor_versions():
        subprocess.run([str(jupyter), "execute", "--inplace", str(lab)], check=True)


def _lab_of(path, labs):
    """The lab whose graded cells the submitted notebook has, or ``None``."""
    try:
        ids = set(graded_cells(path))
    except (json.JSONDecodeError, KeyError, UnicodeDecodeError):
        return None
    matches = [lab for lab in labs if ids & set(graded_cells(lab))]
    return matches[0] if len(matches) == 1 else None


def find_submissions(folder):
    """``[(student, lab_path, notebook)]`` for every recognisable notebook in ``folder``."""
    folder = Path(folder)
    labs = instructor_versions()
    found = []
    for notebook in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        relative = notebook.relative_to(folder)
        student = relative.parts[0] if len(relative.parts) > 1 else notebook.stem
        lab = _lab_of(notebook, labs)
        if lab is None:
            print(f"skipped {relative}: not one of the labs (no known graded cells)", file=sys.stderr)
            continue
        found.append((student, lab, notebook))
    return found


def grade(submissions, csv_path, timeout=DEFAULT_TIMEOUT):
    """Autograde every lab notebook in ``submissions``; write and return the rows of the CSV."""
    from nbgrader.api import Gradebook

    # nbgrader's gradebook triggers SQLAlchemy's "not in session" warnings; they are harmless here.
    warnings.filterwarnings("ignore", message=".*not in session.*")

    found = find_submissions(submissions)
    if not found:
        raise SystemExit(f"no lab notebooks found in {submissions}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="labs-grading-") as tmp:
        root = Path(tmp)
        api = _api(root, timeout)
        _generate(api, root)
        for student, lab, notebook in found:
            target = root / "submitted" / student / lab.stem / lab.name
            if target.exists():
                raise SystemExit(f"two submissions of {lab.stem} by {student}: {notebook}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(notebook, target)
        for student, lab, _ in found:
            result = api.autograde(lab.stem, student)
            scores = {}
            if result["success"]:
                with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
                    submission = gradebook.find_submission_notebook(lab.stem, lab.stem, student)
                    scores = {g.name: g.score for g in submission.grades if g.auto_score is not None}
            else:  # a notebook nbgrader cannot read or run scores 0 on every task
                print(f"could not autograde {student}/{lab.stem}:\n{result.get('log', '')}", file=sys.stderr)
            for task, max_points in graded_cells(lab).items():
                rows.append(
                    {
                        "student": student,
                        "lab": lab.stem,
                        "task": task,
                        "points": float(scores.get(task, 0.0)),
                        "max_points": float(max_points),
                    }
                )
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _summary(rows):
    totals = {}
    for row in rows:
        key = (row["student"], row["lab"])
        got, out_of = totals.get(key, (0.0, 0.0))
        totals[key] = (got + row["points"], out_of + row["max_points"])
    for (student, lab), (got, out_of) in totals.items():
        print(f"{student:20s} {lab:18s} {got:4.0f} / {out_of:.0f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="student versions into book/labs/")
    sub.add_parser("execute", help="re-execute the instructor versions in place")
    grading = sub.add_parser("grade", help="autograde a folder of submitted lab notebooks")
    grading.add_argument("submissions", type=Path)
    grading.add_argument("--csv", type=Path, default=ROOT / "_build" / "labs" / "grades.csv")
    grading.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.command == "build":
        for path in build():
            print(f"wrote {path.relative_to(ROOT)}")
    elif args.command == "execute":
        execute()
    else:
        rows = grade(args.submissions, args.csv, args.timeout)
        _summary(rows)
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
