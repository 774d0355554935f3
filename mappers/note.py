"""A clinical note <-> a FHIR `DocumentReference` and the vital-signs `Observation`s derived from it.

| field | FHIR |
|---|---|
| patient_id | `subject` -> `Patient/{id}` |
| taken_at | `context.period` (start and end: the moment the note is about) |
| the original bytes | `content[0].attachment`: `contentType`, `data`, `size`, `hash` (SHA-1), `title` (file name) |
| text of a PDF or a scan | `content[1].attachment`, `text/plain; charset=utf-8` |
| text_source, text_unavailable | extensions `note-text-source` (code), `note-text-unavailable` (string) |
| note_type | `type`, LOINC (`NOTE_TYPE_CODES`); `category` US Core `clinical-note` |
| author | `author[0].display` |
| vitals | one vital-signs `Observation` per sign (`mappers.vitals`), `derivedFrom` the DocumentReference |
| — | `status` current, `docStatus` final, `date` when it was stored |

A typed note's text is its content (`text/plain`). SOAP sections, and the vital signs the
text holds but that were not kept, are read from the text again (`mappers.note_text`):
they are what the text says, so storing them would only let them drift from it.
"""

import base64
import hashlib
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from mappers.note_text import (
    NoteType,
    SkippedVital,
    SoapSections,
    classify,
    plain_text,
    soap_sections,
    vital_signs,
)
from mappers.primitives import element, elements, fhir_instant, instant, text
from mappers.records import StoredRecord, stored_fields
from mappers.vitals import LOINC, Vitals, from_observations, observations

TEXT_PLAIN = "text/plain; charset=utf-8"
TextSource = Literal["typed", "pdf", "ocr", "none"]

# LOINC document types (fhir-mapping.md); a note of a kind not listed is `other`.
NOTE_TYPE_CODES: dict[str, tuple[str, str]] = {
    "admission": ("47039-3", "Hospital Admission history and physical note"),
    "progress": ("11506-3", "Progress note"),
    "consult": ("11488-4", "Consult note"),
    "discharge": ("18842-5", "Discharge summary"),
    "nursing": ("34746-8", "Nurse Note"),
    "history-and-physical": ("34117-2", "History and physical note"),
    "other": ("34133-9", "Summary of episode note"),
}
_TYPE_OF_CODE = {code: kind for kind, (code, _) in NOTE_TYPE_CODES.items()}
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
CLINICAL_NOTE_CATEGORY = {
    "coding": [{"system": US_CORE_CATEGORY, "code": "clinical-note", "display": "Clinical Note"}],
    "text": "Clinical Note",
}
_TEXT_SOURCES: tuple[str, ...] = get_args(TextSource)


def text_source_extension(system_base: str) -> str:
    return f"{system_base}/StructureDefinition/note-text-source"


def text_unavailable_extension(system_base: str) -> str:
    return f"{system_base}/StructureDefinition/note-text-unavailable"


def note_type_coding(note_type: str) -> dict[str, str]:
    """The LOINC coding of a note type."""
    code, display = NOTE_TYPE_CODES[note_type]
    return {"system": LOINC, "code": code, "display": display}


