"""FHIR `AllergyIntolerance` -> the API's allergy view (read-only: the generators and FHIR
clients write them).

| field | FHIR |
|---|---|
| substance, codes | `code` (text; SNOMED CT codings) |
| clinical_status, verification_status | the first code of `clinicalStatus`, `verificationStatus` |
| type, categories, criticality | `type`, `category`, `criticality` |
| onset, recorded | `onsetDateTime` (or `onsetString`), `recordedDate` |
| reactions | `reaction[].manifestation[]` in words |

Reading is forgiving: an element left out, or written in a shape this view does not
know, comes out as null rather than as an error.
"""

from typing import Any

from pydantic import Field

from mappers.concepts import Code, codes, first_code, in_words
from mappers.primitives import element, elements, text
from mappers.records import StoredRecord, stored_fields


class Allergy(StoredRecord):
    """An allergy or intolerance."""

    substance: str | None = Field(
        None, description="What the patient reacts to, in words.", examples=["Peanut allergy"]
    )
    codes: list[Code] = Field(default_factory=list, description="SNOMED CT codings.")
    clinical_status: str | None = Field(None, examples=["active"])
    verification_status: str | None = Field(None, examples=["confirmed"])
    type: str | None = Field(None, examples=["allergy"])
    categories: list[str] = Field(default_factory=list, examples=[["food"]])
    criticality: str | None = Field(None, examples=["high"])
    onset: str | None = Field(None, description="When it began (a FHIR dateTime).")
    recorded: str | None = Field(None, description="When it was recorded.")
    reactions: list[str] = Field(default_factory=list, description="How reactions showed.", examples=[["Urticaria"]])


def to_domain(resource: dict[str, Any], patient_id: str) -> Allergy:
    """The allergy a FHIR AllergyIntolerance of the patient `patient_id` describes."""
    code = element(resource.get("code"))
    categories = resource.get("category")
    return Allergy(
        **stored_fields(resource, patient_id),
        substance=in_words(code),
        codes=codes(code),
        clinical_status=first_code(element(resource.get("clinicalStatus"))),
        verification_status=first_code(element(resource.get("verificationStatus"))),
        type=text(resource.get("type")),
        categories=[category for category in categories if isinstance(category, str)]
        if isinstance(categories, list)
        else [],
        criticality=text(resource.get("criticality")),
        onset=text(resource.get("onsetDateTime")) or text(resource.get("onsetString")),
        recorded=text(resource.get("recordedDate")),
        reactions=[
            words
            for reaction in elements(resource.get("reaction"))
            for manifestation in elements(reaction.get("manifestation"))
            if (words := in_words(manifestation)) is not None
        ],
    )
