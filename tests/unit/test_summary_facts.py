"""The pure parts of patient summaries: a patient's age on a day, the grounding check of a
model's narrative against the record, the offline narrative, and the summary cache."""

from datetime import UTC, date, datetime, timedelta

import pytest

from fhir_gateway.patient_summary import facts, narrative
from fhir_gateway.patient_summary.cache import SummaryCache
from fhir_gateway.patient_summary.models import Fact, Generator, Heading, KeyFacts, Source, Summary
from fhir_gateway.patient_summary.record import PatientRecord
from mappers.interaction import Interaction
from mappers.note import Note

TAKEN_AT = datetime(2025, 2, 7, 13, 45, tzinfo=UTC)
DOSE_WORDS = ("mg", "BID", "PO", "IV", "SC", "daily", "1000", "875/125")


def note(text: str, *, note_id: str = "note-1", taken_at: datetime = TAKEN_AT) -> Note:
    """A note as a summary reads it: its id, its time and its text (nothing else is read)."""
    return Note.model_construct(id=note_id, text=text, taken_at=taken_at, note_type="progress")


def record_of(*texts: str, interactions: list[Interaction] | None = None) -> PatientRecord:
    notes = [
        note(text, note_id=f"note-{index}", taken_at=TAKEN_AT + timedelta(days=index))
        for index, text in enumerate(texts)
    ]
    return PatientRecord(patient={"resourceType": "Patient", "id": "p"}, notes=notes, interactions=interactions or [])


def warnings_for(said: str, record: PatientRecord) -> list[str]:
    return narrative.ungrounded(said, record, facts.key_facts(record))


def fact(text: str, name: str, kind: str = "note", code: str | None = None) -> Fact:
    return Fact(text=text, name=name, code=code, date=TAKEN_AT.isoformat(), source=Source(type=kind, id=f"{kind}-1"))


# --- age_on ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(1980, 6, 15), date(2020, 6, 15), 40),  # the birthday itself: one more year
        (date(1980, 6, 15), date(2020, 6, 16), 40),  # the day after
        (date(1980, 6, 15), date(2020, 6, 14), 39),  # the day before: not yet
        (date(1980, 6, 15), date(2020, 5, 31), 39),  # an earlier month, a later day
        (date(1980, 6, 15), date(2020, 7, 1), 40),  # a later month, an earlier day
        (date(1980, 12, 31), date(2021, 1, 1), 40),  # across the new year
        (date(1980, 12, 31), date(2020, 12, 30), 39),
        (date(1980, 1, 1), date(2020, 12, 31), 40),
        (date(2020, 6, 15), date(2020, 6, 15), 0),  # born today
        (date(2020, 6, 15), date(2021, 6, 14), 0),
    ],
    ids=str,
)
def test_age_is_whole_years_with_one_more_from_the_birthday(born: date, today: date, age: int) -> None:
    assert facts.age_on(born, today) == age


@pytest.mark.parametrize(
    ("today", "age"),
    [
        # In a year without Feb 29 the birthday is counted from Mar 1, not from Feb 28.
        (date(2001, 2, 28), 0),
        (date(2001, 3, 1), 1),
        (date(2003, 2, 28), 2),
        (date(2003, 3, 1), 3),
        # In a leap year, on the day itself.
        (date(2004, 2, 28), 3),
        (date(2004, 2, 29), 4),
        (date(2004, 3, 1), 4),
    ],
    ids=str,
)
def test_a_feb_29_birthday_counts_from_mar_1_in_a_year_without_one(today: date, age: int) -> None:
    assert facts.age_on(date(2000, 2, 29), today) == age


# --- ungrounded --------------------------------------------------------------------------

RECORD_TEXT = (
    "Medications: metformin 1000 mg BID, lisinopril 10 mg daily.\n"
    "A: type 2 diabetes, hypertension.\n"
    "P: amoxicillin 875 mg and clavulanate 125 mg PO BID."
)


def test_a_narrative_naming_only_what_the_record_holds_is_grounded() -> None:
    said = "She has type 2 diabetes and hypertension, treated with metformin and lisinopril."

    assert warnings_for(said, record_of(RECORD_TEXT)) == []


def test_an_invented_drug_is_named_in_a_warning() -> None:
    found = warnings_for("She also takes atorvastatin 20 mg daily.", record_of(RECORD_TEXT))

    assert len(found) == 1
    assert "medication" in found[0]
    assert "'atorvastatin'" in found[0]


