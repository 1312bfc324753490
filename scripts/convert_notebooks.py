"""Convert the book's MyST chapters into plain Jupyter notebooks, for students and for instructors.

The online book is built by Jupyter Book (MyST); the notebooks students *run*
(JupyterLab, Colab, Binder, a downloaded zip) are rendered by Jupyter's own
Markdown renderer, which shows MyST markup raw. From each chapter
``book/NN_*.ipynb`` this script writes a notebook that needs nothing but
Jupyter, in two variants:

``students``
    no exercise solutions at all;
``instructors``
    each solution in a ``<details><summary>Solution</summary>`` block.

What it converts (chapter N is the ``NN`` of the file name; numbers are those of
the book, which numbers per chapter in order of appearance):

- ``{glue:text}`key``` and ``{glue:text}`key:spec``` become the glued value,
  formatted as myst-nb does (``myst_nb.core.variables.format_plain_text``); a key
  with no stored value is an error;
- ``{numref}``, ``{eq}`` and ``{ref}`` become "Fig. 3.2", "Exercise 3.2",
  "Eq. (3.1)" or the section's title, as plain text within the chapter and as a
  link to the online book across chapters;
- figures: a code cell whose metadata holds ``mystnb.figure`` gets a Markdown
  cell "**Figure N.k.** caption" right after it; the old ``{glue:figure}``
  directive becomes that caption, and the glued figure becomes an ``image/png``
  output of the cell that drew it (where a run of the notebook shows it);
- ``{cite:p}``/``{cite:t}`` become "(Srivastava et al., 2014)" / "Srivastava et
  al. (2014)", with a reference list of the works cited at the end;
- admonitions become block quotes with a bold title; exercises numbered
  headings ("### Exercise 3.2: title"); ``(label)=`` targets go; equation labels
  become ``\\tag{3.1}``; ``{func}`` and the other Python roles inline code;
- code: every ``glue(...)`` statement is removed (found with ``ast``), a ``for``
  loop left empty goes too, ``remove-cell`` cells left empty are dropped and the
  others kept untagged; the papermill records (glue outputs) are removed, and
  ``from regcode.book import glue`` with them. Everything else, outputs and
  execution counts included, stays as it is.

A role, directive or directive option the converter does not know raises
:class:`ConversionError`; so does any MyST syntax left in the output (the result
is parsed again with MyST's own parser to check).

Usage::

    python scripts/convert_notebooks.py [--out _build/notebooks] [--variant students|instructors|both]
                                        [book/03_dropout.ipynb ...]

writes ``<out>/<variant>/NN_name.ipynb``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"
OUT = ROOT / "_build" / "notebooks"
VARIANTS = ("students", "instructors")
RECORD_PREFIX = "application/papermill.record/"

# Sphinx's and sphinx-exercise's default numbered-reference formats (numfig_format).
NUMREF_FORMATS = {"figure": "Fig. %s", "exercise": "Exercise %s", "section": "Section %s"}
EQ_FORMAT = "Eq. (%s)"
ADMONITION_TITLES = {
    "attention": "Attention",
    "caution": "Caution",
    "danger": "Danger",
    "error": "Error",
    "hint": "Hint",
    "important": "Important",
    "note": "Note",
    "seealso": "See also",
    "tip": "Tip",
    "warning": "Warning",
}
PY_ROLES = {"func", "meth", "class", "mod", "attr", "data", "obj", "exc", "const"}
# Directive options the converter accepts (and ignores where they only style the HTML).
DIRECTIVE_OPTIONS = {
    "exercise": {"label", "class", "nonumber", "hidden"},
    "solution": {"label", "class", "hidden"},
    "admonition": {"class", "name"},
    "glue:figure": {"name", "alt", "align", "width", "figwidth", "figclass", "class"},
    "math": {"label"},
    "code-block": set(),
}
# Token types of MyST syntax that must not survive into a plain notebook.
MYST_TOKENS = {
    "myst_role",
    "myst_target",
    "myst_line_comment",
    "myst_block_break",
    "math_block_label",
    "colon_fence",
    "substitution_inline",
    "substitution_block",
    "front_matter",
    "dl_open",
    "footnote_ref",
    "footnote_block_open",
}
# A role with its content, or an inline code span (passed through untouched).
INLINE = re.compile(
    r"\{(?P<role>[A-Za-z][\w:+.-]*)\}(?P<ticks>`+)(?P<content>.*?[^`])(?P=ticks)(?!`)"
    r"|(?P<code>(?<!`)`+(?!`)).*?[^`](?P=code)(?!`)",
    re.S,
)


class ConversionError(Exception):
    """A chapter uses something the converter cannot turn into plain Jupyter Markdown."""


# --------------------------------------------------------------------------------------------
# The book's configuration, bibliography and Markdown parser
# --------------------------------------------------------------------------------------------


@cache
def book_config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def book_url():
    """The online book's base URL: ``html.baseurl``, else GitHub Pages of ``repository.url``."""
    config = book_config()
    base = (config.get("html") or {}).get("baseurl")
    if base:
        return base.rstrip("/") + "/"
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", config["repository"]["url"])
    if not match:
        raise ConversionError(
            f"cannot derive the book's URL from repository.url {config['repository']['url']!r}"
        )
    return f"https://{match.group(1)}.github.io/{match.group(2)}/"


