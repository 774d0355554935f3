"""Patient <-> FHIR Patient: lossless, valid R4B, forgiving on read, careful on write-over."""

import copy
import string
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from fhir.resources.R4B.patient import Patient as R4BPatient
from hypothesis import given, settings
from hypothesis import strategies as st

from mappers.health_numbers import bc_phn_check_digit, on_hcn_check_digit
from mappers.name_keys import name_keys
from mappers.patient import (
    IDENTIFIER_VERSION_EXTENSION,
    PROVINCE_HEALTH_NUMBER_SYSTEMS,
    Address,
    Patient,
    insurance_system,
    mrn_system,
    name_key_system,
    to_domain,
    to_fhir,
)

BASE = "https://fhir-gateway.test"
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZàéèëïôöüçñøÉÖ"

word = st.text(alphabet=LETTERS, min_size=1, max_size=10)
name_part = st.builds(lambda first, rest: first + rest, word, st.sampled_from(["", "-Ève", "'s", " Jr"]))
given_names = st.lists(word, min_size=1, max_size=3).map(" ".join)
family_names = st.lists(name_part, min_size=1, max_size=2).map(" ".join)
free_text = st.text(alphabet=LETTERS + "0123456789 .,#-", min_size=1, max_size=20).filter(str.strip)


def _complete_bc_phn(payload: str, fallback: int) -> str:
    # Some payloads have no valid check digit; such numbers must still make the trip intact.
    check = bc_phn_check_digit(payload)
    return payload + str(check if check is not None else fallback)


bc_phns = st.builds(
    _complete_bc_phn,
    st.text(alphabet=string.digits, min_size=8, max_size=8).map(lambda rest: "9" + rest),
    st.integers(0, 9),
)
on_hcns = st.builds(
    lambda payload, version: f"{payload}{on_hcn_check_digit(payload)}{version}",
    st.text(alphabet=string.digits, min_size=9, max_size=9),
    st.sampled_from(["", "AB", "ZK"]),
)

insurance = st.one_of(
    st.tuples(st.none(), st.text(alphabet="0123456789ABC", min_size=1, max_size=12)),
    st.tuples(st.just("BC"), bc_phns),
    st.tuples(st.just("ON"), on_hcns),
    st.tuples(st.sampled_from(["QC", "AB", "YT"]), st.text(alphabet="0123456789ABC", min_size=1, max_size=12)),
)

addresses = st.builds(
    Address,
    line=st.lists(free_text, max_size=2),
    city=st.none() | free_text,
    province=st.none() | st.sampled_from(["BC", "ON", "WA"]),
    postal_code=st.none() | st.sampled_from(["V5K 0A1", "M5V 2T6", "98101"]),
    country=st.none() | st.sampled_from(["CA", "US"]),
).filter(lambda address: not address.is_empty())

instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30))]),
)


# Not st.emails(): the first draw from it in a process builds its domain strategy from the IANA
# TLD list and a regex, and the regex builds Hypothesis' table of UTF-8-encodable characters:
# 1-8 s inside one draw when .hypothesis/ holds no cached table, still 0.27 s when it does,
# against the 1 s the too_slow health check allows. The mapping treats an email as opaque
# text, so dot-atoms of RFC 5322 atext on a few domain shapes cover what it has to carry over.
email_atoms = st.text(alphabet=string.ascii_letters + string.digits + "!#$%&'*+-/=^_`{|}~", min_size=1, max_size=12)
domain_labels = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)
emails = st.builds(
    "{}@{}.{}".format,
    st.lists(email_atoms, min_size=1, max_size=3).map(".".join),
    st.one_of(domain_labels, st.builds("{}-{}".format, domain_labels, domain_labels)),
    st.sampled_from(["ca", "com", "org", "health", "gc.ca"]),
)


def _patient(insurance: tuple[str | None, str] | None, **fields: Any) -> Patient:
    province, number = insurance or (None, None)
    return Patient.model_validate({**fields, "province": province, "insurance_no": number})


# Declarative rather than @st.composite, so that @given builds and validates every part up front
# instead of during the first, timed, draw.
patients = st.builds(
    _patient,
    insurance=st.none() | insurance,
    id=st.none() | st.text(alphabet="abcdef0123456789-", min_size=1, max_size=36),
    version=st.none() | st.integers(1, 999).map(str),
    updated_at=st.none() | instants,
    mrn=st.none() | st.integers(0, 10**8 - 1).map(lambda n: f"MRN-{n:08d}"),
    given_name=st.none() | given_names,
    family_name=st.none() | family_names,
    birth_date=st.none() | st.dates(date(1900, 1, 1), date(2030, 1, 1)),
    gender=st.none() | st.sampled_from(["male", "female", "other", "unknown"]),
    phone=st.none() | st.sampled_from(["+1 604 555 0100", "(416) 555-0199 x12"]),
    email=st.none() | emails,
    address=st.none() | addresses,
)

