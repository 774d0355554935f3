"""Searching clinical resources by patient, subject, encounter, status, code and date.

Two patients' charts are written once per server. Each code search uses the parameter R4
defines for that type's code: `code` on Observation and AllergyIntolerance, `vaccine-code` on
Immunization, `type` on DocumentReference and `reason-code` on Encounter (R4 has no `code`
parameter on those three).
"""

from dataclasses import dataclass

import httpx
import pytest

from tests.contract.factories import (
    CVX,
    ICD10CM,
    LOINC,
    SNOMED,
    Json,
    Tag,
    allergy_intolerance,
    document_reference,
    encounter,
    immunization,
    observation,
    patient,
)
from tests.contract.interactions import create, reference, search_ids

# What patient a's chart holds of each type; patient b has one resource of each type.
CHART_A = {
    "Observation": {"observation-a1", "observation-a2"},
    "Encounter": {"encounter-a"},
    "DocumentReference": {"documentreference-a"},
    "Immunization": {"immunization-a"},
    "AllergyIntolerance": {"allergyintolerance-a"},
}
SUBJECT_TYPES = ["Observation", "Encounter", "DocumentReference"]


@dataclass(frozen=True)
class Charts:
    """Patient a and patient b with resources of every clinical type, by key."""

    tag: Tag
    stored: dict[str, Json]

    def id(self, key: str) -> str:
        return self.stored[key]["id"]

    def keys(self, resource_type: str, ids: list[str]) -> set[str]:
        """The keys of the stored `resource_type` resources with these ids; any other id fails."""
        by_id = {
            resource["id"]: key for key, resource in self.stored.items() if resource["resourceType"] == resource_type
        }
        assert len(set(ids)) == len(ids), f"a resource was found twice: {ids}"
        return {by_id[found] for found in ids}


@pytest.fixture(scope="module")
def charts(fhir: httpx.Client) -> Charts:
    tag = Tag.new()
    stored: dict[str, Json] = {}

    def keep(key: str, resource: Json) -> str:
        stored[key] = create(fhir, resource)
        return reference(stored[key])

    a = keep("patient-a", patient(tag=tag, family="Chart", given=["Ada"]))
    b = keep("patient-b", patient(tag=tag, family="Chart", given=["Bea"]))
    visit_a = keep(
        "encounter-a",
        encounter(
            subject=a,
            tag=tag,
            status="finished",
            reason=(ICD10CM, "J30.1"),
            start="2024-03-01T10:00:00Z",
            end="2024-03-01T10:30:00Z",
        ),
    )
    visit_b = keep(
        "encounter-b",
        encounter(
            subject=b,
            tag=tag,
            status="in-progress",
            reason=(ICD10CM, "J45.909"),
            start="2024-05-10T09:00:00Z",
            end="2024-05-10T09:20:00Z",
        ),
    )
    for key, subject, visit, code, status, effective in [
        ("observation-a1", a, visit_a, "8867-4", "final", "2024-03-01T10:00:00Z"),
        ("observation-a2", a, visit_a, "8310-5", "final", "2024-03-01T10:05:00Z"),
        ("observation-b", b, visit_b, "9279-1", "amended", "2024-05-10T09:00:00Z"),
    ]:
        keep(
            key,
            observation(
                subject=subject,
                tag=tag,
                encounter=visit,
                code=(LOINC, code),
                status=status,
                effective=effective,
            ),
        )
    keep("documentreference-a", document_reference(subject=a, tag=tag, type_code=(LOINC, "11506-3")))
    keep(
        "documentreference-b",
        document_reference(subject=b, tag=tag, type_code=(LOINC, "34117-2"), status="superseded"),
    )
    keep("immunization-a", immunization(patient=a, tag=tag, vaccine=(CVX, "08")))
    keep("immunization-b", immunization(patient=b, tag=tag, vaccine=(CVX, "03"), status="not-done"))
    keep("allergyintolerance-a", allergy_intolerance(patient=a, tag=tag, code=(SNOMED, "91936005")))
    keep("allergyintolerance-b", allergy_intolerance(patient=b, tag=tag, code=(SNOMED, "300916003")))
    return Charts(tag, stored)


def _found(fhir: httpx.Client, charts: Charts, resource_type: str, *params: tuple[str, str]) -> set[str]:
    ids = search_ids(fhir, resource_type, [("_tag", charts.tag.search), *params])
    return charts.keys(resource_type, ids)


@pytest.mark.parametrize("resource_type", list(CHART_A))
def test_patient_finds_that_patients_resources_by_reference_or_bare_id(
    fhir: httpx.Client, charts: Charts, resource_type: str
) -> None:
    patient_a = charts.id("patient-a")

    assert _found(fhir, charts, resource_type, ("patient", f"Patient/{patient_a}")) == CHART_A[resource_type]
    assert _found(fhir, charts, resource_type, ("patient", patient_a)) == CHART_A[resource_type]


