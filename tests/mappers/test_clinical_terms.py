"""Drugs and diseases named in clinical text (mappers.clinical_terms): the committed tables
are what the generator script makes of the two packages, and the terms found in the sample
notes, with where they are written."""

import dataclasses
import gzip
import importlib.util
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from mappers import clinical_terms
from mappers.clinical_terms import ABBREVIATIONS, DISEASE_TABLE, DRUG_TABLE, Term, conditions, medications

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_clinical_terms.py"
NOTES: list[str] = [
    note["content"]
    for note in json.loads((ROOT / "generators" / "data" / "soap_notes.json").read_text(encoding="utf-8"))["notes"]
]
ADMISSION, PROGRESS, NURSING, CONSULT, PROGRESS_SOAP, DISCHARGE, FOLLOW_UP, HISTORY = NOTES
ALL_NOTES = "\n\n".join(NOTES)


@cache
def table(path: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """A committed table as spelling -> (name, tree numbers), the first row of a spelling winning."""
    rows: dict[str, tuple[str, tuple[str, ...]]] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            spelling, name, trees = line.rstrip("\n").split("\t")
            rows.setdefault(spelling, (name, tuple(tree for tree in trees.split(",") if tree)))
    return rows


def names(terms: tuple[Term, ...]) -> list[str]:
    return [term.name for term in terms]


def written(terms: tuple[Term, ...]) -> list[str]:
    return [term.written for term in terms]


def assert_spans(text: str, terms: tuple[Term, ...]) -> None:
    """Each term is written where it says, and they follow one another without overlapping."""
    for term in terms:
        assert text[term.start : term.end] == term.written, term
    for before, after in zip(terms, terms[1:], strict=False):
        assert before.end <= after.start, (before, after)


# --- the tables -----------------------------------------------------------------------------


def test_the_committed_tables_are_what_the_script_generates() -> None:
    spec = importlib.util.spec_from_file_location("generate_clinical_terms", SCRIPT)
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    generated = script.tables()

    assert set(generated) == {DRUG_TABLE.name, DISEASE_TABLE.name}
    assert script.OUTPUT == DRUG_TABLE.parent == DISEASE_TABLE.parent
    assert generated[DRUG_TABLE.name] == DRUG_TABLE.read_bytes()
    assert generated[DISEASE_TABLE.name] == DISEASE_TABLE.read_bytes()


def test_the_tables_hold_what_the_terms_are_read_with() -> None:
    drugs, diseases = table(DRUG_TABLE), table(DISEASE_TABLE)

    assert len(drugs) > 100_000
    assert len(diseases) > 70_000
    # Spellings are lower case; a brand name stands for its generic drug.
    assert all(spelling == spelling.lower() for spelling in drugs)
    assert drugs["tylenol"][0] == drugs["acetaminophen"][0] == "Acetaminophen"
    assert drugs["lipitor"][0] == "Atorvastatin"
    # A class of drugs is told by its MeSH tree numbers (D27), a sign or symptom by C23.
    assert drugs["antibiotics"][1]
    assert all(tree.startswith("D27.") for tree in drugs["antibiotics"][1])
    assert diseases["fever"][1]
    assert all(tree.startswith("C23.") for tree in diseases["fever"][1])
    assert diseases["allergies"][0] == "Hypersensitivity"
    assert diseases["infection"][0] == "Infections"


# --- medications ----------------------------------------------------------------------------


def test_the_admission_note_s_medications_are_found_in_order_where_written() -> None:
    found = medications(ADMISSION)

    assert names(found) == [
        "Metformin",
        "Lisinopril",
        "Ceftriaxone",
        "Azithromycin",
        "Metformin",
        "Insulin",
        "Enoxaparin",
    ]
    assert written(found)[2] == "Ceftriaxone"
    assert_spans(ADMISSION, found)


@pytest.mark.parametrize(
    ("note", "drug", "as_written"),
    [
        (ADMISSION, "Metformin", "metformin"),
        (CONSULT, "Empagliflozin", "empagliflozin"),
        (ADMISSION, "Lisinopril", "lisinopril"),
        (ADMISSION, "Ceftriaxone", "Ceftriaxone"),
        (PROGRESS, "Azithromycin", "azithromycin"),
        (ADMISSION, "Enoxaparin", "enoxaparin"),
        (FOLLOW_UP, "Fluconazole", "Fluconazole"),
        (NURSING, "Insulin", "Insulin"),
        (PROGRESS, "Insulin", "insulin"),
    ],
)
def test_each_drug_of_the_sample_notes_is_found_with_its_span(note: str, drug: str, as_written: str) -> None:
    found = medications(note)

    matching = [term for term in found if term.name == drug]
    assert matching, names(found)
    assert all(term.written == as_written for term in matching)
    assert_spans(note, found)
    assert note.find(as_written) == matching[0].start


def test_every_drug_of_the_sample_notes_is_found() -> None:
    found = medications(ALL_NOTES)

    assert set(names(found)) == {
        "Metformin",
        "Empagliflozin",
        "Lisinopril",
        "Ceftriaxone",
        "Azithromycin",
        "Enoxaparin",
        "Fluconazole",
        "Insulin",
        "Amoxicillin-Clavulanic Acid",
    }
    assert_spans(ALL_NOTES, found)


def test_a_combination_of_drugs_joined_by_a_hyphen_is_one_term() -> None:
    found = medications(PROGRESS_SOAP)

    combination = "amoxicillin-clavulanate"
    start = PROGRESS_SOAP.index(combination)
    assert found[0] == Term("Amoxicillin-Clavulanic Acid", combination, start, start + len(combination))
    assert names(found) == ["Amoxicillin-Clavulanic Acid", "Metformin"]
    # Neither part is a drug of its own.
    assert not {"Amoxicillin", "Clavulanic Acid"} & set(names(medications(DISCHARGE)))
    assert names(medications(DISCHARGE)).count("Amoxicillin-Clavulanic Acid") == 2


def test_a_combination_joined_by_a_slash_is_one_term() -> None:
    found = medications("Started piperacillin/tazobactam 4.5 g IV q6h.")

    assert found == (Term("Piperacillin-Tazobactam", "piperacillin/tazobactam", 8, 31),)


def test_a_combination_the_table_spells_with_a_slash_is_one_term() -> None:
    text = "Started trimethoprim/sulfamethoxazole DS BID."
    assert "trimethoprim/sulfamethoxazole" in table(DRUG_TABLE)

    found = medications(text)

    assert [(term.written, term.start, term.end) for term in found] == [("trimethoprim/sulfamethoxazole", 8, 37)]
    assert found[0].name in {"Trimethoprim/sulfamethoxazole", "Trimethoprim-Sulfamethoxazole"}


@pytest.mark.parametrize(
    ("brand", "generic"),
    [
        ("Tylenol", "Acetaminophen"),
        ("TYLENOL", "Acetaminophen"),
        ("Lipitor", "Atorvastatin"),
        ("Advil", "Ibuprofen"),
        ("Zithromax", "Azithromycin"),
        ("Lasix", "Furosemide"),
        ("Coumadin", "Warfarin"),
    ],
)
def test_a_brand_name_is_the_generic_drug_written_as_the_brand(brand: str, generic: str) -> None:
    text = f"Takes {brand} 500 mg as needed."

    assert medications(text) == (Term(generic, brand, 6, 6 + len(brand)),)
    assert table(DRUG_TABLE)[brand.lower()][0] == generic


def test_a_longer_name_wins_over_its_first_word() -> None:
    assert medications("insulin glargine 10 units at night") == (Term("Insulin Glargine", "insulin glargine", 0, 16),)


@pytest.mark.parametrize("spacing", ["  ", "\n", " \t"])
def test_a_name_whose_words_are_spaced_unevenly_is_still_found(spacing: str) -> None:
    text = f"Started insulin{spacing}glargine 10 units."
    end = len(f"Started insulin{spacing}glargine")

    assert medications(text) == (Term("Insulin Glargine", text[8:end], 8, end),)


@pytest.mark.parametrize(
    "text",
    [
        "Ready to step down to oral antibiotics.",
        "Started antibiotics and anticoagulants.",
        "ANTIBIOTICS held.",
        "Avoid NSAIDs; statins continued.",
    ],
)
def test_classes_of_drugs_are_not_medications(text: str) -> None:
    assert medications(text) == ()


def test_the_sample_note_s_oral_antibiotics_are_not_a_medication() -> None:
    assert "antibiotics" in PROGRESS_SOAP
    assert "antibiotics" not in [term.written.lower() for term in medications(PROGRESS_SOAP)]


@pytest.mark.parametrize(
    "text", ["water", "Drink water.", "iron", "IRON", "daily", "Twice daily with water; iron-rich diet.", "BID", "TID"]
)
def test_common_words_are_not_medications(text: str) -> None:
    assert medications(text) == ()


def test_text_naming_no_drug_has_none() -> None:
    assert medications("") == ()
    assert medications(NOTES[2].replace("Insulin", "Fluids")) == ()


# --- conditions -----------------------------------------------------------------------------


def test_the_admission_note_s_diagnoses_are_found_where_written() -> None:
    found = conditions(ADMISSION)

    assert {"Community-Acquired Pneumonia", "Diabetes Mellitus, Type 2", "Hypertension"} <= set(names(found))
    by_name = {term.name: term for term in found}
    assert by_name["Community-Acquired Pneumonia"].written == "Community-acquired pneumonia"
    assert by_name["Diabetes Mellitus, Type 2"].written == "type 2 diabetes"
    assert by_name["Hypertension"].written == "hypertension"
    assert_spans(ADMISSION, found)


def test_t2dm_in_capitals_is_type_2_diabetes() -> None:
    found = conditions(CONSULT)

    start = CONSULT.index("T2DM")
    assert Term("Diabetes Mellitus, Type 2", "T2DM", start, start + 4) in found
    assert_spans(CONSULT, found)


def test_htn_is_hypertension() -> None:
    found = conditions(HISTORY)

    start = HISTORY.index("HTN")
    assert Term("Hypertension", "HTN", start, start + 3) in found
    assert names(found)[:2] == ["Diabetes Mellitus, Type 2", "Hypertension"]
    assert_spans(HISTORY, found)


def test_cap_in_capitals_is_community_acquired_pneumonia() -> None:
    assert names(conditions(PROGRESS)).count("Community-Acquired Pneumonia") == 1
    assert Term("Community-Acquired Pneumonia", "CAP", 0, 3) in conditions("CAP improving.")


@pytest.mark.parametrize("abbreviation", sorted(ABBREVIATIONS))
def test_an_abbreviation_counts_in_capitals_only(abbreviation: str) -> None:
    expanded = ABBREVIATIONS[abbreviation]
    name = table(DISEASE_TABLE)[expanded][0] if expanded in table(DISEASE_TABLE) else expanded

    assert conditions(f"PMH: {abbreviation}.") == (Term(name, abbreviation, 5, 5 + len(abbreviation)),)
    assert conditions(f"PMH: {abbreviation.lower()}.") == ()
    assert conditions(f"PMH: {abbreviation.capitalize()}.") == ()


def test_lower_case_t2dm_is_not_a_condition() -> None:
    assert conditions("History of t2dm and htn.") == ()
    assert names(conditions("History of T2DM and HTN.")) == ["Diabetes Mellitus, Type 2", "Hypertension"]


def test_an_abbreviation_inside_a_word_is_not_one() -> None:
    assert conditions("HTNX and XT2DM") == ()


def test_diagnoses_only_drops_signs_symptoms_and_general_headings_of_the_admission_note() -> None:
    everything = names(conditions(ADMISSION))
    diagnoses = names(conditions(ADMISSION, diagnoses_only=True))

    assert "Fever" in everything
    assert "Infections" in everything
    assert "Fever" not in diagnoses
    assert "Infections" not in diagnoses
    assert {"Community-Acquired Pneumonia", "Diabetes Mellitus, Type 2", "Hypertension"} <= set(diagnoses)
    # Only ever a subset, in the same order.
    assert [name for name in everything if name in diagnoses] == diagnoses


@pytest.mark.parametrize("note", [DISCHARGE, HISTORY])
def test_diagnoses_only_drops_the_hypersensitivity_of_an_allergies_heading(note: str) -> None:
    assert "Hypersensitivity" in names(conditions(note))
    assert "Allergies" in [term.written for term in conditions(note)]

    assert "Hypersensitivity" not in names(conditions(note, diagnoses_only=True))


def test_diagnoses_only_keeps_the_discharge_diagnoses() -> None:
    assert names(conditions(DISCHARGE, diagnoses_only=True)) == [
        "Community-Acquired Pneumonia",
        "Diabetes Mellitus, Type 2",
        "Hypertension",
    ]


@pytest.mark.parametrize(
    ("text", "sign"),
    [("fever", "Fever"), ("Fever to 38.9 C", "Fever"), ("pleuritic chest pain", "Chest Pain")],
)
def test_a_pure_sign_or_symptom_is_no_diagnosis(text: str, sign: str) -> None:
    assert sign in names(conditions(text))

    assert conditions(text, diagnoses_only=True) == ()


@pytest.mark.parametrize("text", ["Infections", "an infection", "Allergies: NKDA"])
def test_a_general_heading_is_no_diagnosis(text: str) -> None:
    assert conditions(text)

    assert conditions(text, diagnoses_only=True) == ()


@pytest.mark.parametrize("spacing", ["  ", "\n"])
def test_a_sign_whose_words_are_spaced_unevenly_is_still_no_diagnosis(spacing: str) -> None:
    text = f"Pleuritic chest{spacing}pain."

    assert names(conditions(text)) == ["Chest Pain"]
    assert conditions(text, diagnoses_only=True) == ()


# --- results --------------------------------------------------------------------------------


@pytest.mark.parametrize("find", [medications, conditions])
def test_results_are_tuples_of_frozen_terms(find: Callable[[str], tuple[Term, ...]]) -> None:
    found = find(ADMISSION)

    assert isinstance(found, tuple)
    assert found
    assert all(isinstance(term, Term) for term in found)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].name = "Changed"  # type: ignore[misc]


def test_repeated_calls_give_equal_results_even_once_forgotten() -> None:
    first = (medications(DISCHARGE), conditions(DISCHARGE), conditions(DISCHARGE, diagnoses_only=True))
    second = (medications(DISCHARGE), conditions(DISCHARGE), conditions(DISCHARGE, diagnoses_only=True))
    medications.cache_clear()
    conditions.cache_clear()
    third = (medications(DISCHARGE), conditions(DISCHARGE), conditions(DISCHARGE, diagnoses_only=True))

    assert first == second == third
    assert all(part for part in first)


def test_load_reads_the_tables_and_changes_no_answer() -> None:
    before = medications(FOLLOW_UP)
    clinical_terms.load()
    medications.cache_clear()

    assert medications(FOLLOW_UP) == before
