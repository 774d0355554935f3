"""How many FHIR requests each route makes: every one is a round trip to the FHIR server."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import OpenOwnStoreGateway, OwnStoreGateway

pytestmark = pytest.mark.anyio

BC_PHN = "9698658215"
OTHER_BC_PHN = "9253484802"
PATIENT = {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1980-12-10"}


class _Recording(httpx.AsyncBaseTransport):
    """Forwards every request to the store and remembers its method and path."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path.removeprefix('/fhir') or '/'}")
        return await self._inner.handle_async_request(request)


@pytest.fixture
async def gateway(own_store_gateway: OpenOwnStoreGateway) -> AsyncIterator[OwnStoreGateway]:
    async with own_store_gateway(_Recording) as gateway:
        yield gateway


async def fhir_requests(gateway: OwnStoreGateway, method: str, url: str, **kwargs: Any) -> list[str]:
    """The FHIR requests one call of the API made (asserting the call succeeded)."""
    recorder = gateway.transport
    assert isinstance(recorder, _Recording)
    recorder.requests.clear()
    response = await gateway.client.request(method, url, **kwargs)
    assert response.is_success, response.text
    return list(recorder.requests)


async def test_a_read_is_one_request(gateway: OwnStoreGateway) -> None:
    patient = (await gateway.client.post("/patients", json=PATIENT)).json()

    assert await fhir_requests(gateway, "GET", f"/patients/{patient['id']}") == [f"GET /Patient/{patient['id']}"]


async def test_a_create_is_a_conditional_create_and_one_check(gateway: OwnStoreGateway) -> None:
    body = {**PATIENT, "province": "BC", "insurance_no": BC_PHN}

    assert await fhir_requests(gateway, "POST", "/patients", json=body) == ["POST /Patient", "GET /Patient"]


async def test_a_replace_that_keeps_the_identifiers_searches_nothing(gateway: OwnStoreGateway) -> None:
    patient = (
        await gateway.client.post("/patients", json={**PATIENT, "province": "BC", "insurance_no": BC_PHN})
    ).json()
    changed = {**PATIENT, "province": "BC", "insurance_no": BC_PHN, "phone": "+1 604 555 0100"}

    requests = await fhir_requests(gateway, "PUT", f"/patients/{patient['id']}", json=changed)

    assert requests == [f"GET /Patient/{patient['id']}", f"PUT /Patient/{patient['id']}"]


async def test_a_replace_that_changes_an_identifier_checks_before_and_after(gateway: OwnStoreGateway) -> None:
    patient = (
        await gateway.client.post("/patients", json={**PATIENT, "province": "BC", "insurance_no": BC_PHN})
    ).json()
    changed = {**PATIENT, "province": "BC", "insurance_no": OTHER_BC_PHN}

    requests = await fhir_requests(gateway, "PUT", f"/patients/{patient['id']}", json=changed)

    assert requests == [
        f"GET /Patient/{patient['id']}",
        "GET /Patient",
        f"PUT /Patient/{patient['id']}",
        "GET /Patient",
    ]


async def test_a_delete_is_one_batch_of_reads_and_one_transaction(gateway: OwnStoreGateway) -> None:
    patient = (await gateway.client.post("/patients", json=PATIENT)).json()
    subject = {"reference": f"Patient/{patient['id']}"}
    await gateway.fhir.create({"resourceType": "AllergyIntolerance", "patient": subject, "code": {"text": "Peanut"}})

    assert await fhir_requests(gateway, "DELETE", f"/patients/{patient['id']}") == ["POST /", "POST /"]


async def test_a_list_of_records_is_one_search_when_it_has_any(gateway: OwnStoreGateway) -> None:
    patient = (await gateway.client.post("/patients", json=PATIENT)).json()
    subject = {"reference": f"Patient/{patient['id']}"}
    await gateway.fhir.create({"resourceType": "AllergyIntolerance", "patient": subject, "code": {"text": "Peanut"}})

    assert await fhir_requests(gateway, "GET", f"/patients/{patient['id']}/allergies") == ["GET /AllergyIntolerance"]
    # An empty list needs the Patient read, to tell an unknown or deleted patient from one without records.
    empty = await fhir_requests(gateway, "GET", f"/patients/{patient['id']}/immunizations")
    assert empty == ["GET /Immunization", f"GET /Patient/{patient['id']}"]


NOTE = {"taken_at": "2025-02-04T09:30:00-08:00", "content": "S: Better.\nO: HR 96, BP 132/80.\nA: CAP.\nP: Continue."}