@cache
def markdown_parser():
    """MyST's own markdown-it parser, with the extensions that _config.yml enables."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    extensions = set(book_config().get("parse", {}).get("myst_enable_extensions", []))
    config = MdParserConfig(enable_extensions=extensions, dmath_allow_labels=True)
    return create_md_parser(config, RendererHTML)


@cache
def bibliography():
    """``book/references.bib`` (the ``bibtex_bibfiles`` of _config.yml), read by pybtex."""
    from pybtex.database import parse_file

    data = None
    for name in book_config().get("bibtex_bibfiles", []):
        part = parse_file(str(ROOT / name))
        if data is None:
            data = part
        else:
            data.add_entries(part.entries.items())
    if data is None:
        raise ConversionError("_config.yml lists no bibtex_bibfiles")
    # The book's own extensions that change the entries after reading them (bibyears: "2016a").
    for name, folder in book_config().get("sphinx", {}).get("local_extensions", {}).items():
        module = _local_extension(name, folder)
        if hasattr(module, "disambiguate_years"):
            module.disambiguate_years(data.entries)
    return data


def _local_extension(name, folder):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_book_ext_{name}", ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _text_backend():
    from pybtex.plugin import find_plugin

    return find_plugin("pybtex.backends", "text")()  # looked up once: each lookup scans the entry points


def _latex_to_text(text):
    from pybtex.richtext import Text

    return Text.from_latex(text).render(_text_backend())


def citation_label(key, where=""):
    """("Srivastava et al.", "2014"): the author-year label of sphinxcontrib-bibtex's author_year style."""
    if key not in bibliography().entries:
        raise ConversionError(f"{where}: citation key {key!r} is not in the bibliography")
    return _citation_label(key)


