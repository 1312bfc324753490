"""The plain notebooks students run (scripts/convert_notebooks.py) and the zips that carry them.

Two parts:

- every chapter, converted: no MyST syntax left, every placeholder filled, every
  figure present as ``image/png``, no solution text for students and all of it for
  instructors (the positive control), numbers as the built book shows them;
- each conversion rule on small synthetic notebooks, and the errors the converter
  must raise (an unknown role, directive or option; a missing glue key).

The checks on the converted chapters use their own patterns, not the converter's.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import build_nosolutions  # noqa: E402
import convert_notebooks as cn  # noqa: E402
import make_notebooks_zip  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
CHAPTER_IDS = [p.stem for p in CHAPTERS]
HTML = ROOT / "_build" / "html"

# MyST syntax, written independently of the converter.
ROLE = re.compile(r"\{[A-Za-z][\w:.+-]*\}`")
DIRECTIVE = re.compile(r"^\s*(?:>\s*)*(?:`{3,}|:{3,})\s*\{", re.M)
COLON_FENCE = re.compile(r"^\s*:{3,}", re.M)
TARGET = re.compile(r"^\s*\([\w.:-]+\)=\s*$", re.M)
EQ_LABEL = re.compile(r"\$\$\s*\([\w.:-]+\)\s*$", re.M)
GLUE_FIGURE = re.compile(r"^\s*(?:`{3,}|:{3,})\{glue:figure\}", re.M)
SOLUTION_BLOCK = build_nosolutions.SOLUTION_BLOCK


def _normalise(text):
    """Letters, digits and single spaces: compares text across Markdown rewrites."""
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", text).split())


def _markdown(nb):
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _images(nb):
    """image/png outputs and image/png attachments of a notebook."""
    outputs = [o for c in _code_cells(nb) for o in c.outputs if "image/png" in o.get("data", {})]
    attachments = [
        a for c in nb.cells if c.cell_type == "markdown" for a in (c.get("attachments") or {}).values()
    ]
    return outputs + [a for a in attachments if "image/png" in a]


def _source_figures(nb):
    """Figures of a source chapter: figure-metadata cells plus {glue:figure} directives."""
    cells = sum(1 for c in _code_cells(nb) if isinstance(c.metadata.get("mystnb", {}).get("figure"), dict))
    return cells + sum(len(GLUE_FIGURE.findall(s)) for s in _markdown(nb))


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """{(chapter stem, variant): converted notebook} for every chapter, converted once."""
    if not CHAPTERS:
        pytest.fail("no chapter notebooks in book/")
    out = tmp_path_factory.mktemp("plain")
    written = cn.convert_chapters(out)
    return {
        (path.stem, variant): nbformat.read(str(path), as_version=4)
        for variant, paths in written.items()
        for path in paths
    }


# --------------------------------------------------------------------------------------------
# The chapters, converted
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", cn.VARIANTS)
@pytest.mark.parametrize("chapter", CHAPTER_IDS)
def test_no_myst_syntax_is_left(converted, chapter, variant):
    nb = converted[(chapter, variant)]
    for text in _markdown(nb):
        for pattern in (ROLE, DIRECTIVE, COLON_FENCE, TARGET, EQ_LABEL):
            match = pattern.search(text)
            assert match is None, (
                f"{chapter} ({variant}): MyST left: {text[match.start() : match.start() + 80]!r}"
            )
        assert "{glue" not in text
    for cell in _code_cells(nb):
        assert not re.search(r"\bglue\b", cell.source), f"{chapter}: glue left in {cell.source[:80]!r}"
        assert "remove-cell" not in cell.metadata.get("tags", []) and "mystnb" not in cell.metadata
        for output in cell.outputs:
            assert not any(k.startswith("application/papermill.record") for k in output.get("data", {}))
    nbformat.validate(nb)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_every_placeholder_is_filled_with_its_value(converted, chapter):
    """Each {glue:text} becomes its stored value formatted by myst-nb, where the placeholder stood."""
    from myst_nb.core.variables import format_plain_text

    source = nbformat.read(str(chapter), as_version=4)
    stored = {}
    for cell in _code_cells(source):
        for output in cell.outputs:
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if "application/papermill.record/text/plain" in output.get("data", {}):
                stored[name] = output["data"]["application/papermill.record/text/plain"]
    text = _normalise("\n".join(_markdown(converted[(chapter.stem, "instructors")])))
    placeholders = checked = 0
    for markdown in _markdown(source):
        for match in re.finditer(r"\{glue:text\}`([^`]+)`", markdown):
            placeholders += 1
            key, _, spec = (
                match.group(1).rpartition(":") if ":" in match.group(1) else (match.group(1), "", "s")
            )
            assert key in stored, f"{chapter.name}: {key!r} has no stored value"
            # The value with up to three plain words of the same line around it (markup ends the run).
            value = format_plain_text(stored[key], spec)
            before = re.split(r"[`{}$*_\[\]()<>|\n]", markdown[: match.start()])[-1]
            after = re.split(r"[`{}$*_\[\]()<>|\n]", markdown[match.end() :])[0]
            if _normalise(before) and before.endswith(" "):
                expected = _normalise(" ".join(_normalise(before).split()[-3:]) + " " + value)
            elif _normalise(after) and after.startswith(" "):
                expected = _normalise(value + " " + " ".join(_normalise(after).split()[:3]))
            else:
                continue
            assert expected in text, f"{chapter.name}: {match.group(0)} not filled in as {expected!r}"
            checked += 1
    assert checked >= 2 * placeholders / 3, f"{chapter.name}: only {checked} of {placeholders} checked"
    for variant in cn.VARIANTS:
        assert "glue:" not in "\n".join(_markdown(converted[(chapter.stem, variant)]))


@pytest.mark.parametrize("variant", cn.VARIANTS)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_every_figure_is_an_image_with_its_numbered_caption(converted, chapter, variant):
    source = nbformat.read(str(chapter), as_version=4)
    expected = _source_figures(source)
    nb = converted[(chapter.stem, variant)]
    images = _images(nb)
    assert len(images) == expected, f"{chapter.name} ({variant}): {len(images)} images, {expected} figures"
    for image in images:
        data = image["data"]["image/png"] if "data" in image else image["image/png"]
        assert base64.b64decode(data).startswith(b"\x89PNG")
    number = int(chapter.name[:2])
    captions = re.findall(r"\*\*Figure (\d+)\.(\d+)\.\*\*", "\n".join(_markdown(nb)))
    assert captions == [(str(number), str(k)) for k in range(1, expected + 1)]


def _solution_lines(path):
    """Distinctive prose lines of each solution in a chapter's source: {exercise label: [lines]}."""
    lines = {}
    for text in _markdown(nbformat.read(str(path), as_version=4)):
        for match in SOLUTION_BLOCK.finditer(text):
            label = match.group(0).split("\n", 1)[0].split("}", 1)[1].strip()
            prose, in_code = [], False
            for line in match.group(0).split("\n")[1:-1]:
                if line.lstrip().startswith(("```", "~~~")):
                    in_code = not in_code
                elif not in_code and not line.startswith(":") and not ROLE.search(line):
                    prose.append(line)
            # Lines of prose words, long enough to be found nowhere else.
            distinctive = [_normalise(ln) for ln in prose if len(re.findall(r"[A-Za-z]{2,}", ln)) >= 8]
            assert distinctive, f"{path.name}: solution to {label} has no plain prose line to look for"
            lines[label] = distinctive
    return lines


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_students_get_no_solution_and_instructors_every_solution(converted, chapter):
    solutions = _solution_lines(chapter)
    assert solutions, f"{chapter.name} has no exercise solutions"
    students = _normalise("\n".join(c.source for c in converted[(chapter.stem, "students")].cells))
    instructors = _normalise("\n".join(c.source for c in converted[(chapter.stem, "instructors")].cells))
    for label, lines in solutions.items():
        for line in lines:
            assert line in instructors, (
                f"control: solution to {label} not in the instructors' notebook: {line!r}"
            )
            assert line not in students, f"solution to {label} leaked to students: {line!r}"
    raw_students = "\n".join(_markdown(converted[(chapter.stem, "students")]))
    raw_instructors = "\n".join(_markdown(converted[(chapter.stem, "instructors")]))
    assert "<details>" not in raw_students and "<summary>" not in raw_students
    assert raw_instructors.count("<summary>Solution</summary>") == len(solutions)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_code_outputs_and_counts_are_kept(converted, chapter):
    """Apart from glue, code cells are the source's: same code, outputs and execution counts."""
    source = nbformat.read(str(chapter), as_version=4)
    plain = _code_cells(converted[(chapter.stem, "students")])
    by_count = {c.execution_count: c for c in plain}
    for cell in _code_cells(source):
        if "glue" in cell.source or "remove-cell" in cell.metadata.get("tags", []):
            continue
        twin = by_count.get(cell.execution_count)
        assert twin is not None and twin.source == cell.source, (
            f"{chapter.name}: cell [{cell.execution_count}]"
        )
        assert twin.outputs == cell.outputs


