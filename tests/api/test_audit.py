"""The audit trail: every read and write of patient data on either face becomes a FHIR
AuditEvent in the FHIR server, findable by patient, written off the request's path, and
no fault of the trail fails a request. Runs on the embedded store and on HAPI."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from fhir_gateway.app import EMBEDDED_BASE_URL, create_app
from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient, RetryPolicy
from fhir_gateway.security import new_api_key
from fhir_gateway.settings import Settings
from tests.api.conftest import FHIR_BASE_URL, OpenGateway

pytestmark = pytest.mark.anyio

FHIR_JSON = {"Content-Type": "application/fhir+json"}
PATIENT = {
    "given_name": "Oriel",
    "family_name": "Vantongeren",
    "birth_date": "1970-05-06",
    "province": "BC",
    "insurance_no": "9876543218",
}


class Audited:
    """A gateway with the audit trail on, an API key for `ehr`, and the trail itself."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI, keys: dict[str, str]) -> None:
        self.client = client
        self.app = app
        self.keys = keys
        self.headers = {"Authorization": f"Bearer {keys['ehr']}"}

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    async def events_of(self, reference: str) -> list[dict[str, Any]]:
        await self.app.state.audit_trail.flush()
        found = await self.request("GET", "/fhir/AuditEvent", params={"entity-name:exact": reference, "_count": "100"})
        assert found.status_code == 200, found.text
        return [entry["resource"] for entry in found.json().get("entry") or []]

    async def metric(self, result: str) -> float:
        text = (await self.client.get("/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "fhir_gateway_audit_events_total" and sample.labels == {"result": result}:
                    return sample.value
        raise AssertionError("no audit_events metric")


def _audited_settings(settings: Settings, **changes: Any) -> tuple[Settings, dict[str, str]]:
    keys, entries = {}, []
    for name, scopes in (("ehr", ["system/*.read", "system/*.write"]), ("basics", ["system/Basic.read"])):
        keys[name], configured = new_api_key(name, scopes)
        entries.append(configured.entry())
    update = {"is_local_dev": False, "api_keys": entries, "audit_enabled": True, "audit_flush_seconds": 0.05}
    return settings.model_copy(update={**update, **changes}), keys


@pytest.fixture
def audited(settings: Settings, open_gateway: OpenGateway) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(fhir_client: FhirClient | None = None, **changes: Any) -> AsyncIterator[Audited]:
        changed, keys = _audited_settings(settings, **changes)
        app = create_app(changed, fhir_client=fhir_client)
        async with open_gateway(app) as client:
            yield Audited(client, app, keys)

    return start


@pytest.fixture
def own_store(settings: Settings) -> Iterator[EmbeddedStore]:
    """An embedded store the test reaches through a transport of its own making."""
    if FHIR_BASE_URL is not None:
        pytest.skip("puts its own transport in front of an embedded store of its own")
    store = EmbeddedStore(settings.embedded_database_url)
    yield store
    store.dispose()


def _interactions(events: list[dict[str, Any]]) -> list[str]:
    return [event["subtype"][0]["code"] for event in events]


async def test_reads_and_writes_of_a_patient_on_both_faces_are_findable_by_patient(audited: Callable[..., Any]) -> None:
    async with audited() as gateway:
        created = await gateway.request("POST", "/patients", json=PATIENT)
        assert created.status_code == 201, created.text
        patient_id = created.json()["id"]
        answers = [
            created,
            await gateway.request("GET", f"/patients/{patient_id}"),
            await gateway.request("PUT", f"/patients/{patient_id}", json={**PATIENT, "phone": "+1 604 555 0100"}),
            await gateway.request(
                "POST", f"/patients/{patient_id}/notes", json={"content": "Seen.", "taken_at": "2026-11-30T10:00:00Z"}
            ),
            await gateway.request("GET", f"/fhir/Patient/{patient_id}"),
            await gateway.request("GET", "/fhir/Observation", params={"subject": f"Patient/{patient_id}"}),
        ]
        assert [answer.status_code for answer in answers] == [201, 200, 200, 201, 200, 200]

        events = await gateway.events_of(f"Patient/{patient_id}")

    assert sorted(_interactions(events)) == sorted(["create", "read", "update", "create", "read", "search-type"])
    assert sorted(event["action"] for event in events) == sorted("CRUCRR")
    assert {event["outcome"] for event in events} == {"0"}
    assert {event["agent"][0]["name"] for event in events} == {"ehr"}
    assert {event["agent"][0]["who"]["identifier"]["value"] for event in events} == {"api-key:ehr"}
    request_ids = {answer.headers["x-request-id"] for answer in answers}
    assert {event["extension"][0]["valueString"] for event in events} == request_ids
    note_id = answers[3].json()["id"]
    note_event = next(event for event in events if f"DocumentReference/{note_id}" in orjson.dumps(event).decode())
    assert note_event["action"] == "C"
    # Who and which records, never what they hold.
    text = orjson.dumps(events).decode()
    for value in (PATIENT["given_name"], PATIENT["family_name"], PATIENT["insurance_no"], "Seen."):
        assert value not in text


async def test_failures_are_recorded_with_their_outcome(audited: Callable[..., Any]) -> None:
    async with audited() as gateway:
        missing = await gateway.request("GET", "/patients/no-such-patient")
        assert missing.status_code == 404
        events = await gateway.events_of("Patient/no-such-patient")

    assert [(event["outcome"], event["outcomeDesc"], event["action"]) for event in events] == [("4", "HTTP 404", "R")]


async def test_a_patient_with_a_trail_can_be_deleted_and_the_trail_outlives_them(audited: Callable[..., Any]) -> None:
    async with audited() as gateway:
        patient_id = (await gateway.request("POST", "/patients", json=PATIENT)).json()["id"]
        await gateway.request("GET", f"/patients/{patient_id}")
        await gateway.app.state.audit_trail.flush()

        deleted = await gateway.request("DELETE", f"/patients/{patient_id}")
        assert deleted.status_code == 200, deleted.text
        events = await gateway.events_of(f"Patient/{patient_id}")

    assert _interactions(sorted(events, key=lambda event: event["recorded"])) == ["create", "read", "delete"]


async def test_a_request_refused_its_scope_is_in_the_trail_and_an_anonymous_one_is_not(
    audited: Callable[..., Any],
) -> None:
    async with audited() as gateway:
        refused = await gateway.client.get(
            "/patients/some-patient", headers={"Authorization": f"Bearer {gateway.keys['basics']}"}
        )
        anonymous = await gateway.client.get("/patients/some-patient")
        events = await gateway.events_of("Patient/some-patient")

    assert (refused.status_code, anonymous.status_code) == (403, 401)
    # An attempt with credentials is part of the trail; one without any never got past
    # authentication, and is in the access log and the metrics instead.
    assert [(event["outcome"], event["agent"][0]["name"]) for event in events] == [("4", "basics")]


async def test_a_fhir_server_refusing_the_trail_never_fails_a_request(
    own_store: EmbeddedStore, audited: Callable[..., Any]
) -> None:
    async def refuse_audit_batches(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and b'"AuditEvent/' in request.content:
            return httpx.Response(500, json={"resourceType": "OperationOutcome", "issue": []})
        return await inner.handle_async_request(request)

    inner = httpx.ASGITransport(own_store.app)
    transport = httpx.MockTransport(refuse_audit_batches)
    async with (
        FhirClient(EMBEDDED_BASE_URL, transport=transport, retry=RetryPolicy(attempts=1)) as fhir,
        audited(fhir_client=fhir) as gateway,
    ):
        created = await gateway.request("POST", "/patients", json=PATIENT)
        read = await gateway.request("GET", f"/patients/{created.json()['id']}")
        await gateway.app.state.audit_trail.flush()
        failed = await gateway.metric("failed")

    assert (created.status_code, read.status_code) == (201, 200)
    assert failed == 2


async def test_a_full_queue_drops_and_counts_instead_of_holding_requests(
    own_store: EmbeddedStore, audited: Callable[..., Any]
) -> None:
    released = asyncio.Event()

    async def hold_audit_batches(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and b'"AuditEvent/' in request.content:
            await released.wait()
        return await inner.handle_async_request(request)

    inner = httpx.ASGITransport(own_store.app)
    async with (
        FhirClient(EMBEDDED_BASE_URL, transport=httpx.MockTransport(hold_audit_batches)) as fhir,
        audited(fhir_client=fhir, audit_queue_size=2, audit_batch_size=1) as gateway,
    ):
        statuses = [(await gateway.request("GET", "/patients")).status_code for _ in range(6)]
        dropped = await gateway.metric("dropped")
        released.set()
        await gateway.app.state.audit_trail.flush()
        written = await gateway.metric("written")

    assert statuses == [200] * 6
    # One batch held by the server, two waiting in the queue, the rest dropped.
    assert (dropped, written) == (3, 3)


async def test_no_trail_when_disabled(audited: Callable[..., Any]) -> None:
    async with audited(audit_enabled=False) as gateway:
        patient_id = (await gateway.request("POST", "/patients", json=PATIENT)).json()["id"]
        assert gateway.app.state.audit_trail is None
        found = await gateway.request("GET", "/fhir/AuditEvent", params={"entity-name:exact": f"Patient/{patient_id}"})

    assert found.status_code == 200
    assert not found.json().get("entry")


async def test_events_still_queued_are_written_when_the_gateway_stops(
    own_store: EmbeddedStore, audited: Callable[..., Any]
) -> None:
    async with FhirClient(EMBEDDED_BASE_URL, transport=httpx.ASGITransport(own_store.app)) as fhir:
        # Nothing is flushed by time or by size while the gateway runs.
        async with audited(fhir_client=fhir, audit_flush_seconds=3600, audit_batch_size=500) as gateway:
            statuses = [(await gateway.request("GET", f"/patients/p{n}")).status_code for n in range(3)]
            written_while_running = await gateway.metric("written")
        stored = await fhir.search("AuditEvent", {"_summary": "count"})

    assert statuses == [404] * 3
    assert written_while_running == 0
    assert stored["total"] == 3
