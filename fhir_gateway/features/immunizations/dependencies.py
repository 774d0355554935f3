"""The patient whose immunizations or allergies are asked for must exist."""

from typing import Annotated

from fastapi import Depends, HTTPException, Path, status

from fhir_gateway.dependencies import FhirClientDep
from fhir_gateway.fhir_client import FhirGone, FhirNotFound

PatientId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9\-.]{1,64}$", description="The patient's id (its FHIR Patient id).")
]


async def existing_patient_id(patient_id: PatientId, client: FhirClientDep) -> str:
    """`patient_id`, once the FHIR server has it (404 when unknown, 410 when deleted)."""
    try:
        await client.read("Patient", patient_id)
    except FhirNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No patient has id {patient_id!r}.") from None
    except FhirGone:
        raise HTTPException(status.HTTP_410_GONE, f"Patient {patient_id!r} was deleted.") from None
    return patient_id


ExistingPatientId = Annotated[str, Depends(existing_patient_id)]
