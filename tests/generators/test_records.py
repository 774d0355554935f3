"""Generated records are valid FHIR, carry valid health numbers and postal codes of their
province, and say what the immunization record of a real patient would say."""

import re
from collections import Counter
from datetime import date
from functools import cache

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import BaseModel

from generators.catalog import CVX, SNOMED
from generators.places import CITIES
from generators.records import SYNTHETIC_TAG, UUID_SYSTEM, RecordGenerator
from mappers import health_numbers
from mappers.patient import PROVINCE_HEALTH_NUMBER_SYSTEMS, Patient, to_domain, to_fhir
from tests.generators.conftest import TODAY

RECORDS_PER_PROVINCE = 5_000
# Canada Post: no D, F, I, O, Q or U anywhere; W and Z never first.
POSTAL_CODE = re.compile(r"[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d")
FIRST_LETTERS = {"BC": "V", "ON": "KLMNP"}
VALID_NUMBER = {"BC": health_numbers.is_valid_bc_phn, "ON": health_numbers.is_valid_on_hcn}


@cache
def records(province: str) -> list[list[dict]]:
    return list(RecordGenerator(province, 20_251_101, TODAY).records(RECORDS_PER_PROVINCE))


@cache
def model(resource_type: str) -> type[BaseModel]:
    return get_fhir_model_class(resource_type)


def by_type(province: str, resource_type: str) -> list[dict]:
    return [
        resource for record in records(province) for resource in record if resource["resourceType"] == resource_type
    ]


def first_birthday(born: date) -> date:
    # Someone born on 29 February turns one on 1 March.
    return born.replace(year=born.year + 1) if (born.month, born.day) != (2, 29) else date(born.year + 1, 3, 1)


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_every_resource_validates_as_fhir_r4(province: str) -> None:
    for record in records(province):
        for resource in record:
            model(resource["resourceType"]).model_validate(resource)


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_health_numbers_pass_the_provincial_check_and_never_repeat(province: str) -> None:
    system = PROVINCE_HEALTH_NUMBER_SYSTEMS[province]
    numbers = [
        identifier["value"]
        for patient in by_type(province, "Patient")
        for identifier in patient["identifier"]
        if identifier["system"] == system
    ]

    assert len(numbers) == RECORDS_PER_PROVINCE
    assert [number for number in numbers if not VALID_NUMBER[province](number)] == []
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_addresses_are_in_the_province_with_its_postal_codes(province: str) -> None:
    cities = {city.name: city.postal_letter for city in CITIES[province]}
    for patient in by_type(province, "Patient"):
        (address,) = patient["address"]
        assert address["state"] == province
        assert address["country"] == "CA"
        assert POSTAL_CODE.fullmatch(address["postalCode"]), address["postalCode"]
        assert address["postalCode"][0] in FIRST_LETTERS[province]
        assert address["postalCode"][0] == cities[address["city"]]


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_the_patient_is_the_gateways_own_mapping_plus_the_generators_extras(province: str) -> None:
    patient = by_type(province, "Patient")[0]

    domain = to_domain(patient, system_base="https://fhir-gateway.dev")

    assert domain.id == patient["id"]
    assert domain.province == province
    assert domain.insurance_no and VALID_NUMBER[province](domain.insurance_no)
    assert domain.given_name and domain.family_name and domain.birth_date
    assert domain.address is not None and domain.address.postal_code == patient["address"][0]["postalCode"]
    assert {"system": UUID_SYSTEM, "value": f"urn:uuid:{patient['id']}"} in patient["identifier"]
    extension_names = {extension["url"].rsplit("/", 1)[1] for extension in patient["extension"]}
    assert {"consent-status", "ethnicity"} <= extension_names <= {"consent-status", "ethnicity", "risk-factor"}
    assert patient["communication"][0]["language"]["coding"][0]["system"] == "urn:ietf:bcp:47"


@pytest.mark.parametrize("province", ["BC", "ON"])
@pytest.mark.parametrize("system_base", ["https://fhir-gateway.dev", "https://example.org/fhir"])
def test_the_patient_is_exactly_what_the_mapper_makes_of_its_fields_plus_the_extras(
    province: str, system_base: str
) -> None:
    # Across a shard boundary, with and without middle names: key for key, in the same order.
    for record in RecordGenerator(province, 3, TODAY, system_base=system_base).records(300, start=850):
        patient = record[0]
        (number, uuid) = patient["identifier"]
        (address,) = patient["address"]
        phone, email = (telecom["value"] for telecom in patient["telecom"])
        fields = {
            "id": patient["id"],
            "province": province,
            "insurance_no": number["value"],
            "given_name": " ".join(patient["name"][0]["given"]),
            "family_name": patient["name"][0]["family"],
            "birth_date": patient["birthDate"],
            "gender": patient["gender"],
            "phone": phone,
            "email": email,
            "address": {
                "line": address["line"],
                "city": address["city"],
                "province": address["state"],
                "postal_code": address["postalCode"],
                "country": address["country"],
            },
        }
        expected = to_fhir(Patient.model_validate(fields), system_base=system_base)
        expected["meta"]["tag"].append(SYNTHETIC_TAG)
        expected["identifier"].append({"system": UUID_SYSTEM, "value": f"urn:uuid:{patient['id']}"})
        expected["extension"] = patient["extension"]
        expected["communication"] = patient["communication"]

        assert orjson.dumps(patient) == orjson.dumps(expected)
        assert uuid == {"system": UUID_SYSTEM, "value": f"urn:uuid:{patient['id']}"}


