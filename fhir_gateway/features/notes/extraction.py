"""A note's plain text, from whatever it was sent as: typed text as it is, a PDF's text
layer (pypdf), and scans (PNG, JPEG, PDF pages without text) by OCR with Tesseract.

Where OCR cannot give the text (Tesseract is not installed, the scan is too large, it takes
too long) the note is still stored: without text, and with the reason. A file that is not
what its bytes claim (a PDF pypdf cannot read, an image Pillow cannot decode) is refused.
PDF parsing and OCR hold the CPU, so they run in worker threads, a few at a time.
"""

import io
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import pytesseract
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from fhir_gateway.features.notes.uploads import PDF, TEXT
from mappers.note import TextSource
from mappers.note_text import plain_text

logger = logging.getLogger(__name__)

# Beyond this a scan is not a page of notes, and decoding it would hold too much memory.
MAX_SCAN_PIXELS = 40_000_000


class UnreadableContent(Exception):
    """The bytes are of a supported type, but cannot be read as one."""


@dataclass(frozen=True)
class ExtractedText:
    """A note's text, how it was obtained, or why there is none."""

    text: str | None
    source: TextSource
    unavailable: str | None = None


class TextExtractor:
    """Reads the text of notes; one per app (it holds the OCR settings and thread limit)."""

    def __init__(self, *, languages: str, timeout_seconds: float, max_pages: int, concurrency: int = 2) -> None:
        self._languages = languages
        self._timeout = timeout_seconds
        self._max_pages = max_pages
        self._limiter = anyio.CapacityLimiter(concurrency)

    @property
    def ocr_available(self) -> bool:
        return shutil.which(pytesseract.pytesseract.tesseract_cmd) is not None

    async def extract(self, content: bytes, media_type: str) -> ExtractedText:
        """The text of `content` (of one of the supported media types)."""
        if media_type == TEXT:
            return ExtractedText(_typed(content), "typed")
        read = self._pdf if media_type == PDF else self._image
        return await anyio.to_thread.run_sync(read, content, limiter=self._limiter)

    def _pdf(self, content: bytes) -> ExtractedText:
        layer, scans = _pdf_text(content, self._max_pages)
        if layer:
            return ExtractedText(layer, "pdf")
        if not scans:
            return ExtractedText(None, "none", "the PDF has neither a text layer nor scanned pages")
        return self._ocr(scans)

    def _image(self, content: bytes) -> ExtractedText:
        try:
            # Opening reads the header only: the size is known before any pixel is decoded.
            image = Image.open(io.BytesIO(content))
        except Image.DecompressionBombError:
            return _too_large()
        except (UnidentifiedImageError, OSError, ValueError) as broken:
            raise UnreadableContent("the file is not a readable image") from broken
        if image.width * image.height > MAX_SCAN_PIXELS:
            return _too_large()
        try:
            image.load()
        except (OSError, ValueError) as broken:
            raise UnreadableContent("the file is not a readable image") from broken
        return self._ocr([lambda: image])

    def _ocr(self, scans: list[Callable[[], Image.Image]]) -> ExtractedText:
        if not self.ocr_available:
            return ExtractedText(None, "none", "OCR is not available on this server (Tesseract is not installed)")
        texts: list[str] = []
        for scan in scans:
            try:
                image = scan()
            except Image.DecompressionBombError:
                return _too_large()
            except (OSError, ValueError, KeyError, TypeError, PyPdfError) as broken:
                logger.warning("A scanned page could not be decoded (%s)", type(broken).__name__)
                return ExtractedText(None, "none", "a scanned page could not be decoded")
            if image.width * image.height > MAX_SCAN_PIXELS:
                return _too_large()
            try:
                texts.append(pytesseract.image_to_string(image, lang=self._languages, timeout=self._timeout))
            except RuntimeError:
                # pytesseract's way of saying its time ran out.
                return ExtractedText(None, "none", f"OCR took longer than {self._timeout:g} seconds")
            except pytesseract.TesseractError as failure:
                logger.warning("OCR failed (Tesseract exit status %s)", failure.status)
                return ExtractedText(None, "none", "OCR failed on this scan")
        found = _storable("\n\n".join(text.strip() for text in texts if text.strip()))
        if not found:
            return ExtractedText(None, "none", "OCR found no text in the scan")
        return ExtractedText(found, "ocr")


def _typed(content: bytes) -> str:
    return _storable(content.decode("utf-8-sig"))


def _pdf_text(content: bytes, max_pages: int) -> tuple[str | None, list[Callable[[], Image.Image]]]:
    """A PDF's text layer, or, when it has none, its first `max_pages` pages' images to read."""
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableContent("the PDF is encrypted with a password")
        pages = list(reader.pages)
        layer = _storable("\n\n".join(text.strip() for page in pages if (text := page.extract_text() or "").strip()))
        if layer:
            return layer, []
        scans: list[Callable[[], Image.Image]] = []
        for page in pages[:max_pages]:
            scans += [lambda image=image: image.image for image in page.images]
        return None, scans
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as broken:
        # pypdf reads untrusted bytes: a malformed file surfaces as any of these.
        raise UnreadableContent("the file is not a readable PDF") from broken


def _too_large() -> ExtractedText:
    return ExtractedText(None, "none", f"the scan has more than {MAX_SCAN_PIXELS} pixels, too many to read by OCR")


def _storable(text: str) -> str:
    return plain_text(text).strip()
