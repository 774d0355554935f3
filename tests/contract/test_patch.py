"""PATCH with JSON Patch (RFC 6902): a new version when it applies, nothing at all when it fails."""

import json

import httpx
import pytest

from tests.contract.factories import Json, Tag, patient
from tests.contract.interactions import JSON_PATCH, assert_operation_outcome, create, read, reference
from tests.contract.target import PATCH_ANSWERS_ETAG, VERSION_CONFLICT


def _patch(fhir: httpx.Client, resource: Json, operations: object, if_match: str | None = None) -> httpx.Response:
    headers = {"Content-Type": JSON_PATCH}
    if if_match:
        headers["If-Match"] = if_match
    return fhir.patch(reference(resource), content=json.dumps(operations), headers=headers)


def _assert_unchanged(fhir: httpx.Client, before: Json) -> None:
    current = read(fhir, reference(before))
    assert current["meta"]["versionId"] == before["meta"]["versionId"]
    assert {k: v for k, v in current.items() if k != "meta"} == {k: v for k, v in before.items() if k != "meta"}


def test_json_patch_changes_the_resource_and_makes_a_new_version(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))
    operations = [
        {"op": "replace", "path": "/gender", "value": "male"},
        {"op": "add", "path": "/telecom", "value": [{"system": "phone", "value": "+1 604 555 0100"}]},
    ]

    response = _patch(fhir, created, operations)

    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["gender"] == "male"
    assert patched["telecom"] == [{"system": "phone", "value": "+1 604 555 0100"}]
    assert patched["meta"]["versionId"] == "2"
    if PATCH_ANSWERS_ETAG or "ETag" in response.headers:
        assert response.headers["ETag"] == 'W/"2"'
    assert read(fhir, reference(created))["gender"] == "male"


def test_patch_with_the_current_if_match_applies(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))

    response = _patch(fhir, created, [{"op": "replace", "path": "/gender", "value": "male"}], if_match='W/"1"')

    assert response.status_code == 200, response.text
    assert response.json()["meta"]["versionId"] == "2"


def test_patch_with_a_stale_if_match_is_a_version_conflict_and_changes_nothing(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))
    second = _patch(fhir, created, [{"op": "replace", "path": "/gender", "value": "male"}]).json()

    response = _patch(fhir, created, [{"op": "replace", "path": "/gender", "value": "other"}], if_match='W/"1"')

    assert_operation_outcome(response, VERSION_CONFLICT)
    _assert_unchanged(fhir, second)


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "/birthDate", "value": "1980-13-45"},
        {"op": "add", "path": "/favouriteColour", "value": "blue"},
        {"op": "replace", "path": "/gender", "value": "robot"},
    ],
    ids=["impossible-date", "unknown-element", "code-outside-its-value-set"],
)
def test_a_patch_that_makes_the_resource_invalid_is_rejected_and_changes_nothing(
    fhir: httpx.Client, tag: Tag, operation: Json
) -> None:
    created = create(fhir, patient(tag=tag, gender="female", birth_date="1980-01-01"))

    response = _patch(fhir, created, [operation])

    assert_operation_outcome(response, 400)
    _assert_unchanged(fhir, created)


def test_a_patch_whose_test_operation_fails_is_rejected_and_changes_nothing(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female", birth_date="1980-01-01"))
    operations = [
        {"op": "test", "path": "/gender", "value": "male"},
        {"op": "replace", "path": "/birthDate", "value": "1999-09-09"},
    ]

    response = _patch(fhir, created, operations)

    # RFC 6902 says only that the whole patch fails. RFC 5789 section 2.2 suggests 409 (the
    # resource's state) or 422 (a valid patch the server cannot apply); HAPI answers 400
    # (HAPI-1272). None of the three is wrong, so any is accepted, but nothing may change.
    assert_operation_outcome(response, {400, 409, 422})
    _assert_unchanged(fhir, created)


@pytest.mark.parametrize(
    "document",
    ['{"op": "replace", "path": "/gender", "value": "male"}', '[{"op": "explode", "path": "/gender"}]', "[{"],
    ids=["not-an-array", "unknown-operation", "not-json"],
)
def test_a_malformed_patch_document_is_rejected_and_changes_nothing(
    fhir: httpx.Client, tag: Tag, document: str
) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))

    response = fhir.patch(reference(created), content=document, headers={"Content-Type": JSON_PATCH})

    # RFC 5789 section 2.2: a malformed patch document is 400 Bad Request.
    assert_operation_outcome(response, 400)
    _assert_unchanged(fhir, created)
