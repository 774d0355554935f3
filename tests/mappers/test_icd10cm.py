"""ICD-10-CM codes known offline: canonical forms, refusals, descriptions (mappers.icd10cm)."""

import importlib.util
from importlib.resources import files
from pathlib import Path

import pytest

from mappers import icd10cm
from mappers.icd10cm import RELEASE, SYSTEM, canonical, description

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "generate_icd10cm_table.py"


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("J30.1", "J30.1"),
        ("j30.1", "J30.1"),
        ("J301", "J30.1"),
        ("j301", "J30.1"),
        (" J30.1 ", "J30.1"),
        ("\tj301\n", "J30.1"),
        ("J30", "J30"),
        ("i10", "I10"),
        ("J45909", "J45.909"),
        ("m54.50", "M54.50"),
        ("z0000", "Z00.00"),
        ("u071", "U07.1"),
    ],
)
def test_a_code_is_taken_in_either_case_with_or_without_its_dot(written: str, code: str) -> None:
    assert canonical(written) == code


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("S52.521A", "S52.521A"),
        ("s52521a", "S52.521A"),
        ("T36.0X1A", "T36.0X1A"),
        ("t360x1a", "T36.0X1A"),
    ],
)
def test_seven_character_codes_are_valid(written: str, code: str) -> None:
    assert canonical(written) == code


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("J30-J39", "a block"),
        ("j30-j39", "a block, lower case"),
        ("A00-A09", "a block"),
        ("1", "a chapter"),
        ("22", "a chapter"),
        ("A00-B99", "a chapter's range"),
        ("XYZ", "unknown"),
        ("J30.99", "unknown subcategory"),
        ("J30.1A", "no such seventh character"),
        ("Z99.999", "unknown"),
        ("J3.01", "a dot in the wrong place"),
        ("J30.", "a dot with nothing after it"),
        ("J 30.1", "a space inside"),
        ("J30.1 J30.2", "two codes"),
        ("", "empty"),
        ("   ", "blank"),
    ],
)
def test_what_is_no_diagnosis_code_is_refused(written: str, why: str) -> None:
    assert canonical(written) is None, why


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("J30.1", "Allergic rhinitis due to pollen"),
        ("J30", "Vasomotor and allergic rhinitis"),
        ("I10", "Essential (primary) hypertension"),
        ("S52.521A", "Torus fracture of lower end of right radius, initial encounter for closed fracture"),
    ],
)
def test_a_code_has_the_release_s_description(code: str, said: str) -> None:
    assert description(code) == said


def test_the_canonical_form_has_a_description() -> None:
    code = canonical("j06.9")

    assert code == "J06.9"
    assert description(code) == "Acute upper respiratory infection, unspecified"


def test_the_table_is_what_the_script_makes_of_the_release_the_package_ships() -> None:
    spec = importlib.util.spec_from_file_location("generate_icd10cm_table", SCRIPT)
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    assert script.table_bytes() == icd10cm.TABLE.read_bytes()
    assert script.RELEASE == RELEASE == "April 2026"
    month, year = RELEASE.split()
    shipped = [entry.name for entry in (files("simple_icd_10_cm") / "data").iterdir()]
    assert any(month in name and year in name for name in shipped), shipped
    assert icd10cm.__doc__ is not None and RELEASE in icd10cm.__doc__


def test_the_code_system_is_hl7_s_icd_10_cm_uri() -> None:
    assert SYSTEM == "http://hl7.org/fhir/sid/icd-10-cm"
