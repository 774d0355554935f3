"""What an encounter does for the patient: procedures, immunizations, medications, devices,
supplies, imaging, and care plans with their care teams."""

from datetime import timedelta

from tests.synthea.elements import (
    Json,
    coding,
    concept,
    date_time,
    us_core,
)
from tests.synthea.terminology import (
    CVX,
    DICOM,
    IMAGING,
    RXNORM,
    SNOMED,
    TERMINOLOGY,
    XRAY_SOP_CLASS,
    Code,
)
from tests.synthea.visit import Visit


def procedure(visit: Visit, code: Code, reason: tuple[str, Code] | None = None) -> str:
    resource: Json = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": concept(SNOMED, *code),
        "subject": visit.subject,
        "encounter": visit.encounter_ref,
        "performedPeriod": visit.period,
        "location": visit.refs.location(visit.hospital),
    }
    if reason is not None:
        reason_url, reason_code = reason
        resource["reasonReference"] = [{"reference": reason_url, "display": reason_code.display}]
    return visit.built.add(resource, profiles=(us_core("procedure"),))


def immunization(visit: Visit, vaccine: Code) -> str:
    resource: Json = {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": concept(CVX, *vaccine),
        "patient": visit.subject,
        "encounter": visit.encounter_ref,
        "occurrenceDateTime": date_time(visit.start),
        "primarySource": True,
        "location": visit.refs.location(visit.hospital),
    }
    return visit.built.add(resource, profiles=(us_core("immunization"),))


def medication_request(visit: Visit, drug: Code, reason: str | None, *, as_resource: bool) -> str:
    """A prescription: RxNorm in medicationCodeableConcept, or (`as_resource`) a Medication of its own."""
    medication: Json
    if as_resource:
        drug_resource = {"resourceType": "Medication", "code": concept(RXNORM, *drug), "status": "active"}
        medication = {
            "medicationReference": {"reference": visit.built.add(drug_resource, profiles=(us_core("medication"),))}
        }
    else:
        medication = {"medicationCodeableConcept": concept(RXNORM, *drug)}
    resource: Json = {
        "resourceType": "MedicationRequest",
        "status": visit.rng.choice(["active", "stopped"]),
        "intent": "order",
        **medication,
        "subject": visit.subject,
        "encounter": visit.encounter_ref,
        "authoredOn": date_time(visit.start),
        "requester": visit.refs.practitioner(visit.clinician),
        "dosageInstruction": [
            {
                "sequence": 1,
                "timing": {"repeat": {"frequency": visit.rng.randrange(1, 4), "period": 1.0, "periodUnit": "d"}},
                "asNeededBoolean": False,
                "doseAndRate": [
                    {
                        "type": concept(f"{TERMINOLOGY}dose-rate-type", "ordered", "Ordered"),
                        "doseQuantity": {"value": 1.0},
                    }
                ],
            }
        ],
    }
    if reason is not None:
        resource["reasonReference"] = [{"reference": reason}]
    return visit.built.add(resource, profiles=(us_core("medicationrequest"),))


def medication_administration(visit: Visit, drug: Code, reason: str | None) -> str:
    resource: Json = {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "medicationCodeableConcept": concept(RXNORM, *drug),
        "subject": visit.subject,
        "context": visit.encounter_ref,
        "effectiveDateTime": date_time(visit.start),
        "dosage": {"dose": {"value": 1.0}},
    }
    if reason is not None:
        resource["reasonReference"] = [{"reference": reason}]
    return visit.built.add(resource)


def device(visit: Visit, kind: Code) -> str:
    rng = visit.rng
    udi = f"{rng.randrange(10**13, 10**14)}"
    lot, serial = f"{rng.randrange(10**5, 10**6)}", f"{rng.randrange(10**9, 10**10)}"
    made, expires = visit.start - timedelta(days=60), visit.start + timedelta(days=3650)
    resource: Json = {
        "resourceType": "Device",
        "udiCarrier": [
            {
                "deviceIdentifier": udi,
                "carrierHRF": f"(01){udi}(11){made:%y%m%d}(17){expires:%y%m%d}(10){lot}(21){serial}",
            }
        ],
        "status": "active",
        "distinctIdentifier": udi,
        "manufactureDate": date_time(made),
        "expirationDate": date_time(expires),
        "lotNumber": lot,
        "serialNumber": serial,
        "deviceName": [{"name": kind.display, "type": "user-friendly-name"}],
        "type": concept(SNOMED, *kind),
        "patient": visit.subject,
    }
    return visit.built.add(resource, profiles=(us_core("implantable-device"),))