@cache
def _citation_label(key):
    entry = bibliography().entries[key]
    persons = entry.persons.get("author") or entry.persons.get("editor")
    if not persons:
        raise ConversionError(f"citation {key!r} has no author or editor")
    last = [_latex_to_text(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if len(last) == 1:
        names = last[0]
    elif len(last) == 2:
        names = f"{last[0]} and {last[1]}"
    else:
        names = f"{last[0]} et al."
    return names, _latex_to_text(entry.fields.get("year", "n.d."))


def _escape_markdown(text):
    return re.sub(r"([\\`*_\[\]<>$#])", r"\\\1", text)


def reference_list(keys):
    """Markdown bullets for ``keys``: pybtex's ``plain`` style (the book's), in its order."""
    from pybtex.plugin import find_plugin

    style = find_plugin(
        "pybtex.style.formatting", book_config()["sphinx"]["config"].get("bibtex_default_style", "plain")
    )()
    entries = bibliography().entries
    formatted = style.format_entries(entries[k] for k in keys)
    return [f"- {_escape_markdown(' '.join(e.text.render(_text_backend()).split()))}" for e in formatted]


# --------------------------------------------------------------------------------------------
# Chapters, labels and the state of one conversion
# --------------------------------------------------------------------------------------------


def chapters():
    """The chapter notebooks, ``book/NN_*.ipynb``, in order."""
    return sorted(BOOK.glob(CHAPTER_GLOB))


def chapter_number(path):
    match = re.match(r"(\d\d)_", Path(path).name)
    if not match:
        raise ConversionError(f"{path}: a chapter's file name starts with its two-digit number")
    return int(match.group(1))


def docname(path):
    """``book/03_dropout.ipynb`` -> ``book/03_dropout`` (the page's path in the online book)."""
    path = Path(path).resolve()
    try:
        return path.relative_to(ROOT).with_suffix("").as_posix()
    except ValueError:
        return f"book/{path.stem}"


@dataclass
class Target:
    """Something a reference can point to."""

    kind: str  # "section", "figure", "equation", "exercise", "admonition" or "other"
    doc: str  # the page, e.g. "book/03_dropout"
    number: str | None = None  # "3.2"
    title: str | None = None  # MyST source of a section title, figure caption, exercise title


@dataclass
class State:
    """One conversion of one notebook (or one collecting pass)."""

    path: Path
    variant: str
    labels: dict | None  # label -> Target of the whole book; None while collecting
    glue_text: dict = field(default_factory=dict)
    glue_figures: set = field(default_factory=set)
    chapter: int = 0
    doc: str = ""
    found: dict = field(default_factory=dict)  # labels defined in this notebook
    cited: list = field(default_factory=list)
    cell: int = 0
    counters: dict = field(default_factory=lambda: {"figure": 0, "equation": 0, "exercise": 0})
    sections: list = field(default_factory=lambda: [0] * 6)

    @property
    def where(self):
        return f"{self.path.name}, cell {self.cell}"

    def next_number(self, kind):
        self.counters[kind] += 1
        return f"{self.chapter}.{self.counters[kind]}"

    def define(self, label, target):
        if label in self.found:
            raise ConversionError(f"{self.where}: label {label!r} is defined twice")
        self.found[label] = target


# --------------------------------------------------------------------------------------------
# Inline roles
# --------------------------------------------------------------------------------------------


def _split_title(content):
    """``"title <target>"`` -> ("title", "target"); ``"target"`` -> (None, "target")."""
    match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", content, re.S)
    if match and match.group(1).strip():
        return " ".join(match.group(1).split()), match.group(2).strip()
    return None, content.strip()


def _glue_text(content, state):
    from myst_nb.core.variables import format_plain_text

    # As myst-nb's PasteTextRole: the format spec follows the last colon; "s" when there is none.
    parts = content.rsplit(":", 1)
    key, spec = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "s")
    if "::" in key:
        raise ConversionError(f"{state.where}: glue from another notebook ({content!r}) is not supported")
    if key not in state.glue_text:
        raise ConversionError(
            f"{state.path.name}: no glued value {key!r} (used by {{glue:text}} in cell {state.cell}); "
            "execute the chapter so that its glue(...) calls store it"
        )
    try:
        return format_plain_text(state.glue_text[key], spec)
    except (TypeError, ValueError) as exc:
        raise ConversionError(
            f"{state.where}: glued value {key!r} does not take the format {spec!r}: {exc}"
        ) from None


def _resolve(label, state):
    target = state.labels.get(label)
    if target is None:
        raise ConversionError(f"{state.where}: reference to an unknown label {label!r}")
    return target


def _link(text, target, label, state):
    """Plain text within the chapter; a link to the online book for a target on another page."""
    if target.doc == state.doc:
        return text
    return f"[{text}]({book_url()}{target.doc}.html#{label})"


def _reference(role, content, state):
    if state.labels is None:  # collecting labels: references are resolved in the second pass
        return ""
    title, label = _split_title(content)
    target = _resolve(label, state)
    if role == "eq":
        if target.kind != "equation" or title is not None:
            raise ConversionError(
                f"{state.where}: {{eq}} needs the label of a numbered equation, got {content!r}"
            )
        return _link(EQ_FORMAT % target.number, target, label, state)
    if role == "numref":
        if target.kind not in NUMREF_FORMATS or target.number is None:
            raise ConversionError(
                f"{state.where}: {{numref}} to {label!r}, which has no number ({target.kind})"
            )
        if title is None:
            text = NUMREF_FORMATS[target.kind] % target.number
        else:
            text = title.replace("%s", target.number).replace("{number}", target.number)
            text = text.replace("{name}", _inline(target.title or "", state))
        return _link(text, target, label, state)
    # {ref}: the explicit title, else the target's title (in italics within the chapter, where it
    # is not a link: "one of the mistakes in *Common mistakes*").
    if title is not None:
        return _link(title, target, label, state)
    if target.title is None:
        raise ConversionError(f"{state.where}: {{ref}} to {label!r} needs an explicit title")
    title = _inline(target.title, state)
    return _link(f"*{title}*" if target.doc == state.doc else title, target, label, state)


def _cite(role, content, state):
    keys = [k.strip() for k in re.split(r"[,;]", content) if k.strip()]
    if not keys:
        raise ConversionError(f"{state.where}: empty citation")
    for key in keys:
        if key not in state.cited:
            state.cited.append(key)
    labels = [citation_label(k, state.where) for k in keys]
    if role == "cite:t":
        return ", ".join(f"{names} ({year})" for names, year in labels)
    return "(" + "; ".join(f"{names}, {year}" for names, year in labels) + ")"


def _python_role(role, content):
    title, target = _split_title(content)
    if title is not None:
        return f"`{title}`"
    target = target.lstrip("!")
    text = target[1:].split(".")[-1] if target.startswith("~") else target.lstrip(".")
    if role in ("func", "meth"):  # Sphinx's add_function_parentheses
        text += "()"
    return f"`{text}`"


def _role(role, content, state):
    if role == "glue:text":
        return _glue_text(content, state)
    if role in ("ref", "numref", "eq"):
        return _reference(role, content, state)
    if role in ("cite:p", "cite:t", "cite"):
        return _cite("cite:p" if role == "cite" else role, content, state)
    if role.removeprefix("py:") in PY_ROLES:
        return _python_role(role.removeprefix("py:"), content)
    if role == "math":
        return f"${content}$"
    raise ConversionError(f"{state.where}: unknown role {{{role}}} in {{{role}}}`{content}`")


def _inline(text, state):
    """Replace every role in ``text``; inline code spans are left as they are."""

    def replace(match):
        if match.group("code"):
            return match.group(0)
        return _role(match.group("role"), match.group("content"), state)

    return INLINE.sub(replace, text)


# --------------------------------------------------------------------------------------------
# Blocks: directives, targets, labelled equations
# --------------------------------------------------------------------------------------------


def _top_level_blocks(tokens):
    """(first token, its tokens) for each top-level block."""
    i = 0
    while i < len(tokens):
        j, depth = i + 1, tokens[i].nesting
        while depth > 0:
            depth += tokens[j].nesting
            j += 1
        yield tokens[i], tokens[i:j]
        i = j


def _parse_directive(token, state):
    match = re.fullmatch(r"\{([^}\s]+)\}\s*(.*)", token.info.strip(), re.S)
    name, argument = match.group(1), match.group(2).strip()
    lines = token.content.split("\n")
    options = {}
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise ConversionError(f"{state.where}: unterminated option block in {{{name}}}")
        options = yaml.safe_load("\n".join(lines[1:end])) or {}
        lines = lines[end + 1 :]
    else:
        while lines and (option := re.fullmatch(r":([\w-]+):\s*(.*)", lines[0].strip())):
            options[option.group(1)] = option.group(2).strip()
            lines.pop(0)
    kind = {"code": "code-block", "sourcecode": "code-block"}.get(name, name)
    if name in ADMONITION_TITLES:
        kind = "admonition"
    allowed = DIRECTIVE_OPTIONS.get(kind)
    if allowed is None:
        raise ConversionError(f"{state.where}: unknown directive {{{name}}}")
    unknown = set(options) - allowed
    if unknown:
        raise ConversionError(
            f"{state.where}: {{{name}}} has options the converter does not know: {sorted(unknown)}"
        )
    return kind, name, argument, options, "\n".join(lines).strip("\n")


def _blockquote(text):
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.split("\n"))