@functools.cache
def _book_labels():
    return cn.collect_labels(CHAPTERS)


def _fresh_html(chapter):
    page = HTML / "book" / f"{chapter.stem}.html"
    if not page.exists() or page.stat().st_mtime < chapter.stat().st_mtime:
        if os.environ.get("CI"):
            pytest.fail(
                f"{page} is missing or older than {chapter.name}: CI builds the book before the tests"
            )
        pytest.skip(f"{page} is missing or older than its chapter: run `make book` (make test does)")
    from bs4 import BeautifulSoup

    return BeautifulSoup(page.read_text(), "html.parser")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_numbers_are_those_of_the_built_book(chapter):
    """Figures, equations, exercises and sections are numbered as the HTML numbers them."""
    soup = _fresh_html(chapter)
    labels = {k: t for k, t in _book_labels().items() if t.doc == f"book/{chapter.stem}"}
    checked = 0
    for label, target in labels.items():
        if target.kind == "figure":
            shown = soup.find(id=label).find(class_="caption-number").get_text().strip()
            assert shown == f"Fig. {target.number}", label
        elif target.kind == "equation":
            shown = soup.find(id=f"equation-{label}").find(class_="eqno").get_text().replace("#", "").strip()
            assert shown == f"({target.number})", label
        elif target.kind == "exercise":
            shown = soup.find(id=label).find(class_="caption-number").get_text().strip()
            assert shown == f"Exercise {target.number}", label
        elif target.kind == "section":
            shown = soup.find(id=label).find_next(["h1", "h2", "h3"]).find(class_="section-number").get_text()
            assert shown.strip() == f"{target.number}.", label
        else:
            continue
        checked += 1
    assert checked >= 3, f"{chapter.name}: only {checked} numbered labels found"
    # Citations: each work's "Authors, year" (with the book's 2016a/2016b) is what the page shows.
    page = _normalise(soup.find("main").get_text(" "))
    keys = set()
    for text in _markdown(nbformat.read(str(chapter), as_version=4)):
        for match in re.finditer(r"\{cite:[pt]\}`([^`]+)`", text):
            keys.update(k.strip() for k in re.split(r"[,;]", match.group(1)) if k.strip())
    for key in sorted(keys):
        names, year = cn.citation_label(key)
        assert _normalise(f"{names} {year}") in page, (
            f"{chapter.name}: {names}, {year} ({key}) not on the page"
        )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=CHAPTER_IDS)