def supply_delivery(visit: Visit, item: Code) -> str:
    resource: Json = {
        "resourceType": "SupplyDelivery",
        "status": "completed",
        "patient": visit.subject,
        "type": {"coding": [coding(f"{TERMINOLOGY}supply-item-type", "device", "Device")]},
        "suppliedItem": {
            "quantity": {"value": visit.rng.randrange(1, 5)},
            "itemCodeableConcept": concept(SNOMED, *item),
        },
        "occurrenceDateTime": date_time(visit.start),
    }
    return visit.built.add(resource)


def imaging_study(visit: Visit) -> str:
    """A chest X-ray: one DICOM series of a few instances, identified by (made-up) OIDs."""
    rng = visit.rng
    root = f"1.2.840.99999999.{rng.randrange(10**8)}.{rng.randrange(10**12)}"
    study, modality, body_site = IMAGING
    instances = [
        {
            "uid": f"{root}.1.{number}",
            "sopClass": coding("urn:ietf:rfc:3986", f"urn:oid:{XRAY_SOP_CLASS.code}"),
            "number": number,
            "title": XRAY_SOP_CLASS.display,
        }
        for number in range(1, rng.randrange(2, 4) + 1)
    ]
    resource: Json = {
        "resourceType": "ImagingStudy",
        "identifier": [{"use": "official", "system": "urn:ietf:rfc:3986", "value": f"urn:oid:{root}"}],
        "status": "available",
        "subject": visit.subject,
        "encounter": visit.encounter_ref,
        "started": date_time(visit.start),
        "numberOfSeries": 1,
        "numberOfInstances": len(instances),
        "procedureCode": [concept(SNOMED, *study)],
        "location": visit.refs.location(visit.hospital),
        "series": [
            {
                "uid": f"{root}.1",
                "number": 1,
                "modality": coding(DICOM, *modality),
                "numberOfInstances": len(instances),
                "bodySite": coding(SNOMED, *body_site),
                "started": date_time(visit.start),
                "instance": instances,
            }
        ],
    }
    return visit.built.add(resource)


def care_plan(visit: Visit, plan: Code, activity: Code, reason: tuple[str, Code]) -> list[str]:
    """A CareTeam (patient, practitioner, organisation) and the CarePlan it carries out."""
    reason_url, reason_code = reason
    team: Json = {
        "resourceType": "CareTeam",
        "status": "active",
        "subject": visit.subject,
        "encounter": visit.encounter_ref,
        "period": {"start": date_time(visit.start)},
        "participant": [
            {"role": [concept(SNOMED, "116154003", "Patient (person)")], "member": visit.patient},
            {
                "role": [concept(SNOMED, "223366009", "Healthcare professional (occupation)")],
                "member": visit.refs.practitioner(visit.clinician),
            },
            {
                "role": [concept(SNOMED, "224891009", "Healthcare services (qualifier value)")],
                "member": visit.refs.organization(visit.hospital),
            },
        ],
        "reasonCode": [concept(SNOMED, *reason_code)],
        "managingOrganization": [visit.refs.organization(visit.hospital)],
    }
    team_url = visit.built.add(team, profiles=(us_core("careteam"),))
    narrative = (
        f'<div xmlns="http://www.w3.org/1999/xhtml">Care Plan for {plan.display}.<br/>Activities: <ul>'
        f"<li>{activity.display}</li></ul><br/>Care plan is meant to treat {reason_code.display}.</div>"
    )
    resource: Json = {
        "resourceType": "CarePlan",
        "text": {"status": "generated", "div": narrative},
        "status": "active",
        "intent": "order",
        "category": [
            {"coding": [coding("http://hl7.org/fhir/us/core/CodeSystem/careplan-category", "assess-plan")]},
            concept(SNOMED, *plan),
        ],
        "subject": visit.subject,
        "encounter": visit.encounter_ref,
        "period": {"start": date_time(visit.start)},
        "careTeam": [{"reference": team_url}],
        "addresses": [{"reference": reason_url}],
        "activity": [
            {
                "detail": {
                    "code": concept(SNOMED, *activity),
                    "status": "in-progress",
                    "location": {"display": visit.hospital.name},
                }
            }
        ],
    }
    return [team_url, visit.built.add(resource, profiles=(us_core("careplan"),))]
