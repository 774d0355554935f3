"""ICD-10-CM diagnosis codes, from the CDC's April 2026 release that `simple-icd-10-cm`
ships: known offline, so a code is checked without a terminology server.

A code is valid when it names a category or a subcategory (`J30`, `J30.1`, `S52.521A`);
chapters and blocks (`J30-J39`) are groupings, not codes a diagnosis is recorded with.
Codes are taken in either case, with or without their dot, and kept in the release's own
form (`J30.1`).
"""

import warnings
from functools import cache
from types import ModuleType

SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
RELEASE = "April 2026"


@cache
def _table() -> ModuleType:
    # Importing the package parses the whole release (about 2 s): only the first code
    # checked pays for it, not every start of the gateway or its CLI.
    with warnings.catch_warnings():
        # It reads its data with importlib.resources.read_text, deprecated on Python 3.11 and 3.12.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm

    return simple_icd_10_cm


def load() -> None:
    """Load the release now (it is loaded on first use otherwise)."""
    _table()


def canonical(code: str) -> str | None:
    """`code` as the release writes it, or None when it is no ICD-10-CM diagnosis code."""
    table = _table()
    candidate = code.strip().upper()
    if not candidate or not table.is_valid_item(candidate) or not table.is_category_or_subcategory(candidate):
        return None
    return str(table.add_dot(candidate))


def description(code: str) -> str:
    """The release's description of a valid code (`canonical`'s answer)."""
    return str(_table().get_description(code))