@pytest.mark.parametrize("resource_type", SUBJECT_TYPES)
def test_subject_finds_that_patients_resources_by_reference_or_bare_id(
    fhir: httpx.Client, charts: Charts, resource_type: str
) -> None:
    patient_a = charts.id("patient-a")

    assert _found(fhir, charts, resource_type, ("subject", f"Patient/{patient_a}")) == CHART_A[resource_type]
    assert _found(fhir, charts, resource_type, ("subject", patient_a)) == CHART_A[resource_type]


def test_encounter_finds_the_observations_of_that_encounter(fhir: httpx.Client, charts: Charts) -> None:
    visit_a = charts.id("encounter-a")

    assert _found(fhir, charts, "Observation", ("encounter", f"Encounter/{visit_a}")) == CHART_A["Observation"]
    assert _found(fhir, charts, "Observation", ("encounter", visit_a)) == CHART_A["Observation"]


@pytest.mark.parametrize(
    ("resource_type", "status", "expected"),
    [
        ("Observation", "final", {"observation-a1", "observation-a2"}),
        ("Observation", "amended", {"observation-b"}),
        ("Encounter", "finished", {"encounter-a"}),
        ("Encounter", "in-progress", {"encounter-b"}),
        ("DocumentReference", "current", {"documentreference-a"}),
        ("Immunization", "completed", {"immunization-a"}),
        ("Immunization", "not-done", {"immunization-b"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_status_is_a_token(
    fhir: httpx.Client, charts: Charts, resource_type: str, status: str, expected: set[str]
) -> None:
    assert _found(fhir, charts, resource_type, ("status", status)) == expected


@pytest.mark.parametrize(
    ("resource_type", "parameter", "system", "code", "expected"),
    [
        ("Observation", "code", LOINC, "8310-5", {"observation-a2"}),
        ("AllergyIntolerance", "code", SNOMED, "91936005", {"allergyintolerance-a"}),
        ("Immunization", "vaccine-code", CVX, "03", {"immunization-b"}),
        ("DocumentReference", "type", LOINC, "11506-3", {"documentreference-a"}),
        ("Encounter", "reason-code", ICD10CM, "J45.909", {"encounter-b"}),
    ],
    ids=lambda value: value if isinstance(value, str) and not value.startswith("http") else None,
)
def test_code_matches_system_and_code_or_code_alone(
    fhir: httpx.Client,
    charts: Charts,
    resource_type: str,
    parameter: str,
    system: str,
    code: str,
    expected: set[str],
) -> None:
    assert _found(fhir, charts, resource_type, (parameter, f"{system}|{code}")) == expected
    assert _found(fhir, charts, resource_type, (parameter, code)) == expected
    assert _found(fhir, charts, resource_type, (parameter, f"urn:test:other-system|{code}")) == set()


def test_a_comma_separated_code_is_an_or(fhir: httpx.Client, charts: Charts) -> None:
    assert _found(fhir, charts, "Observation", ("code", f"{LOINC}|8867-4,{LOINC}|9279-1")) == {
        "observation-a1",
        "observation-b",
    }


def test_patient_and_code_together_must_both_match(fhir: httpx.Client, charts: Charts) -> None:
    patient_a = charts.id("patient-a")

    assert _found(fhir, charts, "Observation", ("patient", patient_a), ("code", "8310-5")) == {"observation-a2"}
    assert _found(fhir, charts, "Observation", ("patient", patient_a), ("code", "9279-1")) == set()


@pytest.mark.parametrize(
    ("resource_type", "value", "expected"),
    [
        ("Observation", "2024-03", {"observation-a1", "observation-a2"}),
        ("Observation", "ge2024-04-01", {"observation-b"}),
        ("Observation", "lt2024-03-01T10:05:00Z", {"observation-a1"}),
        ("Observation", "le2024-03-01T10:05:00Z", {"observation-a1", "observation-a2"}),
        ("Observation", "ne2024-03-01", {"observation-b"}),
        ("Encounter", "lt2024-04-01", {"encounter-a"}),
        ("Encounter", "gt2024-05-10T09:10:00Z", {"encounter-b"}),
        ("Encounter", "2024-05-10", {"encounter-b"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_date_prefixes_compare_with_the_clinical_time(
    fhir: httpx.Client, charts: Charts, resource_type: str, value: str, expected: set[str]
) -> None:
    assert _found(fhir, charts, resource_type, ("date", value)) == expected
