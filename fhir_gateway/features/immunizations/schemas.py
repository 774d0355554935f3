"""What the immunization and allergy lists answer."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field


class Code(BaseModel):
    """One coding of a concept: its code system, code and display."""

    system: str | None = Field(None, examples=["http://snomed.info/sct"])
    code: str | None = Field(None, examples=["871831003"])
    display: str | None = None


class Stored(BaseModel):
    """What every stored resource carries."""

    id: str = Field(description="The FHIR resource id.")
    patient_id: str
    version: str | None = Field(None, description="The FHIR versionId.")
    updated_at: AwareDatetime | None = Field(None, description="When this version was stored.")


class Immunization(Stored):
    """A vaccine given (or, with status `not-done`, not given and why)."""

    status: Literal["completed", "not-done", "entered-in-error"]
    vaccine: str | None = Field(
        None, description="The vaccine, in words.", examples=["Measles, mumps and rubella vaccine"]
    )
    vaccine_codes: list[Code] = Field(default_factory=list, description="SNOMED CT and CVX codings of the vaccine.")
    occurred: str | None = Field(None, description="When it was given (a FHIR dateTime).", examples=["2019-05-03"])
    status_reason: str | None = Field(None, description="Why it was not given.", examples=["patient objection"])
    lot_number: str | None = None
    manufacturer: str | None = None
    site: str | None = Field(None, examples=["left arm"])
    route: str | None = Field(None, examples=["Injection, intramuscular"])
    dose_ml: float | None = Field(None, description="Dose volume in millilitres.")
    dose_number: int | None = Field(None, description="Which dose of the series this was.")
    performer: str | None = Field(None, description="Who gave it.")
    reactions: list[str] = Field(default_factory=list, description="Reactions that followed.", examples=[["Fever"]])


class Allergy(Stored):
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
