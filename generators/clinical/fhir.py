"""A clinical record as FHIR R4 resources: Condition, Encounter, Observation (vital signs
and labs), DiagnosticReport and MedicationRequest beside the Patient, Immunizations and
allergy.

Resources refer to each other as `Type/id` and come out in an order where each reference
points back at one already listed (Patient, Conditions, then per visit its Encounter,
Observations, DiagnosticReports, MedicationRequests), so a server that checks references
as it writes each entry of a transaction finds them, and NDJSON loads type by type.
Built as plain dicts from parts made once; resources share those parts, so they are to
be read, not changed.
"""

from functools import cache
from typing import Any

from generators.clinical import catalog
from generators.clinical.model import ClinicalRecord, LabReport, Prescription, Problem, Visit
from generators.records import SYNTHETIC_TAG
from mappers import icd10cm
from mappers.vitals import BLOOD_PRESSURE_PANEL, LOINC, UCUM, VITAL_SIGNS, VITAL_SIGNS_CATEGORY

Resource = dict[str, Any]

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"
_META = {"tag": [SYNTHETIC_TAG]}


def _concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if text is not None:
        concept["text"] = text
    return concept


def _status(system: str, code: str) -> dict[str, Any]:
    return _concept(f"{_TERMINOLOGY}/{system}", code)


_ACTIVE = _status("condition-clinical", "active")
_RESOLVED = _status("condition-clinical", "resolved")
_CONFIRMED = _status("condition-ver-status", "confirmed")
_PROBLEM_LIST = [_status("condition-category", "problem-list-item")]
_ENCOUNTER_DIAGNOSIS = [_status("condition-category", "encounter-diagnosis")]
_AMBULATORY = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"}
_LABORATORY = [_concept(f"{_TERMINOLOGY}/observation-category", "laboratory", "Laboratory")]
_LAB_REPORT = [_concept(f"{_TERMINOLOGY}/v2-0074", "LAB", "Laboratory")]
_INTERPRETATIONS = {
    flag: [_concept(f"{_TERMINOLOGY}/v3-ObservationInterpretation", flag, display)]
    for flag, display in (("L", "Low"), ("N", "Normal"), ("H", "High"))
}
_VITAL_CATEGORY = [VITAL_SIGNS_CATEGORY]


def _loinc(code: str, display: str) -> dict[str, Any]:
    return _concept(LOINC, code, display, display)


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


@cache
def _condition_code(code: str) -> dict[str, Any]:
    # Looked up on first use: the release's table loads in a fraction of a second, which
    # what never writes a Condition should not pay.
    description = icd10cm.description(code)
    return _concept(icd10cm.SYSTEM, code, description, description)


_VISIT_TYPES = {code: [_concept(CPT_SYSTEM, code)] for code in catalog.FEES}
_VITAL_CODES = {name: _loinc(*sign.codings[0]) for name, sign in VITAL_SIGNS.items()}
_VITAL_UNITS = {name: sign.unit for name, sign in VITAL_SIGNS.items()}
_PRESSURE_CODE = _loinc(*BLOOD_PRESSURE_PANEL)
_PANEL_CODES = {loinc: _loinc(panel.loinc, panel.display) for loinc, panel in catalog.PANELS.items()}
_TEST_PARTS = {
    loinc: tuple(
        (
            _loinc(test.loinc, test.display),
            test.unit,
            [{"low": _quantity(test.low, test.unit), "high": _quantity(test.high, test.unit)}],
            test.low,
            test.high,
        )
        for test in panel.tests
    )
    for loinc, panel in catalog.PANELS.items()
}
_MEDICATIONS = {medication: {"text": medication} for medication in catalog.DOSAGES}
_DOSAGES = {medication: [{"text": text}] for medication, text in catalog.DOSAGES.items()}


def resources(record: ClinicalRecord) -> list[Resource]:
    """Every resource of the record, Patient first, each after what it refers to."""
    patient, *immunization_record = record.resources
    subject = {"reference": f"Patient/{record.person.patient_id}"}
    offset = _offset(record.utc_offset_hours)
    made: list[Resource] = [patient]
    made += (_condition(problem, subject) for problem in record.problems)
    provider = {
        "identifier": {"system": NPI_SYSTEM, "value": record.provider.npi},
        "display": record.provider.name,
    }
    for visit in record.visits:
        made += _visit(visit, subject, provider, offset)
    made += immunization_record
    return made


def _offset(hours: int) -> str:
    sign = "-" if hours < 0 else "+"
    return f"{sign}{abs(hours):02d}:00"


def _condition(problem: Problem, subject: dict[str, str]) -> Resource:
    # Visits name their Conditions (Encounter.diagnosis); a Condition naming its visit
    # back would make a cycle no order of entries satisfies.
    onset = problem.onset.isoformat()
    condition: Resource = {
        "resourceType": "Condition",
        "id": problem.condition_id,
        "meta": _META,
        "clinicalStatus": _ACTIVE if problem.abatement is None else _RESOLVED,
        "verificationStatus": _CONFIRMED,
        "category": _PROBLEM_LIST if problem.chronic else _ENCOUNTER_DIAGNOSIS,
        "code": _condition_code(problem.code),
        "subject": subject,
        "onsetDateTime": onset,
        "recordedDate": onset,
    }
    if problem.abatement is not None:
        condition["abatementDateTime"] = problem.abatement.isoformat()
    return condition


