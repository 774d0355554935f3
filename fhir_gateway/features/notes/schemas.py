"""What the notes endpoints take and answer."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fhir_gateway.fields import IsoDateOrInstant, MultiLine, NonBlankLine, PastInstant
from fhir_gateway.paging import Page, PageQuery
from mappers.note import NoteSummary
from mappers.note_text import NoteType

MAX_AUTHOR_LENGTH = 200


class NoteMetadata(BaseModel):
    """What a client says about a note, beside its content."""

    model_config = ConfigDict(extra="forbid")

    taken_at: PastInstant = Field(
        description="When the note was written, with its offset; not in the future.",
        examples=["2025-02-04T09:30:00-08:00"],
    )
    author: Annotated[str, NonBlankLine] | None = Field(
        None, max_length=MAX_AUTHOR_LENGTH, description="Who wrote it.", examples=["Dr. Amara Singh"]
    )
    note_type: NoteType | None = Field(
        None, description="The kind of note; classified from its text when not given.", examples=["progress"]
    )

    @field_validator("author")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank (leave it out instead)")
        return value.strip() if value is not None else None


class NoteIn(NoteMetadata):
    """A typed note, sent as JSON."""

    content: Annotated[str, MultiLine] = Field(
        min_length=1,
        description="The note's text (plain text; line breaks kept).",
        examples=["PROGRESS NOTE\nS: Feels better.\nO: T 37.1 C, HR 84, BP 128/78.\nA: Improving.\nP: Continue."],
    )

    @field_validator("content")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class NoteListQuery(PageQuery):
    """The query of `GET /patients/{id}/notes`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    note_type: NoteType | None = Field(None, description="Only notes of this kind.")
    from_: IsoDateOrInstant | None = Field(
        None,
        alias="from",
        description="Only notes taken at or after this instant (or on or after this day, UTC).",
        examples=["2025-02-01"],
    )
    to: IsoDateOrInstant | None = Field(
        None,
        description="Only notes taken at or before this instant (or on or before this day, UTC).",
        examples=["2025-02-28"],
    )


class NotePage(Page[NoteSummary]):
    """One page of a patient's notes, newest first."""


class NoteDeletion(BaseModel):
    """What deleting a note removed."""

    id: str
    deleted: dict[str, int] = Field(
        description="How many resources of each type went.", examples=[{"DocumentReference": 1, "Observation": 3}]
    )
