"""What the interactions endpoints take and answer.

Text is kept without the white space around it. Vital signs among the metrics are numbers
in their physiological range (`mappers.vitals`); other metrics are numbers, text or
booleans, named like identifiers. Labels are lower-case slugs, each once.
"""

import math
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from fhir_gateway.fields import (
    InsuranceNo,
    IsoDateOrInstant,
    NonBlankLine,
    NonBlankText,
    PastInstant,
    Shaped,
    whole_number,
)
from fhir_gateway.paging import Page, PageQuery
from mappers import icd10cm
from mappers.interaction import Interaction
from mappers.vitals import VITAL_SIGNS, implausible

# Generous for any visit; small enough that an interaction stays one modest transaction
# and reads back in one page of Observations.
MAX_SYMPTOMS = 50
MAX_METRICS = 100
MAX_LIST_ITEMS = 50
MAX_LABELS = 20
MAX_LINE_LENGTH = 500
MAX_TEXT_LENGTH = 10_000
# Beyond any measurement, and within what every FHIR server stores as a decimal.
MAX_MAGNITUDE = 1e15

LABEL_SHAPE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_LABEL = re.compile(LABEL_SHAPE)
METRIC_NAME_SHAPE = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
_METRIC_NAME = re.compile(METRIC_NAME_SHAPE)


