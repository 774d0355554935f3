"""A patient's summary: its heading, key facts with their sources, narrative and generator."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Audience = Literal["clinician", "family"]
Length = Literal["brief", "standard", "detailed"]
SourceType = Literal["note", "interaction", "immunization", "allergy", "observation", "condition", "medication"]


class Source(BaseModel):
    """A record of the patient a fact comes from."""

    type: SourceType
    id: str


class Fact(BaseModel):
    """One key fact, with the record it came from."""

    text: str = Field(description="The fact in words.", examples=["metformin 1000 mg BID"])
    name: str = Field(description="What it is about, by its standard name.", examples=["Metformin"])
    code: str | None = Field(None, description="A code, where the record gives one (ICD-10-CM, SNOMED CT, LOINC).")
    date: str | None = Field(None, description="When it was recorded or given.")
    source: Source


class KeyFacts(BaseModel):
    diagnoses: list[Fact] = Field(default_factory=list)
    medications: list[Fact] = Field(default_factory=list)
    allergies: list[Fact] = Field(default_factory=list)
    immunizations: list[Fact] = Field(default_factory=list)
    observations: list[Fact] = Field(default_factory=list)


class Heading(BaseModel):
    name: str | None = Field(None, examples=["Maria Elena Okafor"])
    age: int | None = Field(None, description="Whole years on the day the summary was made.", examples=[63])
    mrn: str | None = None
    birth_date: date | None = None
    gender: str | None = None


class Generator(BaseModel):
    kind: Literal["openai", "offline"]
    model: str | None = Field(None, description="The language model that wrote the narrative.")
    prompt: str | None = Field(None, description="The prompt and its version.", examples=["patient-summary/1"])


class Summary(BaseModel):
    heading: Heading
    narrative: str
    key_facts: KeyFacts
    sources: list[Source] = Field(description="Every record the summary was made from.")
    generator: Generator
    generated_at: datetime
    warnings: list[str] = Field(
        default_factory=list,
        description="What to know about the narrative: names it gives that no source holds, or why the language "
        "model was not used.",
    )