def test_some_patients_have_risk_factors_and_none_has_one_twice() -> None:
    with_risks = 0
    for patient in by_type("BC", "Patient"):
        risks = [
            ext["valueCodeableConcept"]["coding"][0]["code"] for ext in patient["extension"] if "risk" in ext["url"]
        ]
        assert len(risks) == len(set(risks))
        with_risks += bool(risks)
    assert 0.5 < with_risks / RECORDS_PER_PROVINCE < 0.8


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_immunizations_follow_the_first_birthday_and_precede_today(province: str) -> None:
    births = {patient["id"]: date.fromisoformat(patient["birthDate"]) for patient in by_type(province, "Patient")}
    for immunization in by_type(province, "Immunization"):
        born = births[immunization["patient"]["reference"].removeprefix("urn:uuid:")]
        given = date.fromisoformat(immunization["occurrenceDateTime"])
        assert first_birthday(born) < given <= TODAY


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_immunizations_carry_snomed_and_cvx_codes_and_what_was_given(province: str) -> None:
    immunizations = by_type(province, "Immunization")
    for immunization in immunizations:
        systems = [coding["system"] for coding in immunization["vaccineCode"]["coding"]]
        assert systems == [SNOMED, CVX]
        if immunization["status"] == "not-done":
            assert immunization["statusReason"]["coding"][0]["code"]
            assert "lotNumber" not in immunization
            continue
        assert immunization["status"] == "completed"
        assert re.fullmatch(r"[A-Z]{2}\d{4}[A-Z]", immunization["lotNumber"])
        assert immunization["manufacturer"]["display"]
        assert immunization["route"]["coding"][0]["code"] in ("IM", "SQ", "NASINHLC", "PO")
        assert immunization.get("site", {"coding": [{"code": "LA"}]})["coding"][0]["code"] in ("LA", "RA", "LT", "RT")
        assert immunization["doseQuantity"]["unit"] == "mL" and immunization["doseQuantity"]["value"] > 0
        assert immunization["protocolApplied"][0]["doseNumberPositiveInt"] in (1, 2)
    statuses = Counter(immunization["status"] for immunization in immunizations)
    fevers = sum("reaction" in immunization for immunization in immunizations)
    # Exemptions and fevers are the exception, yet both occur.
    assert 0 < statuses["not-done"] < 0.1 * len(immunizations)
    assert 0 < fevers < 0.15 * len(immunizations)


def test_two_immunizations_are_two_doses_or_two_vaccines_given_together() -> None:
    pairs = [record[1:3] for record in records("ON") if len(record) == 3]
    doses = concurrent = 0
    for first, second in pairs:
        if first["vaccineCode"] == second["vaccineCode"]:
            doses += 1
            assert first["occurrenceDateTime"] <= second["occurrenceDateTime"]
            if "protocolApplied" in second:
                assert second["protocolApplied"][0]["doseNumberPositiveInt"] == 2
        else:
            concurrent += 1
            assert first["occurrenceDateTime"] == second["occurrenceDateTime"]
            assert first["extension"][0]["valueCodeableConcept"]["coding"][0] == second["vaccineCode"]["coding"][1]
            assert second["extension"][0]["valueCodeableConcept"]["coding"][0] == first["vaccineCode"]["coding"][1]
    assert doses > 0 and concurrent > 0


def test_only_british_columbia_records_have_an_allergy() -> None:
    assert all(record[-1]["resourceType"] == "AllergyIntolerance" for record in records("BC"))
    assert by_type("ON", "AllergyIntolerance") == []


def test_allergies_are_snomed_coded_with_an_onset_in_the_patients_life() -> None:
    births = {patient["id"]: patient["birthDate"] for patient in by_type("BC", "Patient")}
    for allergy in by_type("BC", "AllergyIntolerance"):
        assert allergy["code"]["coding"][0]["system"] == SNOMED
        assert allergy["criticality"] in ("low", "high", "unable-to-assess")
        assert births[allergy["patient"]["reference"].removeprefix("urn:uuid:")] < allergy["onsetDateTime"]
        assert allergy["onsetDateTime"] <= allergy["recordedDate"] <= TODAY.isoformat()


def test_every_resource_is_tagged_as_test_data_and_has_a_distinct_uuid_id() -> None:
    resources = [resource for province in ("BC", "ON") for record in records(province) for resource in record]
    ids = [resource["id"] for resource in resources]

    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", id_) for id_ in ids)
    assert len(set(ids)) == len(ids)
    assert all(
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST", "display": "test health data"}
        in resource["meta"]["tag"]
        for resource in resources
    )


def test_an_unknown_province_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported province"):
        RecordGenerator("QC", 1, TODAY)