class NoteDraft(BaseModel):
    """A note as it is written: its content and everything read from it.

    `taken_at` is kept to the millisecond, the precision FHIR servers index dateTimes at,
    and written with all three decimals: a time searched for then matches that moment, not
    the whole second around it.
    """

    patient_id: str
    taken_at: AwareDatetime
    author: str | None = None
    note_type: NoteType
    content: bytes = Field(description="The original bytes.")
    content_type: str = Field(description="Media type of the content, without parameters.")
    file_name: str | None = None
    text: str | None = Field(None, description="The note's plain text, however it was obtained.")
    text_source: TextSource
    text_unavailable: str | None = Field(None, description="Why the note has no text, when it has none.")
    vitals: Vitals = Field(default_factory=Vitals)

    @field_validator("taken_at")
    @classmethod
    def _to_the_millisecond(cls, value: datetime) -> datetime:
        return value.replace(microsecond=value.microsecond // 1000 * 1000)


class NoteFields(BaseModel):
    """What the API shows of any note, in a list as well."""

    taken_at: AwareDatetime = Field(description="When the note was written (the time it is about).")
    author: str | None = Field(None, examples=["Dr. Amara Singh"])
    note_type: NoteType
    content_type: str = Field(examples=["text/plain"])
    size: int = Field(description="Bytes of the original content.")
    sha1: str = Field(description="SHA-1 of the original content, in hex.")
    file_name: str | None = Field(None, examples=["discharge-summary.pdf"])
    text_source: TextSource = Field(
        description="How the text was obtained: typed, a PDF's text layer, OCR of a scan, or none."
    )


class NoteSummary(NoteFields, StoredRecord):
    """A note in a list: without its text."""


class Note(NoteSummary):
    """A note with its text and what was read from it."""

    text: str | None = Field(None, description="The plain text (typed, from a PDF's text layer, or by OCR).")
    text_unavailable: str | None = Field(
        None, description="Why there is no text, when there is none.", examples=["OCR is not available"]
    )
    sections: SoapSections | None = Field(None, description="SOAP sections; null for a note without SOAP structure.")
    vitals: Vitals = Field(description="Vital signs read from the text and stored as Observations.")
    vitals_skipped: list[SkippedVital] = Field(
        default_factory=list, description="Vital signs the text gives that were not stored, and why."
    )


def new_note(
    *,
    patient_id: str,
    taken_at: datetime,
    content: bytes,
    content_type: str,
    text: str | None,
    text_source: TextSource,
    text_unavailable: str | None = None,
    author: str | None = None,
    note_type: NoteType | None = None,
    file_name: str | None = None,
) -> NoteDraft:
    """A note about to be written, with what its text says: its type (when not given) and
    the vital signs to keep."""
    found = vital_signs(text) if text else None
    return NoteDraft(
        patient_id=patient_id,
        taken_at=taken_at,
        author=author,
        note_type=note_type or (classify(text) if text else "other"),
        content=content,
        content_type=content_type,
        file_name=file_name,
        text=text,
        text_source=text_source,
        text_unavailable=text_unavailable,
        vitals=found.vitals if found else Vitals(),
    )


def to_fhir(draft: NoteDraft, *, system_base: str, stored_at: datetime, subject: str | None = None) -> dict[str, Any]:
    """The `DocumentReference` of a note (without an id: the server assigns one); `subject`
    replaces the reference to the patient (a `urn:uuid:` of a Bundle that writes them too)."""
    taken_at = fhir_instant(draft.taken_at)
    original: dict[str, Any] = {
        "contentType": TEXT_PLAIN if draft.content_type == "text/plain" else draft.content_type,
        "data": base64.b64encode(draft.content).decode("ascii"),
        "size": len(draft.content),
        "hash": base64.b64encode(hashlib.sha1(draft.content).digest()).decode("ascii"),
    }
    if draft.file_name:
        original["title"] = draft.file_name
    content = [{"attachment": original}]
    if draft.text is not None and draft.text_source != "typed":
        content.append({"attachment": _text_attachment(draft.text)})
    extensions: list[dict[str, Any]] = [{"url": text_source_extension(system_base), "valueCode": draft.text_source}]
    if draft.text_unavailable:
        extensions.append({"url": text_unavailable_extension(system_base), "valueString": draft.text_unavailable})
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "extension": extensions,
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [note_type_coding(draft.note_type)], "text": NOTE_TYPE_CODES[draft.note_type][1]},
        "category": [CLINICAL_NOTE_CATEGORY],
        "subject": {"reference": subject or f"Patient/{draft.patient_id}"},
        "date": stored_at.isoformat(),
        "content": content,
        "context": {"period": {"start": taken_at, "end": taken_at}},
    }
    if draft.author:
        resource["author"] = [{"display": draft.author}]
    return resource


def vital_observations(draft: NoteDraft, note_reference: str, *, subject: str | None = None) -> list[dict[str, Any]]:
    """The vital-signs Observations of a note, derived from the DocumentReference at
    `note_reference` (`DocumentReference/{id}`, or a `urn:uuid:` within one transaction)."""
    patient = {"reference": subject or f"Patient/{draft.patient_id}"}
    return [
        observation | {"derivedFrom": [{"reference": note_reference}]}
        for observation in observations(draft.vitals, subject=patient, effective=fhir_instant(draft.taken_at))
    ]


