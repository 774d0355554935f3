"""Referential integrity and delete: no dangling references are written, and none are left behind."""

import httpx

from tests.contract.factories import Tag, bundle, delete_entry, observation, patient, unique_id
from tests.contract.interactions import (
    assert_operation_outcome,
    create,
    outcome_text,
    read,
    reference,
    search_ids,
)


def test_create_with_a_reference_to_a_missing_resource_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    missing = f"Patient/{unique_id('missing')}"

    response = fhir.post("Observation", json=observation(subject=missing, tag=tag))

    assert_operation_outcome(response, 400)
    assert search_ids(fhir, "Observation", [("_tag", tag.search)]) == []


def test_references_outside_the_server_are_rejected(fhir: httpx.Client, tag: Tag) -> None:
    # HAPI answers so with allow_external_references: false (hapi/application.yaml); an
    # unresolved urn:uuid outside a bundle points nowhere at all.
    for outside in ("https://elsewhere.example/fhir/Patient/1", f"urn:uuid:{unique_id('urn')}"):
        response = fhir.post("Observation", json=observation(subject=outside, tag=tag))

        assert_operation_outcome(response, 400)
    assert search_ids(fhir, "Observation", [("_tag", tag.search)]) == []


def test_update_with_a_reference_to_a_missing_resource_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    subject = create(fhir, patient(tag=tag))
    stored = create(fhir, observation(subject=reference(subject), tag=tag))
    missing = f"Patient/{unique_id('missing')}"

    response = fhir.put(reference(stored), json={**stored, "subject": {"reference": missing}})

    assert_operation_outcome(response, 400)
    current = read(fhir, reference(stored))
    assert current["subject"]["reference"] == reference(subject)
    assert current["meta"]["versionId"] == "1"


def test_delete_of_a_referenced_resource_is_a_conflict_naming_the_referrer(fhir: httpx.Client, tag: Tag) -> None:
    target = create(fhir, patient(tag=tag))
    referrer = create(fhir, observation(subject=reference(target), tag=tag))

    response = fhir.delete(reference(target))

    outcome = assert_operation_outcome(response, 409)
    assert reference(referrer) in outcome_text(outcome)
    assert read(fhir, reference(target))["id"] == target["id"]


def test_a_transaction_deleting_a_referrer_and_its_target_succeeds(fhir: httpx.Client, tag: Tag) -> None:
    target = create(fhir, patient(tag=tag))
    referrer = create(fhir, observation(subject=reference(target), tag=tag))

    # The target comes first: the check must hold for the transaction as a whole, not entry by entry.
    deletes = [delete_entry(reference(target)), delete_entry(reference(referrer))]
    response = fhir.post("", json=bundle("transaction", deletes))

    assert response.status_code == 200, response.text
    assert response.json()["type"] == "transaction-response"
    assert fhir.get(reference(target)).status_code == 410
    assert fhir.get(reference(referrer)).status_code == 410


def test_read_of_a_deleted_resource_is_gone(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag))

    deleted = fhir.delete(reference(created))

    assert deleted.status_code in {200, 204}, deleted.text
    assert fhir.get(reference(created)).status_code == 410


def test_a_deleted_resource_is_no_longer_found_by_search(fhir: httpx.Client, tag: Tag) -> None:
    kept = create(fhir, patient(tag=tag))
    removed = create(fhir, patient(tag=tag))

    fhir.delete(reference(removed))

    assert search_ids(fhir, "Patient", [("_tag", tag.search)]) == [kept["id"]]


def test_delete_of_an_unknown_id_succeeds(fhir: httpx.Client) -> None:
    response = fhir.delete(f"Patient/{unique_id('never-created')}")

    assert response.status_code in {200, 204}, response.text


def test_vread_of_the_deleted_version_is_gone_and_earlier_versions_remain(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag, family="Kept"))

    fhir.delete(reference(created))

    assert fhir.get(f"{reference(created)}/_history/2").status_code == 410
    assert read(fhir, f"{reference(created)}/_history/1")["name"][0]["family"] == "Kept"


def test_history_shows_the_delete_as_the_newest_version(fhir: httpx.Client, tag: Tag) -> None:
    created = create(fhir, patient(tag=tag))

    fhir.delete(reference(created))

    history = read(fhir, f"{reference(created)}/_history")
    newest, oldest = history["entry"]
    assert "resource" not in newest
    assert newest["request"]["method"] == "DELETE"
    assert oldest["resource"]["meta"]["versionId"] == "1"