async def test_a_note_is_written_in_one_transaction_after_the_patient_is_read(gateway: OwnStoreGateway) -> None:
    patient = (await gateway.client.post("/patients", json=PATIENT)).json()

    requests = await fhir_requests(gateway, "POST", f"/patients/{patient['id']}/notes", json=NOTE)

    assert requests == [f"GET /Patient/{patient['id']}", "POST /"]


async def test_a_note_is_read_with_its_observations_in_one_search(gateway: OwnStoreGateway) -> None:
    patient = (await gateway.client.post("/patients", json=PATIENT)).json()
    note = (await gateway.client.post(f"/patients/{patient['id']}/notes", json=NOTE)).json()

    requests = await fhir_requests(gateway, "GET", f"/patients/{patient['id']}/notes/{note['id']}")

    assert requests == ["GET /DocumentReference"]


async def test_a_list_of_notes_is_one_search(gateway: OwnStoreGateway) -> None:
    patient = (await gateway.client.post("/patients", json=PATIENT)).json()
    await gateway.client.post(f"/patients/{patient['id']}/notes", json=NOTE)

    assert await fhir_requests(gateway, "GET", f"/patients/{patient['id']}/notes") == ["GET /DocumentReference"]


async def test_a_note_delete_reads_searches_and_writes_one_transaction(gateway: OwnStoreGateway) -> None:
    patient = (await gateway.client.post("/patients", json=PATIENT)).json()
    note = (await gateway.client.post(f"/patients/{patient['id']}/notes", json=NOTE)).json()

    requests = await fhir_requests(gateway, "DELETE", f"/patients/{patient['id']}/notes/{note['id']}")

    assert requests == [f"GET /DocumentReference/{note['id']}", "GET /Observation", "POST /"]


INTERACTION = {
    "insurance_no": BC_PHN,
    "interaction_date": "2025-03-01T10:30:00-08:00",
    "symptoms": ["sneezing", "itchy eyes"],
    "metrics": {"heart_rate": 72, "bp_systolic": 120, "bp_diastolic": 78, "peak_flow_l_min": 420},
    "health_status": 7,
    "labels": ["allergy"],
}


async def test_an_interaction_is_written_in_one_transaction_after_the_patient_search(
    gateway: OwnStoreGateway,
) -> None:
    await gateway.client.post("/patients", json={**PATIENT, "province": "BC", "insurance_no": BC_PHN})

    assert await fhir_requests(gateway, "POST", "/interactions", json=INTERACTION) == ["GET /Patient", "POST /"]


async def test_an_interaction_is_read_with_its_observations_in_one_request(gateway: OwnStoreGateway) -> None:
    await gateway.client.post("/patients", json={**PATIENT, "province": "BC", "insurance_no": BC_PHN})
    interaction = (await gateway.client.post("/interactions", json=INTERACTION)).json()

    requests = await fhir_requests(gateway, "GET", f"/interactions/{interaction['id']}")

    assert requests == ["GET /Encounter"]


async def test_a_list_of_interactions_by_health_number_is_three_searches(gateway: OwnStoreGateway) -> None:
    await gateway.client.post("/patients", json={**PATIENT, "province": "BC", "insurance_no": BC_PHN})
    for day in (1, 2, 3):
        written = {**INTERACTION, "interaction_date": f"2025-03-0{day}T10:00:00Z"}
        assert (await gateway.client.post("/interactions", json=written)).status_code == 201
    query = {"insurance_no": BC_PHN, "label": "allergy"}

    requests = await fhir_requests(gateway, "GET", "/interactions", params=query)

    assert requests == ["GET /Patient", "GET /Encounter", "GET /Observation"]
    assert (await gateway.client.get("/interactions", params=query)).json()["total"] == 3


async def test_a_summary_is_one_batch_and_one_observation_search(gateway: OwnStoreGateway) -> None:
    patient = (
        await gateway.client.post("/patients", json={**PATIENT, "province": "BC", "insurance_no": BC_PHN})
    ).json()
    assert (await gateway.client.post("/interactions", json=INTERACTION)).status_code == 201

    requests = await fhir_requests(gateway, "GET", f"/patients/{patient['id']}/summary")

    assert requests == ["POST /", "GET /Observation"]


async def test_a_summary_of_a_patient_without_interactions_is_one_batch(gateway: OwnStoreGateway) -> None:
    patient = (await gateway.client.post("/patients", json=PATIENT)).json()

    assert await fhir_requests(gateway, "GET", f"/patients/{patient['id']}/summary") == ["POST /"]
