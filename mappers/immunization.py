"""FHIR `Immunization` -> the API's immunization view (read-only: the generators and FHIR
clients write them).

| field | FHIR |
|---|---|
| status, status_reason | `status`, `statusReason` |
| vaccine, vaccine_codes | `vaccineCode` (text; SNOMED CT and CVX codings) |
| occurred | `occurrenceDateTime` (or `occurrenceString`) |
| lot_number, manufacturer | `lotNumber`, `manufacturer.display` |
| site, route | `site`, `route` in words |
| dose_ml, dose_number | `doseQuantity` in mL, `protocolApplied[0].doseNumberPositiveInt` |
| performer, reactions | `performer[0].actor.display`, `reaction[].detail.display` |

Reading is forgiving: an element left out, or written in a shape this view does not
know, comes out as null rather than as an error.
"""

from typing import Any, Literal, get_args

from pydantic import Field

from mappers.concepts import Code, codes, in_words
from mappers.primitives import element, elements, number, positive_int, text
from mappers.records import StoredRecord, stored_fields

ImmunizationStatus = Literal["completed", "not-done", "entered-in-error"]
_STATUSES = frozenset(get_args(ImmunizationStatus))


class Immunization(StoredRecord):
    """A vaccine given (or, with status `not-done`, not given and why)."""

    status: ImmunizationStatus
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


def to_domain(resource: dict[str, Any], patient_id: str) -> Immunization:
    """The immunization a FHIR Immunization of the patient `patient_id` describes."""
    vaccine = element(resource.get("vaccineCode"))
    dose = element(resource.get("doseQuantity"))
    protocol = next(iter(elements(resource.get("protocolApplied"))), {})
    performer = next(iter(elements(resource.get("performer"))), {})
    status = resource.get("status")
    return Immunization(
        **stored_fields(resource, patient_id),
        # A status outside R4's required binding cannot be stored; read as the default.
        status=status if status in _STATUSES else "completed",
        vaccine=in_words(vaccine),
        vaccine_codes=codes(vaccine),
        occurred=text(resource.get("occurrenceDateTime")) or text(resource.get("occurrenceString")),
        status_reason=in_words(element(resource.get("statusReason"))),
        lot_number=text(resource.get("lotNumber")),
        manufacturer=text(element(resource.get("manufacturer")).get("display")),
        site=in_words(element(resource.get("site"))),
        route=in_words(element(resource.get("route"))),
        dose_ml=number(dose.get("value")) if dose.get("code", "mL") == "mL" else None,
        dose_number=positive_int(protocol.get("doseNumberPositiveInt")),
        performer=text(element(performer.get("actor")).get("display")),
        # R4 points a reaction at an Observation; a display alone is how most records say it.
        reactions=[
            words
            for reaction in elements(resource.get("reaction"))
            if (words := text(element(reaction.get("detail")).get("display"))) is not None
        ],
    )
