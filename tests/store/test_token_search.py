"""Token searches with several values: the right matches, found through the index."""

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.requests import FhirRequest
from fhir_gateway.embedded.search import parse_query
from fhir_gateway.embedded.search.sql import matching

BASE = "http://store.test/fhir"


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(database_url)
    for index, (system, value) in enumerate(
        [("urn:a", "one"), ("urn:b", "one"), ("urn:a", "two"), (None, "two"), ("urn:c", "three")]
    ):
        identifier = {"value": value} if system is None else {"system": system, "value": value}
        patient = {"resourceType": "Patient", "id": f"token-{index}", "identifier": [identifier]}
        store.handle(FhirRequest("PUT", f"Patient/token-{index}", body=patient), BASE)
    yield store
    store.dispose()


def _ids(store: EmbeddedStore, value: str) -> set[str]:
    body = store.handle(FhirRequest("GET", "Patient", [("identifier", value), ("_count", "100")]), BASE).body
    assert body is not None
    return {entry["resource"]["id"] for entry in body.get("entry", []) if entry["resource"]["id"].startswith("token-")}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("urn:a|one,urn:b|one", {"token-0", "token-1"}),
        ("urn:a|one,urn:a|two", {"token-0", "token-2"}),
        ("urn:a|two,urn:c|three", {"token-2", "token-4"}),
        ("urn:b|two", set()),
        ("two,urn:c|three", {"token-2", "token-3", "token-4"}),
        ("|two,urn:b|one", {"token-3", "token-1"}),
        ("urn:c|,urn:b|one", {"token-4", "token-1"}),
    ],
)
def test_several_values_match_any_of_them_with_their_systems(
    store: EmbeddedStore, value: str, expected: set[str]
) -> None:
    assert _ids(store, value) == expected


@pytest.mark.parametrize("value", ["urn:a|one,urn:b|one,urn:c|three", "urn:a|one,urn:a|two", "one,two", "|one,|two"])
def test_several_values_are_looked_up_by_code_in_the_index(value: str) -> None:
    sqlite = EmbeddedStore("sqlite://")
    query = parse_query("Patient", [("identifier", value)])
    statement = matching("Patient", query.conditions)
    compiled = statement.compile(sqlite.engine, compile_kwargs={"literal_binds": True})
    with sqlite.engine.connect() as conn:
        plan = [row[3] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    sqlite.dispose()

    assert any("ix_idx_token_lookup (res_type=? AND param=? AND code=?)" in step for step in plan), plan
