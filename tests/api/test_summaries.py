"""`GET /patients/{id}/summary` without a language model: the heading, the key facts read
from the notes and interactions (each naming the record it came from), the offline
narrative for each audience and length, and the cache of an unchanged record. Through the
public API only, on whichever FHIR server runs."""

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.api.checks import assert_problem

pytestmark = pytest.mark.anyio

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

SAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "generators" / "data" / "soap_notes.json").read_text(encoding="utf-8")
)
PATIENT: dict[str, Any] = SAMPLE["patient"]
NOTES: list[dict[str, str]] = SAMPLE["notes"]
AUDIENCES = ("clinician", "family")
LENGTHS = ("brief", "standard", "detailed")
FACT_KINDS = {"diagnoses", "medications", "allergies", "immunizations", "observations"}
SUMMARY_KEYS = {"heading", "narrative", "key_facts", "sources", "generator", "generated_at", "warnings"}
HEADING_KEYS = {"name", "age", "mrn", "birth_date", "gender"}
FACT_KEYS = {"text", "name", "code", "date", "source"}
# Dose abbreviations and units a family's narrative leaves out.
DOSE_WORDS = re.compile(r"\b(?:BID|TID|QID|QHS|PRN|PO|IV|SC|SQ|IM|mg|mcg)\b")
# Each drug the summary must list: as the sample notes write it, or by its standard name.
DRUGS = {
    "metformin": ("metformin",),
    "empagliflozin": ("empagliflozin",),
    "lisinopril": ("lisinopril",),
    "amoxicillin-clavulanate": ("amoxicillin-clavulanate", "amoxicillin-clavulanic acid"),
}
DOSES = {
    "metformin": "1000 mg",
    "empagliflozin": "10 mg",
    "lisinopril": "10 mg",
    "amoxicillin-clavulanate": "875/125 mg",
}
# How the sample notes write each diagnosis the summary must list.
DIAGNOSES = {
    "community-acquired pneumonia": ("community-acquired pneumonia", "CAP"),
    "type 2 diabetes": ("type 2 diabetes", "T2DM"),
}


@dataclass
class Loaded:
    """The sample patient as stored, and her notes' ids, each with the text it was given."""

    patient: dict[str, Any]
    notes: dict[str, str]

    @property
    def id(self) -> str:
        return str(self.patient["id"])


# --- helpers -----------------------------------------------------------------------------


def utc_today() -> date:
    return datetime.now(UTC).date()


async def add_note(client: httpx.AsyncClient, patient_id: str, taken_at: str, content: str) -> str:
    response = await client.post(f"/patients/{patient_id}/notes", json={"taken_at": taken_at, "content": content})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def load_sample(client: httpx.AsyncClient) -> Loaded:
    response = await client.post("/patients", json=PATIENT)
    assert response.status_code == 201, response.text
    patient = response.json()
    notes = {}
    for note in NOTES:
        notes[await add_note(client, patient["id"], note["taken_at"], note["content"])] = note["content"]
    return Loaded(patient, notes)


