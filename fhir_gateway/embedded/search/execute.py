"""Running a parsed search: its matches in order, a page of them, their includes and total."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Select, and_, select, tuple_

from ..reads import load_current
from ..repository import Stored
from ..schema import reference_index, resources
from . import paging
from .parse import parse_query
from .query import Condition, Include, SearchQuery
from .sorting import count_all, sorted_page
from .sql import matching

# Saves a stored result list; the store decides in which transaction.
SaveList = Callable[[paging.StoredList], None]


@dataclass
class SearchPage:
    query: SearchQuery
    matches: list[Stored]
    included: list[Stored]
    total: int | None
    offset: int
    has_next: bool
    # The search as asked, which the page links repeat.
    raw_query: list[tuple[str, str]]
    # The stored result list the page was cut from, which its page links name.
    search_id: str | None = None


def run_search(conn: Connection, query: SearchQuery, raw_query: list[tuple[str, str]], save: SaveList) -> SearchPage:
    base = matching(query.resource_type, query.conditions)
    if query.summary_count or query.count == 0:
        return SearchPage(query, [], [], count_all(conn, base), 0, False, raw_query)
    if query.offset is not None:
        # Offset paging, as asked: links carry `_offset`, and no list is stored.
        pks = _sorted(conn, query, base, query.count + 1, query.offset)
        return _page(conn, query, raw_query, base, pks, query.offset, None, None)
    pks = _sorted(conn, query, base, paging.FIRST_CHUNK + 1, 0)
    if len(pks) <= query.count:
        return _page(conn, query, raw_query, base, pks, 0, None, None)
    stored = paging.StoredList(
        paging.new_search_id(),
        query.resource_type,
        raw_query,
        pks[: paging.FIRST_CHUNK],
        complete=len(pks) <= paging.FIRST_CHUNK,
        total=count_all(conn, base) if query.total else None,
    )
    save(stored)
    return _page(conn, query, raw_query, base, stored.pks[: query.count + 1], 0, stored.search_id, stored.total)


def stored_page(conn: Connection, stored: paging.StoredList, offset: int, count: int, save: SaveList) -> SearchPage:
    query = parse_query(stored.res_type, stored.query)
    query.count = count
    if offset + count >= len(stored.pks) and not stored.complete:
        base = matching(query.resource_type, query.conditions)
        paging.extend(stored, _sorted(conn, query, base, 2**62, 0))
        save(stored)
    pks = stored.pks[offset : offset + count + 1]
    page = _page(conn, query, stored.query, None, pks, offset, stored.search_id, stored.total)
    if page.total is None and not page.has_next:
        page.total = len(stored.pks)
    return page


def matching_ids(conn: Connection, resource_type: str, conditions: list[Condition], limit: int) -> list[str]:
    """Ids of current resources matching `conditions`, oldest first (conditional operations)."""
    statement = (
        matching(resource_type, conditions).with_only_columns(resources.c.res_id).order_by(resources.c.pk).limit(limit)
    )
    return list(conn.execute(statement).scalars())


def _sorted(conn: Connection, query: SearchQuery, base: Select, limit: int, offset: int) -> list[int]:
    return sorted_page(
        conn, base, query.resource_type, query.sort, filtered=bool(query.conditions), limit=limit, offset=offset
    )


def _page(
    conn: Connection,
    query: SearchQuery,
    raw_query: list[tuple[str, str]],
    base: Select | None,
    pks: list[int],
    offset: int,
    search_id: str | None,
    total: int | None,
) -> SearchPage:
    """The page of `pks` (one more than a page, to know whether another follows)."""
    has_next = len(pks) > query.count
    pks = pks[: query.count]
    # A stored match deleted since is skipped: `load_current` finds only live resources.
    matches = load_current(conn, pks)
    if total is None and base is not None:
        total = count_all(conn, base) if query.total else (None if has_next else offset + len(matches))
    included = _included(conn, query, matches, pks)
    return SearchPage(query, matches, included, total, offset, has_next, raw_query, search_id)


# Rounds of `:iterate` includes after the first: a bound on chains of references followed.
MAX_INCLUDE_ROUNDS = 4


def _included(conn: Connection, query: SearchQuery, matches: list[Stored], pks: list[int]) -> list[Stored]:
    if not matches or not (query.includes or query.revincludes):
        return []
    seen = set(pks)
    found: list[int] = []
    frontier = pks
    for round_ in range(1 + MAX_INCLUDE_ROUNDS):
        includes = [include for include in query.includes if round_ == 0 or include.iterate]
        revincludes = [include for include in query.revincludes if round_ == 0 or include.iterate]
        if not frontier or not (includes or revincludes):
            break
        new = [pk for pk in dict.fromkeys(_include_round(conn, includes, revincludes, frontier)) if pk not in seen]
        seen.update(new)
        found += new
        frontier = new
    return load_current(conn, found)


def _include_round(
    conn: Connection, includes: list[Include], revincludes: list[Include], frontier: list[int]
) -> list[int]:
    """The pks of the resources `includes` and `revincludes` reach from the `frontier` rows."""
    found: list[int] = []
    for include in includes:
        condition = and_(
            reference_index.c.res_pk.in_(frontier),
            reference_index.c.res_type == include.source_type,
            reference_index.c.param == include.param.name,
        )
        if include.target_type:
            condition = and_(condition, reference_index.c.target_type == include.target_type)
        targets = set(conn.execute(select(reference_index.c.target_type, reference_index.c.target_id).where(condition)))
        if targets:
            found += conn.execute(
                select(resources.c.pk).where(
                    tuple_(resources.c.res_type, resources.c.res_id).in_(sorted(targets)),
                    resources.c.deleted.is_(False),
                )
            ).scalars()
    if revincludes:
        keys = [
            tuple(row)
            for row in conn.execute(
                select(resources.c.res_type, resources.c.res_id).where(resources.c.pk.in_(frontier))
            )
        ]
        for include in revincludes:
            found += conn.execute(
                select(reference_index.c.res_pk).where(
                    reference_index.c.res_type == include.source_type,
                    reference_index.c.param == include.param.name,
                    tuple_(reference_index.c.target_type, reference_index.c.target_id).in_(keys),
                )
            ).scalars()
    return found
