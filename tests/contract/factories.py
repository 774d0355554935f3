"""Builders for the FHIR resources and bundles the contract tests send, as plain JSON dicts.

Every resource a test writes carries that test's `Tag`, so searches can be scoped to the
test's own data: the server under test may hold anything else.
"""

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

Json = dict[str, Any]

TAG_SYSTEM = "urn:test"
IDENTIFIER_SYSTEM = "urn:test:mrn"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CVX = "http://hl7.org/fhir/sid/cvx"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"


@dataclass(frozen=True)
class Tag:
    """A `meta.tag` coding unique to one test (or one module's shared data)."""

    code: str

    @classmethod
    def new(cls) -> "Tag":
        return cls(uuid4().hex)

    @property
    def coding(self) -> Json:
        return {"system": TAG_SYSTEM, "code": self.code}

    @property
    def search(self) -> str:
        """The `_tag` search value (`system|code`) that finds exactly this test's resources."""
        return f"{TAG_SYSTEM}|{self.code}"


def unique_id(prefix: str = "contract") -> str:
    """A client-assigned id no server has seen: it has letters, so a PUT may create it."""
    return f"{prefix}-{uuid4().hex}"


def unknown_numeric_id() -> str:
    """An all-digit id no server has assigned: eighteen digits, far beyond any sequence so far,
    yet still a valid 64-bit number."""
    return "9" + "".join(secrets.choice("0123456789") for _ in range(17))


def unique_value() -> str:
    """An identifier value no other test uses."""
    return uuid4().hex


def _meta(tag: Tag | None) -> Json:
    return {"meta": {"tag": [tag.coding]}} if tag else {}


def _reference(target: str) -> Json:
    return {"reference": target}


def _concept(system: str, code: str, text: str | None = None) -> Json:
    concept: Json = {"coding": [{"system": system, "code": code}]}
    if text:
        concept["text"] = text
    return concept


def patient(
    *,
    tag: Tag | None = None,
    family: str = "Doe",
    given: Sequence[str] = ("Jane",),
    birth_date: str | None = "1980-01-01",
    gender: str | None = None,
    identifiers: Sequence[tuple[str, str]] = (),
    id: str | None = None,
) -> Json:
    """A Patient with one official name; `identifiers` are `(system, value)` pairs."""
    resource: Json = {
        "resourceType": "Patient",
        **_meta(tag),
        "name": [{"use": "official", "family": family, "given": list(given)}],
    }
    if id is not None:
        resource["id"] = id
    if identifiers:
        resource["identifier"] = [{"system": system, "value": value} for system, value in identifiers]
    if birth_date is not None:
        resource["birthDate"] = birth_date
    if gender is not None:
        resource["gender"] = gender
    return resource


def observation(
    *,
    subject: str,
    tag: Tag | None = None,
    code: tuple[str, str] = (LOINC, "8867-4"),
    status: str = "final",
    encounter: str | None = None,
    effective: str = "2024-03-01T10:00:00Z",
    value: float = 72,
) -> Json:
    """A quantity Observation about `subject` (a reference such as `Patient/123`)."""
    resource: Json = {
        "resourceType": "Observation",
        **_meta(tag),
        "status": status,
        "code": _concept(*code),
        "subject": _reference(subject),
        "effectiveDateTime": effective,
        "valueQuantity": {"value": value, "unit": "/min", "system": UCUM, "code": "/min"},
    }
    if encounter is not None:
        resource["encounter"] = _reference(encounter)
    return resource


def encounter(
    *,
    subject: str,
    tag: Tag | None = None,
    status: str = "finished",
    reason: tuple[str, str] = (ICD10CM, "J30.1"),
    start: str = "2024-03-01T10:00:00Z",
    end: str = "2024-03-01T10:30:00Z",
) -> Json:
    """An ambulatory Encounter of `subject` with an ICD-10-CM reason."""
    return {
        "resourceType": "Encounter",
        **_meta(tag),
        "status": status,
        "class": {"system": ACT_CODE, "code": "AMB"},
        "subject": _reference(subject),
        "period": {"start": start, "end": end},
        "reasonCode": [_concept(*reason, text="reason for the visit")],
    }


def document_reference(
    *,
    subject: str,
    tag: Tag | None = None,
    type_code: tuple[str, str] = (LOINC, "11506-3"),
    status: str = "current",
    text: str = "Subjective: feels well.",
) -> Json:
    """A DocumentReference holding `text` as a plain-text attachment."""
    return {
        "resourceType": "DocumentReference",
        **_meta(tag),
        "status": status,
        "type": _concept(*type_code),
        "subject": _reference(subject),
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(text.encode()).decode(),
                }
            }
        ],
    }


def immunization(
    *,
    patient: str,
    tag: Tag | None = None,
    vaccine: tuple[str, str] = (CVX, "08"),
    status: str = "completed",
    occurrence: str = "2020-01-15",
) -> Json:
    """An Immunization of `patient` with one vaccine coding."""
    return {
        "resourceType": "Immunization",
        **_meta(tag),
        "status": status,
        "vaccineCode": _concept(*vaccine),
        "patient": _reference(patient),
        "occurrenceDateTime": occurrence,
    }


def allergy_intolerance(
    *,
    patient: str,
    tag: Tag | None = None,
    code: tuple[str, str] = (SNOMED, "91936005"),
) -> Json:
    """An active AllergyIntolerance of `patient`."""
    return {
        "resourceType": "AllergyIntolerance",
        **_meta(tag),
        "clinicalStatus": _concept(ALLERGY_CLINICAL, "active"),
        "code": _concept(*code),
        "patient": _reference(patient),
    }


def urn_uuid() -> str:
    """A fresh `urn:uuid:` fullUrl for a bundle entry created in the same bundle."""
    return f"urn:uuid:{uuid4()}"


def post_entry(resource: Json, *, full_url: str | None = None, if_none_exist: str | None = None) -> Json:
    """A bundle entry creating `resource`, optionally only if `if_none_exist` matches nothing."""
    request: Json = {"method": "POST", "url": resource["resourceType"]}
    if if_none_exist is not None:
        request["ifNoneExist"] = if_none_exist
    entry: Json = {"resource": resource, "request": request}
    if full_url is not None:
        entry["fullUrl"] = full_url
    return entry


def put_entry(resource: Json, *, url: str) -> Json:
    """A bundle entry updating (or creating) `resource` at `url`, which may be a search."""
    return {"resource": resource, "request": {"method": "PUT", "url": url}}


def delete_entry(url: str) -> Json:
    """A bundle entry deleting the resource at `url` (for example `Patient/123`)."""
    return {"request": {"method": "DELETE", "url": url}}


def bundle(kind: str, entries: Sequence[Json]) -> Json:
    """A Bundle of type `kind` (`transaction`, `batch`, `collection`, ...)."""
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}
