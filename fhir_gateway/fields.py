"""Field types the request schemas of every slice share.

Text must be storable as it was sent: JSON can carry lone surrogates and control
characters that neither FHIR strings (R4 datatypes.html#string) nor PostgreSQL can hold,
so they are refused where they arrive, with the field's name, instead of failing deeper
down. Dates and instants are taken in ISO 8601 only: pydantic alone would also read
numbers as Unix times, and a datetime without an offset would be a guess.
"""

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

# C0 and C1 controls, DEL, unpaired surrogates and the noncharacters U+FFFE/U+FFFF.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Multi-line text keeps tab, line feed and carriage return, which FHIR strings allow.
_UNSTORABLE_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# An unencoded "+" of an offset arrives in a query string as a space; it is read as "+".
_ISO_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+ -][0-9]{2}:[0-9]{2})"
)


def _refusing(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        # The message names the character and where it is, never the text itself: it may be PHI.
        if found := pattern.search(value):
            raise ValueError(f"must not contain {what} (U+{ord(found.group()):04X} at character {found.start() + 1})")
        return value

    return AfterValidator(check)


# Markers for `Annotated[str, ...]`; give the field its `max_length` too.
SingleLine = _refusing(_UNSTORABLE, "control characters, line breaks or unpaired surrogates")
MultiLine = _refusing(_UNSTORABLE_MULTILINE, "control characters or unpaired surrogates")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _iso_instant(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_INSTANT.fullmatch(value):
        raise ValueError("must be a date and time with an offset, such as 2025-03-01T10:30:00-08:00 (ISO 8601)")
    offset_at = len(value) - 6
    if value[offset_at] == " ":
        value = f"{value[:offset_at]}+{value[offset_at + 1 :]}"
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
