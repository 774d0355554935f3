"""Bundles POSTed to the base: transactions (all or nothing) and batches (entry by entry)."""

from collections.abc import Callable

import httpx
import pytest

from tests.contract.factories import (
    IDENTIFIER_SYSTEM,
    Json,
    Tag,
    bundle,
    delete_entry,
    encounter,
    observation,
    patient,
    post_entry,
    put_entry,
    unique_id,
    unique_value,
    unknown_numeric_id,
    urn_uuid,
)
from tests.contract.interactions import (
    assert_operation_outcome,
    create,
    location_parts,
    read,
    reference,
    search_ids,
)
from tests.contract.target import BUNDLE_ETAG_FORMATS


def _post_bundle(fhir: httpx.Client, kind: str, entries: list[Json]) -> httpx.Response:
    return fhir.post("", json=bundle(kind, entries))


def _statuses(response_bundle: Json) -> list[str]:
    return [entry["response"]["status"] for entry in response_bundle["entry"]]


def _tagged(fhir: httpx.Client, resource_type: str, tag: Tag) -> list[str]:
    return search_ids(fhir, resource_type, [("_tag", tag.search)])


def _bad_reference(tag: Tag) -> Json:
    return post_entry(observation(subject=f"Patient/{unique_id('missing')}", tag=tag))


def _put_to_unknown_numeric_id(tag: Tag) -> Json:
    numeric_id = unknown_numeric_id()
    return put_entry(patient(tag=tag, id=numeric_id), url=f"Patient/{numeric_id}")


@pytest.mark.parametrize(
    "bad_entry",
    [_bad_reference, _put_to_unknown_numeric_id],
    ids=["reference-to-a-missing-resource", "put-to-an-unknown-numeric-id"],
)
def test_a_transaction_with_one_bad_entry_writes_nothing(
    fhir: httpx.Client, tag: Tag, bad_entry: Callable[[Tag], Json]
) -> None:
    good = post_entry(patient(tag=tag, family="Rolledback"))

    response = _post_bundle(fhir, "transaction", [good, bad_entry(tag), post_entry(patient(tag=tag))])

    assert 400 <= response.status_code < 500, response.text
    assert_operation_outcome(response, response.status_code)
    assert _tagged(fhir, "Patient", tag) == []
    assert _tagged(fhir, "Observation", tag) == []


def test_a_transaction_whose_delete_is_refused_writes_nothing(fhir: httpx.Client, tag: Tag) -> None:
    target = create(fhir, patient(tag=tag, family="Referenced"))
    create(fhir, observation(subject=reference(target), tag=tag))

    response = _post_bundle(
        fhir, "transaction", [post_entry(patient(tag=tag, family="New")), delete_entry(reference(target))]
    )

    assert_operation_outcome(response, 409)
    assert _tagged(fhir, "Patient", tag) == [target["id"]]


def test_batch_entries_succeed_or_fail_independently(fhir: httpx.Client, tag: Tag) -> None:
    response = _post_bundle(
        fhir,
        "batch",
        [
            post_entry(patient(tag=tag, family="First")),
            _bad_reference(tag),
            post_entry(patient(tag=tag, family="Last")),
        ],
    )

    assert response.status_code == 200, response.text
    answered = response.json()
    assert answered["type"] == "batch-response"
    first, failed, last = _statuses(answered)
    assert first.startswith("201")
    assert failed[:1] == "4"
    assert last.startswith("201")
    created = {location_parts(entry["response"]["location"])[1] for entry in answered["entry"][::2]}
    assert set(_tagged(fhir, "Patient", tag)) == created
    assert _tagged(fhir, "Observation", tag) == []


def test_urn_uuid_references_resolve_to_the_assigned_ids_in_any_entry_order(fhir: httpx.Client, tag: Tag) -> None:
    patient_url, encounter_url = urn_uuid(), urn_uuid()
    entries = [
        post_entry(observation(subject=patient_url, encounter=encounter_url, tag=tag)),
        post_entry(encounter(subject=patient_url, tag=tag), full_url=encounter_url),
        post_entry(patient(tag=tag), full_url=patient_url),
    ]

    response = _post_bundle(fhir, "transaction", entries)

    assert response.status_code == 200, response.text
    observation_at, encounter_at, patient_at = (
        location_parts(entry["response"]["location"]) for entry in response.json()["entry"]
    )
    stored = read(fhir, f"Observation/{observation_at[1]}")
    assert stored["subject"]["reference"] == f"Patient/{patient_at[1]}"
    assert stored["encounter"]["reference"] == f"Encounter/{encounter_at[1]}"
    assert read(fhir, f"Encounter/{encounter_at[1]}")["subject"]["reference"] == f"Patient/{patient_at[1]}"


def test_a_transaction_response_answers_each_entry_in_request_order(fhir: httpx.Client, tag: Tag) -> None:
    chosen, patient_url = unique_id("in-a-bundle"), urn_uuid()
    entries = [
        put_entry(patient(tag=tag, id=chosen), url=f"Patient/{chosen}"),
        post_entry(observation(subject=patient_url, tag=tag)),
        post_entry(patient(tag=tag), full_url=patient_url),
    ]

    response = _post_bundle(fhir, "transaction", entries)

    assert response.status_code == 200, response.text
    answered = response.json()
    assert answered["resourceType"] == "Bundle"
    assert answered["type"] == "transaction-response"
    assert [status[:3] for status in _statuses(answered)] == ["201", "201", "201"]
    locations = [location_parts(entry["response"]["location"]) for entry in answered["entry"]]
    assert [(kind, version) for kind, _, version in locations] == [
        ("Patient", "1"),
        ("Observation", "1"),
        ("Patient", "1"),
    ]
    assert locations[0][1] == chosen
    for entry in answered["entry"]:
        assert entry["response"]["etag"] in {etag.format("1") for etag in BUNDLE_ETAG_FORMATS}
        assert entry["response"]["lastModified"]


