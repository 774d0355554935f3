"""`GET metadata`: an R4 CapabilityStatement naming every type, search parameter and interaction
the rest of this suite relies on."""

import httpx
import pytest

from tests.contract.factories import Json
from tests.contract.interactions import read
from tests.contract.target import DECLARED_SYSTEM_INTERACTIONS

COMMON_SEARCH_PARAMETERS = {"_id", "_lastUpdated", "_tag"}
SEARCH_PARAMETERS = {
    "Patient": {"identifier", "name", "family", "given", "birthdate", "gender"},
    "Observation": {"subject", "patient", "encounter", "status", "code", "date"},
    "Encounter": {"subject", "patient", "status", "reason-code", "date"},
    "DocumentReference": {"subject", "patient", "status", "type"},
    "Immunization": {"patient", "status", "vaccine-code"},
    "AllergyIntolerance": {"patient", "code"},
}
TYPE_INTERACTIONS = {
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "create",
    "search-type",
}


@pytest.fixture(scope="module")
def capability(fhir: httpx.Client) -> Json:
    return read(fhir, "metadata")


@pytest.fixture(scope="module")
def rest(capability: Json) -> Json:
    (server,) = [rest for rest in capability["rest"] if rest["mode"] == "server"]
    return server


def _resource(rest: Json, resource_type: str) -> Json:
    found = [resource for resource in rest["resource"] if resource["type"] == resource_type]
    assert found, f"{resource_type} is not in the CapabilityStatement"
    return found[0]


def test_metadata_is_an_r4_capability_statement_in_json(fhir: httpx.Client, capability: Json) -> None:
    response = fhir.get("metadata")

    assert response.headers["content-type"].startswith("application/fhir+json")
    assert capability["resourceType"] == "CapabilityStatement"
    assert capability["fhirVersion"] == "4.0.1"
    assert capability["kind"] == "instance"
    assert any("json" in media_type for media_type in capability["format"])


@pytest.mark.parametrize("resource_type", list(SEARCH_PARAMETERS))
def test_metadata_lists_each_type_with_its_search_parameters(rest: Json, resource_type: str) -> None:
    resource = _resource(rest, resource_type)
    # Parameters common to every type may be declared once, at the level of the whole server.
    declared = {parameter["name"] for parameter in resource.get("searchParam", []) + rest.get("searchParam", [])}

    assert (SEARCH_PARAMETERS[resource_type] | COMMON_SEARCH_PARAMETERS) - declared == set()


@pytest.mark.parametrize("resource_type", list(SEARCH_PARAMETERS))
def test_metadata_lists_each_types_interactions(rest: Json, resource_type: str) -> None:
    interactions = {interaction["code"] for interaction in _resource(rest, resource_type)["interaction"]}

    assert TYPE_INTERACTIONS - interactions == set()


def test_metadata_lists_transaction_and_batch(rest: Json) -> None:
    assert DECLARED_SYSTEM_INTERACTIONS - {interaction["code"] for interaction in rest["interaction"]} == set()
