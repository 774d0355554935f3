"""Search parameters of every R4 type beyond string, token and date: references on the claims,
medication, report, procedure and care plan types, quantity, number, uri and composite.

One set of resources is written once per server; every search is scoped to its tag. Each
parameter is the one R4 defines for that type (`patient` on ExplanationOfBenefit, `probability`
on RiskAssessment, `url` on ValueSet, ...), so a server that indexes R4 answers all of them.
"""

from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest

from tests.contract.factories import LOINC, SNOMED, UCUM, Json, Tag, patient
from tests.contract.interactions import create, reference, search_ids
from tests.contract.target import COMPOSITE_PARTS_MATCH_ONE_COMPONENT, EQ_SPANS_THE_PRECISION

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOCATION_IDENTIFIER_SYSTEM = "urn:test:location"
SYSTOLIC, DIASTOLIC, BLOOD_PRESSURE = "8480-6", "8462-4", "85354-9"

# key: (value, UCUM unit). The glucose values sit inside and just outside 5.4's precision range
# (5.35 up to 5.45), never on its bounds, where decimal storage would decide.
QUANTITIES: dict[str, tuple[float, str]] = {
    "weight-70": (70, "kg"),
    "weight-72": (72, "kg"),
    "glucose-5.30": (5.30, "mmol/L"),
    "glucose-5.36": (5.36, "mmol/L"),
    "glucose-5.40": (5.40, "mmol/L"),
    "glucose-5.44": (5.44, "mmol/L"),
    "glucose-5.46": (5.46, "mmol/L"),
}
GLUCOSE = {key for key in QUANTITIES if key.startswith("glucose")}
# key: probability. `0.7` spans 0.65 up to 0.75; `0.70` spans 0.695 up to 0.705.
PROBABILITIES: dict[str, float] = {
    "risk-0.30": 0.30,
    "risk-0.66": 0.66,
    "risk-0.70": 0.70,
    "risk-0.74": 0.74,
    "risk-0.76": 0.76,
    "risk-0.90": 0.90,
}


def _concept(system: str, code: str) -> Json:
    return {"coding": [{"system": system, "code": code}]}


def _ucum(value: float, unit: str) -> Json:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


@dataclass(frozen=True)
class Records:
    """Two patients' records of every type, and the quantities, risks and canonical resources."""

    tag: Tag
    stored: dict[str, Json]
    # The unique part of this set's canonical URLs, so no other run's ValueSets match.
    url_root: str

    def id(self, key: str) -> str:
        return self.stored[key]["id"]

    def found(self, fhir: httpx.Client, resource_type: str, *params: tuple[str, str]) -> set[str]:
        """The keys of the resources a search finds; an id found twice, or not stored here, fails."""
        ids = search_ids(fhir, resource_type, [("_tag", self.tag.search), *params])
        by_id = {
            resource["id"]: key for key, resource in self.stored.items() if resource["resourceType"] == resource_type
        }
        assert len(set(ids)) == len(ids), f"a resource was found twice: {ids}"
        return {by_id[found] for found in ids}


class Keep(Protocol):
    """Create a tagged resource of `resource_type` under `key`; answer its reference."""

    def __call__(self, key: str, resource_type: str, **elements: Any) -> str: ...


