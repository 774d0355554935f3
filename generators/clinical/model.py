"""What a synthetic clinical record holds, in the terms every output format shares.

The FHIR resources, the CSV rows and the X12 transactions of one patient are all written
from one `ClinicalRecord`, so they tell the same story: the diagnosis a claim bills is the
Condition its Encounter addresses, the member an 834 enrols is the Patient.
Money is in cents, so no format rounds it differently. The classes made for every record
are not frozen: a frozen dataclass costs a call per field to build, and records are made
by the hundred thousand; nothing changes them once made.
"""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal

Resource = dict[str, Any]


@lru_cache(maxsize=1 << 14)
def dollars(cents: int) -> str:
    """An amount as every format writes it: dollars with two decimals. Fees are a short
    list, so amounts recur."""
    return f"{cents // 100}.{cents % 100:02d}"


Gender = Literal["female", "male", "other", "unknown"]


@dataclass(frozen=True, slots=True)
class Address:
    line: str
    city: str
    province: str
    postal_code: str
    country: str = "CA"


@dataclass(slots=True)
class Person:
    """The patient, who is also the insurance plan's member and the claims' subscriber."""

    patient_id: str
    # The provincial health number, which is also the member id.
    member_id: str
    given: str
    family: str
    birth_date: date
    gender: Gender
    address: Address
    phone: str


@dataclass(frozen=True, slots=True)
class Provider:
    """The clinic that sees the patient and bills for it."""

    npi: str
    name: str
    tax_id: str
    address: Address
    phone: str


@dataclass(frozen=True, slots=True)
class Payer:
    name: str
    payer_id: str


@dataclass(frozen=True, slots=True)
class Coverage:
    """The member's enrolment: the plan, its group and since when it covers them."""

    payer: Payer
    group_number: str
    plan_code: str
    start: date


@dataclass(slots=True)
class ServiceLine:
    """One billed procedure of a visit, pointing at the claim's diagnoses (1-based). CPT
    codes only: their descriptions are licensed by the AMA and not shipped."""

    cpt: str
    charge_cents: int
    units: int
    diagnosis_pointers: tuple[int, ...]


@dataclass(slots=True)
class Problem:
    """A diagnosis (Condition): chronic ones stay active, acute ones resolve."""

    condition_id: str
    code: str
    chronic: bool
    onset: date
    abatement: date | None


@dataclass(slots=True)
class LabReport:
    """A panel drawn at a visit (DiagnosticReport) and its results (Observations), one
    value per test of the panel, in the panel's order."""

    report_id: str
    panel: str
    result_ids: tuple[str, ...]
    values: tuple[float, ...]


@dataclass(slots=True)
class Prescription:
    """A medication ordered at a visit for one of its diagnoses (MedicationRequest)."""

    request_id: str
    medication: str
    condition_id: str
    active: bool


@dataclass(slots=True)
class Visit:
    """One outpatient encounter and its claim: the diagnoses it addressed (ICD-10-CM, as
    the release writes them, principal first), what was billed, and what was measured,
    drawn and prescribed."""

    encounter_id: str
    claim_id: str
    day: date
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    place_of_service: str = "11"
    # Minutes after midnight, clinic time, and how long the visit took.
    start_minute: int = 9 * 60
    minutes: int = 20
    condition_ids: tuple[str, ...] = ()
    # (vital sign name as mappers.vitals names it, value, Observation id); blood pressure
    # is one Observation, so both of its halves carry the same id.
    vitals: tuple[tuple[str, float, str], ...] = ()
    # The panels drawn (LOINC), and their reports with the results, in the same order.
    panels: tuple[str, ...] = ()
    labs: tuple[LabReport, ...] = ()
    prescriptions: tuple[Prescription, ...] = ()

    @property
    def total_cents(self) -> int:
        return sum(line.charge_cents * line.units for line in self.lines)


@dataclass(slots=True)
class ClinicalRecord:
    """One patient: who they are, their coverage, the clinic, their problems and visits.
    `resources` are the FHIR resources the immunization generator made for them (for the
    FHIR formats only): the Patient, its Immunizations and any AllergyIntolerance; the
    rest of the record becomes FHIR only when a format asks for it."""

    index: int
    person: Person
    coverage: Coverage
    provider: Provider
    visits: tuple[Visit, ...]
    resources: tuple[Resource, ...]
    problems: tuple[Problem, ...] = ()
    utc_offset_hours: int = -8
