"""The labs: instructor and student versions, and autograding with nbgrader (scripts/labs.py).

Strict nbval of the instructor versions is `make nbval-labs`; here: the student versions are
current and hold no solution, the notebooks follow the book's conventions, and grading gives the
reference solutions full marks, the blank student versions zero, and partial work the points of
the tasks it gets right, within a time limit.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import labs  # noqa: E402

INSTRUCTOR = sorted(labs.INSTRUCTOR.glob("lab*.ipynb"))
STUDENT = [labs.LABS / path.name for path in INSTRUCTOR]
CHAPTER_OF = {
    "lab1_penalties": "ch-penalties",
    "lab2_dropout": "ch-dropout",
    "lab3_batchnorm": "ch-batchnorm",
    "lab4_adamw": "sec-adamw",
}


def cells(path):
    return json.loads(Path(path).read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def solution_lines(path):
    """The code lines between the solution markers of a notebook."""
    lines = []
    for cell in cells(path):
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source(cell), re.S):
            lines += [line.strip() for line in block.splitlines() if line.strip()]
    return lines


def test_four_labs_in_the_toc_after_the_chapters():
    import yaml

    assert [p.stem for p in INSTRUCTOR] == list(CHAPTER_OF)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    captions = [part["caption"] for part in toc["parts"]]
    assert captions.index("Labs") == captions.index("Chapters") + 1
    labs_part = toc["parts"][captions.index("Labs")]
    assert [entry["file"] for entry in labs_part["chapters"]] == [f"book/labs/{p.stem}" for p in INSTRUCTOR]


def test_student_versions_are_built_from_the_current_instructor_versions(tmp_path):
    built = labs.build(tmp_path)
    assert [p.name for p in built] == [p.name for p in STUDENT]
    for fresh, committed in zip(built, STUDENT, strict=True):
        assert json.loads(fresh.read_text()) == json.loads(committed.read_text()), (
            f"{committed.relative_to(ROOT)} is out of date: run `make labs`"
        )


@pytest.mark.parametrize("lab", INSTRUCTOR, ids=[p.stem for p in INSTRUCTOR])
def test_student_version_has_stubs_and_no_solution(lab):
    student = labs.LABS / lab.name
    text = student.read_text()
    solutions = solution_lines(lab)
    assert len(solutions) >= 3
    # Positive control: the same search finds every solution line in the instructor version.
    instructor_text = lab.read_text()
    for line in solutions:
        assert json.dumps(line)[1:-1] in instructor_text
    distinctive = [line for line in solutions if len(line) > 12]
    leaked = [line for line in distinctive if json.dumps(line)[1:-1] in text]
    assert not leaked, f"solution lines in {student.name}: {leaked}"
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    stubs = [c for c in cells(student) if c["metadata"].get("nbgrader", {}).get("solution")]
    assert stubs and all("raise NotImplementedError()" in source(c) for c in stubs)
    assert all(not c.get("outputs") for c in cells(student) if c["cell_type"] == "code")


@pytest.mark.parametrize("lab", INSTRUCTOR, ids=[p.stem for p in INSTRUCTOR])
def test_lab_follows_the_notebook_conventions(lab):
    all_cells = cells(lab)
    code = [c for c in all_cells if c["cell_type"] == "code"]
    markdown = "\n".join(source(c) for c in all_cells if c["cell_type"] == "markdown")
    # One label and one title, then ## only; a link to the chapter it practises.
    assert re.match(rf"\(lab-[a-z]+\)=\n# Lab {lab.stem[3]}: ", markdown)
    assert len(re.findall(r"^# ", markdown, re.M)) == 1
    assert not re.search(r"^#{3,} ", markdown, re.M)
    assert f"{{ref}}`{CHAPTER_OF[lab.stem]}`" in markdown
    # The seed in exactly one line; the install cell first.
    assert sum(line == "SEED = 0" for c in code for line in source(c).splitlines()) == 1
    assert "import regcode" in source(code[0])
    # Each graded checker cell comes right after the solution cell it checks.
    graded = labs.graded_cells(lab)
    assert graded and all(points > 0 for points in graded.values())
    for i, cell in enumerate(all_cells):
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade"):
            assert meta["locked"] and source(cell).startswith(f"checks.{meta['grade_id']}(")
            assert all_cells[i - 1]["metadata"].get("nbgrader", {}).get("solution")
    # Figures: the cell ends with plt.show() and carries a caption, a name and alt text.
    figures = [c for c in code if "plt.show()" in source(c)]
    assert figures
    for cell in figures:
        assert source(cell).rstrip().endswith("plt.show()")
        meta = cell["metadata"]["mystnb"]
        assert meta["figure"]["caption"] and meta["figure"]["name"].startswith("fig-lab")
        assert meta["image"]["alt"]
    # Executed top to bottom, without errors, every checker passing.
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1))
    outputs = [o for c in code for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    for cell in code:
        if cell["metadata"].get("nbgrader", {}).get("grade"):
            printed = "".join("".join(o.get("text", "")) for o in cell["outputs"])
            assert re.search(r"all \d+ (cases|checks) pass", printed), printed


def _copy_with(lab, student_dir, name, replace=None):
    """Write a submission of ``lab`` (the instructor version, optionally with one solution changed)."""
    nb = json.loads(lab.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        for old, new in (replace or {}).items():
            if old in source(cell):
                cell["source"] = source(cell).replace(old, new)
    student_dir.mkdir(parents=True, exist_ok=True)
    (student_dir / name).write_text(json.dumps(nb))


def test_grading_full_marks_zero_partial_and_time_limit(tmp_path):
    submissions = tmp_path / "submissions"
    by_stem = {p.stem: p for p in INSTRUCTOR}
    for lab in INSTRUCTOR:
        _copy_with(lab, submissions / "reference", lab.name)
        (submissions / "blank").mkdir(parents=True, exist_ok=True)
        (submissions / "blank" / f"renamed_{lab.stem[:4]}.ipynb").write_text(
            (labs.LABS / lab.name).read_text()
        )
    # The article's L1 penalty; Keras's running statistics; an infinite loop in the forward pass.
    _copy_with(
        by_stem["lab1_penalties"],
        submissions / "mistakes",
        "lab1_penalties.ipynb",
        {"return float(lam * np.sum(np.abs(w)))": "return float(np.sum(np.abs(w)) + lam * np.sum(w))"},
    )
    _copy_with(
        by_stem["lab3_batchnorm"],
        submissions / "mistakes",
        "lab3.ipynb",
        {
            "new_mean = (1 - momentum) * running_mean + momentum * batch_mean": (
                "new_mean = momentum * running_mean + (1 - momentum) * batch_mean"
            )
        },
    )
    never_ends = {"def dropout_forward(": "while True:\n    pass\n\n\ndef dropout_forward("}
    _copy_with(by_stem["lab2_dropout"], submissions, "looping.ipynb", never_ends)
    rows = labs.grade(submissions, tmp_path / "grades.csv", timeout=15)
    with open(tmp_path / "grades.csv") as fh:
        assert list(csv.DictReader(fh)) == [{k: str(v) for k, v in row.items()} for row in rows]
    points = {(r["student"], r["lab"], r["task"]): (r["points"], r["max_points"]) for r in rows}
    for lab in INSTRUCTOR:
        for task, max_points in labs.graded_cells(lab).items():
            assert points["reference", lab.stem, task] == (max_points, max_points)
            assert points["blank", lab.stem, task] == (0.0, max_points)
    assert points["mistakes", "lab1_penalties", "check_l1_penalty"][0] == 0.0
    assert points["mistakes", "lab1_penalties", "check_l2_penalty"][0] == 1.0
    assert points["mistakes", "lab1_penalties", "check_soft_threshold"][0] == 2.0
    assert points["mistakes", "lab3_batchnorm", "check_update_running_stats"][0] == 0.0
    assert points["mistakes", "lab3_batchnorm", "check_batchnorm_backward"][0] == 3.0
    # The cell that never ends is stopped by the time limit; the file name names the student.
    assert points["looping", "lab2_dropout", "check_dropout_forward"] == (0.0, 3.0)
    assert points["looping", "lab2_dropout", "check_dropout_backward"] == (0.0, 2.0)
    assert len(rows) == sum(len(labs.graded_cells(lab)) for lab in INSTRUCTOR) * 2 + 4 + 3 + 2


def test_unrecognised_notebooks_are_skipped(tmp_path, capsys):
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "notes.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4}))
    (tmp_path / "bob" / "lab4.ipynb").write_text((labs.LABS / "lab4_adamw.ipynb").read_text())
    found = labs.find_submissions(tmp_path)
    assert [(student, lab.stem) for student, lab, _ in found] == [("bob", "lab4_adamw")]
    assert "skipped bob/notes.ipynb" in capsys.readouterr().err


@pytest.fixture(scope="module")
def built_site():
    """The normal build in _build/html (make build-check runs before the unit tests), built if missing."""
    import subprocess

    html = ROOT / "_build" / "html"
    if not (html / "book" / "labs" / "lab1_penalties.html").exists():
        jupyter_book = Path(sys.executable).with_name("jupyter-book")
        subprocess.run(
            [str(jupyter_book), "build", str(ROOT), "-n", "--keep-going"],
            check=True,
            capture_output=True,
            timeout=900,
        )
    return html


def test_the_book_shows_the_student_versions_only(built_site):
    from bs4 import BeautifulSoup

    shown = " ".join(source(c) for path in STUDENT for c in cells(path))
    for lab in INSTRUCTOR:
        page = BeautifulSoup((built_site / "book" / "labs" / f"{lab.stem}.html").read_text(), "html.parser")
        text = " ".join(pre.get_text("") for pre in page.find_all("pre")) + page.get_text(" ")
        download = (built_site / "_sources" / "book" / "labs" / lab.name).read_text()
        # Control: code cells are searchable in the page and in the notebook behind the download button.
        for probe in ("raise NotImplementedError()", f"checks.{next(iter(labs.graded_cells(lab)))}("):
            assert probe in text and json.dumps(probe)[1:-1] in download
        distinctive = [line for line in solution_lines(lab) if len(line) > 20 and line not in shown]
        assert distinctive
        for line in distinctive:
            assert line not in text, f"{lab.stem}: solution line on the page: {line}"
            assert json.dumps(line)[1:-1] not in download, (
                f"{lab.stem}: solution line in the download: {line}"
            )