def test_an_invented_diagnosis_is_named_in_a_warning() -> None:
    found = warnings_for("She has chronic kidney disease.", record_of(RECORD_TEXT))

    assert len(found) == 1
    assert "diagnosis" in found[0]
    assert "'chronic kidney disease'" in found[0]


def test_an_invented_diagnosis_written_as_an_abbreviation_is_named_too() -> None:
    found = warnings_for("Known CKD.", record_of(RECORD_TEXT))

    assert len(found) == 1
    assert "'CKD'" in found[0]


def test_each_invented_name_is_warned_about_once_and_in_order() -> None:
    said = "She takes atorvastatin. She has asthma; atorvastatin was started for it, and asthma is mild."

    found = warnings_for(said, record_of(RECORD_TEXT))

    assert len(found) == 2
    assert "'atorvastatin'" in found[0]
    assert "'asthma'" in found[1]


@pytest.mark.parametrize(
    "said",
    [
        "She takes METFORMIN and Lisinopril.",  # another case
        "She takes Glucophage.",  # metformin's brand name
        "She takes Zestril for her blood pressure.",  # lisinopril's brand name
        "She has T2DM and HTN.",  # the abbreviations of her diagnoses
        "She has Type 2 Diabetes Mellitus.",  # another spelling of the same diagnosis
    ],
)
def test_a_drug_or_diagnosis_of_the_record_by_another_name_or_case_is_grounded(said: str) -> None:
    assert warnings_for(said, record_of(RECORD_TEXT)) == []


def test_a_combination_whose_parts_are_in_the_record_is_grounded() -> None:
    assert warnings_for("She finished amoxicillin-clavulanate.", record_of(RECORD_TEXT)) == []
    assert warnings_for("She finished amoxicillin/clavulanate.", record_of(RECORD_TEXT)) == []


def test_a_part_of_a_combination_the_record_holds_is_grounded() -> None:
    record = record_of("P: amoxicillin-clavulanate 875/125 mg PO BID.")

    assert warnings_for("She took amoxicillin and clavulanate.", record) == []


def test_a_combination_with_a_part_the_record_lacks_is_not_grounded() -> None:
    found = warnings_for("She takes amoxicillin-ibuprofen.", record_of(RECORD_TEXT))

    assert len(found) == 1
    assert "'amoxicillin-ibuprofen'" in found[0]


def test_a_drug_and_diagnosis_of_an_interaction_are_grounded() -> None:
    visit = Interaction.model_construct(
        id="visit-1",
        patient_id="p",
        interaction_date=TAKEN_AT,
        ailment="Allergic rhinitis",
        ailment_code="J30.1",
        next_steps=["Start fexofenadine 180 mg daily"],
    )
    record = record_of(interactions=[visit])

    assert warnings_for("She has allergic rhinitis and takes fexofenadine.", record) == []
    assert len(warnings_for("She takes cetirizine.", record)) == 1


def test_a_record_without_sources_grounds_nothing() -> None:
    found = warnings_for("She takes metformin for type 2 diabetes.", record_of())

    assert len(found) == 2
    assert "'metformin'" in found[0]
    assert "'type 2 diabetes'" in found[1]


def test_a_diagnosis_the_record_denies_is_not_grounded() -> None:
    # The note says she has never had hypoglycemia; a narrative that says she has it names a
    # diagnosis no source holds (the key facts leave the denied condition out, too).
    record = record_of("History: T2DM for 12 years on metformin only. No hypoglycemia history.")
    assert [fact.name for fact in facts.key_facts(record).diagnoses] == ["Diabetes Mellitus, Type 2"]

    found = warnings_for("She has type 2 diabetes and hypoglycemia.", record)

    assert len(found) == 1
    assert "'hypoglycemia'" in found[0]


# --- offline_narrative -------------------------------------------------------------------

