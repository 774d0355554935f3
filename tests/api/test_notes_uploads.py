"""`POST /patients/{id}/notes` with a file (multipart): plain text, PDF, PNG or JPEG, told
apart by their bytes; their text read (PDF text layer, or OCR); downloaded as sent; refused
(413) past the upload limit before the whole body is read."""

import hashlib
import io
import re
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytesseract
import pytest
from fastapi import FastAPI
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from fhir_gateway.app import create_app
from fhir_gateway.features.notes.uploads import ENVELOPE_BYTES
from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.settings import Settings
from tests.api.checks import assert_problem
from tests.api.conftest import OpenGateway

pytestmark = pytest.mark.anyio

TAKEN_AT = "2025-02-04T21:00:00-08:00"
NURSING_TEXT = (
    "Nursing note: Patient ambulated twice in hallway, tolerated well.\n"
    "HR 88, BP 124/76, SpO2 97% on room air.\n"
    "Call bell within reach. No falls.\n"
)
SCAN_LINES = ["NURSING NOTE", "HR 88, BP 124/76", "Call bell within reach."]
BOUNDARY = "notes-test-boundary-7MA4YWxkTrZu0gW"


# --- files -------------------------------------------------------------------------------


def text_pdf(lines: list[str]) -> bytes:
    """A PDF with a text layer."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def blank_pdf() -> bytes:
    """A PDF with one empty page: neither text nor images."""
    pdf = FPDF()
    pdf.add_page()
    return bytes(pdf.output())


def scan(lines: list[str]) -> Image.Image:
    """A page of large black text on white, as Tesseract reads reliably."""
    font = ImageFont.load_default(size=40)
    image = Image.new("L", (900, 80 + 60 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((40, 40 + 60 * index), line, fill=0, font=font)
    return image


def encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def png_scan() -> bytes:
    return encoded(scan(SCAN_LINES), "PNG")


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("note.txt", NURSING_TEXT)
    return buffer.getvalue()


def gif_file() -> bytes:
    return encoded(Image.new("RGB", (8, 8), "white"), "GIF")


# --- requests ----------------------------------------------------------------------------


async def new_patient(client: httpx.AsyncClient, given: str = "Maria") -> str:
    response = await client.post(
        "/patients", json={"given_name": given, "family_name": "Okafor", "birth_date": "1961-04-17"}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def upload(
    client: httpx.AsyncClient,
    patient_id: str,
    content: bytes,
    *,
    file_name: str = "note.bin",
    content_type: str | None = "application/octet-stream",
    **fields: str,
) -> httpx.Response:
    part: Any = (file_name, content, content_type) if content_type is not None else (file_name, content)
    return await client.post(
        f"/patients/{patient_id}/notes", data={"taken_at": TAKEN_AT, **fields}, files={"file": part}
    )


async def uploaded(client: httpx.AsyncClient, patient_id: str, content: bytes, **kwargs: Any) -> dict[str, Any]:
    response = await upload(client, patient_id, content, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def form(parts: list[tuple[str, str | None, str | None, bytes]]) -> bytes:
    """A multipart/form-data body of (name, file name, content type, bytes) parts."""
    body = b""
    for name, file_name, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name is not None else "")
        headers = f"Content-Disposition: {disposition}\r\n"
        if content_type is not None:
            headers += f"Content-Type: {content_type}\r\n"
        body += f"--{BOUNDARY}\r\n{headers}\r\n".encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


async def documents_of(fhir: FhirClient, patient_id: str) -> list[dict[str, Any]]:
    bundle = await fhir.search("DocumentReference", [("subject", f"Patient/{patient_id}")])
    return [entry["resource"] for entry in bundle.get("entry") or []]


async def stored_anything(fhir: FhirClient) -> list[str]:
    """Every DocumentReference and Observation the FHIR server holds."""
    found = []
    for resource_type in ("DocumentReference", "Observation"):
        bundle = await fhir.search(resource_type, [("_count", "100")])
        found += [f"{resource_type}/{entry['resource']['id']}" for entry in bundle.get("entry") or []]
    return found


async def download(client: httpx.AsyncClient, patient_id: str, note_id: str) -> httpx.Response:
    response = await client.get(f"/patients/{patient_id}/notes/{note_id}/content")
    assert response.status_code == 200, response.text
    return response


def disposition_names(header: str) -> tuple[str, str]:
    """The ASCII `filename` and the decoded `filename*` of a Content-Disposition attachment."""
    found = re.fullmatch(r"attachment; filename=\"([^\"\\]*)\"; filename\*=UTF-8''([A-Za-z0-9%._~!*'()-]+)", header)
    assert found is not None, header
    fallback, extended = found.groups()
    assert fallback.isascii() and fallback.isprintable()
    return fallback, unquote(extended, encoding="utf-8", errors="strict")


# --- accepted uploads --------------------------------------------------------------------


async def test_a_text_file_is_a_typed_note_downloaded_as_sent(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    content = NURSING_TEXT.encode("utf-8")

    response = await upload(
        client, patient_id, content, file_name="shift-note.txt", content_type="text/plain", author="RN Kim"
    )

    assert response.status_code == 201, response.text
    note = response.json()
    assert response.headers["location"].endswith(f"/patients/{patient_id}/notes/{note['id']}")
    assert response.headers["etag"] == 'W/"1"'
    assert (note["content_type"], note["text_source"], note["file_name"]) == ("text/plain", "typed", "shift-note.txt")
    assert (note["size"], note["sha1"]) == (len(content), hashlib.sha1(content).hexdigest())
    assert (note["author"], note["note_type"], note["text_unavailable"]) == ("RN Kim", "nursing", None)
    assert note["text"].strip() == NURSING_TEXT.strip()
    assert note["vitals"]["heart_rate"] == 88
    assert (note["vitals"]["bp_systolic"], note["vitals"]["bp_diastolic"], note["vitals"]["spo2"]) == (124, 76, 97)
    read = (await client.get(f"/patients/{patient_id}/notes/{note['id']}")).json()
    assert {k: v for k, v in read.items() if k != "updated_at"} == {k: v for k, v in note.items() if k != "updated_at"}

    got = await download(client, patient_id, note["id"])

    assert got.content == content
    assert hashlib.sha1(got.content).hexdigest() == note["sha1"]
    assert got.headers["content-type"].split(";")[0] == "text/plain"
    assert disposition_names(got.headers["content-disposition"]) == ("shift-note.txt", "shift-note.txt")
    assert got.headers["etag"] == 'W/"1"'
    assert got.headers["x-content-type-options"] == "nosniff"


async def test_a_text_file_with_a_byte_order_mark_keeps_its_bytes(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    content = b"\xef\xbb\xbf" + "PROGRESS NOTE\nS: Feels better, café au lait.\nP: Continue.".encode()

    note = await uploaded(client, patient_id, content, file_name="bom.txt", content_type="text/plain; charset=utf-8")

    assert note["text"].startswith("PROGRESS NOTE")
    assert note["note_type"] == "progress"
    assert "café" in note["text"]
    assert (await download(client, patient_id, note["id"])).content == content


async def test_a_pdf_with_a_text_layer_is_read_without_ocr(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)
    content = text_pdf(["DISCHARGE SUMMARY", "Hospital course: uneventful.", "BP 150/90, HR 72, T 36.8 C."])

    note = await uploaded(client, patient_id, content, file_name="discharge.pdf", content_type="application/pdf")

    assert (note["content_type"], note["text_source"], note["note_type"]) == ("application/pdf", "pdf", "discharge")
    assert "DISCHARGE SUMMARY" in note["text"]
    assert note["text_unavailable"] is None
    assert (note["vitals"]["bp_systolic"], note["vitals"]["bp_diastolic"]) == (150, 90)
    assert (note["vitals"]["heart_rate"], note["vitals"]["temperature_c"]) == (72, 36.8)
    assert (note["size"], note["sha1"]) == (len(content), hashlib.sha1(content).hexdigest())
    read = (await client.get(f"/patients/{patient_id}/notes/{note['id']}")).json()
    assert (read["text"], read["text_source"], read["vitals"]) == (note["text"], "pdf", note["vitals"])
    (document,) = await documents_of(app.state.fhir_client, patient_id)
    assert document["content"][0]["attachment"]["contentType"] == "application/pdf"

    got = await download(client, patient_id, note["id"])

    assert got.content == content
    assert got.headers["content-type"] == "application/pdf"
    assert disposition_names(got.headers["content-disposition"]) == ("discharge.pdf", "discharge.pdf")


@pytest.mark.usefixtures("tesseract")
async def test_an_image_only_pdf_is_read_by_ocr(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    content = encoded(scan(SCAN_LINES), "PDF")

    note = await uploaded(client, patient_id, content, file_name="scan.pdf", content_type="application/pdf")

    assert (note["content_type"], note["text_source"]) == ("application/pdf", "ocr")
    assert "NURSING" in note["text"].upper()
    assert note["note_type"] == "nursing"
    assert note["vitals"]["heart_rate"] == 88
    assert (await download(client, patient_id, note["id"])).content == content


@pytest.mark.usefixtures("tesseract")
async def test_a_png_scan_is_read_by_ocr(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)
    content = png_scan()

    note = await uploaded(client, patient_id, content, file_name="scan.png", content_type="image/png")

    assert (note["content_type"], note["text_source"], note["text_unavailable"]) == ("image/png", "ocr", None)
    assert "NURSING" in note["text"].upper()
    assert note["note_type"] == "nursing"
    assert (note["vitals"]["heart_rate"], note["vitals"]["bp_systolic"], note["vitals"]["bp_diastolic"]) == (
        88,
        124,
        76,
    )
    read = (await client.get(f"/patients/{patient_id}/notes/{note['id']}")).json()
    assert (read["text"], read["text_source"], read["vitals"]) == (note["text"], "ocr", note["vitals"])
    bundle = await app.state.fhir_client.search("Observation", [("derived-from", f"DocumentReference/{note['id']}")])
    assert len(bundle.get("entry") or []) == 2

    got = await download(client, patient_id, note["id"])

    assert got.content == content
    assert got.headers["content-type"] == "image/png"


@pytest.mark.usefixtures("tesseract")
async def test_a_jpeg_scan_is_read_by_ocr(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    content = encoded(scan(SCAN_LINES), "JPEG")

    # image/jpg is what some clients call JPEG.
    note = await uploaded(client, patient_id, content, file_name="scan.jpg", content_type="image/jpg")

    assert (note["content_type"], note["text_source"]) == ("image/jpeg", "ocr")
    assert "NURSING" in note["text"].upper()
    got = await download(client, patient_id, note["id"])
    assert got.content == content
    assert got.headers["content-type"] == "image/jpeg"


async def test_a_pdf_without_text_or_scans_is_stored_without_text(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    note = await uploaded(client, patient_id, blank_pdf(), file_name="blank.pdf", content_type="application/pdf")

    assert (note["text"], note["text_source"], note["note_type"], note["sections"]) == (None, "none", "other", None)
    assert note["text_unavailable"]


@pytest.mark.parametrize("kind", ["png", "image-only pdf"])
async def test_without_tesseract_a_scan_is_stored_without_text_and_says_why(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/bin/tesseract")
    patient_id = await new_patient(client)
    content = png_scan() if kind == "png" else encoded(scan(SCAN_LINES), "PDF")

    note = await uploaded(client, patient_id, content, file_name="scan")

    assert (note["text"], note["text_source"], note["note_type"], note["sections"]) == (None, "none", "other", None)
    assert "tesseract" in note["text_unavailable"].lower()
    assert all(value is None for value in note["vitals"].values())
    read = (await client.get(f"/patients/{patient_id}/notes/{note['id']}")).json()
    assert (read["text"], read["text_source"], read["text_unavailable"]) == (None, "none", note["text_unavailable"])
    bundle = await app.state.fhir_client.search("Observation", [("derived-from", f"DocumentReference/{note['id']}")])
    assert (bundle.get("entry") or []) == []
    assert (await download(client, patient_id, note["id"])).content == content


def encrypted_pdf(**passwords: str) -> bytes:
    pdf = FPDF()
    pdf.set_encryption(**passwords)
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="PROGRESS NOTE: improving, HR 80.")
    return bytes(pdf.output())


async def test_a_pdf_encrypted_with_a_password_is_422(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)

    problem = assert_problem(
        await upload(client, patient_id, encrypted_pdf(owner_password="owner", user_password="user")), 422
    )

    assert [error["loc"] for error in problem["errors"]] == [["body", "file"]]
    assert "password" in problem["errors"][0]["msg"]
    assert await stored_anything(app.state.fhir_client) == []


async def test_a_pdf_protected_only_against_changes_is_read(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    content = encrypted_pdf(owner_password="owner")

    note = await uploaded(client, patient_id, content, content_type="application/pdf")

    assert (note["text_source"], note["note_type"], note["vitals"]["heart_rate"]) == ("pdf", "progress", 80)
    assert (await download(client, patient_id, note["id"])).content == content


@pytest.mark.usefixtures("tesseract")
async def test_ocr_that_takes_too_long_leaves_the_note_without_text(
    settings: Settings, open_gateway: OpenGateway
) -> None:
    app = create_app(settings.model_copy(update={"ocr_timeout_seconds": 0.001}))
    async with open_gateway(app) as client:
        patient_id = await new_patient(client)

        note = await uploaded(client, patient_id, png_scan(), content_type="image/png")

        assert (note["text"], note["text_source"], note["note_type"]) == (None, "none", "other")
        assert "longer than" in note["text_unavailable"]


@pytest.mark.usefixtures("tesseract")
async def test_only_the_first_pages_of_a_scanned_pdf_are_read(settings: Settings, open_gateway: OpenGateway) -> None:
    app = create_app(settings.model_copy(update={"ocr_max_pages": 1}))
    first, second = scan(["NURSING NOTE", "HR 88"]), scan(["SECOND PAGE", "BP 150/95"])
    buffer = io.BytesIO()
    first.save(buffer, "PDF", save_all=True, append_images=[second])
    async with open_gateway(app) as client:
        patient_id = await new_patient(client)

        note = await uploaded(client, patient_id, buffer.getvalue(), content_type="application/pdf")

        assert note["text_source"] == "ocr"
        assert "NURSING" in note["text"].upper()
        assert "SECOND" not in note["text"].upper()
        assert (note["vitals"]["heart_rate"], note["vitals"]["bp_systolic"]) == (88, None)


async def test_a_scan_with_too_many_pixels_is_stored_without_text(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    # 48 million white pixels: a small file, too many pixels to read.
    content = encoded(Image.new("1", (8000, 6000), 1), "PNG")

    note = await uploaded(client, patient_id, content, content_type="image/png")

    assert (note["text"], note["text_source"]) == (None, "none")
    assert "pixels" in note["text_unavailable"]
    assert (await download(client, patient_id, note["id"])).content == content


async def test_a_part_without_a_content_type_is_read_from_its_bytes(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    content = text_pdf(["CONSULT NOTE", "Reason for consult: syncope."])

    response = await client.post(
        f"/patients/{patient_id}/notes",
        content=form([("taken_at", None, None, TAKEN_AT.encode()), ("file", "consult", None, content)]),
        headers={"Content-Type": FORM_TYPE},
    )

    assert response.status_code == 201, response.text
    assert (response.json()["content_type"], response.json()["note_type"]) == ("application/pdf", "consult")
    got = await download(client, patient_id, response.json()["id"])
    assert got.headers["content-type"] == "application/pdf"
    assert disposition_names(got.headers["content-disposition"]) == ("consult", "consult")


@pytest.mark.parametrize(
    ("content", "declared", "found"),
    [
        (NURSING_TEXT.encode(), "application/octet-stream", "text/plain"),
        (text_pdf(["PROGRESS NOTE", "Improving."]), "application/octet-stream", "application/pdf"),
        (text_pdf(["PROGRESS NOTE", "Improving."]), "binary/octet-stream", "application/pdf"),
        (text_pdf(["PROGRESS NOTE", "Improving."]), "application/x-pdf", "application/pdf"),
        (text_pdf(["PROGRESS NOTE", "Improving."]), "APPLICATION/PDF", "application/pdf"),
    ],
)
async def test_an_undeclared_or_aliased_type_is_read_from_the_bytes(
    client: httpx.AsyncClient, content: bytes, declared: str, found: str
) -> None:
    patient_id = await new_patient(client)

    note = await uploaded(client, patient_id, content, file_name="upload", content_type=declared)

    assert note["content_type"] == found
    got = await download(client, patient_id, note["id"])
    assert got.content == content
    assert got.headers["content-type"].split(";")[0] == found


async def test_a_non_ascii_file_name_is_kept_and_downloaded_by_rfc_6266(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    name = "résumé de séjour – 東京.txt"

    note = await uploaded(client, patient_id, NURSING_TEXT.encode(), file_name=name, content_type="text/plain")

    assert note["file_name"] == name
    got = await download(client, patient_id, note["id"])
    fallback, decoded = disposition_names(got.headers["content-disposition"])
    assert decoded == name
    assert fallback.isascii() and fallback.endswith(".txt")
    assert got.content == NURSING_TEXT.encode()


async def test_a_file_name_loses_the_folders_a_client_put_before_it(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    note = await uploaded(
        client, patient_id, NURSING_TEXT.encode(), file_name="C:\\Users\\rn\\notes\\shift.txt", content_type=None
    )

    assert note["file_name"] == "shift.txt"
    assert disposition_names((await download(client, patient_id, note["id"])).headers["content-disposition"]) == (
        "shift.txt",
        "shift.txt",
    )


async def test_a_file_name_with_separators_is_quoted_in_the_download(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    name = "visit; 50% done, Dr. O'Neil's=final.txt"

    note = await uploaded(client, patient_id, NURSING_TEXT.encode(), file_name=name, content_type="text/plain")

    assert note["file_name"] == name
    header = (await download(client, patient_id, note["id"])).headers["content-disposition"]
    assert disposition_names(header) == (name, name)


async def test_form_metadata_is_kept_and_a_given_note_type_wins(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    note = await uploaded(
        client,
        patient_id,
        NURSING_TEXT.encode(),
        file_name="n.txt",
        content_type="text/plain",
        author="Dr. Amara Singh",
        note_type="consult",
    )

    assert (note["author"], note["note_type"], note["taken_at"]) == ("Dr. Amara Singh", "consult", TAKEN_AT)
    listed = (await client.get(f"/patients/{patient_id}/notes", params={"note_type": "consult"})).json()
    assert [item["id"] for item in listed["items"]] == [note["id"]]
    assert listed["items"][0]["file_name"] == "n.txt"


# --- refused uploads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (png_scan(), "application/pdf"),
        (png_scan(), "image/jpeg"),
        (png_scan(), "text/plain"),
        (text_pdf(["PROGRESS NOTE"]), "text/plain"),
        (text_pdf(["PROGRESS NOTE"]), "image/png"),
        (NURSING_TEXT.encode(), "image/png"),
        (NURSING_TEXT.encode(), "application/pdf"),
    ],
    ids=["png-as-pdf", "png-as-jpeg", "png-as-text", "pdf-as-text", "pdf-as-png", "text-as-png", "text-as-pdf"],
)
async def test_bytes_unlike_their_declared_type_are_415(
    client: httpx.AsyncClient, app: FastAPI, content: bytes, declared: str
) -> None:
    patient_id = await new_patient(client)

    assert_problem(await upload(client, patient_id, content, content_type=declared), 415)

    assert await stored_anything(app.state.fhir_client) == []


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (gif_file(), "image/gif"),
        (gif_file(), "application/octet-stream"),
        (gif_file(), "image/png"),
        (zip_file(), "application/zip"),
        (zip_file(), "application/octet-stream"),
        (bytes(range(256)) * 4, "application/octet-stream"),
        (NURSING_TEXT.encode(), "text/html"),
        (NURSING_TEXT.encode(), "application/msword"),
    ],
    ids=["gif", "gif-undeclared", "gif-as-png", "zip", "zip-undeclared", "binary", "text-as-html", "text-as-word"],
)
async def test_an_unsupported_type_is_415(
    client: httpx.AsyncClient, app: FastAPI, content: bytes, declared: str
) -> None:
    patient_id = await new_patient(client)

    problem = assert_problem(await upload(client, patient_id, content, content_type=declared), 415)

    assert "PDF" in problem["detail"]
    assert await stored_anything(app.state.fhir_client) == []


async def test_an_empty_file_is_422(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)

    problem = assert_problem(
        await upload(client, patient_id, b"", file_name="empty.txt", content_type="text/plain"), 422
    )

    assert [error["loc"] for error in problem["errors"]] == [["body", "file"]]
    assert await stored_anything(app.state.fhir_client) == []


async def test_a_blank_text_file_is_422(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)

    problem = assert_problem(await upload(client, patient_id, b" \n\r\n\t", content_type="text/plain"), 422)

    assert [error["loc"] for error in problem["errors"]] == [["body", "file"]]
    assert await stored_anything(app.state.fhir_client) == []


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n" + b"\x8f\x01garbage, not a PDF body at all \xff\xfe" * 20,
        text_pdf(["PROGRESS NOTE"])[:200],
        png_scan()[:120],
        b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\xff" * 40,
        b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + b"\x13" * 60,
    ],
    ids=["garbage-after-pdf-header", "truncated-pdf", "truncated-png", "broken-png-header", "broken-jpeg"],
)
async def test_an_unreadable_pdf_or_image_is_422(client: httpx.AsyncClient, app: FastAPI, content: bytes) -> None:
    patient_id = await new_patient(client)

    problem = assert_problem(await upload(client, patient_id, content), 422)

    assert [error["loc"] for error in problem["errors"]] == [["body", "file"]]
    assert await stored_anything(app.state.fhir_client) == []


async def test_two_files_are_refused(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)

    response = await client.post(
        f"/patients/{patient_id}/notes",
        data={"taken_at": TAKEN_AT},
        files=[
            ("file", ("a.txt", NURSING_TEXT.encode(), "text/plain")),
            ("file", ("b.txt", b"PROGRESS NOTE\nImproving.", "text/plain")),
        ],
    )

    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)
    assert await stored_anything(app.state.fhir_client) == []


@pytest.mark.parametrize(
    ("parts", "locs"),
    [
        ([("taken_at", None, None, TAKEN_AT.encode())], [["body", "file"]]),
        ([("taken_at", None, None, TAKEN_AT.encode()), ("file", None, None, b"HR 80")], [["body", "file"]]),
        (
            [("taken_at", None, None, TAKEN_AT.encode()), ("attachment", "a.txt", "text/plain", b"HR 80")],
            [["body", "attachment"], ["body", "file"]],
        ),
        ([("file", "a.txt", "text/plain", b"HR 80")], [["body", "taken_at"]]),
        (
            [("taken_at", None, None, b"2025-02-04T21:00:00"), ("file", "a.txt", "text/plain", b"HR 80")],
            [["body", "taken_at"]],
        ),
        (
            [
                ("taken_at", None, None, TAKEN_AT.encode()),
                ("note_type", None, None, b"letter"),
                ("file", "a.txt", "text/plain", b"HR 80"),
            ],
            [["body", "note_type"]],
        ),
        (
            [
                ("taken_at", None, None, TAKEN_AT.encode()),
                ("colour", None, None, b"blue"),
                ("file", "a.txt", "text/plain", b"HR 80"),
            ],
            [["body", "colour"]],
        ),
        (
            [
                ("taken_at", None, None, TAKEN_AT.encode()),
                ("taken_at", None, None, TAKEN_AT.encode()),
                ("file", "a.txt", "text/plain", b"HR 80"),
            ],
            [["body", "taken_at"]],
        ),
    ],
    ids=[
        "no-file",
        "file-as-plain-field",
        "file-under-another-name",
        "missing-taken_at",
        "naive-taken_at",
        "unknown-note_type",
        "extra-field",
        "repeated-field",
    ],
)
async def test_an_invalid_form_is_422_naming_the_field(
    client: httpx.AsyncClient, app: FastAPI, parts: list[tuple[str, str | None, str | None, bytes]], locs: list[Any]
) -> None:
    patient_id = await new_patient(client)

    response = await client.post(
        f"/patients/{patient_id}/notes", content=form(parts), headers={"Content-Type": FORM_TYPE}
    )

    problem = assert_problem(response, 422)
    assert sorted(error["loc"] for error in problem["errors"]) == sorted(locs)
    assert await stored_anything(app.state.fhir_client) == []


async def test_a_form_for_an_unknown_patient_is_404_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await upload(client, "nobody", NURSING_TEXT.encode(), content_type="text/plain")

    assert_problem(response, 404)
    assert await stored_anything(app.state.fhir_client) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n"),
        (FORM_TYPE, b"this is not a form"),
    ],
    ids=["no-boundary", "garbage"],
)
async def test_a_malformed_form_is_400(client: httpx.AsyncClient, app: FastAPI, content_type: str, body: bytes) -> None:
    patient_id = await new_patient(client)

    assert_problem(
        await client.post(f"/patients/{patient_id}/notes", content=body, headers={"Content-Type": content_type}), 400
    )
    assert await stored_anything(app.state.fhir_client) == []


@pytest.mark.parametrize(
    "content_type",
    ["text/xml", "text/plain", "application/x-www-form-urlencoded", "application/pdf", "multipart/mixed; boundary=x"],
)
async def test_a_json_note_sent_as_another_type_is_415(
    client: httpx.AsyncClient, app: FastAPI, content_type: str
) -> None:
    patient_id = await new_patient(client)

    response = await client.post(
        f"/patients/{patient_id}/notes",
        content=b'{"taken_at": "2025-02-04T21:00:00-08:00", "content": "HR 80"}',
        headers={"Content-Type": content_type},
    )

    assert_problem(response, 415)
    assert await stored_anything(app.state.fhir_client) == []


async def test_a_json_note_as_fhir_json_is_taken(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    response = await client.post(
        f"/patients/{patient_id}/notes",
        content=b'{"taken_at": "2025-02-04T21:00:00-08:00", "content": "HR 80"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["vitals"]["heart_rate"] == 80


# --- the upload limit --------------------------------------------------------------------

LIMIT = 4096
CHUNK = 4096


@pytest.fixture
def small_limit_app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"max_upload_bytes": LIMIT}))


class CountedBody:
    """A request body streamed in chunks, counting how many the server pulled."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.pulled = 0
        self.chunks = -(-len(body) // CHUNK)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.body), CHUNK):
            self.pulled += 1
            yield self.body[start : start + CHUNK]


def big_form(file_bytes: int) -> bytes:
    return form(
        [("taken_at", None, None, TAKEN_AT.encode()), ("file", "big.txt", "text/plain", b"HR 80\n" * (file_bytes // 6))]
    )


async def test_a_file_at_the_limit_is_taken_and_one_byte_more_is_413(
    small_limit_app: FastAPI, open_gateway: OpenGateway
) -> None:
    async with open_gateway(small_limit_app) as client:
        patient_id = await new_patient(client)
        at_limit = (b"HR 80\n" * LIMIT)[:LIMIT]

        accepted = await upload(client, patient_id, at_limit, content_type="text/plain")
        refused = await upload(client, patient_id, at_limit + b"\n", content_type="text/plain")

        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["size"] == LIMIT
        problem = assert_problem(refused, 413)
        assert str(LIMIT) in problem["detail"]
        assert len(await documents_of(small_limit_app.state.fhir_client, patient_id)) == 1


async def test_a_json_note_over_the_limit_is_413(small_limit_app: FastAPI, open_gateway: OpenGateway) -> None:
    async with open_gateway(small_limit_app) as client:
        patient_id = await new_patient(client)

        response = await client.post(
            f"/patients/{patient_id}/notes", json={"taken_at": TAKEN_AT, "content": "HR 80\n" * LIMIT}
        )

        assert_problem(response, 413)
        assert await stored_anything(small_limit_app.state.fhir_client) == []


async def test_a_declared_content_length_over_the_limit_is_413_before_the_body_is_read(
    small_limit_app: FastAPI, open_gateway: OpenGateway
) -> None:
    async with open_gateway(small_limit_app) as client:
        patient_id = await new_patient(client)
        body = CountedBody(big_form(LIMIT + ENVELOPE_BYTES + 256 * 1024))

        response = await client.post(
            f"/patients/{patient_id}/notes",
            content=body,
            headers={"Content-Type": FORM_TYPE, "Content-Length": str(len(body.body))},
        )

        problem = assert_problem(response, 413)
        assert str(LIMIT) in problem["detail"]
        assert body.pulled == 0
        assert await stored_anything(small_limit_app.state.fhir_client) == []


async def test_a_chunked_body_over_the_limit_is_413_and_is_not_read_to_its_end(
    small_limit_app: FastAPI, open_gateway: OpenGateway
) -> None:
    async with open_gateway(small_limit_app) as client:
        patient_id = await new_patient(client)
        body = CountedBody(big_form(LIMIT + ENVELOPE_BYTES + 1024 * 1024))

        response = await client.post(f"/patients/{patient_id}/notes", content=body, headers={"Content-Type": FORM_TYPE})

        assert "content-length" not in response.request.headers
        problem = assert_problem(response, 413)
        assert str(LIMIT) in problem["detail"]
        # Refused once the bytes read pass the limit and the room for the form around the file.
        assert body.pulled <= (LIMIT + ENVELOPE_BYTES) // CHUNK + 2
        assert body.pulled < body.chunks // 4
        assert await stored_anything(small_limit_app.state.fhir_client) == []


async def test_a_chunked_body_within_the_limit_is_taken(small_limit_app: FastAPI, open_gateway: OpenGateway) -> None:
    async with open_gateway(small_limit_app) as client:
        patient_id = await new_patient(client)
        body = CountedBody(big_form(LIMIT - 100))

        response = await client.post(f"/patients/{patient_id}/notes", content=body, headers={"Content-Type": FORM_TYPE})

        assert response.status_code == 201, response.text
        assert body.pulled == body.chunks
        assert response.json()["vitals"]["heart_rate"] == 80