def _directive(token, state):
    """The plain Markdown that replaces a directive ("" to remove it)."""
    kind, name, argument, options, body = _parse_directive(token, state)
    if kind == "exercise":
        number = None if "nonumber" in options else state.next_number("exercise")
        if "label" in options:
            state.define(options["label"], Target("exercise", state.doc, number, argument or None))
        heading = (
            "### Exercise"
            + (f" {number}" if number else "")
            + (f": {_inline(argument, state)}" if argument else "")
        )
        return f"{heading}\n\n{_markdown(body, state, top=False)}"
    if kind == "solution":
        if not argument:
            raise ConversionError(f"{state.where}: {{solution}} needs the label of its exercise")
        text = _markdown(body, state, top=False)  # converted in both variants: numbers must not depend on it
        if state.variant == "students":
            return ""
        return f"<details><summary>Solution</summary>\n\n{text}\n\n</details>"
    if kind == "admonition":
        title = argument or ADMONITION_TITLES.get(name)
        if not title:
            raise ConversionError(f"{state.where}: {{admonition}} needs a title")
        if "name" in options:
            state.define(options["name"], Target("admonition", state.doc, None, title))
        return _blockquote(f"**{_inline(title, state)}**\n\n{_markdown(body, state, top=False)}")
    if kind == "glue:figure":
        if argument not in state.glue_figures:
            raise ConversionError(
                f"{state.path.name}: no glued figure {argument!r} "
                f"(used by {{glue:figure}} in cell {state.cell})"
            )
        return _caption(body, options.get("name"), state)
    if kind == "math":
        label = options.get("label")
        text = argument + ("\n" if argument and body else "") + body
        return _display_math(text, label, state)
    if kind == "code-block":
        return f"```{argument}\n{body}\n```"
    raise AssertionError(kind)  # pragma: no cover - _parse_directive rejects the rest


