"""`GET /patients/{id}/immunizations`: read-only, paged."""

from fastapi import APIRouter, Request, status

from fhir_gateway.dependencies import FhirClientDep
from fhir_gateway.features.immunizations import service
from fhir_gateway.features.immunizations.dependencies import ImmunizationListQueryDep
from fhir_gateway.features.immunizations.schemas import ImmunizationPage
from fhir_gateway.paging import build_page
from fhir_gateway.patient_scope import PatientId
from fhir_gateway.problems import UPSTREAM_FAILURES, problem_responses
from fhir_gateway.security import requires

router = APIRouter(prefix="/patients/{patient_id}", tags=["immunizations"])


@router.get(
    "/immunizations",
    dependencies=[requires("Immunization.search")],
    response_model=ImmunizationPage,
    status_code=status.HTTP_200_OK,
    summary="A patient's immunizations",
    responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
)
async def list_immunizations(
    request: Request, patient_id: PatientId, query: ImmunizationListQueryDep, client: FhirClientDep
) -> ImmunizationPage:
    """The patient's immunizations, newest first (ties by id), a page at a time."""
    items, total = await service.list_immunizations(client=client, patient_id=patient_id, query=query)
    return build_page(request, query, items, total)
