"""The `from`/`to` range of a list query as FHIR date search parameters.

Bounds are written to the millisecond, as the slices store their instants: an instant
as given, a day (UTC) from its first moment to the last before the next day begins.
"""

from datetime import UTC, date, datetime, time, timedelta

from mappers.primitives import fhir_instant


def date_range(param: str, start: datetime | date | None, end: datetime | date | None) -> list[tuple[str, str]]:
    """The search parameters (`param=ge…`, `param=le…` or `lt…`) of a range; open ends add none."""
    params: list[tuple[str, str]] = []
    if start is not None:
        params.append((param, f"ge{_moment(start)}"))
    if isinstance(end, datetime):
        params.append((param, f"le{_moment(end)}"))
    elif end is not None:
        params.append((param, f"lt{_moment(end + timedelta(days=1))}"))
    return params


def _moment(bound: datetime | date) -> str:
    return fhir_instant(bound if isinstance(bound, datetime) else datetime.combine(bound, time(), UTC))
