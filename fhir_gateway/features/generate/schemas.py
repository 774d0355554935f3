"""What `POST /api/generate/{format}` takes.

A request makes at most `MAX_COUNT` patients' records: the answer is made while it is
sent, but one request still holds a worker for its whole length. More is the command
line's work, which also runs in parallel.
"""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    field_validator,
    model_validator,
)

from fhir_gateway.fields import IsoDate, JsonInteger, Shaped, whole_number
from generators.clinical.formats import RESOURCE_TYPES
from generators.clinical.tables import TABLES
from generators.clinical.x12 import X12Options

MAX_COUNT = 10_000
# The largest integer every JSON reader holds exactly (a double's 53 bits).
MAX_SEED = 2**53 - 1
# Constraints before `Strict`: on an optional field, that is where the schema states them.
Seed = Annotated[int, Field(ge=0, le=MAX_SEED), Strict(), BeforeValidator(whole_number)]

ResourceType = Literal[RESOURCE_TYPES]  # type: ignore[valid-type]
Table = Literal[tuple(TABLES)]  # type: ignore[valid-type]


def _shaped(pattern: str, message: str) -> AfterValidator:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


# One ASCII punctuation mark; the four must differ (checked with the writer's other rules).
SEPARATOR_SHAPE = r"^[!-/:-@\[-`{-~]$"
Separator = Annotated[str, Shaped(SEPARATOR_SHAPE), _shaped(SEPARATOR_SHAPE, "must be one ASCII punctuation mark")]
# Who sends and receives: capital letters and digits, as trading partners' ids are.
PARTNER_ID_SHAPE = r"^[A-Z0-9]{2,15}$"
PartnerId = Annotated[
    str, Shaped(PARTNER_ID_SHAPE), _shaped(PARTNER_ID_SHAPE, "must be 2 to 15 capital letters and digits")
]


class GenerateOptions(BaseModel):
    """How the records are made and written; each applies to the formats it names.
    Numbers and switches are what JSON says they are: "5" is no count, 1 no line break."""

    model_config = ConfigDict(extra="forbid")

    province: Literal["BC", "ON"] = Field("BC", description="Where the patients live and are insured.")
    reference_date: IsoDate | None = Field(
        None, description="The records' today: nothing happens after it. Default: today.", examples=["2026-11-01"]
    )
    table: Table = Field("patients", description="csv: which table.")
    resource_type: ResourceType | None = Field(None, description="ndjson: only resources of this type.")
    usage: Literal["T", "P"] = Field("T", description="x12: ISA15, test or production data.")
    sender_id: PartnerId = Field("FHIRGATEWAY", description="x12: ISA06 and GS02.")
    receiver_id: PartnerId = Field("SYNTHPAYER", description="x12: ISA08 and GS03.")
    element_separator: Separator = Field("*", description="x12: between elements.")
    segment_terminator: Separator = Field("~", description="x12: after each segment.")
    component_separator: Separator = Field(":", description="x12: between components (ISA16).")
    repetition_separator: Separator = Field("^", description="x12: between repetitions (ISA11).")
    line_breaks: StrictBool = Field(True, description="x12: a line break after each segment terminator.")
    control_number: JsonInteger = Field(1, ge=1, le=999_999_999, description="x12: the interchange control number.")

    @model_validator(mode="after")
    def _x12_envelope(self) -> "GenerateOptions":
        # The writer's own checks, so that what it refuses is a 422 naming the options.
        x12_options(self, created=datetime(2000, 1, 1))
        return self


def x12_options(options: GenerateOptions, *, created: datetime) -> X12Options:
    return X12Options(
        sender_id=options.sender_id,
        receiver_id=options.receiver_id,
        created=created,
        usage=options.usage,
        element_separator=options.element_separator,
        segment_terminator=options.segment_terminator,
        component_separator=options.component_separator,
        repetition_separator=options.repetition_separator,
        line_break="\n" if options.line_breaks else "",
        control_number=options.control_number,
    )


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: JsonInteger = Field(
        description=f"Patients whose records to make, 1 to {MAX_COUNT}.",
        examples=[10],
        # Stated for the schema; checked below, so that too many points to the command line.
        json_schema_extra={"minimum": 1, "maximum": MAX_COUNT},
    )
    seed: Seed | None = Field(None, description="The same seed gives the same records, byte for byte. Default: random.")
    options: GenerateOptions = Field(default_factory=GenerateOptions)

    @field_validator("count")
    @classmethod
    def _within_a_request(cls, count: int) -> int:
        if count < 1:
            raise ValueError("must be at least 1")
        if count > MAX_COUNT:
            raise ValueError(
                f"at most {MAX_COUNT} records a request; for more, run the generator's command line: "
                "python -m generators clinical --count N --format FORMAT --out DIR"
            )
        return count


MAX_LOAD_COUNT = 1_000


class LoadRequest(BaseModel):
    """Immunization records to make and store; more than `MAX_LOAD_COUNT` is the command
    line's work (`python -m generators immunizations --count N`), which loads in parallel."""

    model_config = ConfigDict(extra="forbid")

    count: JsonInteger = Field(ge=1, le=MAX_LOAD_COUNT, description="Records to make and store.", examples=[20])
    province: Literal["BC", "ON"] = Field("BC", description="Where the patients live and are immunized.")
    seed: Seed | None = Field(
        None, description="The same seed gives the same records, stored again in place. Default: random."
    )


class LoadedPatient(BaseModel):
    id: str
    name: str = Field(description="Given names and family name.")


class LoadProgress(BaseModel):
    """One line of the answer: what is stored so far."""

    loaded: int = Field(description="Records stored so far.")
    count: int = Field(description="Records asked for.")
    patients: list[LoadedPatient] = Field(description="The patients of the batch just stored.")


class LoadDone(BaseModel):
    """The last line of an answer whose records were all stored."""

    done: Literal[True] = True
    seed: int
    loaded: int


class LoadFailed(BaseModel):
    """The last line of an answer whose records were not all stored: what was loaded before stays."""

    error: str
