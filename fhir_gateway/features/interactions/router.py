"""`/interactions`: record, list (by health number or by patient id), read, delete."""

from fastapi import APIRouter, Depends, Request, Response, status

from fhir_gateway.dependencies import FhirClientDep, IfMatchDep, SettingsDep
from fhir_gateway.features.interactions import service
from fhir_gateway.features.interactions.dependencies import (
    InteractionId,
    InteractionListQueryDep,
    PatientInteractionQueryDep,
)
from fhir_gateway.features.interactions.schemas import InteractionDeletion, InteractionIn, InteractionPage
from fhir_gateway.fhir_client import resource_etag
from fhir_gateway.http_rules import require_json_body
from fhir_gateway.paging import build_page
from fhir_gateway.patient_scope import PatientId
from fhir_gateway.problems import JSON_BODY_FAILURES, UPSTREAM_FAILURES, problem_responses
from fhir_gateway.security import requires
from mappers.interaction import Interaction

router = APIRouter(tags=["interactions"])


@router.post(
    "/interactions",
    response_model=Interaction,
    status_code=status.HTTP_201_CREATED,
    summary="Record an interaction",
    dependencies=[requires("Encounter.create", "Observation.create"), Depends(require_json_body)],
    responses=problem_responses(*JSON_BODY_FAILURES, 404, 409, 422, *UPSTREAM_FAILURES),
)
async def create_interaction(
    body: InteractionIn, request: Request, response: Response, client: FhirClientDep, settings: SettingsDep
) -> Interaction:
    """Record a doctor-patient interaction with the patient holding `insurance_no` (404 when
    none does; 422 when the number fails its province's check digit): an Encounter and an
    Observation for its health status, each symptom and each metric, in one transaction."""
    interaction, stored = await service.create_interaction(
        client=client, data=body, system_base=settings.identifier_system_base
    )
    response.headers["Location"] = str(request.url_for("read_interaction", interaction_id=interaction.id))
    response.headers["ETag"] = resource_etag(stored)
    return interaction


@router.get(
    "/interactions",
    dependencies=[requires("Encounter.search", "Observation.search")],
    response_model=InteractionPage,
    summary="List a patient's interactions by health number",
    responses=problem_responses(404, 409, 422, *UPSTREAM_FAILURES),
)
async def list_interactions(
    request: Request, query: PatientInteractionQueryDep, client: FhirClientDep, settings: SettingsDep
) -> InteractionPage:
    """The interactions of the patient holding `insurance_no`, newest first (ties by id);
    with `label` (repeatable: any of them) and `from`/`to` on the interaction date."""
    items, total = await service.list_for_insurance_no(
        client=client, insurance_no=query.insurance_no, query=query, system_base=settings.identifier_system_base
    )
    return build_page(request, query, items, total)


@router.get(
    "/patients/{patient_id}/interactions",
    dependencies=[requires("Encounter.search", "Observation.search")],
    response_model=InteractionPage,
    summary="List a patient's interactions",
    responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
)
async def list_patient_interactions(
    patient_id: PatientId,
    request: Request,
    query: InteractionListQueryDep,
    client: FhirClientDep,
    settings: SettingsDep,
) -> InteractionPage:
    """The same list as `GET /interactions`, for a client that knows the patient's id."""
    items, total = await service.list_interactions(
        client=client, patient_id=patient_id, query=query, system_base=settings.identifier_system_base
    )
    return build_page(request, query, items, total)


@router.get(
    "/interactions/{interaction_id}",
    dependencies=[requires("Encounter.read", "Observation.search")],
    response_model=Interaction,
    summary="Read an interaction",
    responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
)
async def read_interaction(
    interaction_id: InteractionId, response: Response, client: FhirClientDep, settings: SettingsDep
) -> Interaction:
    """The interaction as it was recorded; the `ETag` names its version."""
    interaction, stored = await service.read_interaction(
        client=client, interaction_id=interaction_id, system_base=settings.identifier_system_base
    )
    response.headers["ETag"] = resource_etag(stored)
    return interaction


@router.delete(
    "/interactions/{interaction_id}",
    dependencies=[requires("Encounter.delete", "Observation.delete")],
    response_model=InteractionDeletion,
    summary="Delete an interaction",
    responses=problem_responses(400, 404, 409, 410, 412, 422, *UPSTREAM_FAILURES),
)
async def delete_interaction(
    interaction_id: InteractionId, expected_version: IfMatchDep, client: FhirClientDep
) -> InteractionDeletion:
    """Delete the interaction's Encounter and its Observations, in one transaction. With
    `If-Match`, only the version it names is deleted (412 otherwise)."""
    deleted = await service.delete_interaction(client=client, interaction_id=interaction_id, version=expected_version)
    return InteractionDeletion(id=interaction_id, deleted=deleted)
