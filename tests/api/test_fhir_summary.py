"""What the FHIR face answers itself: its CapabilityStatement, the OperationDefinition of
`$summary`, and `Patient/$summary` as an IPS-style document Bundle."""

import html
import json
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationdefinition import OperationDefinition

from tests.api.test_fhir_face import FHIR, FHIR_JSON, SERVER_BASE, assert_outcome, create, expressions, patient

pytestmark = pytest.mark.anyio

LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SECTIONS = {"11450-4", "10160-0", "48765-2", "11369-6", "8716-3"}


def section_codes(composition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {section["code"]["coding"][0]["code"]: section for section in composition["section"]}


async def stored_record(client: httpx.AsyncClient, identifier: str | None = None) -> dict[str, str]:
    """A patient with one resource of each kind a section lists; their ids by type."""
    fields = {"birthDate": "1961-07-04", "gender": "female"}
    if identifier:
        fields["identifier"] = [{"system": "urn:test:mrn", "value": identifier}]
    person = await create(client, patient(f"Summ{uuid4().hex[:8]}", **fields))
    subject = {"reference": f"Patient/{person['id']}"}
    ids = {"Patient": person["id"]}
    resources = [
        {
            "resourceType": "Condition",
            "subject": subject,
            "code": {
                "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}],
                "text": "Type 2 diabetes",
            },
        },
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "subject": subject,
            "medicationCodeableConcept": {"text": "metformin 500 mg"},
        },
        {"resourceType": "AllergyIntolerance", "patient": subject, "code": {"text": "penicillin"}},
        {
            "resourceType": "Immunization",
            "status": "completed",
            "patient": subject,
            "occurrenceDateTime": "2024-10-01",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "141"}], "text": "Influenza"},
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
                    ]
                }
            ],
            "code": {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}]},
            "subject": subject,
            "effectiveDateTime": "2025-01-02T10:00:00Z",
            "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
        },
    ]
    for resource in resources:
        ids[resource["resourceType"]] = (await create(client, resource))["id"]
    return ids


