"""What the patients endpoints take and answer."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fhir_gateway.fields import (
    INSURANCE_NO_MESSAGE,
    INSURANCE_NO_SHAPE,
    Email,
    IsoDate,
    IsoInstant,
    NonBlankLine,
    Shaped,
    SingleLine,
    normalized_insurance_no,
)
from fhir_gateway.paging import Page, PageQuery
from mappers import health_numbers
from mappers.patient import Address, Gender, PatientFields, Province
from mappers.patient import Patient as DomainPatient

EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# Generous for any clinic, small enough that a list page stays small and a search fast.
MAX_NAME_LENGTH = 200
MAX_GIVEN_NAMES = 10
MAX_ADDRESS_LINES = 5
MAX_ADDRESS_LINE_LENGTH = 200
MAX_CITY_LENGTH = 100

MRN_SHAPE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MRN_PATTERN = re.compile(MRN_SHAPE)
_INSURANCE_NO = re.compile(INSURANCE_NO_SHAPE)
PHONE_SHAPE = r"^\+?[0-9 ().-]{7,25}(?: ?(?:[xX]|[eE][xX][tT]\.?) ?[0-9]{1,6})?$"
_PHONE = re.compile(PHONE_SHAPE)
# Canada Post: no D, F, I, O, Q, U anywhere, no W or Z in first place.
_POSTAL_CODE = re.compile(r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z] [0-9][ABCEGHJ-NPRSTV-Z][0-9]")
_POSTAL_PREFIXES = {"BC": "V", "ON": "KLMNP"}
_PROVINCES = frozenset(get_args(Province))
# Province codes are taken in either case.
_PROVINCE_CODES = [*sorted(_PROVINCES), *sorted(code.lower() for code in _PROVINCES)]

SortField = Literal["family_name", "given_name", "birth_date", "updated_at"]
SORT_FIELDS: tuple[str, ...] = get_args(SortField)
_SORT_FIELD = f"-?(?:{'|'.join(SORT_FIELDS)})"
SORT_SHAPE = f"^{_SORT_FIELD}(?:,{_SORT_FIELD})*$"
# What the schema says of a Canadian address (country CA or none), as the validators check it.
_BLANK = r"^\s*$"
# Any case, white space anywhere between (the validator drops it), Canada Post's letters.
_FIRST_LETTER = "[ABCEGHJ-NPRSTVXYabceghj-nprstvxy]"
_LETTER = "[ABCEGHJ-NPRSTV-Zabceghj-nprstv-z]"


def _postal_code_shape(first_letter: str) -> str:
    return r"^\s*" + r"\s*".join([first_letter, "[0-9]", _LETTER, "[0-9]", _LETTER, "[0-9]"]) + r"\s*$"


_POSTAL_CODE_SHAPE = _postal_code_shape(_FIRST_LETTER)
# The first letter of a province's codes, where the validator knows it.
_PROVINCE_POSTAL_SHAPES = {
    province: _postal_code_shape(f"[{letters}{letters.lower()}]") for province, letters in _POSTAL_PREFIXES.items()
}


class AddressIn(Address):
    """A postal address as a client writes it; a Canadian one (country CA or none) must
    have a valid postal code and province code."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {
                "anyOf": [
                    {"not": {"required": ["country"]}},
                    # Blank text is no value at all.
                    {"properties": {"country": {"anyOf": [{"enum": ["CA", None]}, {"pattern": _BLANK}]}}},
                ]
            },
            "then": {
                "properties": {
                    "province": {"anyOf": [{"enum": _PROVINCE_CODES}, {"pattern": _BLANK}, {"type": "null"}]},
                    "postal_code": {"anyOf": [{"pattern": _POSTAL_CODE_SHAPE}, {"pattern": _BLANK}, {"type": "null"}]},
                },
                "allOf": [
                    {
                        "if": {
                            "properties": {"province": {"enum": [province, province.lower()]}},
                            "required": ["province"],
                        },
                        "then": {
                            "properties": {
                                "postal_code": {"anyOf": [{"pattern": shape}, {"pattern": _BLANK}, {"type": "null"}]}
                            }
                        },
                    }
                    for province, shape in _PROVINCE_POSTAL_SHAPES.items()
                ],
            },
        },
    )

    line: list[Annotated[str, SingleLine, Field(max_length=MAX_ADDRESS_LINE_LENGTH)]] = Field(
        default_factory=list, max_length=MAX_ADDRESS_LINES, examples=[["123 Fake St"]]
    )
    city: Annotated[str, SingleLine] | None = Field(None, max_length=MAX_CITY_LENGTH, examples=["Vancouver"])
    province: Annotated[str, SingleLine] | None = Field(None, max_length=32, examples=["BC"])
    postal_code: Annotated[str, SingleLine] | None = Field(None, max_length=20, examples=["V5K 0A1"])
    country: Annotated[str, SingleLine] | None = Field(None, max_length=64, examples=["CA"])

    @model_validator(mode="after")
    def _canadian(self) -> "AddressIn":
        if self.country not in (None, "CA"):
            return self
        if self.province is not None:
            self.province = self.province.upper()
            if self.province not in _PROVINCES:
                raise ValueError(
                    f"province {self.province!r} is not a Canadian province or territory code"
                    " (set country for an address abroad)"
                )
        if self.postal_code is not None:
            self.postal_code = _postal_code(self.postal_code, self.province)
        return self