def _caption(caption_source, label, state):
    """The text "**Figure N.k.** caption" for a captioned figure (the book numbers only those)."""
    caption_source = caption_source.strip()
    if not caption_source:
        if label:
            state.define(label, Target("other", state.doc))
        return ""
    number = state.next_number("figure")
    if label:
        state.define(label, Target("figure", state.doc, number, caption_source))
    return f"**Figure {number}.** {_markdown(caption_source, state, top=False)}"


def _display_math(math, label, state):
    if not label:
        return f"$$\n{math.strip()}\n$$"
    number = state.next_number("equation")
    state.define(label, Target("equation", state.doc, number))
    return f"$$\n{math.strip()}\n\\tag{{{number}}}\n$$"


def _heading(tokens, state, pending):
    """Number a heading as the book does: "3" for the title, "3.2" for a ``##``, "3.2.1" for a ``###``."""
    level = int(tokens[0].tag[1])
    title = tokens[1].content
    counters = (state.sections + [0] * 6)[:6]
    counters[0] = state.chapter
    if level > 1:
        counters[level - 1] += 1
    counters[level:] = [0] * (6 - level)
    state.sections = counters
    number = ".".join(str(n) for n in counters[:level])
    for label in pending:
        state.define(label, Target("section", state.doc, number, title))
    pending.clear()


def _markdown(text, state, top=True):
    """Convert one cell's (or one directive body's) MyST Markdown to plain Markdown."""
    lines = text.split("\n")
    out = []
    pos = 0
    pending = []  # (label)= targets waiting for the block they name

    def emit(block):
        # Keep replaced blocks apart from their neighbours (an HTML block ends at a blank line only).
        if block and out and out[-1].strip():
            out.append("")
        out.extend(block.split("\n") if block else [])

    for token, group in _top_level_blocks(markdown_parser().parse(text)):
        start, end = token.map
        out.extend(_inline("\n".join(lines[pos:start]), state).split("\n") if start > pos else [])
        replaced = None
        if token.type == "myst_target":
            pending.append(token.content.strip())
            replaced = ""
        elif token.type in ("myst_line_comment", "myst_block_break"):
            replaced = ""
        elif token.type == "math_block_label":
            replaced = _display_math(token.content, token.info.strip(), state)
        elif token.type in ("fence", "colon_fence") and token.info.strip().startswith("{"):
            replaced = _directive(token, state)
        else:
            if token.type == "heading_open" and top:
                _heading(group, state, pending)
            if token.type in ("fence", "code_block", "html_block"):
                out.extend(lines[start:end])
            else:
                out.extend(_inline("\n".join(lines[start:end]), state).split("\n"))
        if replaced is not None:
            emit(replaced)
            if replaced and end < len(lines) and lines[end].strip():
                out.append("")
            elif not replaced and out and not out[-1].strip() and end < len(lines) and not lines[end].strip():
                end += 1  # do not leave two blank lines where a block was removed
        if token.type != "myst_target" and pending:
            for label in pending:
                state.define(label, Target("other", state.doc))
            pending.clear()
        pos = end
    out.extend(lines[pos:])
    for label in pending:
        state.define(label, Target("other", state.doc))
    return "\n".join(out).strip("\n")


def assert_plain_markdown(text, where):
    """Raise if MyST's parser finds any MyST-only syntax in ``text``."""

    def walk(tokens):
        for token in tokens:
            yield token
            if token.children:
                yield from walk(token.children)

    for token in walk(markdown_parser().parse(text)):
        href = token.attrs.get("href", "") if token.type == "link_open" else ""
        if href and re.fullmatch(r"[A-Za-z][\w-]*", str(href)):
            # MyST resolves [text](label) to a target of the book; Jupyter shows a broken link.
            raise ConversionError(f"{where}: a link to the label {href!r}: write it as a {{ref}} role")
        if token.type in MYST_TOKENS or (token.type == "fence" and token.info.strip().startswith("{")):
            detail = token.meta.get("name") or token.info or token.content
            raise ConversionError(f"{where}: MyST syntax left after conversion: {token.type} {detail!r}")


# --------------------------------------------------------------------------------------------
# Code cells: glue calls, papermill records, figures
# --------------------------------------------------------------------------------------------


