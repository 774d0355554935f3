"""The SMART on FHIR client (fhirclient), unmodified, against the gateway's FHIR face over real
HTTP; then, with plain httpx, what no client library shows: status codes and headers, the
refusals of invalid resources and of XML, the CapabilityStatement and `$summary`."""

from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle as R4BBundle
from fhirclient import client as smart_client
from fhirclient.models.bundle import Bundle
from fhirclient.models.capabilitystatement import CapabilityStatement
from fhirclient.models.observation import Observation
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRServer, FHIRUnauthorizedException
from requests import HTTPError

from tests.e2e.conftest import AUTHORIZATION

CheckUrls = Callable[[Any], None]

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"
SYSTEM = "urn:e2e:fhirclient"
WEIGHT = {"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}


def _family() -> str:
    return f"Smart{uuid4().hex[:12]}"


@pytest.fixture
def server(gateway_fhir_base: str) -> FHIRServer:
    server = smart_client.FHIRClient(settings={"app_id": "e2e", "api_base": gateway_fhir_base}).server
    server.session.headers["Authorization"] = AUTHORIZATION
    return server


@pytest.fixture
def http(gateway_fhir_base: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{gateway_fhir_base}/", headers={"Accept": FHIR_JSON, "Authorization": AUTHORIZATION}, timeout=30
    ) as client:
        yield client


_MODELS = {"Patient": Patient, "Observation": Observation, "Bundle": Bundle}


def _create(server: FHIRServer, resource: dict[str, Any]) -> dict[str, Any]:
    """Create with fhirclient (a Bundle of type transaction goes to the base), which answers
    the server's JSON: the created resource, or the transaction's response."""
    return _MODELS[resource["resourceType"]](resource).create(server)


# fhirclient


def test_fhirclient_creates_and_reads(server: FHIRServer) -> None:
    family = _family()
    created = _create(
        server,
        {
            "resourceType": "Patient",
            "name": [{"family": family, "given": ["Grace"]}],
            "birthDate": "1980-02-29",
            "identifier": [{"system": SYSTEM, "value": family}],
        },
    )
    assert created["meta"]["versionId"] == "1"

    patient = Patient.read(created["id"], server)

    assert patient.id == created["id"]
    assert patient.name[0].family == family
    assert patient.name[0].given == ["Grace"]
    assert patient.birthDate.isostring == "1980-02-29"
    assert patient.meta.versionId == "1"


def test_fhirclient_updates_then_deletes(server: FHIRServer) -> None:
    created = _create(server, {"resourceType": "Patient", "name": [{"family": _family()}]})
    patient = Patient.read(created["id"], server)

    patient.active = True
    answer = patient.update()

    assert answer["meta"]["versionId"] == "2"
    assert answer["active"] is True
    reread = Patient.read(created["id"], server)
    assert reread.active is True
    assert reread.meta.versionId == "2"

    reread.delete()

    with pytest.raises(HTTPError) as gone:
        Patient.read(created["id"], server)
    assert gone.value.response.status_code == 410


def test_fhirclient_search_follows_the_gateways_next_links(server: FHIRServer, check_urls: CheckUrls) -> None:
    family = _family()
    years = (1955, 1999, 1972, 1964, 1987)
    for year in years:
        _create(server, {"resourceType": "Patient", "name": [{"family": family}], "birthDate": f"{year}-09-09"})
    search = Patient.where(struct={"family": family, "_sort": "birthdate", "_count": "2"})

    pages = list(search.perform_iter(server))

    assert [len(page.entry or []) for page in pages] == [2, 2, 1]
    born = [entry.resource.birthDate.isostring for page in pages for entry in page.entry]
    assert born == [f"{year}-09-09" for year in sorted(years)]
    for page in pages:
        check_urls(page.as_json())
    assert [link.relation for link in pages[0].link if link.relation == "next"] == ["next"]
    assert not [link for link in pages[-1].link if link.relation == "next"]


def test_fhirclient_search_includes_the_subject(server: FHIRServer, gateway_fhir_base: str) -> None:
    patient = _create(server, {"resourceType": "Patient", "name": [{"family": _family()}]})
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [WEIGHT]},
        "subject": {"reference": f"Patient/{patient['id']}"},
        "valueQuantity": {"value": 70, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    }
    _create(server, observation)
    search = Observation.where(struct={"subject": f"Patient/{patient['id']}"}).include("subject")

    resources = list(search.perform_resources_iter(server))

    assert sorted(resource.resource_type for resource in resources) == ["Observation", "Patient"]
    (bundle,) = search.perform_iter(server)
    (included,) = [entry for entry in bundle.entry if entry.search.mode == "include"]
    assert included.fullUrl == f"{gateway_fhir_base}/Patient/{patient['id']}"