def _postal_code(value: str, province: str | None) -> str:
    compact = value.replace(" ", "").upper()
    formatted = f"{compact[:3]} {compact[3:]}"
    if not _POSTAL_CODE.fullmatch(formatted):
        raise ValueError(
            f"postal_code {value!r} is not a Canadian postal code (A1A 1A1; set country for an address abroad)"
        )
    prefixes = _POSTAL_PREFIXES.get(province or "")
    if prefixes and formatted[0] not in prefixes:
        raise ValueError(f"postal_code {formatted!r} is not in {province}: its codes start with {', '.join(prefixes)}")
    return formatted


_SHAPE_MESSAGES = {
    "mrn": "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    "insurance_no": INSURANCE_NO_MESSAGE,
    "phone": "is not a phone number (digits, spaces, +, -, ., parentheses, optional extension)",
}


def _shaped_mrn(value: str | None) -> str | None:
    if value is not None and not MRN_PATTERN.fullmatch(value):
        raise ValueError(_SHAPE_MESSAGES["mrn"])
    return value


class PatientIn(PatientFields):
    """A patient as a client writes it (POST and PUT).

    `given_name`, `family_name` and `birth_date` are required; `mrn` is assigned when
    absent (and kept by a PUT that leaves it out). `insurance_no` may be written with
    spaces or hyphens; when `province` is BC or ON it must pass that province's check
    digit. Read-only fields (`id`, `version`, `updated_at`) are refused: a PUT names its
    version with `If-Match`.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # A province names the issuer of an insurance number: it comes with one.
            "if": {"properties": {"province": {"type": "string"}}, "required": ["province"]},
            "then": {"required": ["insurance_no"], "properties": {"insurance_no": {"type": "string"}}},
        },
    )

    mrn: Annotated[str, Shaped(MRN_SHAPE)] | None = Field(
        None,
        max_length=64,
        description="Medical record number; assigned when absent.",
        examples=["MRN-00012345"],
    )
    given_name: Annotated[str, NonBlankLine] = Field(
        max_length=MAX_NAME_LENGTH,
        description=f"Given names, separated by spaces (at most {MAX_GIVEN_NAMES}).",
        examples=["Ada Marie"],
    )
    family_name: Annotated[str, NonBlankLine] = Field(max_length=MAX_NAME_LENGTH, examples=["Lovelace"])
    birth_date: IsoDate = Field(description="Not in the future, not before 1900.", examples=["1980-12-10"])
    # Validated even when absent: a province without a number is refused there.
    insurance_no: Annotated[str, Shaped(INSURANCE_NO_SHAPE)] | None = Field(
        None,
        max_length=64,
        validate_default=True,
        description="Provincial health number; must pass the check digit of a BC or ON `province`.",
        examples=["9698658215"],
    )
    phone: Annotated[str, Shaped(PHONE_SHAPE)] | None = Field(
        None,
        max_length=40,
        description="Digits, spaces, +, -, ., parentheses, and an optional extension (x12, ext. 12).",
        examples=["+1 604 555 0100"],
    )
    email: Email | None = Field(None, description="An email address (RFC 5321).", examples=["ada@example.org"])
    address: AddressIn | None = None

    @field_validator("given_name", "family_name", mode="after")
    @classmethod
    def _not_blank(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("must not be blank")
        return value

    @field_validator("given_name", mode="after")
    @classmethod
    def _few_given_names(cls, value: str) -> str:
        if len(value.split(" ")) > MAX_GIVEN_NAMES:
            raise ValueError(f"must hold at most {MAX_GIVEN_NAMES} given names")
        return value

    @field_validator("birth_date", mode="after")
    @classmethod
    def _plausible_birth_date(cls, value: date) -> date:
        # UTC's date is never behind a Canadian one: no newborn is refused near midnight.
        today = datetime.now(UTC).date()
        if value > today:
            raise ValueError("must not be in the future")
        if value < EARLIEST_BIRTH_DATE:
            raise ValueError(f"must not be before {EARLIEST_BIRTH_DATE.isoformat()}")
        return value

    @field_validator("mrn", "insurance_no", "phone", mode="before")
    @classmethod
    def _as_written(cls, value: object, info: ValidationInfo) -> object:
        # Checked as sent, before text is tidied: what the schema's pattern refuses is refused.
        shape = {"mrn": MRN_PATTERN, "insurance_no": _INSURANCE_NO, "phone": _PHONE}[str(info.field_name)]
        if isinstance(value, str) and not shape.fullmatch(value):
            raise ValueError(_SHAPE_MESSAGES[str(info.field_name)])
        return value

    @field_validator("insurance_no", mode="after")
    @classmethod
    def _valid_health_number(cls, value: str | None, info: ValidationInfo) -> str | None:
        province = info.data.get("province")
        if value is None:
            if province is not None:
                raise ValueError(f"is required when province is given ({province} names the issuer of insurance_no)")
            return None
        number = health_numbers.normalize(value)
        problem = health_numbers.health_number_problem(province, number) if province else None
        if problem:
            raise ValueError(problem)
        return number


class PatientPublic(DomainPatient):
    """A stored patient. Fields a FHIR client left out of the Patient are null."""

    id: str = Field(description="The FHIR Patient id.")
    version: str = Field(description="The FHIR versionId; the response's ETag carries it too.")
    updated_at: AwareDatetime = Field(description="When this version was stored.")


PatientPage = Page[PatientPublic]


class PatientListQuery(PageQuery):
    """`GET /patients` query parameters."""

    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, SingleLine] | None = Field(
        None,
        max_length=200,
        min_length=1,
        description="Fuzzy name search: tolerates typos, missing or swapped letters, accents, case and name "
        "order. Results come best match first unless `sort` is given.",
        examples=["Jonh Smtih"],
    )
    sort: Annotated[str, Shaped(SORT_SHAPE)] | None = Field(
        None,
        max_length=200,
        description=f"Comma-separated fields among {', '.join(SORT_FIELDS)}; '-' before a field sorts it "
        "descending. Ties are broken by id, so the order holds across pages. Default without `q`: "
        "family_name,given_name.",
        examples=["family_name,-birth_date"],
    )
    birth_date: IsoDate | None = Field(None, description="Patients born on this date (YYYY-MM-DD).")
    gender: Gender | None = None
    mrn: Annotated[str, Shaped(MRN_SHAPE)] | None = Field(
        None,
        max_length=64,
        description="The patient with this medical record number.",
    )
    insurance_no: Annotated[str, Shaped(INSURANCE_NO_SHAPE)] | None = Field(
        None,
        max_length=64,
        description="The patient with this health number (any province).",
    )
    updated_since: IsoInstant | None = Field(
        None,
        description="Patients stored at or after this instant: ISO 8601 with an offset (a space before the "
        "offset is read as '+', as an unencoded '+' arrives).",
    )

    @field_validator("sort", mode="after")
    @classmethod
    def _known_sort_fields(cls, value: str | None) -> str | None:
        if value is None:
            return None
        fields = value.split(",")
        unknown = [field for field in fields if field.removeprefix("-") not in SORT_FIELDS]
        if unknown:
            raise ValueError(f"unknown sort field(s) {', '.join(map(repr, unknown))}; use {', '.join(SORT_FIELDS)}")
        names = [field.removeprefix("-") for field in fields]
        if len(set(names)) != len(names):
            # "family_name,-family_name" contradicts itself; a repeat is a client's slip.
            raise ValueError("names a field twice")
        return value

    @field_validator("mrn", mode="after")
    @classmethod
    def _mrn_shape(cls, value: str | None) -> str | None:
        return _shaped_mrn(value)

    @field_validator("insurance_no", mode="after")
    @classmethod
    def _insurance_shape(cls, value: str | None) -> str | None:
        return None if value is None else normalized_insurance_no(value)

    def sort_keys(self) -> list[tuple[str, bool]]:
        """(field, descending) pairs, in order."""
        return [(field.removeprefix("-"), field.startswith("-")) for field in (self.sort or "").split(",") if field]


class DeletionReport(BaseModel):
    """What `DELETE /patients/{id}` removed, in one FHIR transaction."""

    id: str = Field(description="The deleted patient's id.")
    deleted: dict[str, int] = Field(
        description="How many resources of each FHIR type were deleted, the Patient included.",
        examples=[{"Patient": 1, "Encounter": 2, "Observation": 9, "DocumentReference": 1}],
    )