def test_links_to_other_chapters_resolve_in_the_built_book(converted, chapter):
    _fresh_html(chapter)
    base = cn.book_url()
    text = "\n".join(_markdown(converted[(chapter.stem, "instructors")]))
    for page, anchor in re.findall(rf"\]\({re.escape(base)}([^)#]+)#([^)]+)\)", text):
        from bs4 import BeautifulSoup

        target = HTML / page
        assert target.exists(), page
        assert BeautifulSoup(target.read_text(), "html.parser").find(id=anchor), f"{page}#{anchor}"


def test_launch_buttons_open_the_plain_notebook_on_the_notebooks_branch():
    chapter = CHAPTERS[0]
    soup = _fresh_html(chapter)
    branch = cn.book_config()["sphinx"]["config"]["notebooks_branch"]
    hrefs = [a["href"] for a in soup.find_all("a", href=True)]
    binder = [h for h in hrefs if "mybinder.org" in h]
    colab = [h for h in hrefs if "colab.research.google.com" in h]
    assert binder and colab
    assert all(h.endswith(f"/{branch}?urlpath=lab/tree/{chapter.name}") for h in binder), binder
    assert all(h.endswith(f"/blob/{branch}/{chapter.name}") for h in colab), colab


# --------------------------------------------------------------------------------------------
# The zips
# --------------------------------------------------------------------------------------------


