"""Tell apart works by the same authors in the same year: "2016a", "2016b".

The bibliography keeps plain years (``year = {2016}``), so that it stays valid
BibTeX for any other tool. After sphinxcontrib-bibtex has read it, this
extension finds entries with the same author surnames and the same year and
appends a letter to their year in the order of their titles, as author-year
styles do. Citations ("Gal and Ghahramani, 2016a") and the reference list
then agree.
"""

from collections import defaultdict
from string import ascii_lowercase


def disambiguate_years(entries):
    """Append a, b, ... to the years of entries that share their authors' surnames and year."""
    groups = defaultdict(list)
    for entry in entries.values():
        authors = tuple(" ".join(p.last_names) for p in entry.persons.get("author", []))
        year = entry.fields.get("year")
        if authors and year and year.isdigit():
            groups[authors, year].append(entry)
    for (_, year), group in groups.items():
        if len(group) > 1:
            ordered = sorted(group, key=lambda e: e.fields.get("title", ""))
            for letter, entry in zip(ascii_lowercase, ordered, strict=False):
                entry.fields["year"] = f"{year}{letter}"


def _after_bibtex_read(app):
    disambiguate_years(app.env.get_domain("cite").bibdata.data.entries)


def setup(app):
    # After sphinxcontrib-bibtex's own builder-inited handler (priority 500) has parsed the files.
    app.connect("builder-inited", _after_bibtex_read, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
