"""`GET /patients/{id}/immunizations` and `GET /patients/{id}/allergies`: read-only, paged."""

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from generators.bundles import bundle_of
from generators.records import RecordGenerator

pytestmark = pytest.mark.anyio

TODAY = date(2026, 11, 1)


async def store_records(app: FastAPI, province: str, count: int, seed: int = 3) -> list[list[dict[str, Any]]]:
    """Generated records, stored on the gateway's FHIR server."""
    records = list(RecordGenerator(province, seed, TODAY).records(count))
    await app.state.fhir_client.transaction(bundle_of(records))
    return records


def record_with(records: list[list[dict[str, Any]]], immunizations: int) -> list[dict[str, Any]]:
    return next(
        record
        for record in records
        if sum(resource["resourceType"] == "Immunization" for resource in record) == immunizations
        and all(resource.get("status") != "not-done" for resource in record)
    )


async def test_lists_a_patients_immunizations_newest_first(app: FastAPI, client: httpx.AsyncClient) -> None:
    records = await store_records(app, "ON", 20)
    record = record_with(records, immunizations=2)
    patient_id = record[0]["id"]

    response = await client.get(f"/patients/{patient_id}/immunizations")

    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["page"], page["size"], page["next"], page["prev"]) == (2, 1, 20, None, None)
    generated = sorted(record[1:], key=lambda resource: (resource["occurrenceDateTime"], resource["id"]))
    newest_first = sorted(generated, key=lambda resource: resource["occurrenceDateTime"], reverse=True)
    assert [item["id"] for item in page["items"]][0] == newest_first[0]["id"]
    item = next(item for item in page["items"] if item["id"] == generated[0]["id"])
    source = generated[0]
    assert item["patient_id"] == patient_id
    assert item["status"] == "completed"
    assert item["vaccine"] == source["vaccineCode"]["text"]
    assert [code["code"] for code in item["vaccine_codes"]] == [c["code"] for c in source["vaccineCode"]["coding"]]
    assert item["occurred"] == source["occurrenceDateTime"]
    assert item["lot_number"] == source["lotNumber"]
    assert item["manufacturer"] == source["manufacturer"]["display"]
    assert item["route"] == source["route"]["coding"][0]["display"]
    assert item["dose_ml"] == source["doseQuantity"]["value"]
    assert item["dose_number"] == source["protocolApplied"][0]["doseNumberPositiveInt"]
    assert item["performer"] == source["performer"][0]["actor"]["display"]
    assert item["version"] == "1"
    assert item["updated_at"]


async def test_pages_link_to_each_other(app: FastAPI, client: httpx.AsyncClient) -> None:
    records = await store_records(app, "ON", 20)
    patient_id = record_with(records, immunizations=2)[0]["id"]

    first = (await client.get(f"/patients/{patient_id}/immunizations", params={"size": 1})).json()
    second = (await client.get(first["next"])).json()

    assert first["total"] == second["total"] == 2
    assert first["prev"] is None and second["next"] is None
    assert second["prev"] is not None and "page=1" in second["prev"]
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["id"] != second["items"][0]["id"]
    assert first["items"][0]["occurred"] >= second["items"][0]["occurred"]


async def test_only_the_patients_own_immunizations_are_listed(app: FastAPI, client: httpx.AsyncClient) -> None:
    records = await store_records(app, "BC", 5)

    for record in records:
        page = (await client.get(f"/patients/{record[0]['id']}/immunizations")).json()
        expected = {resource["id"] for resource in record if resource["resourceType"] == "Immunization"}
        assert {item["id"] for item in page["items"]} == expected


async def test_lists_a_patients_allergies(app: FastAPI, client: httpx.AsyncClient) -> None:
    records = await store_records(app, "BC", 3)
    allergy = records[1][-1]

    response = await client.get(f"/patients/{records[1][0]['id']}/allergies")

    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 1
    (item,) = page["items"]
    assert item["id"] == allergy["id"]
    assert item["substance"] == allergy["code"]["text"]
    assert item["codes"] == [allergy["code"]["coding"][0]]
    assert item["clinical_status"] == allergy["clinicalStatus"]["coding"][0]["code"]
    assert item["verification_status"] == allergy["verificationStatus"]["coding"][0]["code"]
    assert (item["type"], item["categories"], item["criticality"]) == (
        allergy["type"],
        allergy["category"],
        allergy["criticality"],
    )
    assert (item["onset"], item["recorded"]) == (allergy["onsetDateTime"], allergy["recordedDate"])
    assert item["reactions"] == [allergy["reaction"][0]["manifestation"][0]["coding"][0]["display"]]


async def test_a_patient_without_any_has_an_empty_list(app: FastAPI, client: httpx.AsyncClient) -> None:
    records = await store_records(app, "ON", 1)

    page = (await client.get(f"/patients/{records[0][0]['id']}/allergies")).json()

    assert (page["items"], page["total"], page["next"]) == ([], 0, None)


async def test_an_immunization_written_by_another_client_reads_forgivingly(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    records = await store_records(app, "ON", 1)
    patient_id = records[0][0]["id"]
    await app.state.fhir_client.create(
        {
            "resourceType": "Immunization",
            "status": "not-done",
            "statusReason": {"coding": [{"code": "PATOBJ"}]},
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "03"}]},
            "patient": {"reference": f"Patient/{patient_id}"},
            "occurrenceString": "spring 2019",
        }
    )

    page = (await client.get(f"/patients/{patient_id}/immunizations")).json()

    minimal = next(item for item in page["items"] if item["status"] == "not-done" and item["occurred"] == "spring 2019")
    assert minimal["vaccine"] == "03"
    assert minimal["status_reason"] == "PATOBJ"
    assert (minimal["lot_number"], minimal["dose_ml"], minimal["reactions"]) == (None, None, [])


@pytest.mark.parametrize("path", ["immunizations", "allergies"])
async def test_an_unknown_patient_is_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"/patients/no-such-patient/{path}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "no-such-patient" in response.json()["detail"]


async def test_a_deleted_patient_is_410(app: FastAPI, client: httpx.AsyncClient) -> None:
    records = await store_records(app, "ON", 1)
    fhir = app.state.fhir_client
    for resource in reversed(records[0]):
        await fhir.delete(resource["resourceType"], resource["id"])

    response = await client.get(f"/patients/{records[0][0]['id']}/immunizations")

    assert response.status_code == 410


async def test_a_page_size_over_100_is_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    records = await store_records(app, "ON", 1)

    response = await client.get(f"/patients/{records[0][0]['id']}/immunizations", params={"size": 101})

    assert response.status_code == 422
