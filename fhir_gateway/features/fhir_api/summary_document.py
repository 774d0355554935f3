"""`Patient/$summary` as an IPS-style FHIR document: a `document` Bundle whose first entry
is the Composition (LOINC 60591-5), then the Patient and every resource a section refers to.

Sections follow the International Patient Summary: problems, medications and allergies
(each with entries or an `emptyReason`), immunizations and vital signs, and one more
section holding the narrative (from the language model, or written offline). Each
section's text lists the key facts it holds; its entries are the resources of its kind and
the records those facts were read from (a medication named in a note refers to the note).

References between the document's own entries are the entries' `fullUrl`s: resources
stored on the server by their URL under the gateway's base, the Composition and the Device
that wrote it (neither is stored) by `urn:uuid`.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from fhir_gateway.patient_summary.models import Fact, Source, Summary
from fhir_gateway.patient_summary.record import PatientRecord

LOINC = "http://loinc.org"
EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
# The record holds none of the kind; no claim that the patient has none (no "nil known").
_NOTHING_RECORDED = {"coding": [{"system": EMPTY_REASON, "code": "unavailable", "display": "Unavailable"}]}
_XHTML = "http://www.w3.org/1999/xhtml"

_RESOURCE_TYPE_OF_SOURCE = {
    "note": "DocumentReference",
    "interaction": "Encounter",
    "immunization": "Immunization",
    "allergy": "AllergyIntolerance",
    "observation": "Observation",
    "condition": "Condition",
    "medication": "MedicationRequest",
}


@dataclass(frozen=True)
class _Section:
    title: str
    code: str
    display: str
    kind: str  # the resource type the section is about
    facts: str  # the KeyFacts field it lists
    empty_text: str


_SECTIONS = (
    _Section("Problems", "11450-4", "Problem list - Reported", "Condition", "diagnoses", "No problems are recorded."),
    _Section(
        "Medications",
        "10160-0",
        "History of Medication use Narrative",
        "MedicationRequest",
        "medications",
        "No medications are recorded.",
    ),
    _Section(
        "Allergies and intolerances",
        "48765-2",
        "Allergies and adverse reactions Document",
        "AllergyIntolerance",
        "allergies",
        "No allergies or intolerances are recorded.",
    ),
    _Section(
        "Immunizations",
        "11369-6",
        "History of Immunization Narrative",
        "Immunization",
        "immunizations",
        "No immunizations are recorded.",
    ),
    _Section("Vital signs", "8716-3", "Vital signs", "Observation", "observations", "No vital signs are recorded."),
)


def summary_document(
    record: PatientRecord, summary: Summary, *, gateway_base: str, system_base: str, software_version: str
) -> dict[str, Any]:
    """The document Bundle of `summary`, made from `record`."""
    patient = record.patient
    patient_url = f"{gateway_base}/Patient/{patient['id']}"
    stored = _Stored(record, gateway_base)
    author_url = f"urn:uuid:{uuid.uuid4()}"
    sections = [_section(section, record, summary, stored) for section in _SECTIONS]
    sections.append(_narrative_section(summary, stored, system_base))
    when = summary.generated_at.isoformat()
    composition = {
        "resourceType": "Composition",
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": {"reference": patient_url},
        "date": when,
        "author": [{"reference": author_url}],
        "title": "Patient summary",
        "text": _text([_heading(summary)]),
        "section": sections,
    }
    entries = [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": composition},
        {"fullUrl": patient_url, "resource": patient},
        *({"fullUrl": url, "resource": resource} for url, resource in stored.referenced()),
        {"fullUrl": author_url, "resource": _author(summary, software_version)},
    ]
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "type": "document",
        "timestamp": when,
        "entry": entries,
    }


class _Stored:
    """The record's resources by type and id, and which of them the document refers to."""

    def __init__(self, record: PatientRecord, gateway_base: str) -> None:
        self._base = gateway_base
        self._by_key = {
            (kind, str(resource.get("id"))): resource
            for kind, resources in record.resources.items()
            for resource in resources
        }
        self._referenced: dict[tuple[str, str], None] = {}

    def references(self, keys: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
        """Section entries for the resources `keys` name (each once, in order; unknown ones left out)."""
        found = [key for key in dict.fromkeys(keys) if key in self._by_key]
        self._referenced.update(dict.fromkeys(found))
        return [{"reference": self._url(key)} for key in found]

    def referenced(self) -> list[tuple[str, dict[str, Any]]]:
        return [(self._url(key), self._by_key[key]) for key in self._referenced]

    def _url(self, key: tuple[str, str]) -> str:
        return f"{self._base}/{key[0]}/{key[1]}"


def _section(section: _Section, record: PatientRecord, summary: Summary, stored: _Stored) -> dict[str, Any]:
    facts: list[Fact] = getattr(summary.key_facts, section.facts)
    own = [(section.kind, str(resource.get("id"))) for resource in _own_resources(section, record)]
    entries = stored.references([*own, *(_key(fact.source) for fact in facts)])
    body: dict[str, Any] = {
        "title": section.title,
        "code": {"coding": [{"system": LOINC, "code": section.code, "display": section.display}]},
        "text": _text([_list(facts)] if facts else [f"<p>{escape(section.empty_text)}</p>"]),
    }
    if entries:
        body["entry"] = entries
    else:
        body["emptyReason"] = _NOTHING_RECORDED
    return body


def _own_resources(section: _Section, record: PatientRecord) -> list[dict[str, Any]]:
    if section.kind == "Observation":
        return record.vital_signs
    return record.resources.get(section.kind, [])


def _narrative_section(summary: Summary, stored: _Stored, system_base: str) -> dict[str, Any]:
    paragraphs = [f"<p>{escape(paragraph)}</p>" for paragraph in summary.narrative.split("\n\n") if paragraph.strip()]
    if summary.warnings:
        paragraphs.append(f"<p>Notes on this summary:</p>{_items(summary.warnings)}")
    body: dict[str, Any] = {
        "title": "Summary",
        "code": {
            "coding": [
                {
                    "system": f"{system_base}/CodeSystem/patient-summary-section",
                    "code": "narrative",
                    "display": "Narrative written from the record",
                }
            ]
        },
        "text": _text(paragraphs or ["<p>No narrative was written.</p>"]),
    }
    entries = stored.references(_key(source) for source in summary.sources)
    if entries:
        body["entry"] = entries
    return body


def _author(summary: Summary, software_version: str) -> dict[str, Any]:
    generator = summary.generator
    writer = f"{generator.model} ({generator.prompt})" if generator.kind == "openai" else "offline template"
    return {
        "resourceType": "Device",
        "deviceName": [{"name": "FHIR Gateway", "type": "user-friendly-name"}],
        "version": [{"value": software_version}],
        "note": [{"text": f"Narrative written by {writer}."}],
    }


def _heading(summary: Summary) -> str:
    heading = summary.heading
    parts = [
        heading.name or "Patient",
        f"{heading.age} years" if heading.age is not None else None,
        f"born {heading.birth_date.isoformat()}" if heading.birth_date else None,
        heading.gender,
        f"health number {heading.mrn}" if heading.mrn else None,
    ]
    return f"<p>{escape(', '.join(part for part in parts if part))}</p>"


def _list(facts: list[Fact]) -> str:
    return _items(_dated(fact) for fact in facts)


def _dated(fact: Fact) -> str:
    day = fact.date[:10] if fact.date else None
    return f"{fact.text} ({day})" if day and day not in fact.text else fact.text


def _items(texts: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(text)}</li>" for text in texts) + "</ul>"


def _text(parts: list[str]) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="{_XHTML}">{"".join(parts)}</div>'}


def _key(source: Source) -> tuple[str, str]:
    return (_RESOURCE_TYPE_OF_SOURCE[source.type], source.id)
