"""What `POST /api/generate/records` takes (the ChatRequest of the original generator) and answers.

ICD-10-CM codes are read from the messages' content, wherever they stand in it, and each
must be in the release the gateway ships. CPT codes are checked for their shape only and
passed through without descriptions: CPT's descriptions are licensed by the AMA and not
shipped.
"""

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from fhir_gateway.fields import NonBlankLine, NonBlankText, Shaped
from fhir_gateway.patient_scope import FHIR_ID_PATTERN
from mappers import icd10cm

MAX_MESSAGES = 20
MAX_CODES = 20
# A code as clinicians write it, with its dot (a letter, a digit, a digit or a letter, then
# the subcategory after the dot: J30.1, C4A.0; "J30.1." ends a sentence) or without one
# (J301, E119). One dotted or of four characters or more is a code whatever it says (an
# unknown one is refused); one of three only when it is in the release, since prose has
# words of that shape (B12, A1C).
ICD_CODE = re.compile(r"\b(?:[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4}|[A-Z][0-9][0-9][0-9A-Z]{0,4})(?!\w)(?!\.\w)")
CPT_CATEGORIES: dict[str, re.Pattern[str]] = {
    "I": re.compile(r"[0-9]{5}"),
    "II": re.compile(r"[0-9]{4}F"),
    "III": re.compile(r"[0-9]{4}T"),
}
_CPT = "(?:[0-9]{5}|[0-9]{4}[FT])"
CPT_SHAPE = f"^{_CPT}$"
CPT_LIST_SHAPE = f"^[ ,]*{_CPT}(?:[ ,]+{_CPT})*[ ,]*$"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Annotated[str, NonBlankLine] = Field("user", max_length=40, examples=["user"])
    content: Annotated[str, NonBlankText] = Field(
        max_length=10_000, description="Text holding the ICD-10-CM codes of the record.", examples=["J30.1"]
    )

    @field_validator("role", "content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class ChatRequest(BaseModel):
    """Codes for a synthetic record: ICD-10-CM in the messages, CPT beside them."""

    model_config = ConfigDict(extra="forbid")

    model: Annotated[str, NonBlankLine] | None = Field(
        None,
        max_length=100,
        description="Language model to write it; the configured one when left out.",
        examples=["gpt-4o-mini"],
    )
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    cpt_codes: list[Annotated[str, Shaped(CPT_SHAPE)]] | Annotated[str, Shaped(CPT_LIST_SHAPE)] = Field(
        default_factory=list,
        description="CPT codes, as a list or one string (commas or spaces between several): five digits "
        "(category I), four digits and F (II) or T (III).",
        examples=[["99213"]],
    )
    patient_id: Annotated[str, Field(pattern=FHIR_ID_PATTERN)] | None = Field(
        None, description="Keep the record as this patient's note."
    )

    @field_validator("model")
    @classmethod
    def _model_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank (leave it out for the configured model)")
        return value.strip() if value is not None else None

    @field_validator("messages")
    @classmethod
    def _known_icd_codes(cls, messages: list[Message]) -> list[Message]:
        unknown = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "value_error",
                    "Value error, '{code}' is not an ICD-10-CM code (release of {release})",
                    {"code": code, "release": icd10cm.RELEASE},
                ),
                loc=(index, "content"),
                input=code,
            )
            for index, message in enumerate(messages)
            for code in ICD_CODE.findall(message.content.upper())
            if _claims_to_be_a_code(code) and icd10cm.canonical(code) is None
        ]
        if unknown:
            raise ValidationError.from_exception_data("messages", unknown)
        if not any(_codes_in(message.content) for message in messages):
            raise ValueError("hold no ICD-10-CM code, such as J30.1")
        return messages

    @field_validator("cpt_codes")
    @classmethod
    def _cpt_shapes(cls, value: list[str] | str) -> list[str]:
        codes = value.replace(",", " ").split() if isinstance(value, str) else [code.strip() for code in value]
        if len(codes) > MAX_CODES:
            raise ValueError(f"must be at most {MAX_CODES} codes")
        wrong = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "value_error",
                    "Value error, '{code}' is not a CPT code: five digits, or four digits and F or T",
                    {"code": code},
                ),
                loc=(index,),
                input=code,
            )
            for index, code in enumerate(codes)
            if cpt_category(code) is None
        ]
        if wrong:
            raise ValidationError.from_exception_data("cpt_codes", wrong)
        return codes

    def icd_codes(self) -> list[str]:
        """The ICD-10-CM codes of the messages, in the release's form and the order written, each once."""
        return list(dict.fromkeys(code for message in self.messages for code in _codes_in(message.content)))


def _claims_to_be_a_code(written: str) -> bool:
    """Whether a word of a code's shape is meant as one: dotted, or four characters or more
    (three, like B12 or A1C, are as often words of prose)."""
    return "." in written or len(written) >= 4


def _codes_in(content: str) -> list[str]:
    """The codes of the release a text holds, in the release's form."""
    return [code for code in map(icd10cm.canonical, ICD_CODE.findall(content.upper())) if code]


def cpt_category(code: str) -> Literal["I", "II", "III"] | None:
    for category, shape in CPT_CATEGORIES.items():
        if shape.fullmatch(code):
            return category  # type: ignore[return-value]
    return None


class IcdCode(BaseModel):
    code: str = Field(examples=["J30.1"])
    description: str = Field(examples=["Allergic rhinitis due to pollen"])


class CptCode(BaseModel):
    code: str = Field(examples=["99213"])
    category: Literal["I", "II", "III"]


class Codes(BaseModel):
    icd10cm: list[IcdCode]
    cpt: list[CptCode]


class RecordGenerator(BaseModel):
    kind: Literal["openai", "offline"]
    model: str | None = None
    prompt: str | None = None


class StoredNote(BaseModel):
    id: str
    patient_id: str
    note_type: str


class GeneratedRecord(BaseModel):
    record: str = Field(description="The record's text.")
    codes: Codes
    generator: RecordGenerator
    note: StoredNote | None = Field(None, description="The note it was kept as, when a `patient_id` was given.")
    warnings: list[str] = Field(default_factory=list)
