"""Summaries of records other FHIR clients wrote: the Conditions and MedicationRequests an
EHR or a loader (Synthea, say) stores are diagnoses and medications, each with its source."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.anyio

SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def condition(
    patient_id: str, code: str, display: str, *, clinical: str = "active", verified: str = "confirmed"
) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": verified}]},
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{patient_id}"},
        "onsetDateTime": "2015-03-01T10:00:00Z",
    }


def medication_request(patient_id: str, code: str, display: str, *, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": display}],
            "text": display,
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "authoredOn": "2020-01-01T09:00:00Z",
        "dosageInstruction": [{"text": "one tablet twice daily"}],
    }


async def test_conditions_and_medication_requests_are_key_facts_with_their_sources(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    patient = (
        await client.post("/patients", json={"given_name": "Syn", "family_name": "Thea", "birth_date": "1970-05-01"})
    ).json()
    fhir = app.state.fhir_client
    diabetes = await fhir.create(condition(patient["id"], "44054006", "Diabetes mellitus type 2 (disorder)"))
    bronchitis = await fhir.create(
        condition(patient["id"], "10509002", "Acute bronchitis (disorder)", clinical="resolved")
    )
    await fhir.create(condition(patient["id"], "38341003", "Hypertensive disorder", verified="refuted"))
    metformin = await fhir.create(
        medication_request(patient["id"], "860975", "Metformin hydrochloride 500 MG Oral Tablet")
    )
    await fhir.create(
        medication_request(patient["id"], "197361", "Amlodipine 5 MG Oral Tablet", status="entered-in-error")
    )

    summary = (await client.get(f"/patients/{patient['id']}/summary")).json()

    diagnoses = {fact["source"]["id"]: fact for fact in summary["key_facts"]["diagnoses"]}
    assert set(diagnoses) == {diabetes["id"], bronchitis["id"]}
    assert diagnoses[diabetes["id"]]["code"] == "44054006"
    assert diagnoses[diabetes["id"]]["source"]["type"] == "condition"
    assert diagnoses[bronchitis["id"]]["text"].endswith("(resolved)")
    assert not any("ypertensi" in fact["text"] for fact in summary["key_facts"]["diagnoses"])
    medications = summary["key_facts"]["medications"]
    assert [fact["source"] for fact in medications] == [{"type": "medication", "id": metformin["id"]}]
    assert medications[0]["name"] == "Metformin"
    assert medications[0]["code"] == "860975"
    assert "twice daily" in medications[0]["text"]
    assert {"type": "condition", "id": diabetes["id"]} in summary["sources"]
    assert {"type": "medication", "id": metformin["id"]} in summary["sources"]
    assert "Metformin" in summary["narrative"] and "Diabetes" in summary["narrative"]


async def test_a_condition_without_a_name_is_left_out(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient = (
        await client.post("/patients", json={"given_name": "No", "family_name": "Name", "birth_date": "1970-05-01"})
    ).json()
    unnamed = condition(patient["id"], "x", "x")
    unnamed["code"] = {"coding": [{"system": SNOMED}]}
    await app.state.fhir_client.create(unnamed)

    summary = (await client.get(f"/patients/{patient['id']}/summary")).json()

    assert summary["key_facts"]["diagnoses"] == []
