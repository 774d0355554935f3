"""Request-scoped inputs of the patients routes: the patient id, `If-Match`, the stored Patient."""

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Path

from fhir_gateway.dependencies import FhirClientDep
from fhir_gateway.features.patients.exceptions import InvalidIfMatch, PatientGone, PatientNotFound
from fhir_gateway.fhir_client import FhirGone, FhirNotFound

# A FHIR id: anything else cannot name a stored patient.
PatientId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9\-.]{1,64}$", description="The patient's id (its FHIR Patient id).")
]

_ETAG = re.compile(r'(?:W/)?"?(?P<version>[0-9]+)"?')


def if_match_version(
    if_match: Annotated[
        str | None,
        Header(description='The version the change is meant for, as its ETag (W/"3"); 412 when it is stale.'),
    ] = None,
) -> str | None:
    """The version an `If-Match` header names (`W/"3"`, `"3"` or `3`), or None without one."""
    if if_match is None:
        return None
    match = _ETAG.fullmatch(if_match.strip())
    if match is None:
        raise InvalidIfMatch(if_match)
    return match["version"]


async def stored_patient(patient_id: PatientId, client: FhirClientDep) -> dict[str, Any]:
    """The FHIR Patient `patient_id` names (404 when unknown, 410 when deleted)."""
    try:
        return await client.read("Patient", patient_id)
    except FhirNotFound:
        raise PatientNotFound(patient_id) from None
    except FhirGone:
        raise PatientGone(patient_id) from None


IfMatchDep = Annotated[str | None, Depends(if_match_version)]
StoredPatientDep = Annotated[dict[str, Any], Depends(stored_patient)]