def _visit(visit: Visit, subject: dict[str, str], provider: dict[str, Any], offset: str) -> list[Resource]:
    day = visit.day.isoformat()
    start = f"{day}T{visit.start_minute // 60:02d}:{visit.start_minute % 60:02d}:00{offset}"
    end_minute = visit.start_minute + visit.minutes
    end = f"{day}T{end_minute // 60:02d}:{end_minute % 60:02d}:00{offset}"
    conditions = [{"reference": f"Condition/{condition_id}"} for condition_id in visit.condition_ids]
    encounter_ref = {"reference": f"Encounter/{visit.encounter_id}"}
    made: list[Resource] = [
        {
            "resourceType": "Encounter",
            "id": visit.encounter_id,
            "meta": _META,
            "status": "finished",
            "class": _AMBULATORY,
            "type": _VISIT_TYPES[visit.lines[0].cpt],
            "subject": subject,
            "period": {"start": start, "end": end},
            "reasonReference": conditions,
            "diagnosis": [{"condition": condition, "rank": rank} for rank, condition in enumerate(conditions, start=1)],
            "serviceProvider": provider,
        }
    ]
    made += _vital_signs(visit, subject, encounter_ref, start)
    # Results are issued two hours after the visit ends.
    issued_minute = end_minute + 120
    issued = f"{day}T{issued_minute // 60:02d}:{issued_minute % 60:02d}:00{offset}"
    for report in visit.labs:
        made += _lab_report(report, subject, encounter_ref, start, issued)
    made += (_prescription(item, subject, encounter_ref, day) for item in visit.prescriptions)
    return made


def _vital_signs(visit: Visit, subject: dict[str, str], encounter: dict[str, str], effective: str) -> list[Resource]:
    made: list[Resource] = []
    pressure: Resource | None = None
    for name, value, observation_id in visit.vitals:
        quantity = _quantity(value, _VITAL_UNITS[name])
        if name in ("bp_systolic", "bp_diastolic"):
            if pressure is None:
                pressure = _observation(observation_id, _VITAL_CATEGORY, _PRESSURE_CODE, subject, encounter, effective)
                pressure["component"] = []
                made.append(pressure)
            pressure["component"].append({"code": _VITAL_CODES[name], "valueQuantity": quantity})
            continue
        observation = _observation(observation_id, _VITAL_CATEGORY, _VITAL_CODES[name], subject, encounter, effective)
        observation["valueQuantity"] = quantity
        made.append(observation)
    return made


def _observation(
    observation_id: str,
    category: list[dict[str, Any]],
    code: dict[str, Any],
    subject: dict[str, str],
    encounter: dict[str, str],
    effective: str,
) -> Resource:
    return {
        "resourceType": "Observation",
        "id": observation_id,
        "meta": _META,
        "status": "final",
        "category": category,
        "code": code,
        "subject": subject,
        "encounter": encounter,
        "effectiveDateTime": effective,
    }


def _lab_report(
    report: LabReport, subject: dict[str, str], encounter: dict[str, str], effective: str, issued: str
) -> list[Resource]:
    made: list[Resource] = []
    for observation_id, value, (code, unit, reference_range, low, high) in zip(
        report.result_ids, report.values, _TEST_PARTS[report.panel], strict=True
    ):
        observation = _observation(observation_id, _LABORATORY, code, subject, encounter, effective)
        observation["valueQuantity"] = _quantity(value, unit)
        observation["referenceRange"] = reference_range
        observation["interpretation"] = _INTERPRETATIONS["L" if value < low else "H" if value > high else "N"]
        made.append(observation)
    made.append(
        {
            "resourceType": "DiagnosticReport",
            "id": report.report_id,
            "meta": _META,
            "status": "final",
            "category": _LAB_REPORT,
            "code": _PANEL_CODES[report.panel],
            "subject": subject,
            "encounter": encounter,
            "effectiveDateTime": effective,
            "issued": issued,
            "result": [{"reference": f"Observation/{result_id}"} for result_id in report.result_ids],
        }
    )
    return made


def _prescription(item: Prescription, subject: dict[str, str], encounter: dict[str, str], day: str) -> Resource:
    return {
        "resourceType": "MedicationRequest",
        "id": item.request_id,
        "meta": _META,
        "status": "active" if item.active else "completed",
        "intent": "order",
        "medicationCodeableConcept": _MEDICATIONS[item.medication],
        "subject": subject,
        "encounter": encounter,
        "authoredOn": day,
        "reasonReference": [{"reference": f"Condition/{item.condition_id}"}],
        "dosageInstruction": _DOSAGES[item.medication],
    }