HEADING = Heading(name="Maria Elena Okafor", age=63, mrn="MRN-1", birth_date=date(1961, 4, 17), gender="female")
KEY_FACTS = KeyFacts(
    diagnoses=[
        fact("Community-acquired pneumonia", "Community-Acquired Pneumonia"),
        fact("Allergic rhinitis", "Rhinitis, Allergic", kind="interaction", code="J30.1"),
        fact("type 2 diabetes", "Diabetes Mellitus, Type 2"),
        fact("hypertension", "Hypertension"),
    ],
    medications=[
        fact("metformin 1000 mg BID", "Metformin"),
        fact("amoxicillin-clavulanate 875/125 mg PO BID", "Amoxicillin-Clavulanic Acid"),
        fact("lisinopril 10 mg daily", "Lisinopril"),
        fact("enoxaparin 40 mg SC daily", "Enoxaparin"),
    ],
    allergies=[fact("No known drug allergies", "No known drug allergies")],
    observations=[fact("Blood pressure 124/76 mmHg", "Blood pressure")],
)


@pytest.mark.parametrize("audience", ["clinician", "family"])
@pytest.mark.parametrize("length", ["brief", "standard", "detailed"])
def test_the_offline_narrative_is_the_same_for_the_same_facts(audience: str, length: str) -> None:
    first = narrative.offline_narrative(HEADING, KEY_FACTS, audience, length)  # type: ignore[arg-type]
    again = narrative.offline_narrative(
        HEADING.model_copy(deep=True),
        KEY_FACTS.model_copy(deep=True),
        audience,  # type: ignore[arg-type]
        length,  # type: ignore[arg-type]
    )

    assert first == again
    assert first.strip()


def test_the_offline_narrative_of_the_sample_record_is_deterministic() -> None:
    record = record_of(RECORD_TEXT, "A: CAP responding to therapy. Switch to amoxicillin-clavulanate.")

    texts = {narrative.offline_narrative(HEADING, facts.key_facts(record), "clinician", "standard") for _ in range(3)}

    assert len(texts) == 1


def test_the_clinician_narrative_gives_doses_and_codes() -> None:
    said = narrative.offline_narrative(HEADING, KEY_FACTS, "clinician", "detailed")

    assert said.startswith("Maria Elena Okafor, 63-year-old female.")
    assert "metformin 1000 mg BID" in said
    assert "amoxicillin-clavulanate 875/125 mg PO BID" in said
    assert "Allergic rhinitis (J30.1)" in said
    assert "No known drug allergies" in said
    assert "Blood pressure 124/76 mmHg" in said


@pytest.mark.parametrize("length", ["brief", "standard", "detailed"])
def test_the_family_narrative_names_medicines_without_doses(length: str) -> None:
    said = narrative.offline_narrative(HEADING, KEY_FACTS, "family", length)  # type: ignore[arg-type]

    assert said.startswith("Maria is 63 years old.")
    assert "metformin" in said
    assert "MRN-1" not in said
    words = said.replace(",", " ").replace(".", " ").split()
    assert not [word for word in words if word in DOSE_WORDS]
    assert "J30.1" not in said


def test_a_brief_narrative_names_fewer_facts_than_a_detailed_one() -> None:
    brief = narrative.offline_narrative(HEADING, KEY_FACTS, "clinician", "brief")
    detailed = narrative.offline_narrative(HEADING, KEY_FACTS, "clinician", "detailed")

    assert len(brief) < len(detailed)
    assert "enoxaparin" not in brief  # the fourth medication
    assert "enoxaparin" in detailed
    assert "allergies" not in brief.lower()


def test_an_empty_record_still_gets_a_narrative() -> None:
    empty = KeyFacts()

    clinician = narrative.offline_narrative(HEADING, empty, "clinician", "standard")
    family = narrative.offline_narrative(Heading(), empty, "family", "brief")

    assert clinician.startswith("Maria Elena Okafor, 63-year-old female.")
    assert "no diagnoses, medications or measurements" in clinician
    assert family.strip()
    assert "no diagnoses, medications or measurements" in family


# --- SummaryCache ------------------------------------------------------------------------


def summary(text: str) -> Summary:
    return Summary(
        heading=Heading(),
        narrative=text,
        key_facts=KeyFacts(),
        sources=[],
        generator=Generator(kind="offline"),
        generated_at=TAKEN_AT,
    )


def test_a_cache_of_size_0_keeps_nothing() -> None:
    cache = SummaryCache(0)

    cache.put("a", summary("a"))

    assert cache.get("a") is None


def test_a_cached_summary_is_the_same_object() -> None:
    cache = SummaryCache(2)
    held = summary("a")

    cache.put(("p", "v1"), held)

    assert cache.get(("p", "v1")) is held
    assert cache.get(("p", "v2")) is None


