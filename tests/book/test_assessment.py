"""The assessment bank (assessment/): questions per chapter, answer keys apart, project brief and rubric."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT / "assessment"
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
FILES = {f"ch{int(name[:2])}_{name[3:]}": int(name[:2]) for name in CHAPTERS}
KINDS = {"derivation", "conversion", "predict-the-plot", "numeric", "concept"}
QUESTION = re.compile(r"^### Q(\d+)\.(\d+) \(([a-z-]+), (\d+) points?\)$", re.M)


def questions(stem):
    return QUESTION.findall((BANK / "questions" / f"{stem}.md").read_text())


def answer_ids(stem):
    return re.findall(r"^### A(\d+\.\d+)$", (BANK / "answers" / f"{stem}.md").read_text(), re.M)


def test_one_question_file_and_one_answer_key_per_chapter():
    assert len(FILES) == 5
    assert sorted(p.stem for p in (BANK / "questions").glob("*.md")) == sorted(FILES)
    assert sorted(p.stem for p in (BANK / "answers").glob("*.md")) == sorted(FILES)


@pytest.mark.parametrize("stem", sorted(FILES))
def test_at_least_eight_questions_of_the_three_kinds_each_answered(stem):
    found = questions(stem)
    assert len(found) >= 8
    assert all(int(chapter) == FILES[stem] for chapter, _, _, _ in found)
    assert [int(n) for _, n, _, _ in found] == list(range(1, len(found) + 1))
    kinds = {kind for _, _, kind, _ in found}
    assert kinds <= KINDS and {"derivation", "conversion", "predict-the-plot"} <= kinds
    ids = [f"{chapter}.{n}" for chapter, n, _, _ in found]
    assert answer_ids(stem) == ids  # every question answered, in order, and nothing else
    text = (BANK / "questions" / f"{stem}.md").read_text()
    assert "### A" not in text  # no answer in the questions


def test_the_bank_is_not_part_of_the_book():
    toc = (ROOT / "_toc.yml").read_text()
    assert "assessment" not in toc
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config.get("only_build_toc_files") is True  # so nothing outside the toc is built


def test_project_brief_and_rubric():
    brief = (BANK / "project" / "brief.md").read_text()
    for step in ("Split first", "baseline", "Early stopping", "AdamW", "Seeds", "Test once"):
        assert step in brief
    rubric = (BANK / "project" / "rubric.md").read_text()
    criteria = re.findall(r"^\| \*\*\d\. [^*]+\*\* \((\d+)\) \|", rubric, re.M)
    assert len(criteria) == 7 and sum(int(points) for points in criteria) == 20
    assert "Twenty points" in rubric
