"""The bibliography tells apart works of the same authors and year without editing their years."""

import sys
from pathlib import Path

from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from bibyears import disambiguate_years  # noqa: E402


def test_years_in_the_bib_file_are_plain_years():
    entries = parse_file(str(ROOT / "book" / "references.bib")).entries
    assert all(e.fields["year"].isdigit() for e in entries.values() if "year" in e.fields)


def test_same_authors_and_year_get_letters_in_title_order():
    entries = parse_file(str(ROOT / "book" / "references.bib")).entries
    disambiguate_years(entries)
    assert entries["gal2016theoretically"].fields["year"] == "2016a"  # "A Theoretically ..." sorts first
    assert entries["gal2016dropout"].fields["year"] == "2016b"
    assert entries["srivastava2014dropout"].fields["year"] == "2014"  # a unique author-year is unchanged