def _python(source):
    """The cell as Python (IPython magics turned into calls on the same lines)."""
    try:
        return ast.parse(source)
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager

        return ast.parse(TransformerManager().transform_cell(source))


def _is_glue_call(node):
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "glue"
    return isinstance(func, ast.Attribute) and func.attr == "glue" and "book" in ast.unparse(func.value)


def strip_glue(source, where="cell"):
    """Remove every ``glue(...)`` statement, and every ``for``/``if`` left empty by that.

    Lines are removed whole: a glue call that shares a line with other code, or
    that is used as a value, is an error.
    """
    if "glue" not in source:
        return source
    tree = _python(source)
    lines = source.split("\n")
    drop = set()

    def own_lines(stmt):
        first, last = lines[stmt.lineno - 1].encode(), lines[stmt.end_lineno - 1].encode()
        before, after = first[: stmt.col_offset].decode(), last[stmt.end_col_offset :].decode()
        if before.strip() or (after.strip() and not after.strip().startswith("#")):
            raise ConversionError(f"{where}: a glue(...) statement shares its line with other code")
        return range(stmt.lineno - 1, stmt.end_lineno)

    def visit(body):
        """Mark glue statements in ``body``; True if every statement of it goes."""
        gone = 0
        for stmt in body:
            if isinstance(stmt, ast.Expr) and _is_glue_call(stmt.value):
                drop.update(own_lines(stmt))
                gone += 1
            elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.If)) and not stmt.orelse:
                if visit(stmt.body):
                    drop.update(own_lines(stmt))
                    gone += 1
            else:
                bodies = [getattr(stmt, name, None) for name in ("body", "orelse", "finalbody")]
                bodies += [handler.body for handler in getattr(stmt, "handlers", [])]
                for sub in bodies:
                    if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt) and visit(sub):
                        raise ConversionError(f"{where}: removing glue(...) would leave an empty block")
        return gone == len(body)

    visit(tree.body)
    for node in ast.walk(tree):
        if _is_glue_call(node) and node.lineno - 1 not in drop:
            raise ConversionError(f"{where}: glue(...) used inside an expression cannot be removed")
    return "\n".join(line for i, line in enumerate(lines) if i not in drop).strip("\n")


def _uses_name(source, name):
    if not re.search(rf"\b{name}\b", source):
        return False
    tree = _python(source)
    return any(isinstance(node, ast.Name) and node.id == name for node in ast.walk(tree))


def _rewrite_book_import(source, keep_check):
    """Drop ``glue`` (and ``check`` when unused) from ``from regcode.book import ...``."""
    if "regcode.book" not in source:
        return source
    tree = _python(source)
    lines = source.split("\n")
    for stmt in reversed(tree.body):
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "regcode.book":
            names = [a for a in stmt.names if a.name != "glue" and (keep_check or a.name != "check")]
            text = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in names)
            new = [f"from regcode.book import {text}"] if names else []
            lines[stmt.lineno - 1 : stmt.end_lineno] = new
    return "\n".join(lines).strip("\n")


def _is_code_free(source):
    return all(not line.strip() or line.strip().startswith("#") for line in source.split("\n"))


def _plain_outputs(outputs):
    """Outputs without papermill records; a glued figure becomes an image/png display."""
    kept = []
    for output in outputs:
        data = output.get("data", {})
        if not any(key.startswith(RECORD_PREFIX) for key in data):
            kept.append(output)
            continue
        if RECORD_PREFIX + "image/png" in data:
            plain = {
                key[len(RECORD_PREFIX) :]: value
                for key, value in data.items()
                if key.startswith(RECORD_PREFIX)
            }
            metadata = {
                key.removeprefix(RECORD_PREFIX): value
                for key, value in output.get("metadata", {}).items()
                if key != "scrapbook"
            }
            kept.append(nbformat.v4.new_output("display_data", data=plain, metadata=metadata))
    return kept


def glued_values(nb):
    """(text values by name, names of glued figures) from the papermill records of a notebook."""
    texts, figures = {}, set()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            data = output.get("data", {})
            if name is None:
                continue
            if RECORD_PREFIX + "image/png" in data:
                figures.add(name)
            elif RECORD_PREFIX + "text/plain" in data:
                texts[name] = data[RECORD_PREFIX + "text/plain"]
    return texts, figures


# A MyST solution block (as scripts/build_nosolutions.py strips them), and a glue:text placeholder.
SOLUTION_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}.*?^(?P=fence)[ \t]*$", re.M | re.S)
GLUE_NAME = re.compile(r"\{glue:text\}`(?P<name>[^`:]+)")


