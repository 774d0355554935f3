"""Versions: every change makes version n+1, readable later; If-Match guards against lost updates."""

from datetime import timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from tests.contract.factories import Json, Tag, patient
from tests.contract.interactions import (
    assert_operation_outcome,
    create,
    location_parts,
    parse_instant,
    read,
    reference,
)
from tests.contract.target import VERSION_CONFLICT


def _etag(version: int) -> str:
    return f'W/"{version}"'


def _assert_last_modified_is(response: httpx.Response, resource: Json) -> None:
    # Last-Modified is an HTTP-date, so it carries meta.lastUpdated to the second only.
    last_modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert abs(last_modified - parse_instant(resource["meta"]["lastUpdated"])) < timedelta(seconds=1)


def _update(fhir: httpx.Client, resource: Json, *, if_match: str | None = None, **changes: object) -> httpx.Response:
    """PUT `resource` with `changes`, sending its tags but not its old versionId or lastUpdated."""
    meta = {"tag": resource["meta"].get("tag", [])}
    headers = {"If-Match": if_match} if if_match else {}
    return fhir.put(reference(resource), json={**resource, "meta": meta, **changes}, headers=headers)


def test_create_answers_version_1_with_etag_location_and_last_modified(fhir: httpx.Client, tag: Tag) -> None:
    response = fhir.post("Patient", json=patient(tag=tag))

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["meta"]["versionId"] == "1"
    assert response.headers["ETag"] == _etag(1)
    assert location_parts(response.headers["Location"]) == ("Patient", created["id"], "1")
    _assert_last_modified_is(response, created)


def test_each_update_makes_the_next_version(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))

    second = _update(fhir, created, gender="male")
    third = _update(fhir, second.json(), gender="other")

    assert second.status_code == 200, second.text
    assert second.json()["meta"]["versionId"] == "2"
    assert second.headers["ETag"] == _etag(2)
    assert third.status_code == 200, third.text
    assert third.json()["meta"]["versionId"] == "3"
    assert third.headers["ETag"] == _etag(3)
    _assert_last_modified_is(third, third.json())
    assert parse_instant(third.json()["meta"]["lastUpdated"]) >= parse_instant(created["meta"]["lastUpdated"])


def test_read_answers_the_current_version_with_etag_and_last_modified(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))
    _update(fhir, created, gender="male")

    response = fhir.get(reference(created))

    assert response.status_code == 200
    current = response.json()
    assert current["gender"] == "male"
    assert current["meta"]["versionId"] == "2"
    assert response.headers["ETag"] == _etag(2)
    _assert_last_modified_is(response, current)


def test_vread_answers_an_old_version(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, family="Before"))
    _update(fhir, created, name=[{"family": "After"}])

    first = read(fhir, f"{reference(created)}/_history/1")
    second = read(fhir, f"{reference(created)}/_history/2")

    assert (first["meta"]["versionId"], first["name"][0]["family"]) == ("1", "Before")
    assert (second["meta"]["versionId"], second["name"][0]["family"]) == ("2", "After")


def test_vread_of_a_version_that_never_existed_is_not_found(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag))

    assert_operation_outcome(fhir.get(f"{reference(created)}/_history/7"), 404)


def test_instance_history_lists_every_version_newest_first(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))
    second = _update(fhir, created, gender="male").json()
    _update(fhir, second, gender="other")

    history = read(fhir, f"{reference(created)}/_history")

    assert history["resourceType"] == "Bundle"
    assert history["type"] == "history"
    versions = [entry["resource"]["meta"]["versionId"] for entry in history["entry"]]
    assert versions == ["3", "2", "1"]
    assert [entry["resource"]["gender"] for entry in history["entry"]] == ["other", "male", "female"]


def test_put_with_identical_content_creates_no_new_version(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))

    response = fhir.put(reference(created), json=created)

    assert response.status_code == 200, response.text
    assert response.json()["meta"]["versionId"] == "1"
    assert response.headers["ETag"] == _etag(1)
    history = read(fhir, f"{reference(created)}/_history")
    assert [entry["resource"]["meta"]["versionId"] for entry in history["entry"]] == ["1"]


def test_update_with_a_stale_if_match_is_a_version_conflict_and_changes_nothing(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))
    _update(fhir, created, gender="male")

    response = _update(fhir, created, gender="other", if_match=_etag(1))

    assert_operation_outcome(response, VERSION_CONFLICT)
    current = read(fhir, reference(created))
    assert (current["meta"]["versionId"], current["gender"]) == ("2", "male")


def test_update_with_the_current_if_match_succeeds(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))

    response = _update(fhir, created, gender="male", if_match=_etag(1))

    assert response.status_code == 200, response.text
    assert response.json()["meta"]["versionId"] == "2"
    assert read(fhir, reference(created))["gender"] == "male"


@pytest.mark.embedded_only(
    reason="If-Match on DELETE entered the FHIR spec after R4 (FHIR-40772); an R4 server may ignore it"
)
def test_delete_with_a_stale_if_match_is_a_version_conflict_and_keeps_the_resource(
    fhir: httpx.Client, tag: Tag
) -> None:
    created = create(fhir, patient(tag=tag, gender="female"))
    _update(fhir, created, gender="male")

    response = fhir.delete(reference(created), headers={"If-Match": _etag(1)})

    assert_operation_outcome(response, VERSION_CONFLICT)
    assert read(fhir, reference(created))["meta"]["versionId"] == "2"


def test_delete_with_the_current_if_match_deletes(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag))

    response = fhir.delete(reference(created), headers={"If-Match": _etag(1)})

    assert response.status_code in {200, 204}, response.text
    assert fhir.get(reference(created)).status_code == 410