async def new_patient(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1980-12-10", "gender": "female"} | fields
    response = await client.post("/patients", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def summarize(client: httpx.AsyncClient, patient_id: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"/patients/{patient_id}/summary", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == SUMMARY_KEYS
    assert set(body["heading"]) == HEADING_KEYS
    assert set(body["key_facts"]) == FACT_KINDS
    for found in body["key_facts"].values():
        for item in found:
            assert set(item) == FACT_KEYS
            assert set(item["source"]) == {"type", "id"}
    return dict(body)


async def on_one_day(run: Callable[[], Awaitable[T]]) -> T:
    """`run`'s result, run again when the UTC day changed while it ran (a summary's age, and
    so its cache key, changes with the day)."""
    for _ in range(3):
        day = utc_today()
        result = await run()
        if utc_today() == day:
            return result
    raise AssertionError("the UTC day kept changing")


def named(found: list[dict[str, Any]], *spellings: str) -> list[dict[str, Any]]:
    """The facts whose text or name contains one of `spellings` (in any case)."""
    wanted = [spelling.lower() for spelling in spellings]
    return [
        item
        for item in found
        if any(spelling in item["text"].lower() or spelling in item["name"].lower() for spelling in wanted)
    ]


def only(found: list[dict[str, Any]], *spellings: str) -> dict[str, Any]:
    matches = named(found, *spellings)
    assert len(matches) == 1, (spellings, found)
    return matches[0]


def mentions(text: str, spellings: tuple[str, ...]) -> bool:
    """Whether `text` says one of `spellings`: in any case, but abbreviations as written."""
    return any(
        (spelling in text) if spelling.isupper() else (spelling.lower() in text.lower()) for spelling in spellings
    )


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier; `years` is a multiple of 4, so a Feb 29 still exists."""
    assert years % 4 == 0
    return day.replace(year=day.year - years)


# --- the sample patient ------------------------------------------------------------------


@pytest.fixture
async def sample(client: httpx.AsyncClient) -> Loaded:
    return await load_sample(client)


async def test_the_medications_of_the_notes_are_listed_with_their_doses_and_source_notes(
    client: httpx.AsyncClient, sample: Loaded
) -> None:
    medications = (await summarize(client, sample.id))["key_facts"]["medications"]

    for drug, spellings in DRUGS.items():
        fact = only(medications, *spellings)
        assert fact["source"]["type"] == "note"
        assert fact["source"]["id"] in sample.notes, fact
        assert mentions(sample.notes[fact["source"]["id"]], spellings), fact
        assert DOSES[drug] in fact["text"], fact
        assert fact["date"]


async def test_metformin_is_listed_once_with_the_dose_the_notes_give(client: httpx.AsyncClient, sample: Loaded) -> None:
    medications = (await summarize(client, sample.id))["key_facts"]["medications"]

    metformin = only(medications, "metformin")

    assert metformin["name"].lower() == "metformin"
    assert "1000 mg" in metformin["text"]
    assert "metformin 1000 mg" in sample.notes[metformin["source"]["id"]]


async def test_the_diagnoses_of_the_notes_are_listed_with_their_source_notes(
    client: httpx.AsyncClient, sample: Loaded
) -> None:
    diagnoses = (await summarize(client, sample.id))["key_facts"]["diagnoses"]

    for diagnosis, spellings in DIAGNOSES.items():
        fact = only(diagnoses, diagnosis)
        assert fact["source"]["type"] == "note"
        assert fact["source"]["id"] in sample.notes, fact
        assert mentions(sample.notes[fact["source"]["id"]], spellings), fact


async def test_no_known_drug_allergies_comes_from_a_note_saying_so(client: httpx.AsyncClient, sample: Loaded) -> None:
    allergies = (await summarize(client, sample.id))["key_facts"]["allergies"]

    assert len(allergies) == 1
    [allergy] = allergies
    assert "no known drug allergies" in allergy["text"].lower()
    assert allergy["source"]["type"] == "note"
    assert mentions(sample.notes[allergy["source"]["id"]], ("NKDA", "no known drug allergies"))


async def test_the_offline_summary_is_made_from_every_note(client: httpx.AsyncClient, sample: Loaded) -> None:
    body = await summarize(client, sample.id)

    assert body["generator"] == {"kind": "offline", "model": None, "prompt": None}
    assert body["warnings"] == []
    assert sorted(source["id"] for source in body["sources"]) == sorted(sample.notes)
    assert {source["type"] for source in body["sources"]} == {"note"}
    assert body["key_facts"]["immunizations"] == []
    generated_at = datetime.fromisoformat(body["generated_at"].replace("Z", "+00:00"))
    assert generated_at.tzinfo is not None
    assert abs(datetime.now(UTC) - generated_at) < timedelta(days=1)


async def test_the_offline_narrative_names_a_diagnosis_and_a_medication(
    client: httpx.AsyncClient, sample: Loaded
) -> None:
    body = await summarize(client, sample.id)
    said = body["narrative"].lower()

    assert said.strip()
    assert any(fact["text"].lower() in said for fact in body["key_facts"]["diagnoses"])
    assert any(
        fact["text"].lower() in said or fact["name"].lower() in said for fact in body["key_facts"]["medications"]
    )
    assert "okafor" in said


async def test_the_heading_is_the_patients(client: httpx.AsyncClient, sample: Loaded) -> None:
    heading = (await on_one_day(lambda: summarize(client, sample.id)))["heading"]

    born = date.fromisoformat(PATIENT["birth_date"])
    today = utc_today()
    assert heading == {
        "name": "Maria Elena Okafor",
        "age": today.year - born.year - ((today.month, today.day) < (born.month, born.day)),
        "mrn": sample.patient["mrn"],
        "birth_date": "1961-04-17",
        "gender": "female",
    }


async def test_every_audience_and_length_is_answered(client: httpx.AsyncClient, sample: Loaded) -> None:
    narratives = set()
    for audience in AUDIENCES:
        for length in LENGTHS:
            body = await summarize(client, sample.id, audience=audience, length=length)
            assert body["narrative"].strip()
            assert body["generator"]["kind"] == "offline"
            narratives.add(body["narrative"])

    # Each reader and length has words of its own (the detailed narratives name more facts).
    assert len(narratives) >= 4


async def test_the_family_brief_narrative_is_shorter_and_plainer(client: httpx.AsyncClient, sample: Loaded) -> None:
    family = await summarize(client, sample.id, audience="family", length="brief")
    clinician = await summarize(client, sample.id, audience="clinician", length="detailed")

    assert family["narrative"] != clinician["narrative"]
    assert len(family["narrative"]) < len(clinician["narrative"])
    assert DOSE_WORDS.search(clinician["narrative"])  # the clinician's has doses: the check can fail
    assert not DOSE_WORDS.search(family["narrative"]), family["narrative"]
    assert "MRN" not in family["narrative"]
    # The key facts are the same for every reader: only the narrative changes.
    assert family["key_facts"] == clinician["key_facts"]


@pytest.mark.parametrize("length", LENGTHS)
async def test_no_family_narrative_gives_doses(client: httpx.AsyncClient, sample: Loaded, length: str) -> None:
    body = await summarize(client, sample.id, audience="family", length=length)
    said = body["narrative"]

    assert not DOSE_WORDS.search(said), said
    # The medicines are named all the same, by name.
    newest = body["key_facts"]["medications"][0]
    assert DOSE_WORDS.search(newest["text"])
    assert newest["name"].lower() in said.lower()


async def test_a_default_summary_is_the_clinicians_standard_one(client: httpx.AsyncClient, sample: Loaded) -> None:
    plain, explicit = await on_one_day(
        lambda: _both(
            summarize(client, sample.id), summarize(client, sample.id, audience="clinician", length="standard")
        )
    )

    assert plain == explicit


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    return await first, await second


# --- bad requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"audience": "doctor"}, "audience"),
        ({"audience": ""}, "audience"),
        ({"audience": "Family"}, "audience"),
        ({"length": "long"}, "length"),
        ({"length": "BRIEF"}, "length"),
        ({"audience": "family", "length": "short"}, "length"),
    ],
)
async def test_a_bad_audience_or_length_is_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    patient = await new_patient(client)

    response = await client.get(f"/patients/{patient['id']}/summary", params=params)

    body = assert_problem(response, 422)
    assert [error["loc"] for error in body["errors"]] == [["query", field]]


async def test_an_unknown_patient_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/patients/no-such-patient/summary")

    assert_problem(response, 404)


async def test_a_deleted_patient_is_not_summarised(client: httpx.AsyncClient) -> None:
    patient = await new_patient(client)
    deleted = await client.delete(f"/patients/{patient['id']}")
    assert deleted.status_code == 200, deleted.text

    response = await client.get(f"/patients/{patient['id']}/summary")

    assert response.status_code in {404, 410}
    assert_problem(response, response.status_code)


# --- a patient without records, and ages -------------------------------------------------


async def test_a_patient_without_records_gets_empty_facts_and_a_narrative(client: httpx.AsyncClient) -> None:
    patient = await new_patient(client)

    for audience in AUDIENCES:
        body = await summarize(client, patient["id"], audience=audience)
        assert body["key_facts"] == dict.fromkeys(FACT_KINDS, [])
        assert body["sources"] == []
        assert body["narrative"].strip()
        assert "Ada" in body["narrative"]
        assert body["generator"]["kind"] == "offline"
        assert body["warnings"] == []


AGE = 40


@pytest.mark.parametrize(
    ("shift", "age"),
    [(0, AGE), (1, AGE - 1), (-1, AGE)],
    ids=["birthday-today", "birthday-tomorrow", "birthday-yesterday"],
)
async def test_the_age_is_whole_years_on_the_day_of_the_summary(
    client: httpx.AsyncClient, shift: int, age: int
) -> None:
    async def heading() -> tuple[dict[str, Any], dict[str, Any]]:
        born = years_before(utc_today() + timedelta(days=shift), AGE)
        patient = await new_patient(
            client, given_name="Ageing", family_name=f"Case{shift + 1}", birth_date=born.isoformat(), gender="male"
        )
        assert patient["birth_date"] == born.isoformat()
        return patient, (await summarize(client, patient["id"]))["heading"]

    patient, found = await on_one_day(heading)

    assert found == {
        "name": f"Ageing Case{shift + 1}",
        "age": age,
        "mrn": patient["mrn"],
        "birth_date": patient["birth_date"],
        "gender": "male",
    }


# --- interactions ------------------------------------------------------------------------

INTERACTION: dict[str, Any] = {
    "insurance_no": PATIENT["insurance_no"],
    "interaction_date": "2025-03-20T10:30:00-07:00",
    "ailment": "Allergic rhinitis",
    "ailment_code": "J30.1",
    "symptoms": ["sneezing", "itchy eyes"],
    "metrics": {"heart_rate": 72, "bp_systolic": 120, "bp_diastolic": 78, "spo2": 98, "peak_flow_l_min": 420},
    "remarks": "Seasonal symptoms, worse outdoors.",
    "health_status": 7,
    "next_steps": ["Start fexofenadine 180 mg daily"],
}


async def record_interaction(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post("/interactions", json=INTERACTION | body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_an_interaction_feeds_the_diagnoses_medications_and_observations(
    client: httpx.AsyncClient, sample: Loaded
) -> None:
    visit = await record_interaction(client)

    body = await summarize(client, sample.id)
    key_facts = body["key_facts"]

    rhinitis = only(key_facts["diagnoses"], "rhinitis")
    assert rhinitis["code"] == "J30.1"
    assert rhinitis["text"] == "Allergic rhinitis"
    assert rhinitis["source"] == {"type": "interaction", "id": visit}
    fexofenadine = only(key_facts["medications"], "fexofenadine")
    assert fexofenadine["source"] == {"type": "interaction", "id": visit}
    assert "180 mg" in fexofenadine["text"]
    # The interaction is the newest record: its vital signs are the latest ones.
    observations = {item["name"]: item for item in key_facts["observations"]}
    assert observations["Blood pressure"]["text"] == "Blood pressure 120/78 mmHg"
    assert observations["Blood pressure"]["source"] == {"type": "interaction", "id": visit}
    assert "72" in observations["Heart rate"]["text"]
    assert observations["Heart rate"]["source"] == {"type": "interaction", "id": visit}
    assert "98" in observations["Oxygen saturation"]["text"]
    assert {"type": "interaction", "id": visit} in body["sources"]
    # The notes' facts are still there beside the interaction's.
    assert named(key_facts["medications"], "metformin")
    assert named(key_facts["diagnoses"], "type 2 diabetes")


async def test_an_interaction_of_a_patient_without_notes_is_summarised(client: httpx.AsyncClient) -> None:
    patient = await new_patient(client, province="BC", insurance_no=PATIENT["insurance_no"])
    visit = await record_interaction(client)

    body = await summarize(client, patient["id"])
    key_facts = body["key_facts"]

    assert body["sources"] == [{"type": "interaction", "id": visit}]
    assert [item["code"] for item in key_facts["diagnoses"]] == ["J30.1"]
    assert [item["name"].lower() for item in key_facts["medications"]] == ["fexofenadine"]
    by_name = {item["name"]: item for item in key_facts["observations"]}
    assert by_name["Blood pressure"]["text"] == "Blood pressure 120/78 mmHg"
    assert by_name["Health status"]["text"] == "Health status 7/10"
    assert all(item["source"] == {"type": "interaction", "id": visit} for item in key_facts["observations"])
    assert "rhinitis" in body["narrative"].lower()
    assert "fexofenadine" in body["narrative"].lower()


# --- the cache ---------------------------------------------------------------------------


async def test_an_unchanged_record_gives_the_same_summary(client: httpx.AsyncClient, sample: Loaded) -> None:
    first, again = await on_one_day(lambda: _both(summarize(client, sample.id), summarize(client, sample.id)))

    assert again["generated_at"] == first["generated_at"]
    assert again == first


async def test_another_audience_or_length_is_another_summary(client: httpx.AsyncClient, sample: Loaded) -> None:
    clinician = await summarize(client, sample.id, audience="clinician", length="brief")
    family = await summarize(client, sample.id, audience="family", length="brief")
    longer = await summarize(client, sample.id, audience="clinician", length="detailed")

    assert family["narrative"] != clinician["narrative"]
    assert longer["narrative"] != clinician["narrative"]


async def test_a_new_note_makes_a_new_summary(client: httpx.AsyncClient, sample: Loaded) -> None:
    before = await summarize(client, sample.id)
    assert not named(before["key_facts"]["medications"], "atorvastatin")

    text = "Follow-up.\nA: hyperlipidemia.\nP: Start atorvastatin 20 mg daily."
    added = await add_note(client, sample.id, "2025-04-01T09:00:00-07:00", text)
    after = await summarize(client, sample.id)

    assert after["generated_at"] != before["generated_at"]
    atorvastatin = only(after["key_facts"]["medications"], "atorvastatin")
    assert atorvastatin["source"] == {"type": "note", "id": added}
    assert "20 mg" in atorvastatin["text"]
    assert {"type": "note", "id": added} in after["sources"]
    assert len(after["sources"]) == len(before["sources"]) + 1


async def test_a_deleted_note_makes_a_new_summary_without_its_facts(client: httpx.AsyncClient, sample: Loaded) -> None:
    added = await add_note(client, sample.id, "2025-04-01T09:00:00-07:00", "P: Start atorvastatin 20 mg daily.")
    before = await summarize(client, sample.id)
    assert named(before["key_facts"]["medications"], "atorvastatin")

    deleted = await client.delete(f"/patients/{sample.id}/notes/{added}")
    assert deleted.status_code == 200, deleted.text
    after = await summarize(client, sample.id)

    assert after["generated_at"] != before["generated_at"]
    assert not named(after["key_facts"]["medications"], "atorvastatin")
    assert {"type": "note", "id": added} not in after["sources"]


async def test_a_new_interaction_makes_a_new_summary(client: httpx.AsyncClient, sample: Loaded) -> None:
    before = await summarize(client, sample.id)

    visit = await record_interaction(client)
    after = await summarize(client, sample.id)

    assert after["generated_at"] != before["generated_at"]
    assert only(after["key_facts"]["medications"], "fexofenadine")["source"]["id"] == visit


async def test_a_changed_patient_makes_a_new_summary(client: httpx.AsyncClient) -> None:
    patient = await new_patient(client)
    before = await summarize(client, patient["id"])

    replaced = await client.put(
        f"/patients/{patient['id']}",
        json={
            "given_name": "Augusta",
            "family_name": "Lovelace",
            "birth_date": "1980-12-10",
            "gender": "female",
            "mrn": patient["mrn"],
        },
    )
    assert replaced.status_code == 200, replaced.text
    after = await summarize(client, patient["id"])

    assert after["generated_at"] != before["generated_at"]
    assert after["heading"]["name"] == "Augusta Lovelace"