def _stripped(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


def _label(value: str) -> str:
    if not _LABEL.fullmatch(value):
        raise ValueError("must be a lower-case slug: letters a-z and digits, words joined by single hyphens")
    return value


def _metric_name(value: str) -> str:
    if not _METRIC_NAME.fullmatch(value):
        raise ValueError("must start with a letter and hold only letters, digits, '_', '.' or '-' (64 at most)")
    return value


Line = Annotated[str, NonBlankLine, Field(max_length=MAX_LINE_LENGTH), AfterValidator(_stripped)]
Text = Annotated[str, NonBlankText, Field(max_length=MAX_TEXT_LENGTH), AfterValidator(_stripped)]
Label = Annotated[str, Shaped(LABEL_SHAPE), Field(max_length=64), AfterValidator(_label)]
MetricName = Annotated[str, Shaped(METRIC_NAME_SHAPE), AfterValidator(_metric_name)]
_METRIC_TEXT = TypeAdapter(Line)


def _metric_value(value: Any) -> bool | int | float | str:
    """A number, text or boolean, as sent (an integer stays one)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
            raise ValueError(f"must be a finite number of magnitude at most {MAX_MAGNITUDE:g}")
        return value
    if isinstance(value, str):
        try:
            return _METRIC_TEXT.validate_python(value)
        except ValidationError as invalid:
            raise ValueError(f"as text, {invalid.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    raise ValueError("must be a number, text or a boolean")


MetricValue = Annotated[
    bool | int | float | str,
    PlainValidator(_metric_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "number", "minimum": -MAX_MAGNITUDE, "maximum": MAX_MAGNITUDE},
                _METRIC_TEXT.json_schema(),
            ]
        }
    ),
]


class QuestionAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Text = Field(examples=["Any fever?"])
    answer: Text = Field(examples=["No"])


class InteractionIn(BaseModel):
    """An interaction as a client records it."""

    model_config = ConfigDict(extra="forbid")

    insurance_no: InsuranceNo = Field(
        max_length=64,
        description="The patient's health number (spaces and hyphens ignored); BC and Ontario numbers must "
        "pass their check digit.",
        examples=["9698658215"],
    )
    interaction_date: PastInstant = Field(
        description="When it took place, with its offset; not in the future.", examples=["2025-03-01T10:30:00-08:00"]
    )
    ailment: Line | None = Field(None, description="What the patient has, in words.", examples=["Allergic rhinitis"])
    ailment_code: Annotated[str, Field(max_length=16)] | None = Field(
        None, description=f"ICD-10-CM code of the ailment ({icd10cm.RELEASE} release).", examples=["J30.1"]
    )
    symptoms: list[Line] = Field(default_factory=list, max_length=MAX_SYMPTOMS, examples=[["sneezing", "itchy eyes"]])
    metrics: dict[MetricName, MetricValue] = Field(
        default_factory=dict,
        max_length=MAX_METRICS,
        description="Vital signs by name, each a number in its unit and physiological range: "
        + ", ".join(f"{sign.name} ({sign.range_text()})" for sign in VITAL_SIGNS.values())
        + "; systolic above diastolic. Any other name keeps a number, text or boolean as given.",
        examples=[{"heart_rate": 72, "bp_systolic": 120, "bp_diastolic": 78, "peak_flow_l_min": 420}],
        json_schema_extra={
            "additionalProperties": False,
            "properties": {
                sign.name: {"type": "number", "minimum": sign.low, "maximum": sign.high, "description": sign.unit}
                for sign in VITAL_SIGNS.values()
            },
        },
    )
    remarks: Text | None = None
    health_status: Annotated[int, Field(ge=1, le=10), Strict(), BeforeValidator(whole_number)] | None = Field(
        None, description="How the patient is, from 1 (worst) to 10 (best).", examples=[7]
    )
    qa: list[QuestionAnswerIn] = Field(default_factory=list, max_length=MAX_LIST_ITEMS)
    next_steps: list[Line] = Field(
        default_factory=list, max_length=MAX_LIST_ITEMS, examples=[["Start fexofenadine", "Follow up in 2 weeks"]]
    )
    labels: list[Label] = Field(
        default_factory=list,
        max_length=MAX_LABELS,
        description="Lower-case slugs to find it by; each once. They are set when it is recorded.",
        examples=[["allergy", "follow-up"]],
        json_schema_extra={"uniqueItems": True},
    )

    @field_validator("ailment_code")
    @classmethod
    def _known_code(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = icd10cm.canonical(value)
        if code is None:
            raise ValueError(f"is not an ICD-10-CM diagnosis code ({icd10cm.RELEASE} release), such as J30.1")
        return code

    @field_validator("metrics")
    @classmethod
    def _plausible_vital_signs(cls, metrics: dict[str, Any]) -> dict[str, Any]:
        problems: dict[str, str] = {}
        signs: dict[str, int | float] = {}
        for name, value in metrics.items():
            if name not in VITAL_SIGNS:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems[name] = f"must be a number ({VITAL_SIGNS[name].unit})"
            else:
                signs[name] = value
        problems |= implausible(signs)
        if problems:
            # Each problem at its own metric, as `metrics.heart_rate`.
            raise ValidationError.from_exception_data(
                "metrics",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("value_error", "Value error, {problem}", {"problem": problem}),
                        loc=(name,),
                        input=metrics[name],
                    )
                    for name, problem in problems.items()
                ],
            )
        return metrics

    @field_validator("labels")
    @classmethod
    def _each_once(cls, labels: list[str]) -> list[str]:
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"names {', '.join(map(repr, repeated))} more than once")
        return labels


class InteractionListQuery(PageQuery):
    """The query of `GET /patients/{id}/interactions`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    label: list[Label] = Field(
        default_factory=list,
        max_length=MAX_LABELS,
        description="Only interactions with this label; given several times, with any of them.",
        examples=[["follow-up"]],
    )
    from_: IsoDateOrInstant | None = Field(
        None,
        alias="from",
        description="Only interactions at or after this instant (or on or after this day, UTC).",
        examples=["2025-03-01"],
    )
    to: IsoDateOrInstant | None = Field(
        None,
        description="Only interactions at or before this instant (or on or before this day, UTC).",
        examples=["2025-03-31"],
    )


class PatientInteractionQuery(InteractionListQuery):
    """The query of `GET /interactions`: whose interactions, by health number."""

    insurance_no: InsuranceNo = Field(
        max_length=64, description="The patient's health number (spaces and hyphens ignored).", examples=["9698658215"]
    )


class InteractionPage(Page[Interaction]):
    """One page of a patient's interactions, newest first."""


class InteractionDeletion(BaseModel):
    """What deleting an interaction removed."""

    id: str
    deleted: dict[str, int] = Field(
        description="How many resources of each type went.", examples=[{"Encounter": 1, "Observation": 9}]
    )