def _record_names(cell):
    """Names of the values a code cell glued (from its stored papermill records)."""
    return {
        output["metadata"]["scrapbook"]["name"]
        for output in cell.get("outputs", [])
        if "name" in output.get("metadata", {}).get("scrapbook", {})
    }


def solution_only_names(nb):
    """Glued names that the prose uses only inside exercise solutions."""
    inside, outside = set(), set()
    for cell in nb.cells:
        texts = [cell.source] if cell.cell_type == "markdown" else []
        figure = _figure_metadata(cell) if cell.cell_type == "code" else None
        if figure is not None:
            texts.append(str(figure.get("caption", "")))
        for text in texts:
            solutions = [m.group(0) for m in SOLUTION_BLOCK.finditer(text)]
            inside.update(m.group("name") for block in solutions for m in GLUE_NAME.finditer(block))
            outside.update(m.group("name") for m in GLUE_NAME.finditer(SOLUTION_BLOCK.sub("", text)))
    return inside - outside


def is_solution_cell(cell, solution_names):
    """A plumbing cell that computes the numbers of exercise solutions (it would give them away).

    Either tagged ``solution``, or a ``remove-cell`` cell all of whose glued values appear in the
    prose only inside solutions.
    """
    tags = cell.metadata.get("tags", [])
    if "solution" in tags:
        return True
    names = _record_names(cell)
    return "remove-cell" in tags and bool(names) and names <= solution_names


def _figure_metadata(cell):
    figure = cell.metadata.get("mystnb", {}).get("figure")
    return figure if isinstance(figure, dict) else None


def source_figure_count(nb):
    """The figures of a chapter, from its source: figure-metadata cells plus {glue:figure} directives."""
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and _figure_metadata(cell) is not None:
            count += 1
        elif cell.cell_type == "markdown":
            count += len(re.findall(r"^\s*(?:`{3,}|:{3,})\{glue:figure\}", cell.source, re.M))
    return count


# --------------------------------------------------------------------------------------------
# Whole notebooks
# --------------------------------------------------------------------------------------------


def _read(path):
    return nbformat.read(str(path), as_version=4)


def _convert(nb, state):
    state.chapter = chapter_number(state.path)
    state.doc = docname(state.path)
    state.glue_text, state.glue_figures = glued_values(nb)
    solution_names = solution_only_names(nb)
    cells = []
    for index, cell in enumerate(nb.cells):
        state.cell = index
        cell = copy.deepcopy(cell)
        if cell.cell_type == "markdown":
            cell.source = _markdown(cell.source, state)
            if cell.source.strip():
                cells.append(cell)
            continue
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        if state.variant == "students" and is_solution_cell(cell, solution_names):
            continue  # its code and its checks would give the solutions away
        cell.source = strip_glue(cell.source, state.where)
        cell.outputs = _plain_outputs(cell.get("outputs", []))
        if _is_code_free(cell.source):
            if cell.outputs:
                raise ConversionError(f"{state.where}: a cell with only glue(...) calls has outputs to keep")
            continue
        # The book's tags for plumbing have no meaning in a plain notebook.
        tags = [tag for tag in cell.metadata.get("tags", []) if tag not in ("remove-cell", "solution")]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        cells.append(cell)
        figure = _figure_metadata(cell)
        # myst-nb's metadata (caption, alt text) is MyST for the book; the caption cell replaces it.
        cell.metadata.pop("mystnb", None)
        if figure is not None:
            images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            if len(images) != 1:
                raise ConversionError(
                    f"{state.where}: a figure cell needs exactly one image/png output, it has {len(images)} "
                    "(execute the chapter; draw one figure per cell)"
                )
            caption = _caption(str(figure.get("caption", "")), figure.get("name"), state)
            if caption:
                cells.append(nbformat.v4.new_markdown_cell(caption, id=_derived_id(cell, "figure")))
    # Import names are not ast.Name nodes: this finds the calls of check only.
    keep_check = any(c.cell_type == "code" and _uses_name(c.source, "check") for c in cells)
    for cell in cells:
        if cell.cell_type == "code":
            cell.source = _rewrite_book_import(cell.source, keep_check)
    cells = [c for c in cells if c.cell_type != "code" or not _is_code_free(c.source) or c.outputs]
    if state.cited:
        references = "## References\n\n" + "\n".join(reference_list(state.cited))
        cells.append(nbformat.v4.new_markdown_cell(references, id="references"))
    out = copy.deepcopy(nb)
    out.cells = cells
    return out


