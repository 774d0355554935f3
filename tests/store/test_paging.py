"""Stored result lists past their first chunk: extended from the search run again, after the
last stored match that still matches, so that a walk through every page misses no record."""

from typing import Any

from sqlalchemy import select

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.requests import FhirRequest
from fhir_gateway.embedded.schema import search_results
from fhir_gateway.embedded.search import paging

BASE = "http://testserver/fhir"


def _get(store: EmbeddedStore, path: str, query: list[tuple[str, str]]) -> dict[str, Any]:
    response = store.handle(FhirRequest("GET", path, query=query), BASE)
    assert response.status == 200, response.body
    assert response.body is not None
    return response.body


def _next(bundle: dict[str, Any]) -> list[tuple[str, str]] | None:
    from urllib.parse import parse_qsl, urlsplit

    for link in bundle["link"]:
        if link["relation"] == "next":
            return parse_qsl(urlsplit(link["url"]).query)
    return None


def test_a_walk_past_the_first_chunk_sees_every_match_once(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(paging, "FIRST_CHUNK", 7)
    store = EmbeddedStore(f"sqlite:///{tmp_path / 'fhir.db'}")
    ids = []
    for index in range(23):
        stored = store.handle(
            FhirRequest("POST", "Patient", body={"resourceType": "Patient", "name": [{"family": f"Walk{index:02d}"}]}),
            BASE,
        )
        ids.append(stored.body["id"])  # type: ignore[index]

    seen: list[str] = []
    bundle = _get(store, "Patient", [("family", "Walk"), ("_count", "5"), ("_sort", "family")])
    deleted_ahead = ids[12]
    store.handle(FhirRequest("DELETE", f"Patient/{deleted_ahead}"), BASE)
    while True:
        seen += [entry["resource"]["id"] for entry in bundle.get("entry", [])]
        query = _next(bundle)
        if query is None:
            break
        bundle = _get(store, "", query)
    with store.engine.connect() as conn:
        saved = conn.execute(select(search_results.c.complete, search_results.c.pks)).one()
    store.dispose()

    assert seen == [patient for patient in ids if patient != deleted_ahead]
    # The list was extended once, for good: later pages are cut from it, not from a new search.
    assert saved.complete
    assert len(saved.pks) == 8 * 22


def test_page_links_answer_on_an_in_memory_database() -> None:
    store = EmbeddedStore("sqlite://")
    for index in range(3):
        body = {"resourceType": "Patient", "name": [{"family": f"Memory{index}"}]}
        store.handle(FhirRequest("POST", "Patient", body=body), BASE)

    first = _get(store, "Patient", [("_count", "2")])
    query = _next(first)
    assert query is not None
    second = _get(store, "", query)
    store.dispose()

    assert len(first["entry"]) + len(second["entry"]) == 3
