"""`GET /patients/{id}/immunizations` and `GET /patients/{id}/allergies`: read-only, paged."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from fhir_gateway.dependencies import FhirClientDep
from fhir_gateway.features.immunizations.dependencies import ExistingPatientId
from fhir_gateway.features.immunizations.schemas import Allergy, Immunization
from fhir_gateway.features.immunizations.service import list_allergies, list_immunizations
from fhir_gateway.paging import Page, PageQuery, build_page
from fhir_gateway.problems import problem_responses

router = APIRouter(prefix="/patients/{patient_id}", tags=["immunizations"])

_ERRORS = problem_responses(
    status.HTTP_404_NOT_FOUND,
    status.HTTP_410_GONE,
    status.HTTP_422_UNPROCESSABLE_CONTENT,
    status.HTTP_502_BAD_GATEWAY,
    status.HTTP_503_SERVICE_UNAVAILABLE,
    status.HTTP_504_GATEWAY_TIMEOUT,
)


@router.get(
    "/immunizations",
    response_model=Page[Immunization],
    status_code=status.HTTP_200_OK,
    summary="A patient's immunizations",
    responses=_ERRORS,
)
async def get_immunizations(
    request: Request, patient_id: ExistingPatientId, client: FhirClientDep, query: Annotated[PageQuery, Query()]
) -> Page[Immunization]:
    """The patient's immunizations, newest first (ties by id), a page at a time."""
    items, total = await list_immunizations(client=client, patient_id=patient_id, query=query)
    return build_page(request, query, items, total)


@router.get(
    "/allergies",
    response_model=Page[Allergy],
    status_code=status.HTTP_200_OK,
    summary="A patient's allergies",
    responses=_ERRORS,
)
async def get_allergies(
    request: Request, patient_id: ExistingPatientId, client: FhirClientDep, query: Annotated[PageQuery, Query()]
) -> Page[Allergy]:
    """The patient's allergies and intolerances, most recently recorded first (ties by id), a page at a time."""
    items, total = await list_allergies(client=client, patient_id=patient_id, query=query)
    return build_page(request, query, items, total)