def test_fhirclient_posts_a_transaction_to_the_base(server: FHIRServer, check_urls: CheckUrls) -> None:
    family = _family()
    patient_urn = f"urn:uuid:{uuid4()}"
    identifier = {"system": SYSTEM, "value": uuid4().hex}
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient_urn,
                "resource": {"resourceType": "Patient", "name": [{"family": family}], "identifier": [identifier]},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [WEIGHT]},
                    "subject": {"reference": patient_urn},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }

    answer = _create(server, transaction)

    assert answer["type"] == "transaction-response"
    assert [entry["response"]["status"].split()[0] for entry in answer["entry"]] == ["201", "201"]
    check_urls(answer)
    (patient,) = Patient.where(
        struct={"identifier": f"{identifier['system']}|{identifier['value']}"}
    ).perform_resources_iter(server)
    (observation,) = Observation.where(struct={"subject": f"Patient/{patient.id}"}).perform_resources_iter(server)
    assert observation.subject.reference == f"Patient/{patient.id}"


def test_fhirclient_reads_the_gateways_capability_statement(server: FHIRServer, gateway_fhir_base: str) -> None:
    # fhirclient parses it with its strict R4 model, as it does before any SMART launch.
    server.get_capability(force=True)
    statement = server.capabilityStatement

    assert isinstance(statement, CapabilityStatement)
    assert statement.fhirVersion.startswith("4.0")
    assert statement.implementation.url == gateway_fhir_base
    types = {resource.type for resource in statement.rest[0].resource}
    assert {"Patient", "Observation", "Composition"} <= types


# Plain HTTP


def test_status_codes_etag_and_location_pass_through(
    http: httpx.Client, gateway_fhir_base: str, backend_base: str
) -> None:
    patient = {"resourceType": "Patient", "name": [{"family": _family()}]}

    created = http.post("Patient", json=patient, headers={"Content-Type": FHIR_JSON})

    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    assert created.headers["Location"].startswith(f"{gateway_fhir_base}/Patient/{patient_id}/_history/1")
    assert created.headers["ETag"] == 'W/"1"'

    read = http.get(f"Patient/{patient_id}")
    assert read.status_code == 200
    assert read.headers["ETag"] == 'W/"1"'
    assert read.headers["Content-Type"].startswith(FHIR_JSON)

    updated = http.put(
        f"Patient/{patient_id}",
        json={**created.json(), "active": True},
        headers={"Content-Type": FHIR_JSON, "If-Match": 'W/"1"'},
    )
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == 'W/"2"'
    stale = http.put(
        f"Patient/{patient_id}",
        json={**created.json(), "active": False},
        headers={"Content-Type": FHIR_JSON, "If-Match": 'W/"1"'},
    )
    assert stale.status_code in (409, 412), stale.text

    vread = http.get(f"Patient/{patient_id}/_history/1")
    assert vread.status_code == 200
    assert "active" not in vread.json()

    deleted = http.delete(f"Patient/{patient_id}")
    assert deleted.status_code in (200, 204)
    assert http.get(f"Patient/{patient_id}").status_code == 410
    assert http.get(f"Patient/missing-{uuid4().hex}").status_code == 404
    for answer in (created, read, updated, vread):
        assert backend_base not in answer.text
        assert backend_base not in answer.headers.get("Location", "")


def test_search_by_post_with_a_form(http: httpx.Client, check_urls: CheckUrls) -> None:
    family = _family()
    ids = {
        http.post("Patient", json={"resourceType": "Patient", "name": [{"family": family}]}).json()["id"]
        for _ in range(3)
    }

    found = http.post("Patient/_search", data={"family": family, "_count": "2"})

    assert found.status_code == 200, found.text
    page = found.json()
    assert page["type"] == "searchset"
    assert len(page["entry"]) == 2
    check_urls(page)
    (next_url,) = [link["url"] for link in page["link"] if link["relation"] == "next"]
    rest = http.get(next_url)
    assert rest.status_code == 200, rest.text
    check_urls(rest.json())
    assert {entry["resource"]["id"] for entry in page["entry"] + rest.json()["entry"]} == ids


