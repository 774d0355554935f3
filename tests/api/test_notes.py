"""`/patients/{id}/notes` with typed (JSON) notes: stored as a DocumentReference with the
vital signs it states as Observations derived from it; listed, read and deleted."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.fhir_client import FhirClient
from tests.api.checks import assert_problem, exists
from tests.api.conftest import BASE_URL

pytestmark = pytest.mark.anyio

SAMPLES: list[dict[str, str]] = json.loads(
    (Path(__file__).resolve().parents[2] / "generators" / "data" / "soap_notes.json").read_text(encoding="utf-8")
)["notes"]
ADMISSION, PROGRESS, NURSING, CONSULT, PROGRESS_SOAP, DISCHARGE, FOLLOW_UP, HISTORY = SAMPLES
LOINC = "http://loinc.org"
NO_VITALS = dict.fromkeys(
    (
        "heart_rate",
        "respiratory_rate",
        "bp_systolic",
        "bp_diastolic",
        "temperature_c",
        "spo2",
        "weight_kg",
        "height_cm",
    )
)
# A note whose vital signs need converting (°F, lb) and some of which cannot be a living patient's.
VITALS_NOTE = (
    "PROGRESS NOTE\n"
    "S: Feels feverish.\n"
    "O: Temp 101.2 °F, HR 300, BP 80/120, RR 18, SpO2 96%, weight 172 lb.\n"
    "A: Viral syndrome.\n"
    "P: Fluids."
)


async def new_patient(client: httpx.AsyncClient, given: str = "Maria") -> str:
    response = await client.post(
        "/patients", json={"given_name": given, "family_name": "Okafor", "birth_date": "1961-04-17"}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def add_note(client: httpx.AsyncClient, patient_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/patients/{patient_id}/notes", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def sample(note: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"taken_at": note["taken_at"], "content": note["content"], **extra}


async def matches(fhir: FhirClient, resource_type: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The resources a FHIR search finds (its matches only)."""
    bundle = await fhir.search(resource_type, [*params, ("_count", "100")])
    return [
        entry["resource"]
        for entry in bundle.get("entry") or []
        if (entry.get("search") or {}).get("mode", "match") == "match"
    ]


async def derived_from(fhir: FhirClient, note_id: str) -> list[dict[str, Any]]:
    return await matches(fhir, "Observation", [("derived-from", f"DocumentReference/{note_id}")])


async def documents_of(fhir: FhirClient, patient_id: str) -> list[dict[str, Any]]:
    return await matches(fhir, "DocumentReference", [("subject", f"Patient/{patient_id}")])


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- create and read ---------------------------------------------------------------------