def to_summary(resource: dict[str, Any], patient_id: str, *, system_base: str) -> NoteSummary:
    """The list view of a stored DocumentReference."""
    original = _original(resource)
    return NoteSummary(**stored_fields(resource, patient_id), **_fields(resource, original, system_base))


def to_domain(resource: dict[str, Any], derived: list[dict[str, Any]], patient_id: str, *, system_base: str) -> Note:
    """The note a stored DocumentReference and the Observations derived from it describe."""
    original = _original(resource)
    fields = _fields(resource, original, system_base)
    note_text = _note_text(resource, original, fields["text_source"])
    return Note(
        **stored_fields(resource, patient_id),
        **fields,
        text=note_text,
        text_unavailable=_extension(resource, text_unavailable_extension(system_base), "valueString"),
        sections=soap_sections(note_text) if note_text else None,
        vitals=from_observations(derived),
        vitals_skipped=vital_signs(note_text).skipped if note_text else [],
    )


def original_content(resource: dict[str, Any]) -> tuple[bytes, str, str | None]:
    """The original bytes of a stored note, their content type and their file name."""
    original = _original(resource)
    return _data(original), text(original.get("contentType")) or "application/octet-stream", text(original.get("title"))


def _fields(resource: dict[str, Any], original: dict[str, Any], system_base: str) -> dict[str, Any]:
    context_period = element(element(resource.get("context")).get("period"))
    author = next(iter(elements(resource.get("author"))), {})
    content = _data(original)
    size, sha1 = len(content), hashlib.sha1(content).hexdigest()
    if "data" not in original:
        # Content another client gave by `url` only: what the attachment says of it.
        size = original["size"] if isinstance(original.get("size"), int) else 0
        sha1 = _hex(original.get("hash"))
    source = _extension(resource, text_source_extension(system_base), "valueCode")
    media_type = (text(original.get("contentType")) or "application/octet-stream").split(";", 1)[0].strip().lower()
    if source not in _TEXT_SOURCES:
        # A note some other FHIR client wrote: typed when its content is plain text.
        source = "typed" if media_type == "text/plain" else ("pdf" if len(_attachments(resource)) > 1 else "none")
    return {
        # A note another FHIR client wrote may lack the period: when it was stored stands in.
        "taken_at": instant(context_period.get("start"))
        or instant(resource.get("date"))
        or instant(element(resource.get("meta")).get("lastUpdated")),
        "author": text(author.get("display")),
        "note_type": _note_type(element(resource.get("type"))),
        "content_type": media_type,
        "size": size,
        "sha1": sha1,
        "file_name": text(original.get("title")),
        "text_source": source,
    }


def _note_type(concept: dict[str, Any]) -> str:
    for coding in elements(concept.get("coding")):
        if coding.get("system") == LOINC and (kind := _TYPE_OF_CODE.get(str(coding.get("code")))):
            return kind
    return "other"


def _note_text(resource: dict[str, Any], original: dict[str, Any], source: str) -> str | None:
    if source == "none":
        return None
    if source == "typed":
        decoded = _decoded(_data(original))
        return plain_text(decoded) if decoded is not None else None
    extracted = next(iter(_attachments(resource)[1:]), None)
    return _decoded(_data(extracted)) if extracted is not None else None


def _decoded(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _attachments(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [element(item.get("attachment")) for item in elements(resource.get("content"))]


def _original(resource: dict[str, Any]) -> dict[str, Any]:
    return next(iter(_attachments(resource)), {})


def _data(attachment: dict[str, Any]) -> bytes:
    data = attachment.get("data")
    if not isinstance(data, str):
        return b""
    try:
        return base64.b64decode(data, validate=True)
    except ValueError:
        return b""


def _hex(hash_value: Any) -> str:
    """A base64 SHA-1 as hex; empty when it is none."""
    try:
        digest = base64.b64decode(hash_value, validate=True) if isinstance(hash_value, str) else b""
    except ValueError:
        digest = b""
    return digest.hex()


def _text_attachment(note_text: str) -> dict[str, Any]:
    data = note_text.encode("utf-8")
    return {
        "contentType": TEXT_PLAIN,
        "data": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode("ascii"),
        "title": "Extracted text",
    }


def _extension(resource: dict[str, Any], url: str, value_key: str) -> Any:
    for extension in elements(resource.get("extension")):
        if extension.get("url") == url:
            return extension.get(value_key)
    return None
