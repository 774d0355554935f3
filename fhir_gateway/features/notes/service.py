"""Notes on the FHIR server: a `DocumentReference` each, with the vital-signs `Observation`s
derived from it, written and deleted together in one transaction, through `FhirClient` only."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fhir_gateway.features.notes.schemas import NoteListQuery
from fhir_gateway.fhir_client import FhirBadRequest, FhirClient, error_from_entry, resource_version
from fhir_gateway.patient_scope import ResourceNotFound, StaleVersion, about, patient_records, read_patient
from mappers.note import (
    Note,
    NoteDraft,
    NoteSummary,
    fhir_instant,
    note_type_coding,
    original_content,
    to_domain,
    to_fhir,
    to_summary,
    vital_observations,
)

# Newest first; ties broken by id on every server, so that pages never overlap or skip.
_NEWEST_FIRST = "-period,_id"
# Ids are all a delete needs of the Observations of a note; more than this are paged.
_DERIVED_PAGE = 100


async def create_note(*, client: FhirClient, draft: NoteDraft, system_base: str) -> tuple[Note, dict[str, Any]]:
    """Store a note and its vital signs in one transaction; the note and its DocumentReference."""
    document = to_fhir(draft, system_base=system_base, stored_at=datetime.now(UTC))
    note_urn = f"urn:uuid:{uuid.uuid4()}"
    derived = vital_observations(draft, note_urn)
    entries = [_create_entry(document, note_urn)] + [
        _create_entry(observation, f"urn:uuid:{uuid.uuid4()}") for observation in derived
    ]
    try:
        answer = await client.transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    except FhirBadRequest:
        # The patient was deleted after it was read: say so, rather than what the server
        # says of a reference to nothing.
        await read_patient(client, draft.patient_id)
        raise
    stored = document | _identity(answer, "DocumentReference")
    for observation in derived:
        observation["derivedFrom"] = [{"reference": f"DocumentReference/{stored['id']}"}]
    return to_domain(stored, derived, draft.patient_id, system_base=system_base), stored


async def read_note(
    *, client: FhirClient, patient_id: str, note_id: str, system_base: str
) -> tuple[Note, dict[str, Any]]:
    """A patient's note with the Observations derived from it (one search), and its
    DocumentReference; 404 when the patient has no such note, 410 when it was deleted."""
    bundle = await client.search("DocumentReference", [("_id", note_id), ("_revinclude", "Observation:derived-from")])
    resources = [entry["resource"] for entry in bundle.get("entry") or [] if isinstance(entry.get("resource"), dict)]
    document = next((r for r in resources if r.get("resourceType") == "DocumentReference"), None)
    if document is None or not _about(document, patient_id):
        # Not found by search: unknown, deleted or another patient's. A read says which.
        document = await _owned_note(client, patient_id, note_id)
    derived = [r for r in resources if r.get("resourceType") == "Observation"]
    return to_domain(document, derived, patient_id, system_base=system_base), document


async def note_content(*, client: FhirClient, patient_id: str, note_id: str) -> tuple[bytes, str, str | None, str]:
    """The original bytes of a patient's note, their content type, file name and the version."""
    document = await _owned_note(client, patient_id, note_id)
    content, content_type, file_name = original_content(document)
    return content, content_type, file_name, resource_version(document) or ""


async def list_notes(
    *, client: FhirClient, patient_id: str, query: NoteListQuery, system_base: str
) -> tuple[list[NoteSummary], int]:
    """One page of a patient's notes, newest `taken_at` first, and the total."""
    params: list[tuple[str, str]] = [("_sort", _NEWEST_FIRST)]
    if query.note_type:
        coding = note_type_coding(query.note_type)
        params.append(("type", f"{coding['system']}|{coding['code']}"))
    if query.from_ is not None:
        params.append(("period", f"ge{_instant(query.from_)}"))
    if query.to is not None:
        # Up to the instant, or to the end of the day: before the next day begins.
        to = query.to
        params.append(
            ("period", f"le{_instant(to)}" if isinstance(to, datetime) else f"lt{_instant(to + timedelta(days=1))}")
        )
    page = await patient_records(client, "DocumentReference", patient_id, params, count=query.size, offset=query.offset)
    return [to_summary(resource, patient_id, system_base=system_base) for resource in page.matches], page.total


async def delete_note(*, client: FhirClient, patient_id: str, note_id: str, version: str | None) -> dict[str, int]:
    """Delete a patient's note and the Observations derived from it, in one transaction; how
    many of each type went. With `version`, only the note at that version (412 otherwise)."""
    document = await _owned_note(client, patient_id, note_id)
    current = resource_version(document)
    if version is not None and version != current:
        raise StaleVersion("note", note_id, current, version)
    derived = [
        resource["id"]
        async for resource in client.search_all(
            "Observation",
            {"derived-from": f"DocumentReference/{note_id}", "_elements": "id", "_count": _DERIVED_PAGE},
        )
        if resource.get("resourceType") == "Observation"
    ]
    note_request: dict[str, Any] = {"method": "DELETE", "url": f"DocumentReference/{note_id}"}
    if version is not None:
        note_request["ifMatch"] = f'W/"{version}"'
    entries = [{"request": {"method": "DELETE", "url": f"Observation/{oid}"}} for oid in dict.fromkeys(derived)]
    entries.append({"request": note_request})
    await client.transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    return {"DocumentReference": 1, "Observation": len(entries) - 1}


async def _owned_note(client: FhirClient, patient_id: str, note_id: str) -> dict[str, Any]:
    """The stored DocumentReference of the patient's note (404 when unknown or another
    patient's, 410 when deleted; an unknown patient is named first)."""
    try:
        with about("note", note_id):
            document = await client.read("DocumentReference", note_id)
    except ResourceNotFound:
        await read_patient(client, patient_id)
        raise
    if not _about(document, patient_id):
        await read_patient(client, patient_id)
        raise ResourceNotFound("note", note_id)
    return document


def _about(document: dict[str, Any], patient_id: str) -> bool:
    subject = document.get("subject")
    return isinstance(subject, dict) and subject.get("reference") == f"Patient/{patient_id}"


def _create_entry(resource: dict[str, Any], full_url: str) -> dict[str, Any]:
    return {"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}


def _identity(answer: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The id and meta the server gave the first entry of a transaction, from its response."""
    entries = answer.get("entry") or []
    first = entries[0] if entries and isinstance(entries[0], dict) else {}
    response = first.get("response") if isinstance(first.get("response"), dict) else {}
    segments = str(response.get("location") or "").split("/")
    if resource_type not in segments[:-1]:
        raise error_from_entry(first, message=f"FHIR server answered a transaction without the {resource_type}'s id")
    at = segments.index(resource_type)
    resource_id = segments[at + 1]
    version = segments[at + 3] if len(segments) > at + 3 and segments[at + 2] == "_history" else None
    meta: dict[str, Any] = {}
    if version:
        meta["versionId"] = version
    if isinstance(response.get("lastModified"), str):
        meta["lastUpdated"] = response["lastModified"]
    return {"id": resource_id, "meta": meta}


def _instant(bound: datetime | date) -> str:
    """A bound as a FHIR dateTime to the millisecond, as notes are stored: an instant as
    given (its microseconds dropped), a day (UTC) from its first moment."""
    moment = bound if isinstance(bound, datetime) else datetime.combine(bound, time(), UTC)
    return fhir_instant(moment.replace(microsecond=moment.microsecond // 1000 * 1000))