def _keep_claims_and_care(keep: Keep, who: str, subject: Json, payer: Json, location_value: str) -> None:
    """One patient's claim, explanation of benefit, prescription, report, procedure and care plan."""
    coverage = {"reference": keep(f"coverage-{who}", "Coverage", status="active", beneficiary=subject, payor=[payer])}
    claimed = {
        "status": "active",
        "type": _concept(CLAIM_TYPE, "professional"),
        "use": "claim",
        "created": "2024-03-01",
    }
    keep(
        f"explanationofbenefit-{who}",
        "ExplanationOfBenefit",
        **claimed,
        patient=subject,
        insurer=payer,
        provider=payer,
        outcome="complete",
        insurance=[{"focal": True, "coverage": coverage}],
    )
    keep(
        f"claim-{who}",
        "Claim",
        **claimed,
        patient=subject,
        provider=payer,
        priority=_concept(PROCESS_PRIORITY, "normal"),
        insurance=[{"sequence": 1, "focal": True, "coverage": coverage}],
    )
    keep(
        f"medicationrequest-{who}",
        "MedicationRequest",
        status="active",
        intent="order",
        medicationCodeableConcept=_concept(RXNORM, "197361"),
        subject=subject,
    )
    keep(
        f"diagnosticreport-{who}", "DiagnosticReport", status="final", code=_concept(LOINC, "58410-2"), subject=subject
    )
    keep(
        f"procedure-{who}",
        "Procedure",
        status="completed",
        code=_concept(SNOMED, "80146002"),
        subject=subject,
        performedDateTime="2024-03-01T10:00:00Z" if who == "a" else "2024-05-10T09:00:00Z",
    )
    keep(f"careplan-{who}", "CarePlan", status="active", intent="plan", subject=subject)
    keep(
        f"location-{who}",
        "Location",
        name=f"Clinic {who.upper()}",
        identifier=[{"system": LOCATION_IDENTIFIER_SYSTEM, "value": location_value}],
    )


def _keep_measurements(keep: Keep, subject: Json) -> None:
    """The quantities, probabilities and blood pressures, all about one patient."""
    for key, (value, unit) in QUANTITIES.items():
        code = _concept(LOINC, "29463-7" if unit == "kg" else "15074-8")
        keep(key, "Observation", status="final", code=code, subject=subject, valueQuantity=_ucum(value, unit))
    for key, probability in PROBABILITIES.items():
        keep(key, "RiskAssessment", status="final", subject=subject, prediction=[{"probabilityDecimal": probability}])
    for key, code, pressure in [
        ("systolic-120", SYSTOLIC, 120),
        ("systolic-90", SYSTOLIC, 90),
        ("diastolic-120", DIASTOLIC, 120),
    ]:
        measured = _ucum(pressure, "mm[Hg]")
        keep(key, "Observation", status="final", code=_concept(LOINC, code), subject=subject, valueQuantity=measured)
    for key, systolic, diastolic in [("pressure-130-85", 130, 85), ("pressure-95-110", 95, 110)]:
        keep(
            key,
            "Observation",
            status="final",
            code=_concept(LOINC, BLOOD_PRESSURE),
            subject=subject,
            component=[
                {"code": _concept(LOINC, SYSTOLIC), "valueQuantity": _ucum(systolic, "mm[Hg]")},
                {"code": _concept(LOINC, DIASTOLIC), "valueQuantity": _ucum(diastolic, "mm[Hg]")},
            ],
        )


@pytest.fixture(scope="module")
def records(fhir: httpx.Client) -> Records:
    tag = Tag.new()
    stored: dict[str, Json] = {}

    def keep(key: str, resource_type: str, **elements: Any) -> str:
        stored[key] = create(fhir, {"resourceType": resource_type, "meta": {"tag": [tag.coding]}, **elements})
        return reference(stored[key])

    payer = {"reference": keep("payer", "Organization", name="Payer")}
    for who in ("a", "b"):
        stored[f"patient-{who}"] = create(fhir, patient(tag=tag, family="Kinds", given=[who.upper()]))
        subject = {"reference": reference(stored[f"patient-{who}"])}
        _keep_claims_and_care(keep, who, subject, payer, f"{tag.code}-{who}")
    subject = {"reference": reference(stored["patient-a"])}
    keep(
        "procedure-a-2023",
        "Procedure",
        status="completed",
        code=_concept(SNOMED, "80146002"),
        subject=subject,
        performedPeriod={"start": "2023-01-01", "end": "2023-01-02"},
    )
    _keep_measurements(keep, subject)
    url_root = f"http://example.org/fhir/{tag.code}"
    keep("valueset", "ValueSet", status="active", url=f"{url_root}/ValueSet/vitals")
    keep("valueset-child", "ValueSet", status="active", url=f"{url_root}/ValueSet/vitals/adult")
    keep("codesystem", "CodeSystem", status="active", content="not-present", url=f"{url_root}/CodeSystem/vitals")
    return Records(tag, stored, url_root)


