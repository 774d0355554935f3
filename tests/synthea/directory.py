"""Hospitals and clinicians, and the batch bundles Synthea 3.x exports them in.

Synthea writes `hospitalInformation*.json` (an Organization and its Location per hospital) and
`practitionerInformation*.json` (a Practitioner and a PractitionerRole per clinician) as batch
bundles whose entries are conditional creates on the resource's identifier, so posting them
again, or after another export, stores nothing twice. Synthea's PractitionerRole carries no
identifier and no `ifNoneExist`; here it carries both, so re-sending the practitioner bundle
writes nothing, as for the three other types.
"""

import random
from dataclasses import dataclass

from tests.synthea.elements import (
    NPI,
    SYNTHEA,
    SYNTHEA_EXTENSION,
    BundleBuilder,
    Json,
    by_identifier,
    concept,
    new_uuid,
    search_url,
    us_core,
)
from tests.synthea.terminology import CITIES, FAMILY_NAMES, GIVEN_NAMES, NUCC, STREETS, TERMINOLOGY


@dataclass(frozen=True)
class Address:
    line: str
    city: str
    postal_code: str

    def json(self) -> Json:
        return {"line": [self.line], "city": self.city, "state": "MA", "postalCode": self.postal_code, "country": "US"}


@dataclass(frozen=True)
class Hospital:
    """A provider organisation: the Synthea identifiers of its Organization and its Location."""

    organization_id: str
    location_id: str
    name: str
    address: Address
    phone: str
    latitude: float
    longitude: float

    @property
    def organization_url(self) -> str:
        return search_url("Organization", SYNTHEA, self.organization_id)

    @property
    def location_url(self) -> str:
        return search_url("Location", SYNTHEA, self.location_id)


@dataclass(frozen=True)
class Clinician:
    """A practitioner of one hospital, known by NPI; `role_id` identifies its PractitionerRole."""

    npi: str
    role_id: str
    hospital: Hospital
    given: str
    family: str
    gender: str
    address: Address

    @property
    def display(self) -> str:
        return f"Dr. {self.given} {self.family}"

    @property
    def practitioner_url(self) -> str:
        return search_url("Practitioner", NPI, self.npi)

    @property
    def email(self) -> str:
        return f"{self.given}.{self.family}@example.com"


def synthea_name(rng: random.Random, names: tuple[str, ...]) -> str:
    """A name as Synthea makes them unique: a common name with a number appended (`Ingrid581`)."""
    return f"{rng.choice(names)}{rng.randrange(10, 1000)}"


def address(rng: random.Random) -> Address:
    city, postal_code = rng.choice(CITIES)
    return Address(f"{rng.randrange(1, 999)} {rng.choice(STREETS)}", city, postal_code)


def phone(rng: random.Random) -> str:
    return f"{rng.randrange(200, 999)}-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"


def make_hospitals(rng: random.Random, count: int) -> list[Hospital]:
    return [
        Hospital(
            organization_id=new_uuid(rng),
            location_id=new_uuid(rng),
            name=f"{rng.choice(FAMILY_NAMES).upper()} {rng.choice(['MEDICAL CENTER', 'HOSPITAL', 'HEALTH CENTER'])}",
            address=address(rng),
            phone=phone(rng),
            latitude=round(rng.uniform(41.3, 42.8), 6),
            longitude=round(rng.uniform(-73.4, -70.0), 6),
        )
        for _ in range(count)
    ]


def make_clinicians(rng: random.Random, hospitals: list[Hospital], per_hospital: int) -> list[Clinician]:
    """`per_hospital` clinicians of each hospital. Synthea's NPIs are ten digits starting with 9;
    nine random ones make two runs on one server as good as never share one."""
    return [
        Clinician(
            npi=f"9{rng.randrange(10**9):09d}",
            role_id=new_uuid(rng),
            hospital=hospital,
            given=synthea_name(rng, GIVEN_NAMES),
            family=synthea_name(rng, FAMILY_NAMES),
            gender=rng.choice(["male", "female"]),
            address=address(rng),
        )
        for hospital in hospitals
        for _ in range(per_hospital)
    ]


def _utilization(kind: str, value: int) -> Json:
    return {"url": f"{SYNTHEA_EXTENSION}utilization-{kind}-extension", "valueInteger": value}


