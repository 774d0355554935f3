"""Bad requests: a 4xx OperationOutcome in FHIR JSON that says what is wrong, and nothing stored."""

import json

import httpx
import pytest

from tests.contract.factories import Tag, observation, patient, unique_id
from tests.contract.interactions import (
    FHIR_JSON,
    assert_operation_outcome,
    create,
    outcome_text,
    reference,
    search_ids,
)
from tests.contract.target import CONTROL_CHARACTERS_OUTSIDE_SPEC, REMOTE, UNSUPPORTED_MEDIA_TYPE

XML_NOT_SPOKEN = "the embedded store speaks JSON only; HAPI also speaks XML"


def _nothing_tagged(fhir: httpx.Client, tag: Tag, resource_types: tuple[str, ...] = ("Patient",)) -> bool:
    return all(search_ids(fhir, kind, [("_tag", tag.search)]) == [] for kind in resource_types)


def test_malformed_json_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    truncated = json.dumps(patient(tag=tag))[:-7]

    response = fhir.post("Patient", content=truncated, headers={"Content-Type": FHIR_JSON})

    assert_operation_outcome(response, 400)
    assert _nothing_tagged(fhir, tag)


def test_a_json_body_that_is_not_a_resource_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    response = fhir.post("Patient", json=[patient(tag=tag)])

    assert_operation_outcome(response, 400)
    assert _nothing_tagged(fhir, tag)


def test_a_body_of_another_resource_type_than_the_url_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    # The subject exists (untagged), so the resource type is the body's only fault.
    subject, target_id = reference(create(fhir, patient())), unique_id("typed")

    created = fhir.post("Patient", json=observation(subject=subject, tag=tag))
    updated = fhir.put(f"Patient/{target_id}", json={**observation(subject=subject, tag=tag), "id": target_id})

    assert_operation_outcome(created, 400)
    assert_operation_outcome(updated, 400)
    assert _nothing_tagged(fhir, tag, ("Patient", "Observation"))


@pytest.mark.parametrize(
    ("element", "value"),
    [("birthDate", "1980-13-45"), ("gender", "robot"), ("active", "yes")],
    ids=["impossible-date", "code-outside-its-value-set", "string-for-a-boolean"],
)
def test_an_invalid_value_is_rejected_naming_its_element(
    fhir: httpx.Client, tag: Tag, element: str, value: str
) -> None:
    response = fhir.post("Patient", json={**patient(tag=tag), element: value})

    outcome = assert_operation_outcome(response, 400)
    # HAPI names the element in its diagnostics (`[element="birthDate"]`) without the type, so
    # the full FHIRPath is only required of the embedded store.
    assert (element if REMOTE else f"Patient.{element}") in outcome_text(outcome)
    assert _nothing_tagged(fhir, tag)


@pytest.mark.embedded_only(
    reason="R4 lets a server ignore unknown JSON properties (json.html), and HAPI's lenient parser drops them"
)
def test_an_unknown_element_is_rejected_naming_it(fhir: httpx.Client, tag: Tag) -> None:
    response = fhir.post("Patient", json={**patient(tag=tag), "favouriteColour": "blue"})

    outcome = assert_operation_outcome(response, 400)
    assert "Patient.favouriteColour" in outcome_text(outcome)
    assert _nothing_tagged(fhir, tag)


@pytest.mark.embedded_only(reason=CONTROL_CHARACTERS_OUTSIDE_SPEC)
def test_a_control_character_in_a_string_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    # R4 datatypes: strings hold no characters below U+0020 but tab, CR and LF.
    response = fhir.post("Patient", json={**patient(tag=tag), "name": [{"family": "Null\u0000Byte"}]})

    assert_operation_outcome(response, 400)
    assert _nothing_tagged(fhir, tag)


def test_a_reference_deep_inside_nested_extensions_is_stored_and_enforced(fhir: httpx.Client, tag: Tag) -> None:
    subject = create(fhir, patient())
    nested: dict = {"url": "urn:test:leaf", "valueReference": {"reference": reference(subject)}}
    for depth in range(40):
        nested = {"url": f"urn:test:level-{depth}", "extension": [nested]}

    response = fhir.post(
        "Observation", json={**observation(subject=reference(subject), tag=tag), "extension": [nested]}
    )

    assert response.status_code == 201, response.text
    assert fhir.delete(reference(subject)).status_code == 409


def test_an_invalid_nested_value_is_rejected_naming_its_path(fhir: httpx.Client, tag: Tag) -> None:
    telecom = {"system": "phone", "value": "+1 604 555 0100", "period": {"start": "yesterday"}}

    response = fhir.post("Patient", json={**patient(tag=tag), "telecom": [telecom]})

    outcome = assert_operation_outcome(response, 400)
    # As above: HAPI names the innermost element only (`[element="start"]`).
    assert ("start" if REMOTE else "Patient.telecom") in outcome_text(outcome)
    assert _nothing_tagged(fhir, tag)


@pytest.mark.embedded_only(reason="only the embedded store can be built with a small body limit")
def test_an_oversized_body_is_rejected(small_body_fhir: httpx.Client, fhir: httpx.Client, tag: Tag) -> None:
    body = {**patient(tag=tag), "text": {"status": "generated", "div": f"<div>{'x' * 8192}</div>"}}

    response = small_body_fhir.post("Patient", json=body)

    assert_operation_outcome(response, 413)
    assert _nothing_tagged(fhir, tag)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        pytest.param("application/xml", marks=pytest.mark.embedded_only(reason=XML_NOT_SPOKEN)),
        pytest.param("application/fhir+xml", marks=pytest.mark.embedded_only(reason=XML_NOT_SPOKEN)),
    ],
)
def test_an_unsupported_content_type_is_rejected(fhir: httpx.Client, tag: Tag, content_type: str) -> None:
    response = fhir.post("Patient", content=json.dumps(patient(tag=tag)), headers={"Content-Type": content_type})

    assert_operation_outcome(response, UNSUPPORTED_MEDIA_TYPE)
    assert _nothing_tagged(fhir, tag)


@pytest.mark.embedded_only(reason=XML_NOT_SPOKEN)
@pytest.mark.parametrize(
    ("headers", "params"),
    [({"Accept": "application/fhir+xml"}, {}), ({}, {"_format": "xml"})],
    ids=["accept-header", "format-parameter"],
)
def test_asking_only_for_xml_is_refused_in_json(
    fhir: httpx.Client, headers: dict[str, str], params: dict[str, str]
) -> None:
    response = fhir.get("metadata", headers=headers, params=params)

    assert_operation_outcome(response, {406, 415})


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_resource_type_is_not_found_or_rejected(fhir: httpx.Client, method: str) -> None:
    url = "Spaceship" if method == "POST" else f"Spaceship/{unique_id()}"
    body = {"resourceType": "Spaceship", "name": "Heart of Gold"} if method == "POST" else None

    response = fhir.request(method, url, json=body)

    assert_operation_outcome(response, {400, 404})


def test_read_of_an_unknown_id_is_not_found(fhir: httpx.Client) -> None:
    assert_operation_outcome(fhir.get(f"Patient/{unique_id('never-created')}"), 404)
