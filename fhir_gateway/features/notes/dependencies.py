"""Request-scoped inputs of the notes routes."""

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from fhir_gateway.dependencies import SettingsDep
from fhir_gateway.features.notes.extraction import TextExtractor
from fhir_gateway.features.notes.schemas import NoteListQuery
from fhir_gateway.patient_scope import FHIR_ID_PATTERN

NoteId = Annotated[str, Path(pattern=FHIR_ID_PATTERN, description="The note's id (its FHIR DocumentReference id).")]


async def list_query(query: Annotated[NoteListQuery, Query()]) -> NoteListQuery:
    """The validated query of `GET /patients/{id}/notes`."""
    return query


async def text_extractor(request: Request, settings: SettingsDep) -> TextExtractor:
    """The app's one reader of notes' text (made on first use: it holds a thread limiter,
    which belongs to the running event loop)."""
    extractor: TextExtractor | None = getattr(request.app.state, "note_text_extractor", None)
    if extractor is None:
        extractor = request.app.state.note_text_extractor = TextExtractor(
            languages=settings.ocr_languages,
            timeout_seconds=settings.ocr_timeout_seconds,
            max_pages=settings.ocr_max_pages,
        )
    return extractor


NoteListQueryDep = Annotated[NoteListQuery, Depends(list_query)]
TextExtractorDep = Annotated[TextExtractor, Depends(text_extractor)]
