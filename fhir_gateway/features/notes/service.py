"""Notes on the FHIR server: a `DocumentReference` each, with the vital-signs `Observation`s
derived from it, written and deleted together in one transaction, through `FhirClient` only."""

from datetime import UTC, datetime
from typing import Any

from fhir_gateway.date_range import date_range
from fhir_gateway.features.notes.schemas import NoteListQuery
from fhir_gateway.fhir_client import (
    FhirClient,
    delete_with_observations,
    resource_version,
)
from fhir_gateway.patient_scope import (
    ResourceNotFound,
    StaleVersion,
    about,
    create_with_observations,
    patient_records,
    read_patient,
)
from mappers.note import (
    Note,
    NoteDraft,
    NoteSummary,
    note_type_coding,
    original_content,
    to_domain,
    to_fhir,
    to_summary,
    vital_observations,
)

# Newest first; ties broken by id on every server, so that pages never overlap or skip.
_NEWEST_FIRST = "-period,_id"


async def create_note(*, client: FhirClient, draft: NoteDraft, system_base: str) -> tuple[Note, dict[str, Any]]:
    """Store a note and its vital signs in one transaction; the note and its DocumentReference."""
    document = to_fhir(draft, system_base=system_base, stored_at=datetime.now(UTC))
    stored, derived = await create_with_observations(
        client, draft.patient_id, document, lambda note_urn: vital_observations(draft, note_urn)
    )
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
    params += date_range("period", query.from_, query.to)
    page = await patient_records(client, "DocumentReference", patient_id, params, count=query.size, offset=query.offset)
    return [to_summary(resource, patient_id, system_base=system_base) for resource in page.matches], page.total


async def delete_note(*, client: FhirClient, patient_id: str, note_id: str, version: str | None) -> dict[str, int]:
    """Delete a patient's note and the Observations derived from it, in one transaction; how
    many of each type went. With `version`, only the note at that version (412 otherwise)."""
    document = await _owned_note(client, patient_id, note_id)
    current = resource_version(document)
    if version is not None and version != current:
        raise StaleVersion("note", note_id, current, version)
    return await delete_with_observations(client, "DocumentReference", note_id, link="derived-from", version=version)


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