def organization(rng: random.Random, hospital: Hospital) -> Json:
    return {
        "resourceType": "Organization",
        "extension": [_utilization(kind, rng.randrange(10, 5000)) for kind in ("encounters", "procedures", "labs")],
        "identifier": [{"system": SYNTHEA, "value": hospital.organization_id}],
        "active": True,
        "type": [concept(f"{TERMINOLOGY}organization-type", "prov", "Healthcare Provider")],
        "name": hospital.name,
        "telecom": [{"system": "phone", "value": hospital.phone}],
        "address": [hospital.address.json()],
    }


def location(hospital: Hospital, managing_organization: Json, *, identified: bool = True) -> Json:
    """The hospital's Location; Synthea 2.x wrote it without an identifier."""
    resource: Json = {
        "resourceType": "Location",
        "status": "active",
        "name": hospital.name,
        "telecom": [{"system": "phone", "value": hospital.phone}],
        "address": hospital.address.json(),
        "position": {"longitude": hospital.longitude, "latitude": hospital.latitude},
        "managingOrganization": managing_organization,
    }
    if identified:
        resource["identifier"] = [{"system": SYNTHEA, "value": hospital.location_id}]
    return resource


def practitioner(rng: random.Random, clinician: Clinician) -> Json:
    return {
        "resourceType": "Practitioner",
        "extension": [_utilization("encounters", rng.randrange(10, 2000))],
        "identifier": [{"system": NPI, "value": clinician.npi}],
        "active": True,
        "name": [{"family": clinician.family, "given": [clinician.given], "prefix": ["Dr."]}],
        "telecom": [_direct_email(clinician)],
        "address": [clinician.address.json()],
        "gender": clinician.gender,
    }


def _direct_email(clinician: Clinician) -> Json:
    return {
        "extension": [{"url": us_core("direct"), "valueBoolean": True}],
        "system": "email",
        "value": clinician.email,
        "use": "work",
    }


def practitioner_role(
    clinician: Clinician, practitioner_ref: Json, organization_ref: Json, location_ref: Json, *, identified: bool = True
) -> Json:
    """The clinician's role at its hospital; Synthea 2.x wrote it without an identifier."""
    general_practice = concept(NUCC, "208D00000X", "General Practice")
    resource: Json = {
        "resourceType": "PractitionerRole",
        "practitioner": practitioner_ref,
        "organization": organization_ref,
        "code": [general_practice],
        "specialty": [general_practice],
        "location": [location_ref],
        "telecom": [{"system": "phone", "value": clinician.hospital.phone}, _direct_email(clinician)],
    }
    if identified:
        resource["identifier"] = [{"system": SYNTHEA, "value": clinician.role_id}]
    return resource


def hospital_bundle(rng: random.Random, hospitals: list[Hospital], *, tag: Json | None = None) -> Json:
    """The batch of every hospital's Organization and Location, each created only if its
    identifier matches nothing; the Location names its Organization by identifier."""
    built = BundleBuilder(rng, "batch", tag)
    for hospital in hospitals:
        built.add(
            organization(rng, hospital),
            profiles=(us_core("organization"),),
            if_none_exist=f"identifier={SYNTHEA}|{hospital.organization_id}",
            resource_id=hospital.organization_id,
        )
        managed_by = by_identifier(SYNTHEA, hospital.organization_id, hospital.name)
        built.add(
            location(hospital, managed_by),
            profiles=(us_core("location"),),
            if_none_exist=f"identifier={SYNTHEA}|{hospital.location_id}",
            resource_id=hospital.location_id,
        )
    return built.bundle()


def practitioner_bundle(rng: random.Random, clinicians: list[Clinician], *, tag: Json | None = None) -> Json:
    """The batch of every clinician's Practitioner (created only if its NPI matches nothing) and
    PractitionerRole, which names the practitioner, organisation and location by identifier."""
    built = BundleBuilder(rng, "batch", tag)
    for clinician in clinicians:
        hospital = clinician.hospital
        built.add(
            practitioner(rng, clinician),
            profiles=(us_core("practitioner"),),
            if_none_exist=f"identifier={NPI}|{clinician.npi}",
        )
        built.add(
            practitioner_role(
                clinician,
                by_identifier(NPI, clinician.npi, clinician.display),
                by_identifier(SYNTHEA, hospital.organization_id, hospital.name),
                by_identifier(SYNTHEA, hospital.location_id, hospital.name),
            ),
            profiles=(us_core("practitionerrole"),),
            if_none_exist=f"identifier={SYNTHEA}|{clinician.role_id}",
        )
    return built.bundle()
