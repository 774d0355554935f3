"""Transaction Bundles the slices write, and the ids the server's answer gives their resources."""

import re

import pytest

from fhir_gateway.fhir_client import FhirError, create_entry, created_identity, new_urn, transaction


def test_a_create_entry_posts_the_resource_under_its_urn() -> None:
    urn = new_urn()

    entry = create_entry({"resourceType": "Encounter", "status": "finished"}, urn)

    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", urn)
    assert new_urn() != urn
    assert entry == {
        "fullUrl": urn,
        "resource": {"resourceType": "Encounter", "status": "finished"},
        "request": {"method": "POST", "url": "Encounter"},
    }
    assert transaction([entry]) == {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("Encounter/123/_history/1", {"id": "123", "meta": {"versionId": "1"}}),
        ("http://hapi:8080/fhir/Encounter/abc-1/_history/7", {"id": "abc-1", "meta": {"versionId": "7"}}),
        ("Encounter/123", {"id": "123", "meta": {}}),
    ],
)
def test_the_first_entry_s_location_names_the_created_resource(location: str, expected: dict[str, object]) -> None:
    answer = {"entry": [{"response": {"status": "201 Created", "location": location}}, {"response": {}}]}

    assert created_identity(answer, "Encounter") == expected


def test_the_last_modified_time_becomes_the_meta_last_updated() -> None:
    response = {"location": "Encounter/1/_history/1", "lastModified": "2025-03-01T18:30:00.000+00:00"}

    identity = created_identity({"entry": [{"response": response}]}, "Encounter")

    assert identity["meta"] == {"versionId": "1", "lastUpdated": "2025-03-01T18:30:00.000+00:00"}


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"entry": []},
        {"entry": ["not an entry"]},
        {"entry": [{"response": {"status": "201 Created"}}]},
        {"entry": [{"response": {"location": "Observation/1/_history/1"}}]},
    ],
    ids=["no entries", "empty", "not an object", "no location", "another type"],
)
def test_an_answer_without_the_created_resource_is_an_upstream_error(answer: dict[str, object]) -> None:
    with pytest.raises(FhirError) as raised:
        created_identity(answer, "Encounter")

    assert "Encounter" in str(raised.value)
