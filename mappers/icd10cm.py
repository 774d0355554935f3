"""ICD-10-CM diagnosis codes, from the CDC's April 2026 release (public domain), known
offline: a code is checked without a terminology server.

The table (`data/icd10cm.tsv.gz`) is generated from the release `simple-icd-10-cm` ships by
`scripts/generate_icd10cm_table.py`. A code is valid when it names a category or a
subcategory (`J30`, `J30.1`, `S52.521A`); chapters and blocks (`J30-J39`) are groupings,
not codes a diagnosis is recorded with. Codes are taken in either case, with or without
their dot, and kept in the release's own form (`J30.1`).
"""

import gzip
from functools import cache
from pathlib import Path

SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
RELEASE = "April 2026"
TABLE = Path(__file__).parent / "data" / "icd10cm.tsv.gz"


@cache
def _table() -> tuple[dict[str, str], dict[str, str]]:
    """Each code without its dot -> the code as the release writes it; that -> its description.
    (Strings only: a full garbage collection never walks 98,000 tuples.)"""
    codes: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    with gzip.open(TABLE, "rt", encoding="utf-8") as lines:
        for line in lines:
            code, described = line.rstrip("\n").split("\t", 1)
            codes[code.replace(".", "")] = code
            descriptions[code] = described
    return codes, descriptions


def canonical(code: str) -> str | None:
    """`code` as the release writes it, or None when it is no ICD-10-CM diagnosis code."""
    candidate = code.strip().upper()
    # A dot belongs after the third character, before more; anywhere else the code is mistyped.
    if "." in candidate and (candidate.index(".") != 3 or candidate.endswith(".")):
        return None
    return _table()[0].get(candidate.replace(".", "", 1))


def description(code: str) -> str | None:
    """The release's description of a code (in any of the forms `canonical` takes), or None
    when it is no ICD-10-CM diagnosis code."""
    known = canonical(code)
    return _table()[1][known] if known else None
