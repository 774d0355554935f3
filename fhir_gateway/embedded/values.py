"""Value conversions shared by indexing and search: text folding and date ranges."""

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from mappers.text import fold as fold_text

from .schema import INDEXED_TEXT_LENGTH

EARLIEST = datetime(1, 1, 1)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999)

_DATE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d+)?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Text as string index rows hold it: folded as the fuzzy name search folds it (so that
    "Zoë" and "ZOE", "Søren" and "soren" index alike), cut to the indexed length."""
    return fold_text(text)[:INDEXED_TEXT_LENGTH]


def date_range(text: str) -> tuple[datetime, datetime]:
    """The UTC instant range a FHIR date, dateTime or instant covers (naive datetimes).

    Raises ValueError for text that is not one of those forms.
    """
    match = _DATE.match(text)
    if not match:
        raise ValueError(f"not a FHIR date/dateTime: {text!r}")
    parts = match.groupdict()
    year = int(parts["year"])
    if parts["month"] is None:
        return datetime(year, 1, 1), _before(datetime(year + 1, 1, 1) if year < 9999 else None)
    month = int(parts["month"])
    if parts["day"] is None:
        start = datetime(year, month, 1)
        following = datetime(year + (month == 12), month % 12 + 1, 1) if year < 9999 or month < 12 else None
        return start, _before(following)
    day = datetime(year, month, int(parts["day"]))
    if parts["hour"] is None:
        return day, _before(day + timedelta(days=1) if day.date() < LATEST.date() else None)
    start = day.replace(hour=int(parts["hour"]), minute=int(parts["minute"]))
    if parts["second"] is None:
        span = timedelta(minutes=1)
    else:
        start = start.replace(second=int(parts["second"]))
        span = timedelta(seconds=1)
        if parts["fraction"]:
            start = start.replace(microsecond=int((parts["fraction"][1:] + "000000")[:6]))
            span = timedelta(microseconds=1)
    # In microseconds, so that a time zone may carry a moment past either end of the
    # calendar (00:30+01:00 on 0001-01-01 is before it in UTC): the range stops at the ends.
    low = _micros(start) - _micros_of(_offset(parts["tz"]))
    high = low + _micros_of(span) - 1
    return _moment(low), _moment(high)


_ONE_MICROSECOND = timedelta(microseconds=1)


def _micros_of(duration: timedelta) -> int:
    return duration // _ONE_MICROSECOND


def _micros(moment: datetime) -> int:
    return _micros_of(moment - EARLIEST)


def _moment(micros: int) -> datetime:
    return EARLIEST + timedelta(microseconds=min(max(micros, 0), _micros(LATEST)))


def _before(moment: datetime | None) -> datetime:
    return LATEST if moment is None else moment - timedelta(microseconds=1)


def _offset(tz: str | None) -> timedelta:
    if not tz or tz == "Z":
        return timedelta(0)
    sign = -1 if tz[0] == "-" else 1
    hours, minutes = tz[1:].split(":")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def now() -> datetime:
    """The store's clock: naive UTC, millisecond precision (what meta.lastUpdated shows)."""
    moment = datetime.now(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def instant(moment: datetime) -> str:
    """meta.lastUpdated form of a naive UTC datetime."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"