def test_zips_hold_the_plain_chapters_regcode_and_minimal_requirements(tmp_path):
    names = {}
    for variant, zip_name in make_notebooks_zip.ZIP_NAMES.items():
        path = make_notebooks_zip.build(tmp_path / zip_name, variant)
        with zipfile.ZipFile(path) as zf:
            names[variant] = set(zf.namelist())
            top = make_notebooks_zip.TOP
            requirements = zf.read(f"{top}/requirements.txt").decode()
            readme = zf.read(f"{top}/README.md").decode()
            runtime = zf.read(f"{top}/runtime.txt").decode()
            for chapter in CHAPTERS:
                nb = nbformat.reads(zf.read(f"{top}/{chapter.name}").decode(), as_version=4)
                assert "{glue:text}" not in json.dumps(nb)
                assert ("<summary>Solution</summary>" in json.dumps(nb)) == (variant == "instructors")
        packages = [
            ln.split("==")[0].lower() for ln in requirements.splitlines() if ln and not ln.startswith("#")
        ]
        assert packages == ["numpy", "matplotlib", "scikit-learn", "jupyterlab"]
        pins = dict(
            ln.split("==") for ln in (ROOT / "requirements.txt").read_text().splitlines() if "==" in ln
        )
        for line in requirements.splitlines():
            if "==" in line:
                name, version = line.split("==")
                assert pins[name] == version, f"{name} is not pinned as in requirements.txt"
        assert "Python 3.11 or newer" in readme and "pip install -r requirements.txt" in readme
        assert runtime == "python-3.11\n"
    for variant in names:
        regcode = {n.split("/", 1)[1] for n in names[variant] if n.startswith(f"{top}/regcode/")}
        on_disk = {
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / "regcode").rglob("*.py")
            if "__pycache__" not in p.parts
        }
        assert regcode == on_disk
        assert not any("__pycache__" in n for n in names[variant])
    assert names["students"] == names["instructors"]


def test_python_version_is_stated_the_same_everywhere():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">=3.11"
    assert pyproject["tool"]["ruff"]["target-version"] == "py311"
    assert "Python 3.11 or newer" in (ROOT / "README.md").read_text()
    assert make_notebooks_zip.python_version() == "3.11"


def test_a_git_install_of_regcode_carries_every_subpackage():
    """Colab runs `pip install "regcode @ git+..."`: the wheel must hold regcode.experiments and the rest."""
    import tomllib
    from fnmatch import fnmatch

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = config.get("packages")
    packages = sorted(
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "regcode").rglob("__init__.py")
        if "__pycache__" not in p.parts
    )
    assert "regcode" in packages and len(packages) > 1
    for package in packages:
        if isinstance(listed, list):
            assert package in listed, f"pyproject.toml's packages lack {package}"
        else:
            patterns = listed["find"]["include"]
            assert any(fnmatch(package, pattern) for pattern in patterns), f"{package} is not installed"


# --------------------------------------------------------------------------------------------
# Each rule on small synthetic notebooks
# --------------------------------------------------------------------------------------------

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()


def _record(name, mime, value):
    prefix = "application/papermill.record/"
    return new_output(
        "display_data",
        data={prefix + mime: value, **({prefix + "text/plain": "<Figure>"} if mime == "image/png" else {})},
        metadata={"scrapbook": {"name": name, "mime_prefix": prefix}},
    )