async def test_a_typed_note_round_trips_with_every_field(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    content = PROGRESS["content"]

    response = await client.post(f"/patients/{patient_id}/notes", json=sample(PROGRESS, author="Dr. Amara Singh"))

    assert response.status_code == 201, response.text
    created = response.json()
    note_id = created["id"]
    assert response.headers["location"] == f"{BASE_URL}/patients/{patient_id}/notes/{note_id}"
    assert response.headers["etag"] == 'W/"1"'
    updated_at = created.pop("updated_at")
    assert abs(instant(updated_at) - datetime.now(UTC)) < timedelta(minutes=5)
    assert created == {
        "id": note_id,
        "patient_id": patient_id,
        "version": "1",
        "taken_at": "2025-02-04T09:30:00-08:00",
        "author": "Dr. Amara Singh",
        "note_type": "progress",
        "content_type": "text/plain",
        "size": len(content.encode("utf-8")),
        "sha1": hashlib.sha1(content.encode("utf-8")).hexdigest(),
        "file_name": None,
        "text_source": "typed",
        "text": content,
        "text_unavailable": None,
        "sections": {
            "subjective": "Feels slightly better, cough persists, less chest pain. Slept poorly.",
            "objective": "T 37.9 C, HR 96, BP 132/80, RR 20, SpO2 93% on 2 L. Crackles RLL unchanged. "
            "Glucose 9-12 mmol/L. Blood cultures no growth at 24 h.",
            "assessment": "CAP improving slowly. Glycemic control acceptable on insulin.",
            "plan": "Continue ceftriaxone and azithromycin (day 2/5). Wean O2 as tolerated. "
            "Encourage incentive spirometry and mobilization.",
        },
        "vitals": NO_VITALS
        | {"heart_rate": 96, "respiratory_rate": 20, "bp_systolic": 132, "bp_diastolic": 80}
        | {"temperature_c": 37.9, "spo2": 93},
        "vitals_skipped": [],
    }

    read = await client.get(response.headers["location"])

    assert read.status_code == 200
    assert read.headers["etag"] == 'W/"1"'
    stored = read.json()
    assert abs(instant(stored.pop("updated_at")) - instant(updated_at)) < timedelta(seconds=2)
    assert stored == created


async def test_the_stored_document_reference_says_what_the_note_is(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)
    note = await add_note(client, patient_id, **sample(DISCHARGE, author="Dr. Lee"))

    (document,) = await documents_of(app.state.fhir_client, patient_id)

    assert document["id"] == note["id"]
    assert document["status"] == "current"
    assert document["subject"] == {"reference": f"Patient/{patient_id}"}
    assert [(c["system"], c["code"]) for c in document["type"]["coding"]] == [(LOINC, "18842-5")]
    assert instant(document["context"]["period"]["start"]) == instant(DISCHARGE["taken_at"])
    assert document["author"] == [{"display": "Dr. Lee"}]
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"].startswith("text/plain")
    assert attachment["size"] == len(DISCHARGE["content"].encode("utf-8"))


async def test_each_sample_note_is_classified_as_a_careful_reader_would(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    found = {}
    for index, note in enumerate(SAMPLES):
        created = await add_note(client, patient_id, **sample(note))
        found[index] = created["note_type"]
        read = (await client.get(f"/patients/{patient_id}/notes/{created['id']}")).json()
        assert read["note_type"] == created["note_type"]

    assert found == {index: note["expected_type"] for index, note in enumerate(SAMPLES)}


async def test_a_given_note_type_wins_over_the_classification(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)

    note = await add_note(client, patient_id, **sample(DISCHARGE, note_type="nursing"))

    assert note["note_type"] == "nursing"
    assert (await client.get(f"/patients/{patient_id}/notes/{note['id']}")).json()["note_type"] == "nursing"
    (document,) = await documents_of(app.state.fhir_client, patient_id)
    assert [(c["system"], c["code"]) for c in document["type"]["coding"]] == [(LOINC, "34746-8")]
    listed = (await client.get(f"/patients/{patient_id}/notes", params={"note_type": "nursing"})).json()
    assert [item["id"] for item in listed["items"]] == [note["id"]]
    assert (await client.get(f"/patients/{patient_id}/notes", params={"note_type": "discharge"})).json()["total"] == 0


async def test_a_note_without_recognisable_words_is_other(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    note = await add_note(client, patient_id, taken_at="2025-01-01T12:00:00Z", content="Spoke with pharmacy.")

    assert note["note_type"] == "other"
    assert note["sections"] is None
    assert note["vitals"] == NO_VITALS


async def test_soap_sections_are_found_under_letters_and_spelled_out_headings(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    lettered = await add_note(client, patient_id, **sample(PROGRESS_SOAP))
    spelled = await add_note(client, patient_id, **sample(FOLLOW_UP))

    assert lettered["sections"] == {
        "subjective": "Much improved. Minimal cough, no chest pain, walking independently.",
        "objective": "Afebrile 36.9 C x 36 h, HR 82, BP 128/78, RR 16, SpO2 95% on room air. Few crackles RLL.",
        "assessment": "CAP responding to therapy. Ready to step down to oral antibiotics.",
        "plan": "Switch to amoxicillin-clavulanate 875/125 mg PO BID to complete 7 days total. "
        "Restart metformin. Plan discharge tomorrow if stable.",
    }
    assert spelled["sections"] == {
        "subjective": "No cough or dyspnea. Energy returning. Mild genital itching since starting empagliflozin.",
        "objective": "BP 124/76, HR 74, SpO2 97%, weight 78.2 kg. Chest clear.",
        "assessment": "Pneumonia resolved clinically. Possible candidal vulvovaginitis, SGLT2-inhibitor related.",
        "plan": "Fluconazole 150 mg PO once. Counsel on hygiene. Keep empagliflozin. Repeat CXR booked for March 20.",
    }
    read = (await client.get(f"/patients/{patient_id}/notes/{spelled['id']}")).json()
    assert read["sections"] == spelled["sections"]


async def test_a_note_without_soap_structure_has_no_sections(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    nursing = await add_note(client, patient_id, **sample(NURSING))
    one_heading = await add_note(client, patient_id, **sample(HISTORY))

    assert nursing["sections"] is None
    assert one_heading["sections"] is None
    assert (await client.get(f"/patients/{patient_id}/notes/{nursing['id']}")).json()["sections"] is None


async def test_a_partial_soap_note_has_null_for_the_missing_sections(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    note = await add_note(
        client, patient_id, taken_at="2025-01-01T12:00:00Z", content="S: Tired.\nA: Anaemia, improving."
    )

    assert note["sections"] == {
        "subjective": "Tired.",
        "objective": None,
        "assessment": "Anaemia, improving.",
        "plan": None,
    }


# --- vital signs -------------------------------------------------------------------------


async def test_vital_signs_are_converted_stored_as_observations_and_implausible_ones_skipped(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    taken_at = "2025-02-04T09:30:00-08:00"

    note = await add_note(client, patient_id, taken_at=taken_at, content=VITALS_NOTE)

    expected_vitals = NO_VITALS | {"temperature_c": 38.4, "respiratory_rate": 18, "spo2": 96, "weight_kg": 78.0}
    assert note["vitals"] == expected_vitals
    assert sorted(note["vitals_skipped"], key=lambda skipped: skipped["name"]) == [
        {"name": "bp_diastolic", "value": "80/120", "reason": "systolic pressure not above diastolic"},
        {"name": "bp_systolic", "value": "80/120", "reason": "systolic pressure not above diastolic"},
        {"name": "heart_rate", "value": "300", "reason": "outside 20-250 /min"},
    ]

    observations = await derived_from(fhir, note["id"])
    by_code = {observation["code"]["coding"][0]["code"]: observation for observation in observations}
    assert len(observations) == 4
    assert {code: obs["valueQuantity"]["value"] for code, obs in by_code.items()} == {
        "8310-5": 38.4,
        "9279-1": 18,
        "2708-6": 96,
        "29463-7": 78.0,
    }
    assert {code: obs["valueQuantity"]["code"] for code, obs in by_code.items()} == {
        "8310-5": "Cel",
        "9279-1": "/min",
        "2708-6": "%",
        "29463-7": "kg",
    }
    for observation in observations:
        assert observation["status"] == "final"
        assert observation["subject"] == {"reference": f"Patient/{patient_id}"}
        assert observation["derivedFrom"] == [{"reference": f"DocumentReference/{note['id']}"}]
        assert observation["category"][0]["coding"][0]["code"] == "vital-signs"
        assert instant(observation["effectiveDateTime"]) == instant(taken_at)

    documents = await documents_of(fhir, patient_id)
    assert [document["id"] for document in documents] == [note["id"]]

    read = (await client.get(f"/patients/{patient_id}/notes/{note['id']}")).json()
    assert read["vitals"] == expected_vitals
    assert sorted(read["vitals_skipped"], key=lambda skipped: skipped["name"]) == sorted(
        note["vitals_skipped"], key=lambda skipped: skipped["name"]
    )


async def test_a_blood_pressure_is_one_panel_observation(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)

    note = await add_note(client, patient_id, **sample(FOLLOW_UP))

    assert note["vitals"] == NO_VITALS | {
        "bp_systolic": 124,
        "bp_diastolic": 76,
        "heart_rate": 74,
        "spo2": 97,
        "weight_kg": 78.2,
    }
    observations = await derived_from(app.state.fhir_client, note["id"])
    assert len(observations) == 4
    (panel,) = [obs for obs in observations if obs["code"]["coding"][0]["code"] == "85354-9"]
    assert "valueQuantity" not in panel
    assert {
        component["code"]["coding"][0]["code"]: component["valueQuantity"]["value"] for component in panel["component"]
    } == {"8480-6": 124, "8462-4": 76}


async def test_a_note_without_vital_signs_stores_no_observations(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)

    note = await add_note(client, patient_id, **sample(CONSULT))

    assert note["vitals"] == NO_VITALS
    assert note["vitals_skipped"] == []
    assert await derived_from(app.state.fhir_client, note["id"]) == []


# --- list --------------------------------------------------------------------------------

# Not the latest by its text, but by the instant: 04:00 UTC is before 2025-02-04T21:00:00-08:00.
UTC_NOTE = {"taken_at": "2025-02-05T04:00:00+00:00", "content": "Phone call with family.", "note_type": "other"}


async def add_all_samples(client: httpx.AsyncClient, patient_id: str) -> dict[str, dict[str, Any]]:
    """Every sample note and `UTC_NOTE`, by their taken_at as sent."""
    added = {}
    for note in [*(sample(note) for note in SAMPLES), UTC_NOTE]:
        created = await add_note(client, patient_id, **note)
        added[note["taken_at"]] = created
    return added


def newest_first(taken_ats: list[str]) -> list[str]:
    return sorted(taken_ats, key=instant, reverse=True)


def listed_taken_ats(page: dict[str, Any]) -> list[str]:
    return [item["taken_at"] for item in page["items"]]


async def test_notes_are_listed_newest_first_without_their_text(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    added = await add_all_samples(client, patient_id)
    other_patient = await new_patient(client, given="Grace")
    await add_note(client, other_patient, **sample(ADMISSION))

    response = await client.get(f"/patients/{patient_id}/notes")

    assert response.status_code == 200
    page = response.json()
    assert (page["total"], page["page"], page["size"], page["next"], page["prev"]) == (9, 1, 20, None, None)
    assert [instant(taken_at) for taken_at in listed_taken_ats(page)] == [
        instant(taken_at) for taken_at in newest_first(list(added))
    ]
    for item in page["items"]:
        created = added[next(t for t in added if instant(t) == instant(item["taken_at"]))]
        assert item["id"] == created["id"]
        assert set(item) == {
            "id",
            "patient_id",
            "version",
            "updated_at",
            "taken_at",
            "author",
            "note_type",
            "content_type",
            "size",
            "sha1",
            "file_name",
            "text_source",
        }
        assert {key: item[key] for key in item if key != "updated_at"} == {
            key: created[key] for key in item if key != "updated_at"
        }


async def test_pages_of_notes_link_to_each_other(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    for note in (ADMISSION, PROGRESS, NURSING, CONSULT, PROGRESS_SOAP):
        await add_note(client, patient_id, **sample(note))

    first = (await client.get(f"/patients/{patient_id}/notes", params={"size": 2})).json()
    assert first["prev"] is None and first["next"] is not None
    second = (await client.get(first["next"])).json()
    third = (await client.get(second["next"])).json()

    assert [page["page"] for page in (first, second, third)] == [1, 2, 3]
    assert [page["total"] for page in (first, second, third)] == [5, 5, 5]
    assert third["next"] is None
    assert second["prev"] is not None and "page=1" in second["prev"] and "size=2" in second["prev"]
    assert (await client.get(third["prev"])).json()["items"] == second["items"]
    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert len(ids) == len(set(ids)) == 5
    taken = [instant(t) for page in (first, second, third) for t in listed_taken_ats(page)]
    assert taken == sorted(taken, reverse=True)
    assert taken[0] == instant(PROGRESS_SOAP["taken_at"])


async def test_notes_are_filtered_by_type_and_taken_at(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    added = await add_all_samples(client, patient_id)
    everything = list(added)

    async def listed(**params: str) -> list[str]:
        response = await client.get(f"/patients/{patient_id}/notes", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(page["items"])
        return listed_taken_ats(page)

    def kept(keep: Any) -> list[datetime]:
        return [instant(t) for t in newest_first([t for t in everything if keep(instant(t))])]

    def instants(taken: list[str]) -> list[datetime]:
        return [instant(t) for t in taken]

    progress = await listed(note_type="progress")
    assert instants(progress) == [
        instant(t) for t in newest_first([PROGRESS["taken_at"], PROGRESS_SOAP["taken_at"], FOLLOW_UP["taken_at"]])
    ]
    assert await listed(note_type="admission") == [ADMISSION["taken_at"]]
    assert await listed(note_type="consult", to="2025-02-04") == []

    # Days are UTC days: 2025-02-04T21:00:00-08:00 is on 5 February.
    day_start = datetime(2025, 2, 5, tzinfo=UTC)
    assert instants(await listed(**{"from": "2025-02-05"})) == kept(lambda t: t >= day_start)
    assert instants(await listed(to="2025-02-04")) == kept(lambda t: t < day_start)
    assert instants(await listed(**{"from": "2025-02-05", "to": "2025-02-05"})) == kept(
        lambda t: day_start <= t < day_start + timedelta(days=1)
    )
    assert instant(NURSING["taken_at"]) in instants(await listed(**{"from": "2025-02-05", "to": "2025-02-05"}))

    # Instants are bounds that include themselves.
    nursing_at = instant(NURSING["taken_at"])
    assert instants(await listed(**{"from": NURSING["taken_at"]})) == kept(lambda t: t >= nursing_at)
    utc_at = instant(UTC_NOTE["taken_at"])
    assert instants(await listed(to=UTC_NOTE["taken_at"])) == kept(lambda t: t <= utc_at)
    assert instants(await listed(**{"from": UTC_NOTE["taken_at"], "to": "2025-02-04T21:00:00-08:00"})) == [
        nursing_at,
        utc_at,
    ]
    assert await listed(**{"from": "2025-02-05T04:00:01Z", "to": "2025-02-05T04:59:59Z"}) == []
    assert await listed(**{"from": "2026-01-01"}) == []


async def test_notes_taken_at_the_same_moment_page_without_overlap(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    ids = {
        (await add_note(client, patient_id, taken_at=UTC_NOTE["taken_at"], content=f"Call {n}."))["id"]
        for n in range(4)
    }

    pages = [
        (await client.get(f"/patients/{patient_id}/notes", params={"size": 1, "page": n})).json() for n in range(1, 5)
    ]

    assert [item["id"] for page in pages for item in page["items"]] == sorted(ids)


async def test_an_unencoded_plus_of_an_offset_in_the_query_is_read_as_plus(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    await add_note(client, patient_id, **UTC_NOTE)

    # 2025-02-05T05:00:00+01:00 is 04:00 UTC, when the note was taken; with "-" it would be 06:00 UTC.
    response = await client.get(f"/patients/{patient_id}/notes?from=2025-02-05T05:00:00+01:00")

    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1
    assert (await client.get(f"/patients/{patient_id}/notes?from=2025-02-05T05:00:00-01:00")).json()["total"] == 0


async def test_a_to_instant_excludes_a_note_taken_within_the_following_second(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    later = await add_note(client, patient_id, taken_at="2025-02-05T05:00:00.750Z", content="Call back.")
    at = await add_note(client, patient_id, taken_at="2025-02-05T05:00:00Z", content="Called.")

    page = (await client.get(f"/patients/{patient_id}/notes", params={"to": "2025-02-05T05:00:00Z"})).json()

    # Taken at or before 05:00:00: not the note of 05:00:00.750.
    assert [item["id"] for item in page["items"]] == [at["id"]], [item["taken_at"] for item in page["items"]]
    assert later["id"] not in [item["id"] for item in page["items"]]


async def test_a_from_instant_excludes_a_note_taken_earlier_in_the_same_second(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    later = await add_note(client, patient_id, taken_at="2025-02-05T05:00:00.750Z", content="Call back.")
    await add_note(client, patient_id, taken_at="2025-02-05T05:00:00Z", content="Called.")

    page = (await client.get(f"/patients/{patient_id}/notes", params={"from": "2025-02-05T05:00:00.500Z"})).json()

    # Taken at or after 05:00:00.500: not the note of 05:00:00.
    assert [item["id"] for item in page["items"]] == [later["id"]], [item["taken_at"] for item in page["items"]]


async def test_a_page_past_the_end_is_empty_and_links_back_to_the_last(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    for note in (ADMISSION, PROGRESS, NURSING):
        await add_note(client, patient_id, **sample(note))

    page = (await client.get(f"/patients/{patient_id}/notes", params={"size": 2, "page": 9})).json()

    assert (page["items"], page["total"], page["next"]) == ([], 3, None)
    assert "page=2" in page["prev"]
    assert len((await client.get(page["prev"])).json()["items"]) == 1


async def test_a_note_another_fhir_client_wrote_reads_forgivingly(client: httpx.AsyncClient, app: FastAPI) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    document = await fhir.create(
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "subject": {"reference": f"Patient/{patient_id}"},
            "context": {"period": {"start": "2025-01-02T03:04:05Z"}},
            "content": [{"attachment": {"contentType": "text/plain", "data": "SFIgNzIsIEJQIDEyMC84MA=="}}],
        }
    )

    read = await client.get(f"/patients/{patient_id}/notes/{document['id']}")

    assert read.status_code == 200, read.text
    note = read.json()
    assert (note["text"], note["text_source"], note["note_type"]) == ("HR 72, BP 120/80", "typed", "other")
    assert instant(note["taken_at"]) == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    # Its vital signs are those stored as Observations: none.
    assert note["vitals"] == NO_VITALS
    got = await client.get(f"/patients/{patient_id}/notes/{document['id']}/content")
    assert got.content == b"HR 72, BP 120/80"
    assert f'filename="note-{document["id"]}.txt"' in got.headers["content-disposition"]
    listed = (await client.get(f"/patients/{patient_id}/notes")).json()
    assert [item["id"] for item in listed["items"]] == [document["id"]]
    deleted = await client.delete(f"/patients/{patient_id}/notes/{document['id']}")
    assert deleted.json() == {"id": document["id"], "deleted": {"DocumentReference": 1, "Observation": 0}}


@pytest.mark.parametrize("note_id", ["a" * 65, "bad_id", "b%20c"])
async def test_a_malformed_note_id_is_422(client: httpx.AsyncClient, note_id: str) -> None:
    patient_id = await new_patient(client)

    for response in (
        await client.get(f"/patients/{patient_id}/notes/{note_id}"),
        await client.get(f"/patients/{patient_id}/notes/{note_id}/content"),
        await client.delete(f"/patients/{patient_id}/notes/{note_id}"),
    ):
        problem = assert_problem(response, 422)
        assert [error["loc"] for error in problem["errors"]] == [["path", "note_id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-13-01"}, "from"),
        ({"from": "2025-02-05T00:00:00"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"note_type": "letter"}, "note_type"),
        ({"size": "0"}, "size"),
        ({"page": "0"}, "page"),
        ({"sort": "taken_at"}, "sort"),
    ],
)
async def test_a_bad_list_query_is_422_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    patient_id = await new_patient(client)

    problem = assert_problem(await client.get(f"/patients/{patient_id}/notes", params=params), 422)

    assert [error["loc"] for error in problem["errors"]] == [["query", field]]


async def test_the_notes_of_an_unknown_patient_are_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/patients/nobody/notes"), 404)
    assert_problem(await client.get("/patients/nobody/notes/nothing"), 404)


# --- delete ------------------------------------------------------------------------------


async def test_delete_removes_the_note_and_its_observations_then_it_is_gone(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    note = await add_note(client, patient_id, **sample(ADMISSION))
    kept = await add_note(client, patient_id, **sample(PROGRESS))
    observation_ids = [observation["id"] for observation in await derived_from(fhir, note["id"])]
    assert len(observation_ids) == 5

    response = await client.delete(f"/patients/{patient_id}/notes/{note['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == {"id": note["id"], "deleted": {"DocumentReference": 1, "Observation": 5}}
    assert await derived_from(fhir, note["id"]) == []
    for observation_id in observation_ids:
        assert not await exists(fhir, "Observation", observation_id)
    assert not await exists(fhir, "DocumentReference", note["id"])
    assert_problem(await client.get(f"/patients/{patient_id}/notes/{note['id']}"), 410)
    assert_problem(await client.get(f"/patients/{patient_id}/notes/{note['id']}/content"), 410)
    assert_problem(await client.delete(f"/patients/{patient_id}/notes/{note['id']}"), 410)
    page = (await client.get(f"/patients/{patient_id}/notes")).json()
    assert [item["id"] for item in page["items"]] == [kept["id"]]
    assert len(await derived_from(fhir, kept["id"])) == 5


async def test_a_note_without_vital_signs_deletes_alone(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    note = await add_note(client, patient_id, **sample(CONSULT))

    response = await client.delete(f"/patients/{patient_id}/notes/{note['id']}")

    assert response.status_code == 200
    assert response.json() == {"id": note["id"], "deleted": {"DocumentReference": 1, "Observation": 0}}


async def test_a_note_never_stored_is_404(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    for response in (
        await client.get(f"/patients/{patient_id}/notes/never-stored"),
        await client.get(f"/patients/{patient_id}/notes/never-stored/content"),
        await client.delete(f"/patients/{patient_id}/notes/never-stored"),
    ):
        assert_problem(response, 404)


async def test_another_patients_note_is_404_and_stays(client: httpx.AsyncClient, app: FastAPI) -> None:
    fhir: FhirClient = app.state.fhir_client
    owner = await new_patient(client)
    stranger = await new_patient(client, given="Grace")
    note = await add_note(client, owner, **sample(ADMISSION))

    for response in (
        await client.get(f"/patients/{stranger}/notes/{note['id']}"),
        await client.get(f"/patients/{stranger}/notes/{note['id']}/content"),
        await client.delete(f"/patients/{stranger}/notes/{note['id']}"),
    ):
        problem = assert_problem(response, 404)
        assert note["id"] in problem["detail"]

    assert (await client.get(f"/patients/{stranger}/notes")).json()["total"] == 0
    assert (await client.get(f"/patients/{owner}/notes/{note['id']}")).status_code == 200
    assert len(await derived_from(fhir, note["id"])) == 5


async def test_a_note_for_an_unknown_patient_is_404_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    fhir: FhirClient = app.state.fhir_client

    problem = assert_problem(await client.post("/patients/nobody/notes", json=sample(ADMISSION)), 404)

    assert "nobody" in problem["detail"]
    assert await matches(fhir, "DocumentReference", []) == []
    assert await matches(fhir, "Observation", []) == []


async def test_a_note_for_a_deleted_patient_is_410_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    assert (await client.delete(f"/patients/{patient_id}")).status_code == 200

    assert_problem(await client.post(f"/patients/{patient_id}/notes", json=sample(ADMISSION)), 410)

    assert await matches(fhir, "DocumentReference", []) == []
    assert await matches(fhir, "Observation", []) == []


async def test_a_stale_if_match_is_412_and_nothing_is_deleted(client: httpx.AsyncClient, app: FastAPI) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    created = await client.post(f"/patients/{patient_id}/notes", json=sample(ADMISSION))
    note_id = created.json()["id"]
    etag = created.headers["etag"]

    problem = assert_problem(
        await client.delete(f"/patients/{patient_id}/notes/{note_id}", headers={"If-Match": 'W/"7"'}), 412
    )

    assert "version 1" in problem["detail"]
    assert await exists(fhir, "DocumentReference", note_id)
    assert len(await derived_from(fhir, note_id)) == 5

    response = await client.delete(f"/patients/{patient_id}/notes/{note_id}", headers={"If-Match": etag})

    assert response.status_code == 200, response.text
    assert response.json()["deleted"] == {"DocumentReference": 1, "Observation": 5}


async def test_a_malformed_if_match_is_400(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)
    note = await add_note(client, patient_id, **sample(ADMISSION))

    assert_problem(
        await client.delete(f"/patients/{patient_id}/notes/{note['id']}", headers={"If-Match": "yesterday"}), 400
    )
    assert await exists(app.state.fhir_client, "DocumentReference", note["id"])


async def test_deleting_the_patient_removes_their_notes_and_observations(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    fhir: FhirClient = app.state.fhir_client
    patient_id = await new_patient(client)
    notes = [await add_note(client, patient_id, **sample(note)) for note in (ADMISSION, FOLLOW_UP, CONSULT)]
    observations = [obs["id"] for note in notes for obs in await derived_from(fhir, note["id"])]
    assert len(observations) == 9
    bystander = await new_patient(client, given="Grace")
    kept = await add_note(client, bystander, **sample(PROGRESS))

    response = await client.delete(f"/patients/{patient_id}")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": patient_id,
        "deleted": {"Patient": 1, "DocumentReference": 3, "Observation": 9},
    }
    for note in notes:
        assert not await exists(fhir, "DocumentReference", note["id"])
    for observation_id in observations:
        assert not await exists(fhir, "Observation", observation_id)
    assert await documents_of(fhir, patient_id) == []
    assert await matches(fhir, "Observation", [("subject", f"Patient/{patient_id}")]) == []
    assert_problem(await client.get(f"/patients/{patient_id}/notes"), 410)
    assert_problem(await client.get(f"/patients/{patient_id}/notes/{notes[0]['id']}"), 410)
    assert (await client.get(f"/patients/{bystander}/notes/{kept['id']}")).status_code == 200
    assert len(await derived_from(fhir, kept["id"])) == 5


# --- validation --------------------------------------------------------------------------


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content": "S: Fine.\nP: None."}, "taken_at"),
        ({"taken_at": "2025-02-04T09:30:00", "content": "Fine."}, "taken_at"),
        ({"taken_at": "2025-02-04", "content": "Fine."}, "taken_at"),
        ({"taken_at": 1738690200, "content": "Fine."}, "taken_at"),
        ({"taken_at": "future", "content": "Fine."}, "taken_at"),
        ({"taken_at": "1899-12-31T23:00:00Z", "content": "Fine."}, "taken_at"),
        ({"taken_at": "2025-02-04T09:30:00Z"}, "content"),
        ({"taken_at": "2025-02-04T09:30:00Z", "content": ""}, "content"),
        ({"taken_at": "2025-02-04T09:30:00Z", "content": "  \n\t "}, "content"),
        ({"taken_at": "2025-02-04T09:30:00Z", "content": "Fine.\x00"}, "content"),
        ({"taken_at": "2025-02-04T09:30:00Z", "content": "Fine.", "note_type": "letter"}, "note_type"),
        ({"taken_at": "2025-02-04T09:30:00Z", "content": "Fine.", "author": "  "}, "author"),
        ({"taken_at": "2025-02-04T09:30:00Z", "content": "Fine.", "author": "A" * 201}, "author"),
        ({"taken_at": "2025-02-04T09:30:00Z", "content": "Fine.", "vitals": {"heart_rate": 80}}, "vitals"),
    ],
    ids=[
        "missing-taken_at",
        "naive-taken_at",
        "date-only-taken_at",
        "unix-time-taken_at",
        "future-taken_at",
        "before-1900-taken_at",
        "missing-content",
        "empty-content",
        "blank-content",
        "control-character-in-content",
        "unknown-note_type",
        "blank-author",
        "too-long-author",
        "extra-field",
    ],
)
async def test_an_invalid_note_is_422_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI, body: dict[str, Any], field: str
) -> None:
    patient_id = await new_patient(client)
    if body.get("taken_at") == "future":
        body = body | {"taken_at": _future()}

    problem = assert_problem(await client.post(f"/patients/{patient_id}/notes", json=body), 422)

    assert [error["loc"] for error in problem["errors"]] == [["body", field]]
    assert all(error["msg"] for error in problem["errors"])
    assert await documents_of(app.state.fhir_client, patient_id) == []


async def test_a_note_a_few_minutes_ahead_is_taken_as_now(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    ahead = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()

    response = await client.post(f"/patients/{patient_id}/notes", json={"taken_at": ahead, "content": "Fine."})

    assert response.status_code == 201, response.text


async def test_a_body_that_is_not_json_is_422_or_400(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)

    response = await client.post(
        f"/patients/{patient_id}/notes", content=b'{"taken_at": ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await documents_of(app.state.fhir_client, patient_id) == []