def test_json_patch_with_if_match_and_a_failing_test(http: httpx.Client) -> None:
    created = http.post("Patient", json={"resourceType": "Patient", "name": [{"family": _family()}], "active": False})
    patient_id = created.json()["id"]

    def patch(operations: list[dict[str, Any]], version: str) -> httpx.Response:
        headers = {"Content-Type": JSON_PATCH, "If-Match": f'W/"{version}"'}
        return http.patch(f"Patient/{patient_id}", json=operations, headers=headers)

    patched = patch([{"op": "replace", "path": "/active", "value": True}], "1")
    assert patched.status_code == 200, patched.text
    assert patched.headers["ETag"] == 'W/"2"'
    assert patched.json()["active"] is True

    stale = patch([{"op": "replace", "path": "/active", "value": False}], "1")
    assert stale.status_code == 412, stale.text
    assert stale.json()["resourceType"] == "OperationOutcome"

    failed_test = patch([{"op": "test", "path": "/active", "value": False}], "2")
    assert failed_test.status_code == 422, failed_test.text
    assert failed_test.json()["resourceType"] == "OperationOutcome"

    as_text = http.patch(f"Patient/{patient_id}", content=b"active=false", headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 415, as_text.text

    current = http.get(f"Patient/{patient_id}").json()
    assert current["meta"]["versionId"] == "2"
    assert current["active"] is True


def test_an_invalid_resource_is_a_400_naming_the_element(http: httpx.Client) -> None:
    family = _family()
    invalid = {"resourceType": "Patient", "name": [{"family": family}], "birthDate": "the fourth of May"}

    refused = http.post("Patient", json=invalid, headers={"Content-Type": FHIR_JSON})

    assert refused.status_code == 400, refused.text
    outcome = refused.json()
    assert outcome["resourceType"] == "OperationOutcome"
    expressions = [expression for issue in outcome["issue"] for expression in issue.get("expression", [])]
    assert "Patient.birthDate" in expressions, outcome
    assert http.get("Patient", params={"family": family}).json().get("entry", []) == []


def test_xml_is_refused(http: httpx.Client) -> None:
    asked = http.get("metadata", headers={"Accept": "application/fhir+xml"})
    assert asked.status_code == 406, asked.text
    assert asked.json()["resourceType"] == "OperationOutcome"

    family = _family()
    xml = f'<Patient xmlns="http://hl7.org/fhir"><name><family value="{family}"/></name></Patient>'
    sent = http.post("Patient", content=xml, headers={"Content-Type": "application/fhir+xml"})
    assert sent.status_code == 415, sent.text
    assert sent.json()["resourceType"] == "OperationOutcome"
    assert http.get("Patient", params={"family": family}).json().get("entry", []) == []


def test_metadata_is_the_gateways_capability_statement(
    http: httpx.Client, gateway_fhir_base: str, check_urls: CheckUrls
) -> None:
    answer = http.get("metadata")

    assert answer.status_code == 200, answer.text
    statement = answer.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["kind"] == "instance"
    assert statement["implementation"]["url"] == gateway_fhir_base
    assert JSON_PATCH in statement.get("patchFormat", [])
    check_urls(statement)


def test_summary_is_a_document_bundle_that_validates(
    http: httpx.Client, gateway_fhir_base: str, check_urls: CheckUrls
) -> None:
    patient = http.post(
        "Patient",
        json={"resourceType": "Patient", "name": [{"family": _family(), "given": ["Mary"]}], "birthDate": "1948-11-30"},
    ).json()
    subject = {"reference": f"Patient/{patient['id']}"}
    condition = http.post(
        "Condition",
        json={
            "resourceType": "Condition",
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}], "text": "Type 2 diabetes"},
            "subject": subject,
        },
    )
    assert condition.status_code == 201, condition.text
    allergy = http.post(
        "AllergyIntolerance",
        json={
            "resourceType": "AllergyIntolerance",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005"}], "text": "Penicillin"},
            "patient": subject,
        },
    )
    assert allergy.status_code == 201, allergy.text

    answer = http.get(f"Patient/{patient['id']}/$summary")

    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["resourceType"] == "Bundle"
    assert document["type"] == "document"
    composition = document["entry"][0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["subject"]["reference"].endswith(f"Patient/{patient['id']}")
    stored = {
        f"{gateway_fhir_base}/Patient/{patient['id']}",
        f"{gateway_fhir_base}/Condition/{condition.json()['id']}",
        f"{gateway_fhir_base}/AllergyIntolerance/{allergy.json()['id']}",
    }
    assert stored <= {entry["fullUrl"] for entry in document["entry"]}
    in_sections = {entry["reference"] for section in composition["section"] for entry in section.get("entry", [])}
    assert stored - {composition["subject"]["reference"]} <= in_sections
    check_urls(document)
    R4BBundle.model_validate(document)


def test_fhirclient_reads_the_capability_statement_before_it_has_a_key(gateway_fhir_base: str) -> None:
    anonymous = smart_client.FHIRClient(settings={"app_id": "e2e", "api_base": gateway_fhir_base}).server
    statement = CapabilityStatement.read_from("metadata", anonymous)
    assert statement.rest[0].security.service[0].coding[0].code == "OAuth"
    with pytest.raises(FHIRUnauthorizedException) as refused:
        Patient.where(struct={"_count": "1"}).perform_resources(anonymous)
    assert refused.value.response.status_code == 401