# fhir.resources builds the validator of each nested element type on first use: about 100 ms for
# a Patient with every element the mapping writes, near 200 ms on a busy machine. Paid here, it
# is not part of any example's run time (which a deadline, where one is set, would fail).
R4BPatient.model_validate(
    to_fhir(
        Patient(
            id="warm-up",
            version="1",
            updated_at=datetime(2024, 1, 1, tzinfo=UTC),
            mrn="MRN-00000001",
            province="ON",
            insurance_no="9876543217AB",
            given_name="Ada",
            family_name="Lovelace",
            birth_date=date(1980, 12, 10),
            gender="female",
            phone="+1 604 555 0100",
            email="ada@example.org",
            address=Address(line=["1 Main St"], city="Toronto", province="ON", postal_code="M5V 2T6", country="CA"),
        ),
        system_base=BASE,
    )
)


@settings(max_examples=300)
@given(patients)
def test_round_trip_is_lossless(patient: Patient) -> None:
    assert to_domain(to_fhir(patient, system_base=BASE), system_base=BASE) == patient


@settings(max_examples=150)
@given(patients)
def test_every_produced_resource_is_a_valid_r4b_patient(patient: Patient) -> None:
    resource = to_fhir(patient, system_base=BASE)

    R4BPatient.model_validate(resource)


@given(patients)
def test_the_resource_carries_the_name_keys_of_its_names(patient: Patient) -> None:
    resource = to_fhir(patient, system_base=BASE)

    tags = [tag["code"] for tag in resource.get("meta", {}).get("tag", [])]
    assert tags == name_keys(patient.given_name, patient.family_name)


def test_mapping_follows_the_documented_elements() -> None:
    patient = Patient(
        id="p1",
        mrn="MRN-00012345",
        province="ON",
        insurance_no="9876543217AB",
        given_name="Ada Marie",
        family_name="Lovelace",
        birth_date=date(1980, 12, 10),
        gender="female",
        phone="+1 604 555 0100",
        email="ada@example.org",
        address=Address(line=["123 Fake St"], city="Toronto", province="ON", postal_code="M5V 2T6", country="CA"),
    )

    resource = to_fhir(patient, system_base=BASE)

    assert resource["identifier"] == [
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "MR",
                        "display": "Medical record number",
                    }
                ]
            },
            "system": f"{BASE}/mrn",
            "value": "MRN-00012345",
        },
        {
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "JHN",
                        "display": "Jurisdictional health number (Canada)",
                    }
                ]
            },
            "system": "https://fhir.infoway-inforoute.ca/NamingSystem/ca-on-patient-hcn",
            "value": "9876543217",
            "extension": [{"url": IDENTIFIER_VERSION_EXTENSION, "valueString": "AB"}],
        },
    ]
    assert resource["name"] == [{"use": "official", "family": "Lovelace", "given": ["Ada", "Marie"]}]
    assert resource["telecom"] == [
        {"system": "phone", "value": "+1 604 555 0100"},
        {"system": "email", "value": "ada@example.org"},
    ]
    assert resource["birthDate"] == "1980-12-10"
    assert resource["gender"] == "female"
    assert resource["address"] == [
        {"line": ["123 Fake St"], "city": "Toronto", "state": "ON", "postalCode": "M5V 2T6", "country": "CA"}
    ]
    assert {tag["system"] for tag in resource["meta"]["tag"]} == {name_key_system(BASE)}


def test_insurance_systems_per_province() -> None:
    assert insurance_system(BASE, "BC") == "https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id"
    assert insurance_system(BASE, None) == f"{BASE}/insurance-no"
    assert len(PROVINCE_HEALTH_NUMBER_SYSTEMS) == 13
    without_province = to_fhir(Patient(insurance_no="X123"), system_base=BASE)["identifier"][0]
    assert without_province["type"]["coding"][0]["code"] == "MB"


def test_text_is_tidied_so_that_it_survives_the_trip() -> None:
    patient = Patient(given_name="  Ada   Marie ", family_name=" ", phone="", address=Address(line=[" "]))

    assert patient.given_name == "Ada Marie"
    assert patient.family_name is None
    assert patient.phone is None
    assert patient.address is None


