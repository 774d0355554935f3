"""`GET /patients/{id}/allergies`: read-only, paged."""

from fastapi import APIRouter, Request, status

from fhir_gateway.dependencies import FhirClientDep
from fhir_gateway.features.allergies import service
from fhir_gateway.features.allergies.dependencies import AllergyListQueryDep
from fhir_gateway.features.allergies.schemas import AllergyPage
from fhir_gateway.paging import build_page
from fhir_gateway.patient_scope import PatientId
from fhir_gateway.problems import UPSTREAM_FAILURES, problem_responses
from fhir_gateway.security import requires

router = APIRouter(prefix="/patients/{patient_id}", tags=["allergies"])


@router.get(
    "/allergies",
    dependencies=[requires("AllergyIntolerance.search")],
    response_model=AllergyPage,
    status_code=status.HTTP_200_OK,
    summary="A patient's allergies",
    responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
)
async def list_allergies(
    request: Request, patient_id: PatientId, query: AllergyListQueryDep, client: FhirClientDep
) -> AllergyPage:
    """The patient's allergies and intolerances, most recently recorded first (ties by id), a page at a time."""
    items, total = await service.list_allergies(client=client, patient_id=patient_id, query=query)
    return build_page(request, query, items, total)