def _glue_cell(values, count=1):
    source = "\n".join(f"glue({k!r}, {v!r})" for k, v in values.items())
    return new_code_cell(
        source, execution_count=count, outputs=[_record(k, "text/plain", repr(v)) for k, v in values.items()]
    )


def _write(tmp_path, cells, name="03_demo.ipynb"):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / name
    nbformat.write(nb, str(path))
    return path


def _convert(tmp_path, cells, variant="instructors", name="03_demo.ipynb"):
    return cn.convert_notebook(_write(tmp_path, cells, name), variant)


def _md(nb):
    return "\n\n".join(_markdown(nb))


def test_glue_text_is_formatted_as_myst_nb_formats_it(tmp_path):
    from myst_nb.core.variables import format_plain_text

    cells = [
        _glue_cell({"n_params": 19210, "acc": "95.83", "ratio": 0.25, "name": "relu"}),
        new_markdown_cell(
            "A {glue:text}`n_params:,` parameter net, {glue:text}`acc` % accurate, "
            "ratio {glue:text}`ratio:.1%`, {glue:text}`n_params`, {glue:text}`name`, {glue:text}`ratio:.2f`."
        ),
    ]
    text = _md(_convert(tmp_path, cells))
    assert text == "A 19,210 parameter net, 95.83 % accurate, ratio 25.0%, 19210, relu, 0.25."
    assert format_plain_text("19210", ",") == "19,210"  # the reference the rule follows


def test_a_missing_glue_key_fails_naming_the_notebook_and_the_key(tmp_path):
    cells = [_glue_cell({"ch3_a": 1}), new_markdown_cell("Value {glue:text}`ch3_missing:.2f`.")]
    with pytest.raises(cn.ConversionError, match=r"03_demo\.ipynb.*'ch3_missing'"):
        _convert(tmp_path, cells)


@pytest.mark.parametrize(
    "markdown, message",
    [
        ("See {download}`data.csv`.", "unknown role {download}"),
        ("A {sub}`2` subscript.", "unknown role {sub}"),
        ("```{figure} plot.png\nA caption.\n```", "unknown directive {figure}"),
        ("```{exercise} Try\n:label: ex-a\n:weight: 3\nDo it.\n```", "options the converter does not know"),
        ("```{glue} key\n```", "unknown directive {glue}"),
        ("Term\n: its definition", "MyST syntax left"),
        ("{{ substitution }}", "MyST syntax left"),
    ],
)
def test_what_the_converter_does_not_know_is_an_error(tmp_path, markdown, message):
    with pytest.raises(cn.ConversionError, match=re.escape(message)):
        _convert(tmp_path, [new_markdown_cell(markdown)])


