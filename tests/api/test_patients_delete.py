"""`DELETE /patients/{id}`: the patient and every record about them go in one transaction, or none does."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.app import EMBEDDED_BASE_URL
from fhir_gateway.features.patients import cascade
from fhir_gateway.fhir_client import FhirClient
from tests.api.checks import exists
from tests.api.conftest import OpenOwnStoreGateway

pytestmark = pytest.mark.anyio

AMBULATORY = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}


async def new_patient(client: httpx.AsyncClient, given: str = "Ada") -> str:
    response = await client.post(
        "/patients", json={"given_name": given, "family_name": "Lovelace", "birth_date": "1980-12-10"}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def record_about(fhir: FhirClient, patient_id: str) -> list[tuple[str, str]]:
    """A note, an interaction (encounter + observations), an immunization, an allergy, a condition."""
    subject = {"reference": f"Patient/{patient_id}"}
    encounter = await fhir.create(
        {"resourceType": "Encounter", "status": "finished", "class": AMBULATORY, "subject": subject}
    )
    resources = [
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": subject,
            "content": [{"attachment": {"contentType": "text/plain", "data": "aGVsbG8="}}],
        },
        *(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": text},
                "subject": subject,
                "encounter": {"reference": f"Encounter/{encounter['id']}"},
            }
            for text in ("sneezing", "itchy eyes")
        ),
        {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"text": "MMR"},
            "patient": subject,
            "occurrenceDateTime": "2001-01-01",
        },
        {"resourceType": "AllergyIntolerance", "patient": subject, "code": {"text": "Peanut"}},
        {"resourceType": "Condition", "subject": subject, "code": {"text": "Allergic rhinitis"}},
    ]
    created = [("Encounter", encounter["id"])]
    for resource in resources:
        stored = await fhir.create(resource)
        created.append((stored["resourceType"], stored["id"]))
    return created


async def test_delete_removes_the_patient_and_everything_about_them(client: httpx.AsyncClient, app: FastAPI) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    records = await record_about(fhir, patient_id)
    bystander = await new_patient(client, given="Grace")
    bystander_records = await record_about(fhir, bystander)

    response = await client.delete(f"/patients/{patient_id}")

    assert response.status_code == 200
    assert response.json() == {
        "id": patient_id,
        "deleted": {
            "Patient": 1,
            "AllergyIntolerance": 1,
            "Condition": 1,
            "DocumentReference": 1,
            "Encounter": 1,
            "Immunization": 1,
            "Observation": 2,
        },
    }
    assert (await client.get(f"/patients/{patient_id}")).status_code == 410
    for resource_type, resource_id in records:
        assert not await exists(fhir, resource_type, resource_id), resource_type
    for resource_type, resource_id in bystander_records:
        assert await exists(fhir, resource_type, resource_id), resource_type
    assert (await client.get(f"/patients/{bystander}")).status_code == 200


async def test_delete_of_a_patient_without_records_reports_the_patient_alone(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    response = await client.delete(f"/patients/{patient_id}", headers={"If-Match": 'W/"1"'})

    assert response.status_code == 200
    assert response.json() == {"id": patient_id, "deleted": {"Patient": 1}}


async def test_delete_of_a_deleted_patient_is_410(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    await client.delete(f"/patients/{patient_id}")

    assert (await client.delete(f"/patients/{patient_id}")).status_code == 410


async def test_a_referrer_the_cascade_does_not_know_blocks_the_delete_and_nothing_is_removed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    records = await record_about(fhir, patient_id)
    procedure = await fhir.create(
        {"resourceType": "Procedure", "status": "completed", "subject": {"reference": f"Patient/{patient_id}"}}
    )

    response = await client.delete(f"/patients/{patient_id}")

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert f"Procedure/{procedure['id']}" in response.json()["detail"]
    assert (await client.get(f"/patients/{patient_id}")).status_code == 200
    for resource_type, resource_id in records:
        assert await exists(fhir, resource_type, resource_id), resource_type


def _is_transaction(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.rstrip("/") == "/fhir" and b'"transaction"' in request.content


class _ChangesThePatientBeforeTheTransaction(httpx.AsyncBaseTransport):
    """Another client changes the Patient after the cascade read it, before its transaction."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.patient_id: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _is_transaction(request) and self.patient_id is not None:
            async with FhirClient(EMBEDDED_BASE_URL, transport=self._inner) as other:
                resource = await other.read("Patient", self.patient_id)
                resource["gender"] = "female"
                await other.update(resource)
        return await self._inner.handle_async_request(request)


async def test_a_patient_changed_during_the_cascade_is_412_and_nothing_is_removed(
    own_store_gateway: OpenOwnStoreGateway,
) -> None:
    async with own_store_gateway(_ChangesThePatientBeforeTheTransaction) as gateway:
        patient_id = await new_patient(gateway.client)
        records = await record_about(gateway.fhir, patient_id)
        assert isinstance(gateway.transport, _ChangesThePatientBeforeTheTransaction)
        gateway.transport.patient_id = patient_id

        response = await gateway.client.delete(f"/patients/{patient_id}", headers={"If-Match": 'W/"1"'})

        assert response.status_code == 412
        for resource_type, resource_id in [("Patient", patient_id), *records]:
            assert await exists(gateway.fhir, resource_type, resource_id), resource_type


async def test_a_stale_if_match_is_412_before_anything_is_removed(client: httpx.AsyncClient, app: FastAPI) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    records = await record_about(fhir, patient_id)

    response = await client.delete(f"/patients/{patient_id}", headers={"If-Match": 'W/"7"'})

    assert response.status_code == 412
    assert "version 1" in response.json()["detail"]
    for resource_type, resource_id in [("Patient", patient_id), *records]:
        assert await exists(fhir, resource_type, resource_id), resource_type


class _FailingTransactions(httpx.AsyncBaseTransport):
    """The FHIR server fails every transaction bundle; everything else reaches it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _is_transaction(request):
            raise httpx.ReadError("connection reset while the transaction was in flight", request=request)
        return await self._inner.handle_async_request(request)


@pytest.fixture
async def failing_gateway(
    own_store_gateway: OpenOwnStoreGateway,
) -> AsyncIterator[tuple[httpx.AsyncClient, FhirClient]]:
    async with (
        own_store_gateway(_FailingTransactions) as gateway,
        FhirClient(EMBEDDED_BASE_URL, transport=httpx.ASGITransport(gateway.store.app)) as plain,
    ):
        yield gateway.client, plain


async def test_a_transport_failure_during_the_transaction_leaves_everything_in_place(
    failing_gateway: tuple[httpx.AsyncClient, FhirClient],
) -> None:
    client, fhir = failing_gateway
    patient_id = await new_patient(client)
    records = await record_about(fhir, patient_id)

    response = await client.delete(f"/patients/{patient_id}")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    for resource_type, resource_id in [("Patient", patient_id), *records]:
        assert await exists(fhir, resource_type, resource_id), resource_type


def test_the_cascade_covers_the_records_the_gateway_keeps() -> None:
    covered: dict[str, Any] = dict(cascade.REFERRERS)

    assert {"DocumentReference", "Encounter", "Observation", "Immunization", "AllergyIntolerance"} <= set(covered)