def _identified(tag: Tag, value: str, family: str = "Conditional") -> Json:
    return patient(tag=tag, family=family, identifiers=[(IDENTIFIER_SYSTEM, value)])


def test_if_none_exist_creates_when_nothing_matches(fhir: httpx.Client, tag: Tag) -> None:
    value = unique_value()
    criteria = f"identifier={IDENTIFIER_SYSTEM}|{value}"

    response = _post_bundle(fhir, "transaction", [post_entry(_identified(tag, value), if_none_exist=criteria)])

    assert response.status_code == 200, response.text
    assert _statuses(response.json())[0].startswith("201")
    assert len(search_ids(fhir, "Patient", [("identifier", f"{IDENTIFIER_SYSTEM}|{value}")])) == 1


def test_if_none_exist_with_one_match_answers_it_and_writes_nothing(fhir: httpx.Client, tag: Tag) -> None:
    value = unique_value()
    existing = create(fhir, _identified(tag, value, family="Original"))
    criteria = f"identifier={IDENTIFIER_SYSTEM}|{value}"

    response = _post_bundle(
        fhir, "transaction", [post_entry(_identified(tag, value, family="Duplicate"), if_none_exist=criteria)]
    )

    assert response.status_code == 200, response.text
    (entry,) = response.json()["entry"]
    assert entry["response"]["status"].startswith("200")
    assert location_parts(entry["response"]["location"])[1] == existing["id"]
    assert search_ids(fhir, "Patient", [("identifier", f"{IDENTIFIER_SYSTEM}|{value}")]) == [existing["id"]]
    current = read(fhir, reference(existing))
    assert (current["meta"]["versionId"], current["name"][0]["family"]) == ("1", "Original")


def test_references_to_a_conditional_create_that_matched_point_at_the_match(fhir: httpx.Client, tag: Tag) -> None:
    # How an uploader re-sends a bundle idempotently: the patient is found, not duplicated,
    # and what refers to it by urn:uuid refers to the one that exists.
    value = unique_value()
    existing = create(fhir, _identified(tag, value))
    patient_urn = urn_uuid()
    entries = [
        post_entry(
            _identified(tag, value),
            full_url=patient_urn,
            if_none_exist=f"identifier={IDENTIFIER_SYSTEM}|{value}",
        ),
        post_entry(observation(subject=patient_urn, tag=tag)),
    ]

    response = _post_bundle(fhir, "transaction", entries)

    assert response.status_code == 200, response.text
    (observation_id,) = search_ids(fhir, "Observation", [("_tag", tag.search)])
    assert read(fhir, f"Observation/{observation_id}")["subject"]["reference"] == reference(existing)
    assert search_ids(fhir, "Patient", [("identifier", f"{IDENTIFIER_SYSTEM}|{value}")]) == [existing["id"]]


def test_if_none_exist_with_several_matches_is_a_failed_precondition(fhir: httpx.Client, tag: Tag) -> None:
    value = unique_value()
    twins = {create(fhir, _identified(tag, value))["id"] for _ in range(2)}
    criteria = f"identifier={IDENTIFIER_SYSTEM}|{value}"

    response = _post_bundle(fhir, "transaction", [post_entry(_identified(tag, value), if_none_exist=criteria)])

    assert_operation_outcome(response, 412)
    assert set(search_ids(fhir, "Patient", [("identifier", f"{IDENTIFIER_SYSTEM}|{value}")])) == twins


def test_conditional_update_creates_then_updates_the_match(fhir: httpx.Client, tag: Tag) -> None:
    value = unique_value()
    url = f"Patient?identifier={IDENTIFIER_SYSTEM}|{value}"

    first = _post_bundle(fhir, "transaction", [put_entry(_identified(tag, value, family="First"), url=url)])
    second = _post_bundle(fhir, "transaction", [put_entry(_identified(tag, value, family="Second"), url=url)])

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    (created,) = first.json()["entry"]
    (updated,) = second.json()["entry"]
    assert created["response"]["status"].startswith("201")
    assert updated["response"]["status"].startswith("200")
    _, created_id, created_version = location_parts(created["response"]["location"])
    _, updated_id, updated_version = location_parts(updated["response"]["location"])
    assert (updated_id, created_version, updated_version) == (created_id, "1", "2")
    current = read(fhir, f"Patient/{created_id}")
    assert current["name"][0]["family"] == "Second"
    assert search_ids(fhir, "Patient", [("identifier", f"{IDENTIFIER_SYSTEM}|{value}")]) == [created_id]


def test_a_collection_bundle_posted_to_the_base_is_rejected(fhir: httpx.Client, tag: Tag) -> None:
    response = _post_bundle(fhir, "collection", [{"fullUrl": urn_uuid(), "resource": patient(tag=tag)}])

    assert_operation_outcome(response, 400)
    assert _tagged(fhir, "Patient", tag) == []


def test_prefer_minimal_still_answers_the_transaction_response(fhir: httpx.Client, tag: Tag) -> None:
    response = fhir.post(
        "", json=bundle("transaction", [post_entry(patient(tag=tag))]), headers={"Prefer": "return=minimal"}
    )

    assert response.status_code == 200, response.text
    answered = response.json()
    assert answered["type"] == "transaction-response"
    assert answered["entry"][0]["response"]["status"].startswith("201")
