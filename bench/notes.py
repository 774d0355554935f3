"""Notes benchmark: upload throughput of 1 KB typed notes and 1 MB PDFs, and OCR time per page.

The gateway runs in-process (httpx.ASGITransport, its lifespan included) on a fresh SQLite
file of the embedded store. Side by side in one run, each measurement taking turns round
after round:

  (a) gateway, 1 KB note    POST /patients/{id}/notes, JSON
  (b) store, 1 KB note      the same DocumentReference and Observations, one transaction,
                            straight to the store (what the gateway adds is (a) - (b))
  (c) gateway, 1 MB PDF     POST /patients/{id}/notes, multipart: two pages of text and a
                            photograph-like image that does not compress
  (d) store, 1 MB PDF       the same, straight to the store

and then OCR alone (`TextExtractor`, Tesseract through pytesseract) on image-only PDFs of
one and of three A4 pages scanned at 200 dpi, giving seconds per page.

    .venv/bin/python bench/notes.py [--notes 200] [--pdfs 20] [--concurrency 4] [--rounds 2]
"""

import argparse
import asyncio
import io
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.timing import measure, percentile  # noqa: E402
from fhir_gateway.app import create_app  # noqa: E402
from fhir_gateway.features.notes.extraction import TextExtractor  # noqa: E402
from fhir_gateway.settings import Settings  # noqa: E402
from mappers.note import new_note, to_fhir, vital_observations  # noqa: E402

SAMPLES = json.loads((REPO / "generators" / "data" / "soap_notes.json").read_text())["notes"]
TAKEN_AT = "2025-02-04T09:30:00-08:00"
SYSTEM_BASE = "https://fhir-gateway.dev"


def one_kilobyte_note(rng: random.Random) -> str:
    """A sample note cut or padded to about 1 KB."""
    text = rng.choice(SAMPLES)["content"]
    while len(text) < 1024:
        text += "\n" + rng.choice(SAMPLES)["content"]
    return text[:1024]


def one_megabyte_pdf(seed: int) -> bytes:
    """Two pages of note text and a noise image (incompressible), about 1 MB in all."""
    rng = random.Random(seed)
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for page in range(2):
        pdf.add_page()
        pdf.multi_cell(0, 6, SAMPLES[(seed + page) % len(SAMPLES)]["content"].replace("°", " deg"))
    noise = Image.frombytes("RGB", (580, 580), rng.randbytes(580 * 580 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    pdf.image(io.BytesIO(buffer.getvalue()), x=20, y=150, w=80)
    return bytes(pdf.output())


def scanned_pdf(pages: int) -> bytes:
    """An image-only PDF: A4 pages at 200 dpi with a note rendered on each."""
    font = ImageFont.load_default(size=30)
    images = []
    for page in range(pages):
        image = Image.new("L", (1654, 2339), 255)
        draw = ImageDraw.Draw(image)
        lines = SAMPLES[page % len(SAMPLES)]["content"].splitlines()
        y = 120
        for line in lines:
            for start in range(0, len(line), 80):
                draw.text((120, y), line[start : start + 80], fill=0, font=font)
                y += 44
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=200, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def direct_bundle(patient_id: str, content: bytes, content_type: str, text: str) -> dict[str, Any]:
    """The transaction the gateway writes for a note, built the same way."""
    draft = new_note(
        patient_id=patient_id,
        taken_at=datetime.fromisoformat(TAKEN_AT),
        content=content,
        content_type=content_type,
        text=text,
        text_source="typed" if content_type == "text/plain" else "pdf",
    )
    note_urn = f"urn:uuid:{uuid.uuid4()}"
    resources = [(note_urn, to_fhir(draft, system_base=SYSTEM_BASE, stored_at=datetime.now(UTC)))]
    resources += [(f"urn:uuid:{uuid.uuid4()}", o) for o in vital_observations(draft, note_urn)]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": url, "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for url, r in resources
        ],
    }


