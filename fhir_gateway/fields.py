"""Field types the request schemas of every slice share.

Text must be storable as it was sent: JSON can carry lone surrogates and control
characters that neither FHIR strings (R4 datatypes.html#string) nor PostgreSQL can hold,
so they are refused where they arrive, with the field's name, instead of failing deeper
down. Dates and instants are taken in ISO 8601 only: pydantic alone would also read
numbers as Unix times, and a datetime without an offset would be a guess.
"""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    EmailStr,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from mappers import health_numbers

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# An unencoded "+" of an offset arrives in a query string as a space; it is read as "+".
_ISO_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+ -][0-9]{2}:[0-9]{2})"
)


_UNPAIRED_SURROGATES = "\\ud800-\\udfff"


class _Refusing:
    """A marker for `Annotated[str, ...]` that refuses the characters of `refused`, and says
    so in the JSON schema (as a `pattern` of what is allowed), so clients can know it."""

    def __init__(self, refused: str, what: str, *, non_blank: bool = False) -> None:
        self._refused = re.compile(f"[{refused}{_UNPAIRED_SURROGATES}]")
        self._what = what
        # Unpaired surrogates are left out of the schema's pattern: JSON text cannot hold
        # them unescaped, and many regex engines that read OpenAPI patterns refuse the range.
        allowed = f"[^{refused}]*"
        # A name must have something to say: one character that is not white space.
        self._schema_pattern = f"^{allowed}[^\\s{refused}]{allowed}$" if non_blank else f"^{allowed}$"

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self._schema_pattern
        return json_schema

    def _check(self, value: str) -> str:
        # The message names the character and where it is, never the text itself: it may be PHI.
        if found := self._refused.search(value):
            raise ValueError(
                f"must not contain {self._what} (U+{ord(found.group()):04X} at character {found.start() + 1})"
            )
        return value


class Shaped:
    """A marker for `Annotated[str, ...]` that tells the JSON schema the `pattern` the field's
    own validator checks (which words its refusal better than a bare pattern would)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


_CONTROLS = "\\x00-\\x1f\\x7f-\\x9f\\ufffe\\uffff"
_CONTROLS_BUT_LINE_BREAKS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufffe\\uffff"

# Up to 32 letters and digits, a space or hyphen allowed after each (they are dropped).
INSURANCE_NO_SHAPE = r"^(?:[A-Za-z0-9][ -]?){1,32}$"
_INSURANCE_NO = re.compile(INSURANCE_NO_SHAPE)
INSURANCE_NO_MESSAGE = "must be up to 32 letters and digits (a space or hyphen after each is ignored)"

# Markers for `Annotated[str, ...]`; give the field its `max_length` too.
SingleLine = _Refusing(_CONTROLS, "control characters, line breaks or unpaired surrogates")
# One line that is not blank: the schema says so; the model still refuses blank text itself.
NonBlankLine = _Refusing(_CONTROLS, "control characters, line breaks or unpaired surrogates", non_blank=True)
MultiLine = _Refusing(_CONTROLS_BUT_LINE_BREAKS, "control characters or unpaired surrogates")
NonBlankText = _Refusing(_CONTROLS_BUT_LINE_BREAKS, "control characters or unpaired surrogates", non_blank=True)


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


def _iso_date_or_instant(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return date.fromisoformat(value)
    try:
        return _iso_instant(value)
    except ValueError:
        raise ValueError(
            "must be a date (YYYY-MM-DD) or a date and time with an offset, such as 2025-03-01T10:30:00-08:00"
        ) from None


EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
# Clocks of clients and servers drift: a moment stamped a few minutes ahead is "now".
CLOCK_SKEW = timedelta(minutes=5)


def _in_the_past(value: datetime) -> datetime:
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("must not be in the future")
    if value < EARLIEST_MOMENT:
        raise ValueError("must not be before 1900")
    return value


def _rfc5321_lengths(address: str) -> str:
    # RFC 5321 section 4.5.3.1: a local part of 64 octets at most, a path of 256 with its brackets.
    local_part = address.rsplit("@", 1)[0]
    if len(local_part.encode()) > 64:
        raise ValueError("has a local part (before @) longer than 64 characters")
    if len(address.encode()) > 254:
        raise ValueError("is longer than 254 characters")
    return address


def normalized_insurance_no(value: str) -> str:
    """A health number as it is stored: without spaces and hyphens, letters upper-cased."""
    if not _INSURANCE_NO.fullmatch(value):
        raise ValueError(INSURANCE_NO_MESSAGE)
    return health_numbers.normalize(value)


# Syntax by email-validator (no DNS look-up), normalised as it normalises (the domain lower-cased).
Email = Annotated[EmailStr, AfterValidator(_rfc5321_lengths)]
# A health number of any province, normalised; give the field its `max_length` too.
InsuranceNo = Annotated[str, Shaped(INSURANCE_NO_SHAPE), AfterValidator(normalized_insurance_no)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoInstant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
# A moment that has happened (a note taken, a visit): not in the future, not before 1900.
PastInstant = Annotated[AwareDatetime, BeforeValidator(_iso_instant), AfterValidator(_in_the_past)]
# A bound of a time range: a whole day, or an instant.
IsoDateOrInstant = Annotated[AwareDatetime | date, BeforeValidator(_iso_date_or_instant)]


def whole_number(value: Any) -> Any:
    """A validator's step before a strict integer: JSON Schema's integers include 7.0;
    text ("7") and true are still refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer as JSON Schema has it: 7 or 7.0, never "7" nor true. (Constraints go on the
# field, or before `Strict` in an `Annotated`, for the schema to state them.)
JsonInteger = Annotated[int, Strict(), BeforeValidator(whole_number)]
