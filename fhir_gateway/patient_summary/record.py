"""A patient's record, gathered for a summary in two round trips: one batch that reads the
Patient and searches each kind of record about them, newest first, then one search for the
Observations of the interactions found (not `_revinclude`, which HAPI FHIR caps at 1,000
included resources a page). A kind with more than a page is read to its first page, and
the record says which kinds were cut short."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fhir_gateway.fhir_client import FhirClient, entry_resource, error_from_entry, resource_version
from fhir_gateway.patient_scope import about
from mappers.allergy import Allergy
from mappers.allergy import to_domain as allergy_to_domain
from mappers.immunization import Immunization
from mappers.immunization import to_domain as immunization_to_domain
from mappers.interaction import Interaction
from mappers.interaction import to_domain as interaction_to_domain
from mappers.note import Note
from mappers.note import to_domain as note_to_domain

# How much of each kind a summary reads: a large record, not an unbounded one.
NOTE_PAGE = 100
ENCOUNTER_PAGE = 100
RECORD_PAGE = 200
OBSERVATION_PAGE = 500


@dataclass
class PatientRecord:
    """Everything a summary reads, as the API's own views and as the resources found (by
    resource type, the Patient aside), and the version of each resource."""

    patient: dict[str, Any]
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    immunizations: list[Immunization] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)
    vital_signs: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    medication_requests: list[dict[str, Any]] = field(default_factory=list)
    versions: list[tuple[str, str, str]] = field(default_factory=list)
    cut_short: list[str] = field(default_factory=list)


def _searches(subject: str) -> dict[str, dict[str, str | int]]:
    """The search of each kind of resource a record holds, by type."""
    return {
        "DocumentReference": {"subject": subject, "_sort": "-period,_id", "_count": NOTE_PAGE},
        "Encounter": {"subject": subject, "_sort": "-date,_id", "_count": ENCOUNTER_PAGE},
        "Observation": {"subject": subject, "category": "vital-signs", "_sort": "-date,_id", "_count": RECORD_PAGE},
        "Immunization": {"patient": subject, "_sort": "-date,_id", "_count": RECORD_PAGE},
        "AllergyIntolerance": {"patient": subject, "_count": RECORD_PAGE},
        # Written by EHRs and loaders (Synthea, say) rather than this API: read as they are.
        "Condition": {"subject": subject, "_count": RECORD_PAGE},
        "MedicationRequest": {"subject": subject, "_count": RECORD_PAGE},
    }


# What reading a record takes, as the gateway's scope checks name it: the patient, and a
# search of each kind of resource.
RECORD_READS = ("Patient.read", *(f"{kind}.search" for kind in _searches("Patient/example")))


async def gather(client: FhirClient, patient_id: str, *, system_base: str) -> PatientRecord:
    """The patient's record (404 when the patient is unknown, 410 when deleted)."""
    subject = f"Patient/{patient_id}"
    searches = _searches(subject)
    reads = [{"request": {"method": "GET", "url": subject}}] + [
        {"request": {"method": "GET", "url": f"{kind}?{urlencode(params)}"}} for kind, params in searches.items()
    ]
    answers = (await client.batch({"resourceType": "Bundle", "type": "batch", "entry": reads})).get("entry") or []
    if len(answers) != len(reads):
        raise error_from_entry({}, message=f"FHIR server answered a batch of {len(reads)} with {len(answers)} entries")
    with about("patient", patient_id):
        patient = entry_resource(answers[0])
    record = PatientRecord(patient=patient)
    found = record.resources
    for kind, answer in zip(searches, answers[1:], strict=True):
        page = entry_resource(answer)
        found[kind] = [
            entry["resource"]
            for entry in page.get("entry") or []
            if isinstance(entry.get("resource"), dict)
            and entry["resource"].get("resourceType") == kind
            and (entry.get("search") or {}).get("mode") != "outcome"
        ]
        if any(link.get("relation") == "next" for link in page.get("link") or []):
            record.cut_short.append(kind)

    # A note's own vital signs are what its text says: the text is what the summary reads.
    record.notes = [
        note_to_domain(resource, [], patient_id, system_base=system_base) for resource in found["DocumentReference"]
    ]
    encounters = found["Encounter"]
    made: dict[str, list[dict[str, Any]]] = {resource["id"]: [] for resource in encounters}
    if made:
        references = ",".join(f"Encounter/{encounter_id}" for encounter_id in made)
        async for resource in client.search_all(
            "Observation", [("encounter", references), ("_count", str(OBSERVATION_PAGE))]
        ):
            reference = str((resource.get("encounter") or {}).get("reference") or "")
            if resource.get("resourceType") == "Observation":
                made.get(reference.removeprefix("Encounter/"), []).append(resource)
    record.interactions = [
        interaction_to_domain(resource, made[resource["id"]], system_base=system_base) for resource in encounters
    ]
    record.vital_signs = found["Observation"]
    record.immunizations = [immunization_to_domain(r, patient_id) for r in found["Immunization"]]
    record.allergies = [allergy_to_domain(r, patient_id) for r in found["AllergyIntolerance"]]
    record.conditions = found["Condition"]
    record.medication_requests = found["MedicationRequest"]
    every = [patient, *(resource for resources in found.values() for resource in resources)]
    record.versions = sorted({(str(r.get("resourceType")), str(r.get("id")), resource_version(r) or "") for r in every})
    return record
