"""A patient's Immunizations and AllergyIntolerances from the FHIR server, as the API shows them.

Reading is forgiving, as everywhere in the gateway: elements a FHIR client left out, or
wrote in a shape this view does not know, come out as null rather than as an error.
"""

from typing import Any

from fhir_gateway.features.immunizations.schemas import Allergy, Code, Immunization
from fhir_gateway.fhir_client import FhirClient, FhirError
from fhir_gateway.paging import PageQuery
from mappers.primitives import instant


async def list_immunizations(
    *, client: FhirClient, patient_id: str, query: PageQuery
) -> tuple[list[Immunization], int]:
    """One page of the patient's immunizations, newest first, and how many there are."""
    resources, total = await _page(client, "Immunization", patient_id, query)
    return [immunization_view(resource, patient_id) for resource in resources], total


async def list_allergies(*, client: FhirClient, patient_id: str, query: PageQuery) -> tuple[list[Allergy], int]:
    """One page of the patient's allergies, most recently recorded first, and how many there are."""
    resources, total = await _page(client, "AllergyIntolerance", patient_id, query)
    return [allergy_view(resource, patient_id) for resource in resources], total


async def _page(
    client: FhirClient, resource_type: str, patient_id: str, query: PageQuery
) -> tuple[list[dict[str, Any]], int]:
    bundle = await client.search(
        resource_type,
        [
            ("patient", f"Patient/{patient_id}"),
            # Ties broken by id on every server, so that pages never overlap or skip.
            ("_sort", "-date,_id"),
            ("_count", str(query.size)),
            ("_offset", str(query.offset)),
            ("_total", "accurate"),
        ],
    )
    total = bundle.get("total")
    if not isinstance(total, int):
        raise FhirError(502, message="FHIR server answered a search with _total=accurate without a total")
    resources = [
        entry["resource"]
        for entry in bundle.get("entry") or []
        if (entry.get("search") or {}).get("mode", "match") == "match"
        and (entry.get("resource") or {}).get("resourceType") == resource_type
    ]
    return resources, total


def immunization_view(resource: dict[str, Any], patient_id: str) -> Immunization:
    """The API view of a FHIR Immunization."""
    vaccine = _dict(resource.get("vaccineCode"))
    dose = _dict(resource.get("doseQuantity"))
    protocol = next(iter(_dicts(resource.get("protocolApplied"))), {})
    performer = next(iter(_dicts(resource.get("performer"))), {})
    status = resource.get("status")
    return Immunization(
        **_stored(resource, patient_id),
        status=status if status in ("completed", "not-done", "entered-in-error") else "completed",
        vaccine=_text_of(vaccine),
        vaccine_codes=_codes(vaccine),
        occurred=_str(resource.get("occurrenceDateTime")) or _str(resource.get("occurrenceString")),
        status_reason=_text_of(_dict(resource.get("statusReason"))),
        lot_number=_str(resource.get("lotNumber")),
        manufacturer=_str(_dict(resource.get("manufacturer")).get("display")),
        site=_text_of(_dict(resource.get("site"))),
        route=_text_of(_dict(resource.get("route"))),
        dose_ml=_number(dose.get("value")) if dose.get("code", "mL") == "mL" else None,
        dose_number=_positive_int(protocol.get("doseNumberPositiveInt")),
        performer=_str(_dict(performer.get("actor")).get("display")),
        reactions=[
            text for reaction in _dicts(resource.get("reaction")) if (text := _reaction_text(reaction)) is not None
        ],
    )


def allergy_view(resource: dict[str, Any], patient_id: str) -> Allergy:
    """The API view of a FHIR AllergyIntolerance."""
    code = _dict(resource.get("code"))
    return Allergy(
        **_stored(resource, patient_id),
        substance=_text_of(code),
        codes=_codes(code),
        clinical_status=_first_code(_dict(resource.get("clinicalStatus"))),
        verification_status=_first_code(_dict(resource.get("verificationStatus"))),
        type=_str(resource.get("type")),
        categories=[category for category in resource.get("category") or [] if isinstance(category, str)],
        criticality=_str(resource.get("criticality")),
        onset=_str(resource.get("onsetDateTime")) or _str(resource.get("onsetString")),
        recorded=_str(resource.get("recordedDate")),
        reactions=[
            text
            for reaction in _dicts(resource.get("reaction"))
            for manifestation in _dicts(reaction.get("manifestation"))
            if (text := _text_of(manifestation)) is not None
        ],
    )


def _stored(resource: dict[str, Any], patient_id: str) -> dict[str, Any]:
    meta = _dict(resource.get("meta"))
    return {
        "id": resource["id"],
        "patient_id": patient_id,
        "version": _str(meta.get("versionId")),
        "updated_at": instant(meta.get("lastUpdated")),
    }


def _reaction_text(reaction: dict[str, Any]) -> str | None:
    # R4 points a reaction at an Observation; a display alone is how most records say it.
    return _str(_dict(reaction.get("detail")).get("display"))


def _codes(concept: dict[str, Any]) -> list[Code]:
    return [
        Code(system=_str(coding.get("system")), code=_str(coding.get("code")), display=_str(coding.get("display")))
        for coding in _dicts(concept.get("coding"))
    ]


def _text_of(concept: dict[str, Any]) -> str | None:
    """A CodeableConcept in words: its text, else its first coding's display, else its code."""
    if text := _str(concept.get("text")):
        return text
    for coding in _dicts(concept.get("coding")):
        if words := _str(coding.get("display")) or _str(coding.get("code")):
            return words
    return None


def _first_code(concept: dict[str, Any]) -> str | None:
    return next((code for coding in _dicts(concept.get("coding")) if (code := _str(coding.get("code")))), None)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