async def summary_of(client: httpx.AsyncClient, patient_id: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"/fhir/Patient/{patient_id}/$summary", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return response.json()


def assert_document(document: dict[str, Any]) -> dict[str, Any]:
    """The document validates, its Composition comes first, and every reference its sections
    make is an entry of the document (and every entry but the Composition is referenced)."""
    Bundle.model_validate(document)
    assert document["type"] == "document"
    assert document["identifier"]["value"].startswith("urn:uuid:") and document["timestamp"]
    composition = document["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["type"]["coding"][0] == {
        "system": LOINC,
        "code": "60591-5",
        "display": "Patient summary Document",
    }
    urls = {entry["fullUrl"] for entry in document["entry"]}
    referenced = {composition["subject"]["reference"], *(author["reference"] for author in composition["author"])}
    for section in composition["section"]:
        assert section["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        if section["code"]["coding"][0]["code"] in SECTIONS:
            assert ("entry" in section) != ("emptyReason" in section), section["title"]
        referenced |= {entry["reference"] for entry in section.get("entry") or []}
    assert referenced == urls - {document["entry"][0]["fullUrl"]}
    assert SERVER_BASE not in json.dumps(document)
    return composition


async def test_summary_is_an_ips_document_with_every_section(client: httpx.AsyncClient) -> None:
    ids = await stored_record(client)
    document = await summary_of(client, ids["Patient"])
    composition = assert_document(document)
    assert composition["subject"]["reference"] == f"{FHIR}/Patient/{ids['Patient']}"
    assert document["entry"][1] == {
        "fullUrl": f"{FHIR}/Patient/{ids['Patient']}",
        "resource": (await client.get(f"/fhir/Patient/{ids['Patient']}")).json(),
    }
    sections = section_codes(composition)
    assert set(sections) >= SECTIONS
    expected = {
        "11450-4": "Condition",
        "10160-0": "MedicationRequest",
        "48765-2": "AllergyIntolerance",
        "11369-6": "Immunization",
        "8716-3": "Observation",
    }
    for code, kind in expected.items():
        references = [entry["reference"] for entry in sections[code]["entry"]]
        assert f"{FHIR}/{kind}/{ids[kind]}" in references, code
    assert "metformin" in sections["10160-0"]["text"]["div"].lower()
    assert "penicillin" in sections["48765-2"]["text"]["div"].lower()
    narrative = [section for code, section in sections.items() if code not in SECTIONS]
    assert len(narrative) == 1 and narrative[0]["title"] == "Summary"


async def test_an_empty_record_gives_empty_reasons_not_absent_sections(client: httpx.AsyncClient) -> None:
    person = await create(client, patient(f"Empty{uuid4().hex[:8]}"))
    composition = assert_document(await summary_of(client, person["id"]))
    sections = section_codes(composition)
    for code in SECTIONS:
        assert sections[code]["emptyReason"]["coding"][0]["code"] == "unavailable", code
        assert "entry" not in sections[code]


async def test_the_narrative_is_the_summary_the_simplified_api_gives(client: httpx.AsyncClient) -> None:
    ids = await stored_record(client)
    rest = (
        await client.get(f"/patients/{ids['Patient']}/summary", params={"audience": "family", "length": "brief"})
    ).json()
    parameters = {
        "resourceType": "Parameters",
        "parameter": [{"name": "audience", "valueCode": "family"}, {"name": "length", "valueCode": "brief"}],
    }
    response = await client.post(f"/fhir/Patient/{ids['Patient']}/$summary", json=parameters, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    sections = section_codes(assert_document(response.json()))
    narrative = next(section for code, section in sections.items() if code not in SECTIONS)
    for paragraph in rest["narrative"].split("\n\n"):
        assert f"<p>{html.escape(paragraph)}</p>" in narrative["text"]["div"]
    clinician = section_codes(assert_document(await summary_of(client, ids["Patient"], length="detailed")))
    assert next(s for c, s in clinician.items() if c not in SECTIONS)["text"] != narrative["text"]


async def test_summary_by_identifier(client: httpx.AsyncClient) -> None:
    value = uuid4().hex
    ids = await stored_record(client, identifier=value)
    response = await client.get("/fhir/Patient/$summary", params={"identifier": f"urn:test:mrn|{value}"})
    assert response.status_code == 200, response.text
    assert assert_document(response.json())["subject"]["reference"] == f"{FHIR}/Patient/{ids['Patient']}"

    missing = await client.get("/fhir/Patient/$summary", params={"identifier": f"urn:test:mrn|{uuid4().hex}"})
    assert expressions(assert_outcome(missing, 404)) == ["identifier"]
    assert expressions(assert_outcome(await client.get("/fhir/Patient/$summary"), 400)) == ["identifier"]
    await create(client, patient("Twin", identifier=[{"system": "urn:test:mrn", "value": value}]))
    twice = await client.get("/fhir/Patient/$summary", params={"identifier": f"urn:test:mrn|{value}"})
    assert_outcome(twice, 412)


@pytest.mark.parametrize(
    ("params", "expression"),
    [({"audience": "everyone"}, "audience"), ({"length": "epic"}, "length"), ({"tone": "warm"}, "tone")],
)
async def test_summary_parameters_are_checked(
    client: httpx.AsyncClient, params: dict[str, str], expression: str
) -> None:
    person = await create(client, patient(f"Param{uuid4().hex[:8]}"))
    response = await client.get(f"/fhir/Patient/{person['id']}/$summary", params=params)
    assert expressions(assert_outcome(response, 400)) == [expression]


async def test_summary_of_unknown_and_deleted_patients(client: httpx.AsyncClient) -> None:
    assert_outcome(await client.get(f"/fhir/Patient/{uuid4().hex}/$summary"), 404)
    person = await create(client, patient(f"Gone{uuid4().hex[:8]}"))
    await client.delete(f"/fhir/Patient/{person['id']}")
    assert_outcome(await client.get(f"/fhir/Patient/{person['id']}/$summary"), 410)


async def test_capability_statement_is_the_gateways_own(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = response.json()
    CapabilityStatement.model_validate(statement)
    assert statement["implementation"]["url"] == FHIR
    assert statement["format"] == ["application/fhir+json", "json"]
    assert "application/json-patch+json" in statement["patchFormat"]
    assert SERVER_BASE not in json.dumps(statement)
    rest = statement["rest"][0]
    resources = {resource["type"]: resource for resource in rest["resource"]}
    assert {"Patient", "DocumentReference", "Encounter", "Observation", "Immunization", "AllergyIntolerance"} <= set(
        resources
    )
    interactions = {item["code"] for item in resources["Patient"]["interaction"]}
    assert interactions == {
        "read",
        "vread",
        "update",
        "patch",
        "delete",
        "history-instance",
        "history-type",
        "create",
        "search-type",
    }
    # HAPI FHIR serves batch but declares transaction alone; the face says what the server says.
    assert "transaction" in {item["code"] for item in rest["interaction"]}
    assert any(parameter["name"] == "birthdate" for parameter in resources["Patient"]["searchParam"])
    summary = next(operation for operation in resources["Patient"]["operation"] if operation["name"] == "summary")

    definition = (await client.get("/fhir/OperationDefinition/Patient-summary")).json()
    OperationDefinition.model_validate(definition)
    assert definition["url"] == summary["definition"]
    assert (definition["code"], definition["resource"], definition["instance"]) == ("summary", ["Patient"], True)