def _derived_id(cell, suffix):
    """A stable id for a cell the converter adds (random ids would change the zip at every build)."""
    base = cell.get("id") or "cell"
    return f"{base[: 63 - len(suffix)]}-{suffix}"


def _check_plain(nb, where):
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert_plain_markdown(cell.source, f"{where}, cell {index}")
        elif cell.cell_type == "code":
            magic_cell = re.search(r"^\s*%%", cell.source, re.M) is not None
            if _uses_name(cell.source, "glue") or (magic_cell and re.search(r"\bglue\(", cell.source)):
                raise ConversionError(f"{where}, cell {index}: glue is still used after conversion")
            for output in cell.get("outputs", []):
                if any(key.startswith(RECORD_PREFIX) for key in output.get("data", {})):
                    raise ConversionError(f"{where}, cell {index}: a glue record is left")


def other_pages():
    """The pages of _toc.yml that are not chapters (introduction, labs, instructors, references)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [{"file": toc["root"]}, *toc.get("chapters", [])]
    for part in toc.get("parts", []):
        entries.extend(part.get("chapters", []))
    files = []
    while entries:
        entry = entries.pop(0)
        entries.extend(entry.get("sections", []))
        for suffix in (".md", ".ipynb"):
            path = ROOT / f"{entry['file']}{suffix}"
            if path.exists() and path.resolve() not in set(chapters()):
                files.append(path)
    return files


def _page_labels(page):
    """Labels of a page that is not a chapter: ``(label)=`` right before a heading."""
    if page.suffix == ".ipynb":
        text = "\n\n".join(c.source for c in _read(page).cells if c.cell_type == "markdown")
    else:
        text = page.read_text()
    found, pending = {}, []
    for token, group in _top_level_blocks(markdown_parser().parse(text)):
        if token.type == "myst_target":
            pending.append(token.content.strip())
            continue
        for label in pending:
            title = group[1].content if token.type == "heading_open" else None
            found[label] = Target("section" if title else "other", docname(page), None, title)
        pending = []
    return found


def collect_labels(paths):
    """Every label of ``paths`` (numbered as the book numbers them) and, for the book's chapters,
    of the book's other pages."""
    labels = {}
    for path in paths:
        state = State(Path(path), "instructors", None)
        _convert(_read(path), state)
        _merge(labels, state.found, path)
    if any(Path(p).resolve().parent == BOOK for p in paths):
        for page in other_pages():
            _merge(labels, _page_labels(page), page)
    return labels


def _label_sources(paths):
    """The notebooks whose labels a conversion of ``paths`` can refer to: the whole book for its chapters."""
    paths = {Path(p).resolve() for p in paths}
    if any(p.parent == BOOK for p in paths):
        paths |= set(chapters())
    return sorted(paths)


def _merge(labels, found, path):
    for label, target in found.items():
        if label in labels:
            raise ConversionError(
                f"{Path(path).name}: label {label!r} is also defined in {labels[label].doc}"
            )
        labels[label] = target


def convert_notebook(path, variant, labels=None):
    """The plain notebook of chapter ``path`` for ``variant`` ("students" or "instructors")."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    path = Path(path)
    nb = _read(path)
    if labels is None:
        labels = collect_labels(_label_sources([path]))
    plain = _convert(nb, State(path, variant, labels))
    _check_plain(plain, path.name)
    nbformat.validate(plain)
    return plain


def convert_chapters(out_dir=OUT, variants=VARIANTS, paths=None):
    """Write ``out_dir/<variant>/NN_name.ipynb`` for every chapter; returns {variant: [paths]}."""
    paths = [Path(p) for p in paths] if paths else chapters()
    if not paths:
        raise ConversionError("no chapter notebooks found in book/")
    labels = collect_labels(_label_sources(paths))
    written = {}
    for variant in variants:
        folder = Path(out_dir) / variant
        folder.mkdir(parents=True, exist_ok=True)
        written[variant] = []
        for path in paths:
            target = folder / path.name
            nbformat.write(convert_notebook(path, variant, labels), str(target))
            written[variant].append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="chapter notebooks (default: book/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: _build/notebooks)")
    parser.add_argument("--variant", choices=(*VARIANTS, "both"), default="both")
    args = parser.parse_args(argv)
    variants = VARIANTS if args.variant == "both" else (args.variant,)
    try:
        written = convert_chapters(args.out, variants, args.chapters or None)
    except ConversionError as exc:
        raise SystemExit(f"convert_notebooks: {exc}") from None
    for variant, paths in written.items():
        print(f"{variant}: {len(paths)} notebooks in {paths[0].parent}")


if __name__ == "__main__":
    sys.exit(main())