def test_references_are_numbered_per_chapter_in_order(tmp_path):
    figure_cell = new_code_cell(
        "plt.plot([1, 2])\nplt.show()",
        execution_count=2,
        outputs=[new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})],
    )
    figure_cell.metadata["mystnb"] = {
        "figure": {"name": "fig-new", "caption": "New style, see {eq}`eq-second`."},
        "image": {"alt": "A line."},
    }
    old_figure = new_code_cell(
        'fig = plt.figure()\nglue("fig_old", fig)',
        execution_count=3,
        outputs=[_record("fig_old", "image/png", PNG)],
    )
    cells = [
        new_markdown_cell(
            "(ch-demo)=\n# Demo\n\n## First\n\n$$\na = 1\n$$ (eq-first)\n\n$$\nb\n$$\n\n"
            "(sec-second)=\n### Second part\n\n$$ c = 2 $$ (eq-second)"
        ),
        figure_cell,
        old_figure,
        new_markdown_cell(
            "```{glue:figure} fig_old\n:name: fig-old\n:alt: Old.\n\nOld style.\n```\n\n"
            "{numref}`fig-new`, {numref}`fig-old`, {numref}`Figure %s <fig-old>`, {eq}`eq-first`, "
            "{eq}`eq-second`, {ref}`sec-second`, {ref}`the start <ch-demo>`, {numref}`ex-b`, "
            "{numref}`sec-second`."
        ),
        new_markdown_cell(
            "```{exercise} Warm up\n:label: ex-a\nGo.\n```\n\n````{exercise}\n:label: ex-b\nAgain.\n````"
        ),
    ]
    nb = _convert(tmp_path, cells)
    text = _md(nb)
    assert "$$\na = 1\n\\tag{3.1}\n$$" in text and "$$\nb\n$$" in text and "$$\nc = 2\n\\tag{3.2}\n$$" in text
    assert "**Figure 3.1.** New style, see Eq. (3.2)." in text
    assert "**Figure 3.2.** Old style." in text
    assert (
        "Fig. 3.1, Fig. 3.2, Figure 3.2, Eq. (3.1), Eq. (3.2), *Second part*, the start, Exercise 3.2, "
        "Section 3.1.1." in text
    )
    assert "### Exercise 3.1: Warm up\n\nGo." in text and "### Exercise 3.2\n\nAgain." in text
    assert "(ch-demo)=" not in text and "(sec-second)=" not in text and text.startswith("# Demo")
    # The new-style caption follows its figure cell; the old-style figure is the output of its own cell.
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "plt.plot" in c.source)
    assert nb.cells[index + 1].source.startswith("**Figure 3.1.**")
    old = next(c for c in nb.cells if c.cell_type == "code" and "plt.figure" in c.source)
    assert old.source == "fig = plt.figure()"
    assert [o["output_type"] for o in old.outputs] == ["display_data"]
    assert old.outputs[0]["data"]["image/png"] == PNG and old.execution_count == 3


def test_a_reference_to_another_chapter_links_to_the_online_book(tmp_path):
    one = _write(tmp_path, [new_markdown_cell("(sec-one)=\n# One\n\n$$ x $$ (eq-one)")], "01_one.ipynb")
    two = _write(
        tmp_path, [new_markdown_cell("# Two\n\nSee {ref}`sec-one` and {eq}`eq-one`.")], "02_two.ipynb"
    )
    labels = cn.collect_labels([one, two])
    text = _md(cn.convert_notebook(two, "students", labels))
    base = cn.book_url()
    assert (
        f"See [One]({base}book/01_one.html#sec-one) and [Eq. (1.1)]({base}book/01_one.html#eq-one)." in text
    )


def test_an_unknown_label_is_an_error(tmp_path):
    with pytest.raises(cn.ConversionError, match="unknown label 'fig-nowhere'"):
        _convert(tmp_path, [new_markdown_cell("# T\n\n{numref}`fig-nowhere`")])


def test_citations_author_year_and_a_list_of_the_works_cited(tmp_path):
    cells = [
        new_markdown_cell(
            "Dropout {cite:p}`hinton2012improving,srivastava2014dropout` works; "
            "{cite:t}`srivastava2014dropout` say so, as do {cite:t}`gal2016dropout` and "
            "{cite:p}`vanlaarhoven2017l2; gal2016theoretically`."
        )
    ]
    nb = _convert(tmp_path, cells)
    # Two works by the same authors in the same year get the book's letters (book/_ext/bibyears.py):
    # in the order of their titles, "A theoretically ..." before "Dropout as ...".
    assert nb.cells[0].source == (
        "Dropout (Hinton et al., 2012; Srivastava et al., 2014) works; Srivastava et al. (2014) say so, "
        "as do Gal and Ghahramani (2016b) and (van Laarhoven, 2017; Gal and Ghahramani, 2016a)."
    )
    references = nb.cells[-1].source
    assert references.startswith("## References\n\n- ")
    items = references.split("\n")[2:]
    assert len(items) == 5
    assert any("Dropout: a simple way to prevent neural networks from overfitting" in i for i in items)
    assert not any("Batch normalization" in i for i in items)  # only the works cited
    with pytest.raises(cn.ConversionError, match="'nobody2099' is not in the bibliography"):
        _convert(tmp_path, [new_markdown_cell("{cite:p}`nobody2099`")])


