"""Resource ids: the server assigns them on POST; a client may choose them on PUT, within limits."""

import secrets

import httpx
import pytest

from tests.contract.factories import Tag, patient, unique_id, unknown_numeric_id
from tests.contract.interactions import assert_operation_outcome, location_parts, search_ids
from tests.contract.target import CREATED_BY_PUT_LOCATION_HEADERS


def _nothing_tagged(fhir: httpx.Client, tag: Tag) -> bool:
    return search_ids(fhir, "Patient", [("_tag", tag.search)]) == []


def test_post_ignores_a_body_id_and_assigns_one(fhir: httpx.Client, tag: Tag) -> None:
    chosen = unique_id("client-chosen")

    response = fhir.post("Patient", json=patient(tag=tag, id=chosen))

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["resourceType"] == "Patient"
    assert created["id"] and created["id"] != chosen
    assert created["meta"]["versionId"] == "1"
    assert created["meta"]["lastUpdated"]
    assert location_parts(response.headers["Location"]) == ("Patient", created["id"], "1")
    assert fhir.get(f"Patient/{chosen}").status_code == 404


@pytest.mark.parametrize(
    "new_id",
    [unique_id("put-created"), f"a.b-{secrets.token_hex(4)}", unique_id("max-length").ljust(64, "x")],
    ids=["letters-and-digits", "dots-and-dashes", "64-characters-the-longest-allowed"],
)
def test_put_to_an_unknown_id_with_a_non_digit_creates_it(fhir: httpx.Client, tag: Tag, new_id: str) -> None:
    response = fhir.put(f"Patient/{new_id}", json=patient(tag=tag, id=new_id))

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] == new_id
    assert created["meta"]["versionId"] == "1"
    location = next(response.headers[name] for name in CREATED_BY_PUT_LOCATION_HEADERS if name in response.headers)
    assert location_parts(location) == ("Patient", new_id, "1")
    assert fhir.get(f"Patient/{new_id}").json()["id"] == new_id


def test_put_to_an_unknown_all_digit_id_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    numeric_id = unknown_numeric_id()

    response = fhir.put(f"Patient/{numeric_id}", json=patient(tag=tag, id=numeric_id))

    assert_operation_outcome(response, 400)
    assert fhir.get(f"Patient/{numeric_id}").status_code == 404
    assert _nothing_tagged(fhir, tag)


def test_put_whose_body_id_differs_from_the_url_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    url_id, body_id = unique_id("url"), unique_id("body")

    response = fhir.put(f"Patient/{url_id}", json=patient(tag=tag, id=body_id))

    assert_operation_outcome(response, 400)
    assert fhir.get(f"Patient/{url_id}").status_code == 404
    assert fhir.get(f"Patient/{body_id}").status_code == 404


def test_put_whose_body_has_no_id_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    url_id = unique_id("no-body-id")

    response = fhir.put(f"Patient/{url_id}", json=patient(tag=tag))

    assert_operation_outcome(response, 400)
    assert fhir.get(f"Patient/{url_id}").status_code == 404
    assert _nothing_tagged(fhir, tag)


@pytest.mark.parametrize(
    "bad_id",
    [unique_id("too-long").ljust(65, "x"), f"under_score-{secrets.token_hex(4)}"],
    ids=["65-characters", "underscore"],
)
def test_put_to_an_id_outside_the_fhir_id_syntax_is_rejected(fhir: httpx.Client, tag: Tag, bad_id: str) -> None:
    response = fhir.put(f"Patient/{bad_id}", json=patient(tag=tag, id=bad_id))

    assert_operation_outcome(response, 400)
    assert _nothing_tagged(fhir, tag)
