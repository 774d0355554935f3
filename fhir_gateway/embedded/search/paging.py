"""Stored result lists: the ordered matches of a search with more than one page, which its
page links cut pages from (HAPI FHIR's `_getpages`), so that paging holds while data changes.

The first `FIRST_CHUNK` matches are stored with the search; a client that pages past them has
the list extended by running the search again and continuing after the last stored match that
still matches. A stored list expires; its links then answer 410 Gone.
"""

import uuid
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import Connection, delete, insert, select

from ..outcomes import FhirStoreError
from ..schema import search_results

FIRST_CHUNK = 1000
DEFAULT_PAGE_LIFETIME = timedelta(hours=1)


@dataclass
class StoredList:
    search_id: str
    res_type: str
    query: list[tuple[str, str]]
    pks: list[int]
    complete: bool
    total: int | None
    # Set once saved: when the search ran, and when its links stop answering.
    created: datetime | None = None
    expires: datetime | None = None


def save(conn: Connection, stored: StoredList, moment: datetime, lifetime: timedelta) -> None:
    """Save a new list, or the longer list of one saved before (its expiry unchanged)."""
    # Expired lists go as new ones come: the table holds only lists still in use.
    conn.execute(delete(search_results).where(search_results.c.expires < moment))
    conn.execute(delete(search_results).where(search_results.c.search_id == stored.search_id))
    conn.execute(
        insert(search_results),
        {
            "search_id": stored.search_id,
            "res_type": stored.res_type,
            "query": orjson.dumps(stored.query).decode(),
            "pks": _packed(stored.pks),
            "complete": stored.complete,
            "total": stored.total,
            "created": stored.created or moment,
            "expires": stored.expires or moment + lifetime,
        },
    )


def load(conn: Connection, search_id: str, moment: datetime) -> StoredList:
    row = conn.execute(select(search_results).where(search_results.c.search_id == search_id)).first()
    if row is None or row.expires < moment:
        raise FhirStoreError.of(410, f'Search ID "{search_id[:64]}" does not exist and may have expired')
    query = [(name, value) for name, value in orjson.loads(row.query)]
    return StoredList(
        row.search_id, row.res_type, query, _unpacked(row.pks), row.complete, row.total, row.created, row.expires
    )


def extend(stored: StoredList, all_matches: list[int]) -> None:
    """Complete `stored.pks` with the matches that follow its last still-matching one (the
    caller saves it again)."""
    position = {pk: index for index, pk in enumerate(all_matches)}
    anchor = next((position[pk] for pk in reversed(stored.pks) if pk in position), -1)
    seen = set(stored.pks)
    stored.pks += [pk for pk in all_matches[anchor + 1 :] if pk not in seen]
    stored.complete = True


def new_search_id() -> str:
    return str(uuid.uuid4())


def _packed(pks: list[int]) -> bytes:
    return array("q", pks).tobytes()


def _unpacked(data: bytes) -> list[int]:
    pks = array("q")
    pks.frombytes(data)
    return pks.tolist()
