"""Vital signs <-> FHIR vital-signs Observations (mappers.vitals)."""

from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation as R4BObservation
from hypothesis import given
from hypothesis import strategies as st

from mappers.vitals import (
    BLOOD_PRESSURE_PANEL,
    LOINC,
    UCUM,
    VITAL_SIGNS,
    Vitals,
    from_observations,
    implausible,
    observations,
)

SUBJECT = {"reference": "Patient/p1"}
EFFECTIVE = "2025-02-03T08:15:00-08:00"


def _in_range(name: str) -> st.SearchStrategy[int | float]:
    """Plausible values of a sign, at the precision it is kept to."""
    sign = VITAL_SIGNS[name]
    if sign.decimals == 0:
        return st.integers(int(sign.low), int(sign.high))
    scale = 10**sign.decimals
    return st.integers(int(sign.low * scale), int(sign.high * scale)).map(lambda tenths: tenths / scale)


vitals = st.builds(
    Vitals,
    **{name: st.none() | _in_range(name) for name in VITAL_SIGNS},
)

# fhir.resources builds each nested element's validator on first use: paid here, not in an example.
R4BObservation.model_validate(
    observations(Vitals(heart_rate=70, bp_systolic=120, bp_diastolic=80), subject=SUBJECT, effective=EFFECTIVE)[-1]
)


@given(vitals)
def test_round_trip_through_observations_is_lossless(values: Vitals) -> None:
    assert from_observations(observations(values, subject=SUBJECT, effective=EFFECTIVE)) == values


@given(vitals)
def test_whole_number_signs_stay_integers_on_the_trip(values: Vitals) -> None:
    back = from_observations(observations(values, subject=SUBJECT, effective=EFFECTIVE))

    for name, value in values.present().items():
        assert type(getattr(back, name)) is type(value)


@given(vitals)
def test_every_observation_is_a_valid_r4b_vital_signs_observation(values: Vitals) -> None:
    for resource in observations(values, subject=SUBJECT, effective=EFFECTIVE):
        R4BObservation.model_validate(resource)
        assert resource["status"] == "final"
        assert resource["subject"] == SUBJECT
        assert resource["effectiveDateTime"] == EFFECTIVE
        assert resource["category"][0]["coding"][0]["code"] == "vital-signs"


def _codes(concept: dict[str, Any]) -> list[str]:
    return [coding["code"] for coding in concept["coding"] if coding["system"] == LOINC]


def test_one_observation_per_sign_with_its_loinc_code_and_ucum_unit() -> None:
    values = Vitals(heart_rate=88, respiratory_rate=16, temperature_c=37.4, spo2=96, weight_kg=70.5, height_cm=172)

    found = observations(values, subject=SUBJECT, effective=EFFECTIVE)

    by_code = {_codes(resource["code"])[0]: resource for resource in found}
    assert set(by_code) == {"8867-4", "9279-1", "8310-5", "2708-6", "29463-7", "8302-2"}
    assert _codes(by_code["2708-6"]["code"]) == ["2708-6", "59408-5"]
    expected_units = {
        "8867-4": "/min",
        "9279-1": "/min",
        "8310-5": "Cel",
        "2708-6": "%",
        "29463-7": "kg",
        "8302-2": "cm",
    }
    for code, unit in expected_units.items():
        quantity = by_code[code]["valueQuantity"]
        assert quantity["system"] == UCUM
        assert quantity["code"] == unit
        assert quantity["unit"] == unit
    assert by_code["8867-4"]["valueQuantity"]["value"] == 88
    assert by_code["8310-5"]["valueQuantity"]["value"] == 37.4