def test_admonitions_exercises_solutions_and_code_roles(tmp_path):
    cells = [
        new_markdown_cell(
            "```{admonition} Convention: p drops\n:class: important\n"
            "In `regcode` $p$ is the drop probability.\n\n"
            "See {func}`regcode.dropout.dropout_forward` and {func}`~regcode.train.fit`.\n```\n\n"
            "```{note}\nShort, {mod}`regcode.layers`, {class}`~regcode.layers.Dropout`.\n```\n\n"
            "````{exercise} Predict first\n:label: ex-p\nWhat happens?\n\n```python\nprint(1)\n```\n````\n\n"
            "````{solution} ex-p\n:class: dropdown\n"
            "It prints the number one, as every Python programmer knows.\n\n"
            "```python\nprint(2)\n```\n````\nAfter."
        )
    ]
    instructors = _convert(tmp_path, cells).cells[0].source
    students = _convert(tmp_path, cells, "students").cells[0].source
    assert instructors.startswith(
        "> **Convention: p drops**\n>\n> In `regcode` $p$ is the drop probability.\n>\n"
        "> See `regcode.dropout.dropout_forward()` and `fit()`.\n\n> **Note**\n>\n"
        "> Short, `regcode.layers`, `Dropout`."
    )
    assert "### Exercise 3.1: Predict first\n\nWhat happens?\n\n```python\nprint(1)\n```" in instructors
    assert (
        "<details><summary>Solution</summary>\n\nIt prints the number one, as every Python programmer knows."
        "\n\n```python\nprint(2)\n```\n\n</details>\n\nAfter." in instructors
    )
    assert "number one" not in students and "print(2)" not in students and "<details>" not in students
    assert "### Exercise 3.1: Predict first" in students and students.endswith("```\n\nAfter.")


def test_glue_plumbing_is_removed_and_checks_are_kept(tmp_path):
    setup = new_code_cell(
        "import numpy as np\n\nfrom regcode.book import check, glue\n\nSEED = 0", execution_count=1
    )
    plumbing = new_code_cell(
        'glue("ch3_acc", acc, fmt=".1f")\n'
        'for p in (0.2, 0.5):\n    glue(f"ch3_acc_{p}", accs[p], fmt=".1f")\n'
        'check(acc > 0.9, "the accuracy is above 90 %")\nglue(\n    "ch3_n",\n    n,\n)',
        execution_count=5,
        outputs=[_record("ch3_acc", "text/plain", "'93.1'")],
    )
    plumbing.metadata["tags"] = ["remove-cell"]
    only_glue = new_code_cell('glue("ch3_n", 3)\n# for the prose', execution_count=6)
    only_glue.metadata["tags"] = ["remove-cell"]
    mixed = new_code_cell(
        'for p in (0.2, 0.5):\n    print(p)\n    glue(f"ch3_p_{p}", p, fmt=".1f")\nx = 1', execution_count=7
    )
    hidden = new_code_cell(
        "print('hello')",
        execution_count=8,
        outputs=[new_output("stream", name="stdout", text="hello\n")],
    )
    hidden.metadata["tags"] = ["hide-input", "remove-output"]
    nb = _convert(tmp_path, [setup, plumbing, only_glue, mixed, hidden])
    code = _code_cells(nb)
    assert [c.execution_count for c in code] == [1, 5, 7, 8]
    assert code[0].source == "import numpy as np\n\nfrom regcode.book import check\n\nSEED = 0"
    assert code[1].source == 'check(acc > 0.9, "the accuracy is above 90 %")'
    assert "tags" not in code[1].metadata and code[1].outputs == []
    assert code[2].source == "for p in (0.2, 0.5):\n    print(p)\nx = 1"
    assert code[3].source == hidden.source and code[3].outputs == hidden.outputs
    assert code[3].metadata["tags"] == ["hide-input", "remove-output"]


def test_an_unused_check_import_goes_with_glue(tmp_path):
    setup = new_code_cell("from regcode.book import check, glue\nimport numpy as np", execution_count=1)
    nb = _convert(tmp_path, [setup, new_code_cell('glue("k", 1)', execution_count=2)])
    assert [c.source for c in _code_cells(nb)] == ["import numpy as np"]


