"""Which interaction a request is, and which records it names, as its AuditEvent says."""

from datetime import UTC, datetime

import pytest

from fhir_gateway.audit.events import (
    Access,
    answered_patient,
    audit_event,
    created_record,
    fhir_access,
    outcome_code,
    simplified_access,
)
from fhir_gateway.security.principal import Principal


@pytest.mark.parametrize(
    ("method", "path", "interaction", "records"),
    [
        ("GET", "/patients", "search-type", []),
        ("POST", "/patients", "create", []),
        ("GET", "/patients/p1", "read", [("Patient", "p1")]),
        ("PUT", "/patients/p1", "update", [("Patient", "p1")]),
        ("DELETE", "/patients/p1", "delete", [("Patient", "p1")]),
        ("GET", "/patients/p1/notes", "search-type", [("Patient", "p1")]),
        ("POST", "/patients/p1/notes", "create", [("Patient", "p1")]),
        ("GET", "/patients/p1/notes/n1", "read", [("Patient", "p1"), ("DocumentReference", "n1")]),
        ("GET", "/patients/p1/notes/n1/content", "read", [("Patient", "p1"), ("DocumentReference", "n1")]),
        ("DELETE", "/patients/p1/notes/n1", "delete", [("Patient", "p1"), ("DocumentReference", "n1")]),
        ("GET", "/patients/p1/summary", "read", [("Patient", "p1")]),
        ("GET", "/patients/p1/immunizations", "search-type", [("Patient", "p1")]),
        ("GET", "/interactions/e1", "read", [("Encounter", "e1")]),
        ("POST", "/interactions", "create", []),
        ("POST", "/api/generate/records", "create", []),
        # An id no FHIR server could hold is not recorded as one.
        ("GET", "/patients/" + "x" * 65, "read", []),
    ],
)
def test_simplified_requests(method: str, path: str, interaction: str, records: list[tuple[str, str]]) -> None:
    access = simplified_access(method, path)
    assert access is not None
    assert (access.interaction, access.records) == (interaction, records)


@pytest.mark.parametrize("path", ["/health", "/health/ready", "/metrics", "/docs", "/openapi.json", "/api/other"])
def test_requests_without_patient_data_are_not_audited(path: str) -> None:
    assert simplified_access("GET", path) is None


@pytest.mark.parametrize(
    ("method", "path", "query", "interaction", "records"),
    [
        ("GET", "/Patient/p1", "", "read", [("Patient", "p1")]),
        ("GET", "/Patient/p1/_history/2", "", "vread", [("Patient", "p1")]),
        ("GET", "/Patient/p1/_history", "", "history-instance", [("Patient", "p1")]),
        ("PUT", "/Patient/p1", "", "update", [("Patient", "p1")]),
        ("PATCH", "/Patient/p1", "", "patch", [("Patient", "p1")]),
        ("DELETE", "/Patient/p1", "", "delete", [("Patient", "p1")]),
        ("POST", "/Patient", "", "create", []),
        ("PUT", "/Patient", "identifier=x|1", "update", []),
        ("GET", "/Patient", "name=Smith", "search-type", []),
        ("GET", "/Patient", "_id=p1,p2", "search-type", [("Patient", "p1"), ("Patient", "p2")]),
        ("GET", "/Observation", "subject=Patient/p1&code=x", "search-type", [("Patient", "p1")]),
        ("POST", "/Observation/_search", "patient=p1", "search-type", [("Patient", "p1")]),
        ("GET", "/Patient/p1/Observation", "", "search-type", [("Patient", "p1")]),
        ("GET", "/Patient/_history", "", "history-type", []),
        ("GET", "/_history", "", "history-system", []),
        ("GET", "", "_type=Patient", "search-system", []),
        ("POST", "", "", "transaction", []),
        ("GET", "/Patient/p1/$everything", "", "operation", [("Patient", "p1")]),
        ("POST", "/Patient/$summary", "", "operation", []),
        ("GET", "/$export", "", "operation", []),
    ],
)
def test_fhir_requests(method: str, path: str, query: str, interaction: str, records: list[tuple[str, str]]) -> None:
    access = fhir_access(method, path, query)
    assert access is not None
    assert (access.interaction, access.records) == (interaction, records)


def test_the_capability_statement_is_not_audited() -> None:
    assert fhir_access("GET", "/metadata", "") is None


@pytest.mark.parametrize(
    ("location", "record"),
    [
        ("http://gateway.test/patients/p9", ("Patient", "p9")),
        ("http://gateway.test/patients/p9/notes/n9", ("DocumentReference", "n9")),
        ("http://gateway.test/interactions/e9", ("Encounter", "e9")),
        ("http://gateway.test/fhir/Observation/o9/_history/1", ("Observation", "o9")),
    ],
)
def test_a_create_names_what_it_made_from_its_location(location: str, record: tuple[str, str]) -> None:
    access = Access("create")
    created_record(access, location)
    assert access.records == [record]


def test_only_a_create_takes_its_location() -> None:
    access = Access("update", "Patient", [("Patient", "p1")])
    created_record(access, "http://gateway.test/patients/p2")
    answered_patient(access, {"not": "an id"})
    assert access.records == [("Patient", "p1")]


@pytest.mark.parametrize(("status", "code"), [(200, "0"), (201, "0"), (304, "0"), (404, "4"), (429, "4"), (502, "8")])
def test_outcomes(status: int, code: str) -> None:
    assert outcome_code(status) == code


def test_an_event_names_who_which_records_when_and_the_request() -> None:
    access = Access("read", "Patient", [("Patient", "p1")])
    principal = Principal("ehr", "api-key", frozenset({"system/*.read"}))
    when = datetime(2026, 12, 3, 10, 0, 0, 123000, tzinfo=UTC)

    event = audit_event(
        access,
        principal=principal,
        address="10.0.0.7",
        status=200,
        request_id="req-1",
        recorded=when,
        system_base="https://gw.example",
    )

    assert event["recorded"] == "2026-12-03T10:00:00.123Z"
    assert (event["action"], event["outcome"], event["subtype"][0]["code"]) == ("R", "0", "read")
    assert event["agent"] == [
        {
            "who": {"identifier": {"system": "https://gw.example/principal", "value": "api-key:ehr"}},
            "name": "ehr",
            "requestor": True,
            "network": {"address": "10.0.0.7", "type": "2"},
        }
    ]
    assert event["entity"][0]["what"] == {
        "type": "Patient",
        "identifier": {"system": "https://gw.example/fhir/Patient", "value": "p1"},
    }
    assert event["entity"][0]["name"] == "Patient/p1"
    assert event["extension"] == [{"url": "https://gw.example/StructureDefinition/request-id", "valueString": "req-1"}]