async def run(arguments: argparse.Namespace) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(_env_file=None, embedded_database_url=f"sqlite:///{directory}/fhir.db")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=120) as client:
                created = await client.post(
                    "/patients", json={"given_name": "Bench", "family_name": "Mark", "birth_date": "1970-01-01"}
                )
                patient_id = created.json()["id"]
                fhir = app.state.fhir_client
                notes = [one_kilobyte_note(rng) for _ in range(arguments.notes)]
                pdfs = [one_megabyte_pdf(seed) for seed in range(4)]
                pdf_texts = [SAMPLES[seed % len(SAMPLES)]["content"] for seed in range(4)]
                print(f"1 KB notes: {len(notes[0].encode())} bytes; PDFs: {len(pdfs[0]) / 1e6:.2f} MB")

                async def gateway_note(index: int) -> None:
                    answer = await client.post(
                        f"/patients/{patient_id}/notes", json={"taken_at": TAKEN_AT, "content": notes[index]}
                    )
                    assert answer.status_code == 201, answer.text

                async def store_note(index: int) -> None:
                    text = notes[index]
                    await fhir.transaction(direct_bundle(patient_id, text.encode(), "text/plain", text))

                async def gateway_pdf(index: int) -> None:
                    answer = await client.post(
                        f"/patients/{patient_id}/notes",
                        data={"taken_at": TAKEN_AT},
                        files={"file": ("note.pdf", pdfs[index % len(pdfs)], "application/pdf")},
                    )
                    assert answer.status_code == 201, answer.text

                async def store_pdf(index: int) -> None:
                    pdf = pdfs[index % len(pdfs)]
                    await fhir.transaction(
                        direct_bundle(patient_id, pdf, "application/pdf", pdf_texts[index % len(pdfs)])
                    )

                measurements = {
                    "(a) gateway, 1 KB note": (gateway_note, arguments.notes),
                    "(b) store, 1 KB note": (store_note, arguments.notes),
                    "(c) gateway, 1 MB PDF": (gateway_pdf, arguments.pdfs),
                    "(d) store, 1 MB PDF": (store_pdf, arguments.pdfs),
                }
                best: dict[str, tuple[float, list[float]]] = {}
                for _ in range(arguments.rounds):
                    for name, (send, count) in measurements.items():
                        rate, latencies = await measure(send, count, arguments.concurrency)
                        if name not in best or rate > best[name][0]:
                            best[name] = (rate, latencies)
                print(f"\nconcurrency {arguments.concurrency}, best of {arguments.rounds} rounds")
                for name, (rate, latencies) in best.items():
                    p50, p95 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.95) * 1e3
                    print(f"{name:26} {rate:8.1f} notes/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
                ratio_text = best["(a) gateway, 1 KB note"][0] / best["(b) store, 1 KB note"][0]
                ratio_pdf = best["(c) gateway, 1 MB PDF"][0] / best["(d) store, 1 MB PDF"][0]
                print(f"gateway/store throughput: 1 KB notes {ratio_text:.2f}, 1 MB PDFs {ratio_pdf:.2f}")

    extractor = TextExtractor(languages="eng", timeout_seconds=600, max_pages=20, concurrency=1)
    if not extractor.ocr_available:
        print("\nOCR: Tesseract is not installed; no OCR figures.")
        return
    print("\nOCR (Tesseract, A4 at 200 dpi, image-only PDF)")
    for pages in (1, 3):
        scan = scanned_pdf(pages)
        started = time.perf_counter()
        found = await extractor.extract(scan, "application/pdf")
        elapsed = time.perf_counter() - started
        words = len((found.text or "").split())
        print(f"{pages} page(s): {elapsed:6.2f} s, {elapsed / pages:5.2f} s/page, {words} words read")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=200, help="1 KB notes per round and measurement")
    parser.add_argument("--pdfs", type=int, default=20, help="1 MB PDFs per round and measurement")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