def test_the_least_recently_put_goes_first() -> None:
    cache = SummaryCache(2)
    first, second, third = summary("1"), summary("2"), summary("3")

    cache.put("1", first)
    cache.put("2", second)
    cache.put("3", third)

    assert cache.get("1") is None
    assert cache.get("2") is second
    assert cache.get("3") is third


def test_a_get_keeps_a_summary_longer() -> None:
    cache = SummaryCache(2)
    first, second, third = summary("1"), summary("2"), summary("3")
    cache.put("1", first)
    cache.put("2", second)

    assert cache.get("1") is first
    cache.put("3", third)

    assert cache.get("2") is None
    assert cache.get("1") is first
    assert cache.get("3") is third


def test_a_missed_get_refreshes_nothing() -> None:
    cache = SummaryCache(2)
    first, second, third = summary("1"), summary("2"), summary("3")
    cache.put("1", first)
    cache.put("2", second)

    assert cache.get("other") is None
    cache.put("3", third)

    assert cache.get("1") is None
    assert cache.get("2") is second


def test_putting_a_key_again_replaces_its_summary_and_refreshes_it() -> None:
    cache = SummaryCache(2)
    old, new, second, third = summary("old"), summary("new"), summary("2"), summary("3")
    cache.put("1", old)
    cache.put("2", second)

    cache.put("1", new)
    cache.put("3", third)

    assert cache.get("1") is new
    assert cache.get("2") is None
    assert cache.get("3") is third


# --- what the notes say of allergies and of drugs not taken --------------------------------------


def test_the_newest_note_stating_allergies_says_what_is_known_of_them() -> None:
    # Notes are dated by their order: the second is the newer.
    record = record_of("Allergies: NKDA.", "Allergies: penicillin (anaphylaxis).")

    found = facts.key_facts(record)

    assert [(fact.text, fact.name, fact.source.id) for fact in found.allergies] == [
        ("penicillin (anaphylaxis).", "Penicillins", "note-1")
    ]
    assert found.medications == []


def test_no_known_drug_allergies_when_the_newest_allergy_statement_says_so() -> None:
    record = record_of("Allergies: penicillin.", "Allergies: NKDA")

    assert [fact.text for fact in facts.key_facts(record).allergies] == ["No known drug allergies"]


def test_a_drug_the_note_denies_or_calls_an_allergen_is_no_medication() -> None:
    record = record_of("P: Continue lisinopril 10 mg daily; not on aspirin. Allergic to sulfa and codeine.")

    names = [fact.name for fact in facts.key_facts(record).medications]

    assert names == ["Lisinopril"]


def test_an_ailment_code_of_no_release_stands_as_written() -> None:
    visit = Interaction.model_construct(
        id="visit-1",
        patient_id="p",
        interaction_date=TAKEN_AT,
        ailment=None,
        ailment_code="J301",
        symptoms=[],
        metrics={},
        remarks=None,
        health_status=None,
        qa=[],
        next_steps=[],
        labels=[],
    )
    unknown = visit.model_copy(update={"id": "visit-2", "ailment_code": "XYZ9"})

    diagnoses = facts.key_facts(record_of(interactions=[visit, unknown])).diagnoses

    assert {(fact.code, fact.text) for fact in diagnoses} == {
        ("J301", "Allergic rhinitis due to pollen"),
        ("XYZ9", "XYZ9"),
    }


@pytest.mark.parametrize(
    ("heading", "audience", "opening"),
    [
        (Heading(name=None, age=44, gender=None), "family", "The patient is 44 years old."),
        (Heading(name="Ada Lovelace", age=44, gender="unknown"), "clinician", "Ada Lovelace, 44-year-old."),
        (Heading(name=None, age=None, gender=None), "clinician", "The patient."),
        (Heading(name="Sam Lee", age=30, gender="other"), "clinician", "Sam Lee, 30-year-old of another gender."),
    ],
)
def test_the_offline_narrative_opens_with_a_whole_sentence(heading: Heading, audience: str, opening: str) -> None:
    found = KeyFacts(medications=[fact("metformin 1000 mg BID", "Metformin")])

    text = narrative.offline_narrative(heading, found, audience, "standard")  # type: ignore[arg-type]

    assert text.startswith(opening)
    if audience == "family":
        assert "They take or have taken metformin." in text
