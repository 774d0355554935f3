"""CodeableConcepts as the API shows them: the codings, and the concept in words."""

from typing import Any

from pydantic import BaseModel, Field

from mappers.primitives import elements, text


class Code(BaseModel):
    """One coding of a concept: its code system, code and display."""

    system: str | None = Field(None, examples=["http://snomed.info/sct"])
    code: str | None = Field(None, examples=["871831003"])
    display: str | None = None


def codes(concept: dict[str, Any]) -> list[Code]:
    """Every coding of a CodeableConcept."""
    return [
        Code(system=text(coding.get("system")), code=text(coding.get("code")), display=text(coding.get("display")))
        for coding in elements(concept.get("coding"))
    ]


def in_words(concept: dict[str, Any]) -> str | None:
    """A CodeableConcept in words: its text, else its first coding's display, else its code."""
    if words := text(concept.get("text")):
        return words
    for coding in elements(concept.get("coding")):
        if words := text(coding.get("display")) or text(coding.get("code")):
            return words
    return None


def first_code(concept: dict[str, Any]) -> str | None:
    """The first code among a CodeableConcept's codings."""
    return next((code for coding in elements(concept.get("coding")) if (code := text(coding.get("code")))), None)
