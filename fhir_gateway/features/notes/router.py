"""`/patients/{id}/notes`: add (typed, PDF or scanned), list, read, download, delete."""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError

from fhir_gateway.dependencies import FhirClientDep, IfMatchDep, SettingsDep
from fhir_gateway.features.notes import service, uploads
from fhir_gateway.features.notes.dependencies import NoteId, NoteListQueryDep, TextExtractorDep
from fhir_gateway.features.notes.extraction import UnreadableContent
from fhir_gateway.features.notes.schemas import NoteDeletion, NoteIn, NoteMetadata, NotePage
from fhir_gateway.fhir_client import etag, resource_etag
from fhir_gateway.paging import build_page
from fhir_gateway.patient_scope import PatientId, StoredPatientDep
from fhir_gateway.problems import UPSTREAM_FAILURES, problem_responses
from fhir_gateway.security import requires
from mappers.note import Note, new_note

router = APIRouter(prefix="/patients/{patient_id}/notes", tags=["notes"])

_EXTENSIONS = {uploads.TEXT: ".txt", uploads.PDF: ".pdf", uploads.PNG: ".png", uploads.JPEG: ".jpg"}


def _request_body() -> dict[str, Any]:
    """The two ways a note is sent, for the OpenAPI schema (the route reads the body itself)."""
    form = NoteMetadata.model_json_schema()
    form["properties"] = {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "The note: plain text (UTF-8), PDF, PNG or JPEG; what it is is read from its bytes.",
        },
        **form["properties"],
    }
    form["required"] = ["file", *form.get("required", [])]
    form.pop("title", None)
    return {
        "required": True,
        "content": {
            "application/json": {"schema": NoteIn.model_json_schema()},
            "multipart/form-data": {"schema": form},
        },
    }


@router.post(
    "",
    dependencies=[requires("DocumentReference.create")],
    response_model=Note,
    status_code=status.HTTP_201_CREATED,
    summary="Add a note",
    openapi_extra={"requestBody": _request_body()},
    responses=problem_responses(400, 404, 410, 413, 415, 422, *UPSTREAM_FAILURES),
)
async def create_note(
    patient_id: PatientId,
    _patient: StoredPatientDep,
    request: Request,
    response: Response,
    client: FhirClientDep,
    settings: SettingsDep,
    extractor: TextExtractorDep,
) -> Note:
    """Add a note: JSON with the text as `content`, or a form with the note as `file` (plain
    text, PDF, or a scan as PNG or JPEG). Its text is read (a PDF's text layer, or OCR of a
    scan), its type classified unless `note_type` is given, SOAP sections found, and the
    vital signs it states stored as Observations, all in one transaction. The file's type is
    read from its bytes: one unlike its declared type is a 415; one over `MAX_UPLOAD_BYTES`
    a 413, refused before the rest of it is read."""
    upload = await uploads.read_note(request, max_upload_bytes=settings.max_upload_bytes)
    try:
        extracted = await extractor.extract(upload.content, upload.media_type)
    except UnreadableContent as unreadable:
        raise _invalid(upload.field, str(unreadable)) from None
    if upload.media_type == uploads.TEXT and not (extracted.text or "").strip():
        raise _invalid(upload.field, "is empty")
    draft = new_note(
        patient_id=patient_id,
        taken_at=upload.metadata.taken_at,
        content=upload.content,
        content_type=upload.media_type,
        text=extracted.text,
        text_source=extracted.source,
        text_unavailable=extracted.unavailable,
        author=upload.metadata.author,
        note_type=upload.metadata.note_type,
        file_name=upload.file_name,
    )
    note, stored = await service.create_note(client=client, draft=draft, system_base=settings.identifier_system_base)
    response.headers["Location"] = str(request.url_for("read_note", patient_id=patient_id, note_id=note.id))
    response.headers["ETag"] = resource_etag(stored)
    return note


@router.get(
    "",
    dependencies=[requires("DocumentReference.search")],
    response_model=NotePage,
    summary="List a patient's notes",
    responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
)
async def list_notes(
    patient_id: PatientId, request: Request, query: NoteListQueryDep, client: FhirClientDep, settings: SettingsDep
) -> NotePage:
    """The patient's notes, newest `taken_at` first (ties by id), without their text;
    filtered by `note_type` and by `from`/`to` on `taken_at`."""
    items, total = await service.list_notes(
        client=client, patient_id=patient_id, query=query, system_base=settings.identifier_system_base
    )
    return build_page(request, query, items, total)


@router.get(
    "/{note_id}",
    dependencies=[requires("DocumentReference.read")],
    response_model=Note,
    summary="Read a note",
    responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
)
async def read_note(
    patient_id: PatientId, note_id: NoteId, response: Response, client: FhirClientDep, settings: SettingsDep
) -> Note:
    """The note with its text, SOAP sections and vital signs; the `ETag` names its version."""
    note, stored = await service.read_note(
        client=client, patient_id=patient_id, note_id=note_id, system_base=settings.identifier_system_base
    )
    response.headers["ETag"] = resource_etag(stored)
    return note


@router.get(
    "/{note_id}/content",
    dependencies=[requires("DocumentReference.read")],
    response_class=Response,
    summary="Download a note as it was sent",
    responses={
        200: {
            "description": "The original bytes.",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in _EXTENSIONS},
        },
        **problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
    },
)
async def read_note_content(patient_id: PatientId, note_id: NoteId, client: FhirClientDep) -> Response:
    """The note's original bytes, with their content type and file name: the same SHA-1 as the note says."""
    content, content_type, file_name, version = await service.note_content(
        client=client, patient_id=patient_id, note_id=note_id
    )
    media_type = content_type.split(";", 1)[0].strip().lower()
    name = file_name or f"note-{note_id}{_EXTENSIONS.get(media_type, '')}"
    headers = {
        "Content-Disposition": _attachment(name),
        # The bytes are what the note says they are; a browser must not guess otherwise.
        "X-Content-Type-Options": "nosniff",
    }
    if version:
        headers["ETag"] = etag(version)
    return Response(content, media_type=content_type, headers=headers)


@router.delete(
    "/{note_id}",
    dependencies=[requires("DocumentReference.delete")],
    response_model=NoteDeletion,
    summary="Delete a note",
    responses=problem_responses(400, 404, 409, 410, 412, 422, *UPSTREAM_FAILURES),
)
async def delete_note(
    patient_id: PatientId, note_id: NoteId, expected_version: IfMatchDep, client: FhirClientDep
) -> NoteDeletion:
    """Delete the note and the vital-sign Observations derived from it, in one transaction.
    With `If-Match`, only the version it names is deleted (412 otherwise)."""
    deleted = await service.delete_note(client=client, patient_id=patient_id, note_id=note_id, version=expected_version)
    return NoteDeletion(id=note_id, deleted=deleted)


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": message}])


def _attachment(file_name: str) -> str:
    """A Content-Disposition naming the file (RFC 6266: an ASCII fallback and the UTF-8 name)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"