@pytest.mark.parametrize(
    "source, message",
    [
        ('value = glue("k", 1)', "inside an expression"),
        ('x = 1; glue("k", 1)', "shares its line"),
        ('with open("f") as fh:\n    glue("k", 1)', "empty block"),
    ],
)
def test_glue_that_cannot_be_removed_whole_is_an_error(tmp_path, source, message):
    with pytest.raises(cn.ConversionError, match=message):
        _convert(tmp_path, [new_code_cell(source, execution_count=1)])


def test_a_figure_cell_without_its_image_is_an_error(tmp_path):
    cell = new_code_cell("plt.plot([1])\nplt.show()", execution_count=1)
    cell.metadata["mystnb"] = {"figure": {"name": "fig-a", "caption": "A."}, "image": {"alt": "A."}}
    with pytest.raises(cn.ConversionError, match="exactly one image/png output"):
        _convert(tmp_path, [cell])


def test_the_parser_check_catches_myst_left_in_markdown():
    cn.assert_plain_markdown("Plain *text*, `{code}` and $x$.\n\n```python\nx = {1: 2}\n```", "demo")
    for leftover in (
        "{ref}`x`",
        "(label)=\n# T",
        ":::{note}\nx\n:::",
        "$$\nx\n$$ (eq-x)",
        "```{note}\nx\n```",
    ):
        with pytest.raises(cn.ConversionError, match="MyST syntax left"):
            cn.assert_plain_markdown(leftover, "demo")


def test_the_command_line_writes_both_variants(tmp_path):
    path = _write(tmp_path, [new_markdown_cell("# Title\n\nText.")])
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "convert_notebooks.py"),
            "--out",
            str(tmp_path / "out"),
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    for variant in cn.VARIANTS:
        assert nbformat.read(str(tmp_path / "out" / variant / path.name), as_version=4).cells[0].source == (
            "# Title\n\nText."
        )


def test_cells_that_compute_solutions_do_not_reach_the_students(tmp_path):
    exercise = "```{exercise} ★ Try\n:label: ex-try\nDo it.\n```"
    solution = "```{solution} ex-try\n:class: dropdown\nIt gives {glue:text}`ch3_sol`.\n```"
    sol_cell = new_code_cell(
        'glue("ch3_sol", sol, fmt=".1f")\ncheck(sol > 1, "the solution is above 1")',
        execution_count=2,
        outputs=[_record("ch3_sol", "text/plain", "'2.5'")],
    )
    sol_cell.metadata["tags"] = ["remove-cell"]
    prose_cell = new_code_cell(
        'glue("ch3_acc", acc, fmt=".1f")\ncheck(acc > 0.9, "the accuracy is above 90 %")',
        execution_count=1,
        outputs=[_record("ch3_acc", "text/plain", "'93.1'")],
    )
    prose_cell.metadata["tags"] = ["remove-cell"]
    tagged = new_code_cell('check(True, "the hidden answer")', execution_count=3)
    tagged.metadata["tags"] = ["solution"]
    cells = [new_markdown_cell("Accuracy {glue:text}`ch3_acc`."), prose_cell, sol_cell, tagged,
             new_markdown_cell(exercise + "\n\n" + solution)]  # fmt: skip
    students = _convert(tmp_path, cells, variant="students")
    instructors = _convert(tmp_path, cells, variant="instructors")
    assert [c.execution_count for c in _code_cells(students)] == [1]  # the prose's check stays
    assert [c.execution_count for c in _code_cells(instructors)] == [1, 2, 3]
    assert all("tags" not in c.metadata for c in _code_cells(instructors))
    assert "2.5" in _md(instructors) and "2.5" not in _md(students)


def test_a_markdown_link_to_a_label_is_an_error():
    with pytest.raises(
        cn.ConversionError, match=r"a link to the label 'faq-future': write it as a \{ref\} role"
    ):
        cn.assert_plain_markdown("See [below](faq-future).", "demo")
    cn.assert_plain_markdown("See [the docs](https://example.org) and [a file](data/x.csv).", "demo")
