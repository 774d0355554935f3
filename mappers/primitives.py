"""Reading FHIR primitive values forgivingly: what does not parse is absent, never an error."""

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
