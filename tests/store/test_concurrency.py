"""Writers racing each other: nothing lost, nothing duplicated, on SQLite and PostgreSQL."""

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.outcomes import FhirStoreError
from fhir_gateway.embedded.requests import FhirRequest

BASE = "http://store.test/fhir"
WORKERS = 8


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(database_url)
    yield store
    store.dispose()


def _status(store: EmbeddedStore, request: FhirRequest) -> int:
    try:
        return store.handle(request, BASE).status
    except FhirStoreError as error:
        return error.status


def _race(calls: list) -> list:  # type: ignore[type-arg]
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(lambda call: call(), calls))


def _search_total(store: EmbeddedStore, resource_type: str, **params: str) -> int:
    query = [(name, value) for name, value in params.items()] + [("_total", "accurate")]
    return store.handle(FhirRequest("GET", resource_type, query), BASE).body["total"]  # type: ignore[index]


def test_conditional_creates_on_one_identifier_make_one_resource(store: EmbeddedStore) -> None:
    value = uuid.uuid4().hex
    patient = {"resourceType": "Patient", "identifier": [{"system": "urn:race", "value": value}]}
    request = FhirRequest("POST", "Patient", body=patient, if_none_exist=f"identifier=urn:race|{value}")
    statuses = _race([lambda: _status(store, request) for _ in range(WORKERS * 2)])
    assert Counter(statuses) == {201: 1, 200: WORKERS * 2 - 1}
    assert _search_total(store, "Patient", identifier=f"urn:race|{value}") == 1


def test_puts_creating_one_id_make_one_resource(store: EmbeddedStore) -> None:
    res_id = f"race-{uuid.uuid4().hex[:12]}"
    patient = {"resourceType": "Patient", "id": res_id, "active": True}
    statuses = _race([lambda: _status(store, FhirRequest("PUT", f"Patient/{res_id}", body=patient))] * WORKERS)
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201}
    history = store.handle(FhirRequest("GET", f"Patient/{res_id}/_history"), BASE).body
    assert history["total"] == 1  # identical content never made a second version


def test_if_match_lets_exactly_one_of_racing_updates_win(store: EmbeddedStore) -> None:
    created = store.handle(FhirRequest("POST", "Patient", body={"resourceType": "Patient", "active": True}), BASE)
    res_id = created.body["id"]  # type: ignore[index]

    def update(n: int):  # type: ignore[no-untyped-def]
        body = {"resourceType": "Patient", "id": res_id, "active": True, "birthDate": f"19{n + 10}-01-01"}
        return lambda: _status(store, FhirRequest("PUT", f"Patient/{res_id}", body=body, if_match='W/"1"'))

    statuses = _race([update(n) for n in range(WORKERS)])
    assert Counter(statuses) == {200: 1, 412: WORKERS - 1}
    current = store.handle(FhirRequest("GET", f"Patient/{res_id}"), BASE)
    assert current.body["meta"]["versionId"] == "2"  # type: ignore[index]


def test_unconditional_updates_each_get_their_own_version(store: EmbeddedStore) -> None:
    created = store.handle(FhirRequest("POST", "Patient", body={"resourceType": "Patient"}), BASE)
    res_id = created.body["id"]  # type: ignore[index]
    bodies = [{"resourceType": "Patient", "id": res_id, "birthDate": f"19{n + 10}-01-01"} for n in range(WORKERS)]
    statuses = _race(
        [lambda body=body: _status(store, FhirRequest("PUT", f"Patient/{res_id}", body=body)) for body in bodies]
    )
    assert statuses == [200] * WORKERS
    history = store.handle(FhirRequest("GET", f"Patient/{res_id}/_history"), BASE).body
    assert sorted(int(e["resource"]["meta"]["versionId"]) for e in history["entry"]) == list(range(1, WORKERS + 2))
