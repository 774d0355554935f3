"""Reading a note out of a request: JSON, or a multipart form with a file, streamed within
the upload limit; and what the file's bytes are, whatever its part's header says.

A body larger than the limit and the room around a note (`ENVELOPE_BYTES`: the form's
boundaries and fields, or the JSON around the text and its escapes) is refused as soon as
it is known to be: from its Content-Length before anything is read, else when the bytes
read pass it. So no more than that is ever held; the note itself is then measured.
"""

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import puremagic
from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from fhir_gateway.features.notes.schemas import NoteIn, NoteMetadata

TEXT = "text/plain"
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
SUPPORTED_TYPES = (TEXT, PDF, PNG, JPEG)
_BINARY_TYPES = frozenset({PDF, PNG, JPEG})
# What clients send for "no idea"; the bytes decide then.
_UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF}
# Room around the note in a body: a form's boundaries, part headers and small fields, or
# the JSON around the text and its escapes (a line break is two bytes there).
ENVELOPE_BYTES = 64 * 1024
_FORM_FIELDS = 10
_MAX_FILE_NAME = 255
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Upload:
    """A note as the request gave it: its metadata, its bytes and what they are."""

    metadata: NoteMetadata
    content: bytes
    media_type: str
    file_name: str | None
    # Where the note was in the request: the JSON `content`, or the form's `file`.
    field: str


async def read_note(request: Request, *, max_upload_bytes: int) -> Upload:
    """The note in `request`'s body: JSON (`NoteIn`) or multipart (`file` and the metadata fields)."""
    media_type = _media_type(request.headers.get("content-type", ""))
    if media_type == "multipart/form-data":
        return await _read_form(request, max_upload_bytes)
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"A note is sent as JSON (application/json) or as a form with a file (multipart/form-data), "
            f"not as {media_type!r}.",
        )
    body = b"".join([chunk async for chunk in _within_envelope(request, max_upload_bytes)])
    try:
        note = NoteIn.model_validate_json(body)
    except ValidationError as invalid:
        raise RequestValidationError(_located(invalid, "body")) from None
    content = note.content.encode("utf-8")
    _within_limit(len(content), max_upload_bytes)
    # A JSON note is its metadata too: validated once, not copied out and checked again.
    return Upload(note, content, TEXT, None, "content")


def sniffed_type(content: bytes, declared: str | None) -> str:
    """What `content` is, one of `SUPPORTED_TYPES`, decided by its bytes; 415 when they are none
    of those, or not what `declared` (the part's Content-Type) says."""
    declared_type = _ALIASES.get(_media_type(declared or ""), _media_type(declared or ""))
    if declared_type not in _UNDECLARED and declared_type not in SUPPORTED_TYPES:
        raise _unsupported(f"Notes of type {declared_type!r} are not taken")
    found = _magic(content)
    if found not in _BINARY_TYPES:
        if not _is_text(content):
            raise _unsupported(f"The file is {_named(found)}, not a note this service reads")
        found = TEXT
    if declared_type not in _UNDECLARED and declared_type != found:
        raise _unsupported(f"The file was sent as {declared_type} but its bytes are {_named(found)}")
    return found


async def _read_form(request: Request, max_upload_bytes: int) -> Upload:
    parser = MultiPartParser(
        request.headers,
        _within_envelope(request, max_upload_bytes),
        max_files=1,
        max_fields=_FORM_FIELDS,
    )
    try:
        form = await parser.parse()
    except MultiPartException as malformed:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"The form is malformed: {malformed.message}") from None
    try:
        files = [value for value in form.getlist("file") if isinstance(value, UploadFile)]
        fields: dict[str, Any] = {}
        problems: list[dict[str, Any]] = []
        for name, value in form.multi_items():
            if name == "file":
                continue
            if isinstance(value, UploadFile) or name in fields:
                problems.append(_problem(name, "must be given once, as a plain form field"))
            else:
                fields[name] = value
        if len(files) != 1 or len(form.getlist("file")) != 1:
            problems.append(_problem("file", "give exactly one file (the note)"))
        try:
            metadata = NoteMetadata.model_validate(fields)
        except ValidationError as invalid:
            problems += _located(invalid, "body")
        if problems:
            raise RequestValidationError(problems)
        upload = files[0]
        _within_limit(upload.size or 0, max_upload_bytes)
        content = await upload.read()
        if not content:
            raise RequestValidationError([_problem("file", "is empty")])
        media_type = sniffed_type(content, upload.content_type)
        return Upload(metadata, content, media_type, _file_name(upload.filename), "file")
    finally:
        await form.close()


async def _within_envelope(request: Request, max_upload_bytes: int) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; 413 once it is known to hold more than a note can."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        _within_limit(int(declared) - ENVELOPE_BYTES, max_upload_bytes)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        _within_limit(received - ENVELOPE_BYTES, max_upload_bytes)
        yield chunk


def _within_limit(size: int, max_upload_bytes: int) -> None:
    if size > max_upload_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"The note is larger than the upload limit of {max_upload_bytes} bytes.",
        )


def _magic(content: bytes) -> str | None:
    if not content:
        return None
    try:
        return puremagic.from_string(content, mime=True) or None
    except puremagic.PureError:
        return None


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


def _named(media_type: str | None) -> str:
    return f"{media_type}" if media_type and media_type != "application/octet-stream" else "of no known type"


def _unsupported(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        f"{reason}. Notes are plain text (UTF-8), PDF, PNG or JPEG.",
    )


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _file_name(name: str | None) -> str | None:
    """The file's own name: no folders a browser or client put before it, nothing a FHIR
    string cannot hold."""
    if not name:
        return None
    base = os.path.basename(name.replace("\\", "/"))
    cleaned = _UNSAFE_IN_NAME.sub("", base).strip()[:_MAX_FILE_NAME]
    return cleaned or None


def _problem(field: str, message: str) -> dict[str, Any]:
    return {"type": "value_error", "loc": ("body", field), "msg": message}


def _located(invalid: ValidationError, where: str) -> list[dict[str, Any]]:
    return [
        {"type": error["type"], "loc": (where, *error["loc"]), "msg": error["msg"]}
        for error in invalid.errors(include_url=False, include_input=False)
    ]