@pytest.mark.parametrize(
    ("resource_type", "parameter"),
    [
        ("ExplanationOfBenefit", "patient"),
        ("Claim", "patient"),
        ("MedicationRequest", "patient"),
        ("DiagnosticReport", "patient"),
        ("CarePlan", "subject"),
    ],
)
def test_a_reference_parameter_finds_that_patients_resource(
    fhir: httpx.Client, records: Records, resource_type: str, parameter: str
) -> None:
    key = f"{resource_type.lower()}-a"
    patient_a = records.id("patient-a")

    assert records.found(fhir, resource_type, (parameter, f"Patient/{patient_a}")) == {key}
    assert records.found(fhir, resource_type, (parameter, patient_a)) == {key}


def test_location_identifier_is_a_token(fhir: httpx.Client, records: Records) -> None:
    value = f"{records.tag.code}-b"

    assert records.found(fhir, "Location", ("identifier", f"{LOCATION_IDENTIFIER_SYSTEM}|{value}")) == {"location-b"}
    assert records.found(fhir, "Location", ("identifier", value)) == {"location-b"}
    assert records.found(fhir, "Location", ("identifier", f"urn:test:other-system|{value}")) == set()


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-03-01", {"procedure-a"}),
        ("lt2024", {"procedure-a-2023"}),
        ("ge2023-01-02", {"procedure-a", "procedure-a-2023"}),
    ],
)
def test_procedure_patient_and_date_must_both_match(
    fhir: httpx.Client, records: Records, date: str, expected: set[str]
) -> None:
    # `date` is the time performed, a dateTime or a Period; patient b's procedure is in 2024 too.
    assert records.found(fhir, "Procedure", ("patient", records.id("patient-a")), ("date", date)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gt70", {"weight-72"}),
        ("70|http://unitsofmeasure.org|kg", {"weight-70"}),
        ("70||kg", {"weight-70"}),
        ("70|http://unitsofmeasure.org|g", set()),
        ("le5.4||mmol/L", {"glucose-5.30", "glucose-5.36", "glucose-5.40"}),
        ("lt70", GLUCOSE),
        ("le70", GLUCOSE | {"weight-70"}),
        ("ge70", {"weight-70", "weight-72"}),
        ("eq70", {"weight-70"}),
        ("ne70", GLUCOSE | {"weight-72"}),
        ("gt5.4||mmol/L", {"glucose-5.44", "glucose-5.46"}),
        ("72.0", {"weight-72"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_value_quantity_compares_the_number_with_its_prefix_and_unit(
    fhir: httpx.Client, records: Records, value: str, expected: set[str]
) -> None:
    # A prefix other than eq compares exactly, ignoring the precision the value is written to.
    assert records.found(fhir, "Observation", ("code", "29463-7,15074-8"), ("value-quantity", value)) == expected


@pytest.mark.parametrize(
    ("value", "within_precision", "exactly"),
    [
        ("5.4", {"glucose-5.36", "glucose-5.40", "glucose-5.44"}, {"glucose-5.40"}),
        ("eq5.4", {"glucose-5.36", "glucose-5.40", "glucose-5.44"}, {"glucose-5.40"}),
        ("5.4||mmol/L", {"glucose-5.36", "glucose-5.40", "glucose-5.44"}, {"glucose-5.40"}),
        ("5.40|http://unitsofmeasure.org|mmol/L", {"glucose-5.40"}, {"glucose-5.40"}),
        ("ne5.4", {"glucose-5.30", "glucose-5.46"}, GLUCOSE - {"glucose-5.40"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_value_quantity_without_a_prefix_spans_the_precision_it_is_written_to(
    fhir: httpx.Client, records: Records, value: str, within_precision: set[str], exactly: set[str]
) -> None:
    # search.html#number: `5.4` is 5.35 up to 5.45 (search.html#quantity applies the rule).
    expected = within_precision if EQ_SPANS_THE_PRECISION else exactly

    assert records.found(fhir, "Observation", ("code", "15074-8"), ("value-quantity", value)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gt0.5", {"risk-0.66", "risk-0.70", "risk-0.74", "risk-0.76", "risk-0.90"}),
        ("lt0.7", {"risk-0.30", "risk-0.66"}),
        ("le0.66", {"risk-0.30", "risk-0.66"}),
        ("ge0.74", {"risk-0.74", "risk-0.76", "risk-0.90"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_probability_is_a_number_compared_exactly_with_a_prefix(
    fhir: httpx.Client, records: Records, value: str, expected: set[str]
) -> None:
    assert records.found(fhir, "RiskAssessment", ("probability", value)) == expected


@pytest.mark.parametrize(
    ("value", "within_precision", "exactly"),
    [
        ("0.7", {"risk-0.66", "risk-0.70", "risk-0.74"}, {"risk-0.70"}),
        ("0.70", {"risk-0.70"}, {"risk-0.70"}),
        ("ne0.7", {"risk-0.30", "risk-0.76", "risk-0.90"}, set(PROBABILITIES) - {"risk-0.70"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_probability_without_a_prefix_spans_the_precision_it_is_written_to(
    fhir: httpx.Client, records: Records, value: str, within_precision: set[str], exactly: set[str]
) -> None:
    expected = within_precision if EQ_SPANS_THE_PRECISION else exactly

    assert records.found(fhir, "RiskAssessment", ("probability", value)) == expected


def test_url_matches_the_whole_uri(fhir: httpx.Client, records: Records) -> None:
    root = records.url_root

    assert records.found(fhir, "ValueSet", ("url", f"{root}/ValueSet/vitals")) == {"valueset"}
    assert records.found(fhir, "ValueSet", ("url", f"{root}/ValueSet/vit")) == set()
    assert records.found(fhir, "CodeSystem", ("url", f"{root}/CodeSystem/vitals")) == {"codesystem"}
    assert records.found(fhir, "CodeSystem", ("url", f"{root}/ValueSet/vitals")) == set()


def test_url_below_and_above_match_along_the_path(fhir: httpx.Client, records: Records) -> None:
    root = records.url_root

    assert records.found(fhir, "ValueSet", ("url:below", f"{root}/ValueSet/vitals")) == {"valueset", "valueset-child"}
    assert records.found(fhir, "ValueSet", ("url:below", f"{root}/ValueSet/vitals/adult")) == {"valueset-child"}
    assert records.found(fhir, "CodeSystem", ("url:below", f"{root}/")) == {"codesystem"}
    assert records.found(fhir, "ValueSet", ("url:above", f"{root}/ValueSet/vitals/adult/female")) == {
        "valueset",
        "valueset-child",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"{LOINC}|{SYSTOLIC}$gt100", {"systolic-120"}),
        (f"{SYSTOLIC}$gt100", {"systolic-120"}),
        (f"{LOINC}|{SYSTOLIC}$120|{UCUM}|mm[Hg]", {"systolic-120"}),
        (f"{LOINC}|{SYSTOLIC}$gt100,{LOINC}|{DIASTOLIC}$gt100", {"systolic-120", "diastolic-120"}),
    ],
    ids=["system-code-and-prefix", "code-alone", "quantity-with-unit", "either-of-two"],
)
def test_code_value_quantity_pairs_the_code_with_the_value(
    fhir: httpx.Client, records: Records, value: str, expected: set[str]
) -> None:
    assert records.found(fhir, "Observation", ("code-value-quantity", value)) == expected


def test_component_code_value_quantity_pairs_code_and_value_in_one_component(
    fhir: httpx.Client, records: Records
) -> None:
    # Only the 130/85 pressure has a systolic over 100; the 95/110 one has a diastolic over 100.
    expected = {"pressure-130-85"} if COMPOSITE_PARTS_MATCH_ONE_COMPONENT else {"pressure-130-85", "pressure-95-110"}

    assert (
        records.found(fhir, "Observation", ("component-code-value-quantity", f"{LOINC}|{SYSTOLIC}$gt100")) == expected
    )