def test_blood_pressure_is_one_panel_with_two_components() -> None:
    found = observations(Vitals(bp_systolic=138, bp_diastolic=84), subject=SUBJECT, effective=EFFECTIVE)

    assert len(found) == 1
    panel = found[0]
    assert _codes(panel["code"]) == [BLOOD_PRESSURE_PANEL[0]] == ["85354-9"]
    assert "valueQuantity" not in panel
    assert [_codes(component["code"]) for component in panel["component"]] == [["8480-6"], ["8462-4"]]
    assert [component["valueQuantity"] for component in panel["component"]] == [
        {"value": 138, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"},
        {"value": 84, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"},
    ]
    R4BObservation.model_validate(panel)


def test_no_vitals_give_no_observations() -> None:
    assert observations(Vitals(), subject=SUBJECT, effective=EFFECTIVE) == []
    assert from_observations([]) == Vitals()


def test_an_observation_of_another_code_is_ignored() -> None:
    glucose = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2339-0", "display": "Glucose"}]},
        "valueQuantity": {"value": 7.2, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
    }
    heart_rate = observations(Vitals(heart_rate=72), subject=SUBJECT, effective=EFFECTIVE)

    assert from_observations([glucose, *heart_rate]) == Vitals(heart_rate=72)


def test_a_vital_sign_code_of_another_system_or_unit_is_ignored() -> None:
    (heart_rate,) = observations(Vitals(heart_rate=72), subject=SUBJECT, effective=EFFECTIVE)
    other_system = heart_rate | {"code": {"coding": [{"system": "http://snomed.info/sct", "code": "8867-4"}]}}
    other_unit = heart_rate | {"valueQuantity": {"value": 1.2, "unit": "Hz", "system": UCUM, "code": "Hz"}}

    assert from_observations([other_system, other_unit]) == Vitals()


def test_the_first_observation_of_a_sign_wins() -> None:
    first = observations(Vitals(heart_rate=72, bp_systolic=120, bp_diastolic=80), subject=SUBJECT, effective=EFFECTIVE)
    second = observations(Vitals(heart_rate=99, bp_systolic=150, bp_diastolic=95), subject=SUBJECT, effective=EFFECTIVE)

    assert from_observations(first + second) == Vitals(heart_rate=72, bp_systolic=120, bp_diastolic=80)


def test_malformed_observations_are_ignored() -> None:
    malformed: list[dict[str, Any]] = [
        {"resourceType": "Observation"},
        {"resourceType": "Observation", "code": "not a concept", "valueQuantity": 72},
        {"resourceType": "Observation", "code": {"coding": [{"system": LOINC, "code": "8867-4"}]}},
        {
            "resourceType": "Observation",
            "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
            "valueQuantity": {"value": "72", "code": "/min"},
        },
        {"resourceType": "Observation", "code": {"coding": [{"system": LOINC, "code": "85354-9"}]}, "component": 3},
    ]

    assert from_observations(malformed) == Vitals()


@pytest.mark.parametrize(
    ("values", "reasons"),
    [
        ({"heart_rate": 300}, {"heart_rate": "outside 20-250 /min"}),
        ({"heart_rate": 19}, {"heart_rate": "outside 20-250 /min"}),
        ({"respiratory_rate": 61}, {"respiratory_rate": "outside 4-60 /min"}),
        ({"temperature_c": 60}, {"temperature_c": "outside 30-45 Cel"}),
        ({"spo2": 101}, {"spo2": "outside 50-100 %"}),
        ({"weight_kg": 0.4}, {"weight_kg": "outside 0.5-500 kg"}),
        ({"height_cm": 251}, {"height_cm": "outside 30-250 cm"}),
        # A reading misread that badly keeps neither half.
        (
            {"bp_systolic": 301, "bp_diastolic": 80},
            {
                "bp_systolic": "outside 50-300 mm[Hg]",
                "bp_diastolic": "the reading's systolic pressure is outside 50-300 mm[Hg]",
            },
        ),
        (
            {"bp_systolic": 80, "bp_diastolic": 90},
            {
                "bp_systolic": "systolic pressure not above diastolic",
                "bp_diastolic": "systolic pressure not above diastolic",
            },
        ),
        (
            {"bp_systolic": 90, "bp_diastolic": 90},
            {
                "bp_systolic": "systolic pressure not above diastolic",
                "bp_diastolic": "systolic pressure not above diastolic",
            },
        ),
    ],
)
def test_implausible_values_and_their_reasons(values: dict[str, int | float], reasons: dict[str, str]) -> None:
    assert implausible(values) == reasons


@pytest.mark.parametrize("name", list(VITAL_SIGNS))
def test_the_ends_of_each_range_are_plausible(name: str) -> None:
    sign = VITAL_SIGNS[name]

    assert implausible({name: sign.low}) == {}
    assert implausible({name: sign.high}) == {}


@given(vitals)
def test_plausible_values_have_no_reasons_but_the_order_of_the_pressures(values: Vitals) -> None:
    reasons = implausible(values.present())

    assert set(reasons) <= {"bp_systolic", "bp_diastolic"}
    if reasons:
        assert values.bp_systolic is not None and values.bp_diastolic is not None
        assert values.bp_systolic <= values.bp_diastolic
