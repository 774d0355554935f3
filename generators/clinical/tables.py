"""A clinical record as rows of three flat tables, for loading into a database or a
spreadsheet: patients (who are also the plan's members), encounters (one per visit, with
its vital signs) and claim lines (one per billed procedure).

Keys join them: `patient_id` (the FHIR Patient id) and `claim_id` (the visit's claim,
which is also the 837P claim's patient control number). Dates are ISO 8601, money is in
dollars with two decimals, lists of codes are separated by `;`.
"""

import csv
import io
from collections.abc import Callable, Iterable
from functools import lru_cache

from generators.clinical.model import ClinicalRecord, dollars

TABLES: dict[str, tuple[str, ...]] = {
    "patients": (
        "patient_id",
        "member_id",
        "given_name",
        "family_name",
        "birth_date",
        "gender",
        "address_line",
        "city",
        "province",
        "postal_code",
        "country",
        "phone",
        "payer_name",
        "payer_id",
        "group_number",
        "plan_code",
        "coverage_start",
        "provider_npi",
        "provider_name",
        "diagnoses",
    ),
    "encounters": (
        "encounter_id",
        "claim_id",
        "patient_id",
        "date",
        "start",
        "minutes",
        "visit_cpt",
        "diagnoses",
        "provider_npi",
        "total_charge",
        "bp_systolic",
        "bp_diastolic",
        "heart_rate",
        "temperature_c",
        "respiratory_rate",
        "spo2",
        "height_cm",
        "weight_kg",
        "lab_panels",
        "medications",
    ),
    "claim_lines": (
        "claim_id",
        "line_number",
        "patient_id",
        "member_id",
        "service_date",
        "cpt",
        "units",
        "charge",
        "diagnoses",
        "place_of_service",
        "payer_id",
        "provider_npi",
    ),
}
_VITALS = TABLES["encounters"][10:18]
_VITAL_COLUMNS = {name: column for column, name in enumerate(_VITALS)}
_NOT_MEASURED: list[object] = [""] * len(_VITALS)
# Minutes after midnight as the hour they are.
_CLOCK = tuple(f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(24 * 60))


def header(table: str) -> bytes:
    return _csv([TABLES[table]])


def rows(tables: Iterable[str], records: Iterable[ClinicalRecord]) -> dict[str, tuple[bytes, int]]:
    """The rows of each of `tables` (no header) for `records`, as CSV, and how many there
    are. Records are read once and let go: only their rows are kept, which the garbage
    collector has far less to walk through than the records."""
    makers = {table: _ROWS[table] for table in tables}
    made: dict[str, list[tuple[object, ...]]] = {table: [] for table in makers}
    for record in records:
        for table, maker in makers.items():
            made[table] += maker(record)
    return {table: (_csv(values), len(values)) for table, values in made.items()}


def _csv(rows: Iterable[Iterable[object]]) -> bytes:
    # RFC 4180 line ends, which spreadsheets and database loaders expect.
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def _patients(record: ClinicalRecord) -> tuple[object, ...]:
    person, coverage, address = record.person, record.coverage, record.person.address
    return (
        person.patient_id,
        person.member_id,
        person.given,
        person.family,
        person.birth_date.isoformat(),
        person.gender,
        address.line,
        address.city,
        address.province,
        address.postal_code,
        address.country,
        person.phone,
        coverage.payer.name,
        coverage.payer.payer_id,
        coverage.group_number,
        coverage.plan_code,
        coverage.start.isoformat(),
        record.provider.npi,
        record.provider.name,
        ";".join(problem.code for problem in record.problems),
    )


def _encounters(record: ClinicalRecord) -> list[tuple[object, ...]]:
    made = []
    patient_id, npi = record.person.patient_id, record.provider.npi
    for visit in record.visits:
        measured = _NOT_MEASURED.copy()
        for name, value, _ in visit.vitals:
            measured[_VITAL_COLUMNS[name]] = value
        made.append(
            (
                visit.encounter_id,
                visit.claim_id,
                patient_id,
                visit.day.isoformat(),
                _CLOCK[visit.start_minute],
                visit.minutes,
                visit.lines[0].cpt,
                ";".join(visit.diagnoses),
                npi,
                dollars(visit.total_cents),
                *measured,
                ";".join(visit.panels),
                ";".join([item.medication for item in visit.prescriptions]),
            )
        )
    return made


def _claim_lines(record: ClinicalRecord) -> list[tuple[object, ...]]:
    made = []
    person, payer_id, npi = record.person, record.coverage.payer.payer_id, record.provider.npi
    patient_id, member_id = person.patient_id, person.member_id
    for visit in record.visits:
        day, diagnoses, place = visit.day.isoformat(), visit.diagnoses, visit.place_of_service
        for number, line in enumerate(visit.lines, start=1):
            made.append(
                (
                    visit.claim_id,
                    number,
                    patient_id,
                    member_id,
                    day,
                    line.cpt,
                    line.units,
                    dollars(line.charge_cents * line.units),
                    _pointed(diagnoses, line.diagnosis_pointers),
                    place,
                    payer_id,
                    npi,
                )
            )
    return made


@lru_cache(maxsize=1 << 12)
def _pointed(diagnoses: tuple[str, ...], pointers: tuple[int, ...]) -> str:
    """The diagnoses a line points at; visits share their few combinations of them."""
    return ";".join([diagnoses[pointer - 1] for pointer in pointers])


_ROWS: dict[str, Callable[[ClinicalRecord], list[tuple[object, ...]]]] = {
    "patients": lambda record: [_patients(record)],
    "encounters": _encounters,
    "claim_lines": _claim_lines,
}
