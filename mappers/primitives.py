"""Reading FHIR values forgivingly: what is missing or of another shape is absent, never an error."""

from datetime import datetime
from typing import Any


def instant(value: Any) -> datetime | None:
    """A FHIR instant (`meta.lastUpdated`) as an aware datetime; None unless it carries an offset."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def fhir_instant(moment: datetime) -> str:
    """A moment as a FHIR dateTime to the millisecond (microseconds dropped)."""
    return moment.isoformat(timespec="milliseconds")


def text(value: Any) -> str | None:
    """A string that says something; None for blank text and for anything that is not a string."""
    return value if isinstance(value, str) and value.strip() else None


def element(value: Any) -> dict[str, Any]:
    """A complex element (a JSON object); an empty one for anything else."""
    return value if isinstance(value, dict) else {}


def elements(value: Any) -> list[dict[str, Any]]:
    """The objects of a repeating element; whatever else the list holds is ignored."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def number(value: Any) -> float | None:
    """A JSON number (never a boolean) as a float."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def positive_int(value: Any) -> int | None:
    """A FHIR positiveInt."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