FOREIGN_PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "foreign-1",
    "meta": {"versionId": "7", "lastUpdated": "2024-05-01T10:00:00.000+00:00", "profile": ["http://example.org/p"]},
    "extension": [{"url": "http://example.org/ethnicity", "valueString": "x"}],
    "identifier": [
        {"system": "http://hospital.example/mrn", "value": "H-1"},
        {"value": "no-system"},
        {"system": f"{BASE}/mrn", "value": "MRN-00000042"},
        {"system": PROVINCE_HEALTH_NUMBER_SYSTEMS["BC"], "value": "9698658215"},
    ],
    "name": [
        {"use": "nickname", "given": ["Addie"]},
        {"use": "official", "family": "Lovelace", "given": ["Ada", 7, "Marie"]},
    ],
    "telecom": [
        {"system": "fax", "value": "+1 604 555 0199"},
        {"system": "phone"},
        {"system": "phone", "value": "+1 604 555 0100"},
    ],
    "gender": "female",
    "birthDate": "1980-12",
    "communication": [{"language": {"text": "French"}}],
    "contact": "not a list",
    "address": "not a list either",
}


def test_unknown_and_malformed_content_is_ignored_on_read() -> None:
    patient = to_domain(FOREIGN_PATIENT, system_base=BASE)

    assert patient == Patient(
        id="foreign-1",
        version="7",
        updated_at=datetime(2024, 5, 1, 10, tzinfo=UTC),
        mrn="MRN-00000042",
        province="BC",
        insurance_no="9698658215",
        given_name="Ada Marie",
        family_name="Lovelace",
        # A partial birth date has no place in a date field.
        birth_date=None,
        gender="female",
        phone="+1 604 555 0100",
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
patient_elements = st.sampled_from(
    ["id", "meta", "identifier", "name", "telecom", "gender", "birthDate", "address", "extension"]
)
# st.dictionaries() validates its values on its first draw, and validating unrestricted text is
# what first builds Hypothesis' table of UTF-8-encodable characters (about 2 s without a cached
# copy in .hypothesis/, several times that on a busy machine): done here, it is not timed as a draw.
json_values.validate()


@given(st.dictionaries(patient_elements, json_values))
def test_reading_never_fails_whatever_the_resource_holds(elements: dict[str, Any]) -> None:
    patient = to_domain({"resourceType": "Patient", **elements}, system_base=BASE)

    assert isinstance(patient, Patient)


def test_writing_over_a_stored_patient_keeps_what_the_mapping_does_not_own() -> None:
    stored = copy.deepcopy(FOREIGN_PATIENT)
    stored["meta"]["tag"] = [
        {"system": "http://example.org/workflow", "code": "vip"},
        {"system": name_key_system(BASE), "code": "stale"},
    ]
    stored["contact"] = [{"name": {"family": "Byron"}}]
    patient = Patient(
        id="foreign-1", mrn="MRN-00000042", given_name="Ada", family_name="King", birth_date=date(1980, 12, 10)
    )

    resource = to_fhir(patient, system_base=BASE, onto=stored)

    assert resource["extension"] == stored["extension"]
    assert resource["communication"] == stored["communication"]
    assert resource["contact"] == stored["contact"]
    assert resource["meta"]["profile"] == ["http://example.org/p"]
    # Other identifiers and telecom kinds stay; the mapping's own are replaced.
    assert resource["identifier"] == [
        {"system": "http://hospital.example/mrn", "value": "H-1"},
        {"value": "no-system"},
        to_fhir(patient, system_base=BASE)["identifier"][0],
    ]
    assert resource["telecom"] == [{"system": "fax", "value": "+1 604 555 0199"}]
    assert resource["name"] == [{"use": "official", "family": "King", "given": ["Ada"]}]
    assert "address" not in resource
    tags = resource["meta"]["tag"]
    assert {"system": "http://example.org/workflow", "code": "vip"} in tags
    assert {"system": name_key_system(BASE), "code": "stale"} not in tags
    assert {"system": name_key_system(BASE), "code": "king"} in tags
    assert "versionId" not in resource["meta"]
    R4BPatient.model_validate(resource)
    assert to_domain(resource, system_base=BASE).model_dump(exclude={"version", "updated_at"}) == patient.model_dump(
        exclude={"version", "updated_at"}
    )


def test_mrn_system_is_under_the_configured_base() -> None:
    assert mrn_system("https://example.org") == "https://example.org/mrn"
