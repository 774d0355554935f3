"""The Synthea-shaped sets: reproducible, unique per salt, valid, and consistent in themselves."""

import json
from collections.abc import Iterator

import pytest
from fhir.resources.R4B import get_fhir_model_class

from tests.synthea.elements import Json
from tests.synthea.shapes import DEFAULT_ENCOUNTERS, Style, SyntheaSet, synthea_set

PATIENT_TYPES = set(
    "Patient Encounter Condition AllergyIntolerance Observation DiagnosticReport DocumentReference Procedure"
    " Immunization MedicationRequest Medication MedicationAdministration Device SupplyDelivery ImagingStudy"
    " CareTeam CarePlan Claim ExplanationOfBenefit Provenance".split()
)
DIRECTORY_TYPES = {"Organization", "Location", "Practitioner", "PractitionerRole"}


def _resources(made: SyntheaSet) -> Iterator[Json]:
    for bundle in made.bundles:
        for entry in bundle["entry"]:
            yield entry["resource"]


def _identifiers(made: SyntheaSet) -> set[str]:
    return {identifier["value"] for resource in _resources(made) for identifier in resource.get("identifier", [])}


def _references(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


@pytest.mark.parametrize("style", list(Style))
def test_a_seed_and_salt_make_the_same_bundles_every_time(style: Style) -> None:
    first, again = (synthea_set(7, 2, salt="same", style=style) for _ in range(2))

    assert json.dumps(first.bundles) == json.dumps(again.bundles)


@pytest.mark.parametrize("style", list(Style))
def test_another_salt_shares_no_identifier(style: Style) -> None:
    one, other = (synthea_set(7, 2, salt=salt, style=style) for salt in ("one", "other"))

    # Synthea's claim-group identifier is one constant for every EOB.
    assert _identifiers(one) & _identifiers(other) == {"99999999999"}


@pytest.mark.parametrize("style", list(Style))
def test_every_resource_validates_as_fhir(style: Style) -> None:
    for resource in _resources(synthea_set(3, 2, salt="valid", style=style)):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_a_3x_export_is_two_batches_then_one_transaction_per_patient() -> None:
    made = synthea_set(5, 3, salt="layout")

    assert [bundle["type"] for bundle in made.bundles] == [
        "batch",
        "batch",
        "transaction",
        "transaction",
        "transaction",
    ]
    for batch in made.bundles[:2]:
        for entry in batch["entry"]:
            assert entry["resource"]["resourceType"] in DIRECTORY_TYPES
            assert entry["request"]["ifNoneExist"].startswith("identifier=")
    for bundle in made.patient_bundles:
        assert {entry["resource"]["resourceType"] for entry in bundle["entry"]} == PATIENT_TYPES
        assert 100 <= len(bundle["entry"]) <= 300


@pytest.mark.parametrize("style", list(Style))
def test_the_provenance_targets_every_other_entry_of_its_bundle(style: Style) -> None:
    for bundle in synthea_set(5, 2, salt="provenance", style=style).patient_bundles:
        *others, last = bundle["entry"]

        assert last["resource"]["resourceType"] == "Provenance"
        assert [target["reference"] for target in last["resource"]["target"]] == [e["fullUrl"] for e in others]


def test_3x_references_leave_the_bundle_only_by_the_identifiers_its_batches_create() -> None:
    made = synthea_set(5, 3, salt="closed")
    created = {
        f"{entry['request']['url']}?{entry['request']['ifNoneExist']}" for b in made.bundles[:2] for entry in b["entry"]
    }
    for bundle in made.patient_bundles:
        full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
        for reference in _references(bundle):
            assert reference in full_urls or reference in created or reference.startswith("#"), reference


def test_a_2x_patient_bundle_carries_its_hospitals_and_clinicians() -> None:
    made = synthea_set(5, 2, salt="embedded", style=Style.V2)

    assert len(made.bundles) == 2
    for bundle in made.bundles:
        full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
        assert all(reference in full_urls or reference.startswith("#") for reference in _references(bundle))
        types = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
        assert types == PATIENT_TYPES | DIRECTORY_TYPES
        assert not any("ifNoneExist" in entry["request"] for entry in bundle["entry"])


def test_3x_counts_take_each_conditional_create_once_however_often_it_is_sent() -> None:
    made = synthea_set(5, 3, salt="counts")
    resent = SyntheaSet([*made.bundles, *made.bundles[:2]], made.hospitals, made.clinicians)

    assert made.counts["Patient"] == 3
    assert made.counts["Encounter"] == 3 * DEFAULT_ENCOUNTERS
    assert made.counts["Organization"] == made.counts["Location"] == len(made.hospitals)
    assert made.counts["Practitioner"] == made.counts["PractitionerRole"] == len(made.clinicians)
    assert resent.counts == made.counts


def test_2x_counts_take_each_patients_copy_of_a_hospital() -> None:
    made = synthea_set(5, 3, salt="counts", style=Style.V2)
    copies = [
        entry for bundle in made.bundles for entry in bundle["entry"] if entry["request"]["url"] == "Organization"
    ]

    assert made.counts["Organization"] == len(copies) > len(made.hospitals)
