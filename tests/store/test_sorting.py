"""Sorting by string parameters: by the shown values in document order, on both databases.

A search with no filter walks the sort keys of its first parameter in index order; a
filtered one sorts its matches. Both must give one order, and pages must neither overlap nor
skip where the resources without a value begin. The resources here are Practitioners, which
no other store test writes, so an unfiltered search sees this module's only (the database
is shared by the session).
"""

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import event

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.requests import FhirRequest
from mappers.text import fold

BASE = "http://store.test/fhir"
TAG = "urn:test:sorting"
RUN = uuid4().hex[:8]
# Far more pages than the matches fill: a walk that goes on repeats or skips matches.
MAX_PAGES = 50

# name: (the id's last part, which orders ties; the official name's given names, or None for no name)
PEOPLE: dict[str, tuple[str, list[str] | None]] = {
    "ann-marie": ("a", ["Ann Marie"]),
    "ann-then-marie": ("b", ["Ann", "Marie"]),
    "bob": ("c", ["Bob"]),
    "christian": ("d", ["christian"]),
    "christian-adrian": ("e", ["Christian", "Adrian"]),
    "søren": ("f", ["Søren"]),
    "zachary-alexander": ("g", ["Zachary", "Alexander"]),
    "family-only": ("y", []),
    "no-name": ("z", None),
}
ASCENDING = [
    "ann-marie",
    "ann-then-marie",
    "bob",
    "christian",
    "christian-adrian",
    "søren",
    "zachary-alexander",
    "family-only",
    "no-name",
]
# The reverse, but for ties (by id, ascending) and the resources without a value (last).
DESCENDING = [
    "zachary-alexander",
    "søren",
    "christian-adrian",
    "christian",
    "bob",
    "ann-marie",
    "ann-then-marie",
    "family-only",
    "no-name",
]


def _practitioner(suffix: str, given: list[str] | None, tag: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": f"sort-{RUN}-{suffix}",
        "meta": {"tag": [{"system": TAG, "code": tag}]},
    }
    if given is not None:
        name: dict[str, Any] = {"use": "official", "family": "Doe"}
        if given:
            name["given"] = given
        # A nickname first: only the official name counts.
        resource["name"] = [{"use": "nickname", "given": ["Aaron"]}, name]
    return resource


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(database_url)
    for suffix, given in PEOPLE.values():
        resource = _practitioner(suffix, given, RUN)
        response = store.handle(FhirRequest("PUT", f"Practitioner/{resource['id']}", body=resource), BASE)
        assert response.status == 201, response.body
    yield store
    store.dispose()


def _names(ids: list[str]) -> list[str]:
    by_id = {f"sort-{RUN}-{suffix}": name for name, (suffix, _) in PEOPLE.items()}
    return [by_id[found] for found in ids if found in by_id]


def _search(store: EmbeddedStore, params: list[tuple[str, str]]) -> dict[str, Any]:
    response = store.handle(FhirRequest("GET", "Practitioner", params), BASE)
    assert response.status == 200 and response.body is not None, response.body
    return response.body


def _walk(store: EmbeddedStore, params: list[tuple[str, str]], count: int) -> list[str]:
    """Every match's id, page by page."""
    ids: list[str] = []
    for _ in range(MAX_PAGES):
        page = _search(store, [*params, ("_count", str(count)), ("_offset", str(len(ids)))])
        ids += [entry["resource"]["id"] for entry in page.get("entry", [])]
        if not any(link["relation"] == "next" for link in page.get("link", [])):
            return ids
    raise AssertionError(f"still a next page after {MAX_PAGES} pages: {_names(ids)}")


@pytest.mark.parametrize(("sort", "expected"), [("given", ASCENDING), ("-given", DESCENDING)])
@pytest.mark.parametrize("filtered", [False, True], ids=["unfiltered", "filtered"])
def test_given_names_sort_as_shown_first_name_first(
    store: EmbeddedStore, sort: str, expected: list[str], filtered: bool
) -> None:
    params = [("_sort", sort), *([("_tag", f"{TAG}|{RUN}")] if filtered else [])]

    assert _names(_walk(store, params, 1000)) == expected


@pytest.mark.parametrize("sort", ["given", "-given", "family,given", "given,_id", "-given,-_lastUpdated"])
@pytest.mark.parametrize("count", [1, 2, 4])
def test_pages_of_an_unfiltered_sort_neither_overlap_nor_skip(store: EmbeddedStore, sort: str, count: int) -> None:
    everything = _walk(store, [("_sort", sort)], 1000)

    paged = _walk(store, [("_sort", sort)], count)

    assert paged == everything
    assert sorted(_names(everything)) == sorted(PEOPLE)


def test_the_order_is_the_folded_given_names_the_mappers_read() -> None:
    shown = {name: fold(" ".join(given)) for name, (_, given) in PEOPLE.items() if given}

    assert sorted(shown, key=lambda name: (shown[name], PEOPLE[name][0])) == ASCENDING[: len(shown)]


def test_an_unfiltered_sorted_page_reads_the_sort_index_in_order() -> None:
    store = EmbeddedStore("sqlite://")
    for suffix, given in PEOPLE.values():
        resource = _practitioner(suffix, given, RUN)
        store.handle(FhirRequest("PUT", f"Practitioner/{resource['id']}", body=resource), BASE)
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    _search(store, [("_sort", "given,_id"), ("_count", "3")])
    event.remove(store.engine, "before_cursor_execute", capture)
    with store.engine.connect() as conn:
        plans = [
            [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            for statement, parameters in statements
            if "ORDER BY" in statement
        ]
    store.dispose()

    # The matches with a given name come from the index alone, in its order: no sorting, no
    # resource rows read. (The search stores its first matches for its page links, so the walk
    # goes on to those without a given name, which a second statement sorts.)
    assert plans[0] == ["SEARCH first_key USING COVERING INDEX ix_idx_sort_order (res_type=? AND param=?)"]
