"""`/patients`: list (paged, sorted, filtered, fuzzy), create, read, replace, delete."""

from fastapi import APIRouter, Depends, Request, Response, status

from fhir_gateway.dependencies import FhirClientDep, IfMatchDep, SettingsDep
from fhir_gateway.features.patients import cascade, service
from fhir_gateway.features.patients.dependencies import PatientListQueryDep
from fhir_gateway.features.patients.schemas import DeletionReport, PatientIn, PatientPage, PatientPublic
from fhir_gateway.fhir_client import resource_etag
from fhir_gateway.http_rules import require_json_body
from fhir_gateway.paging import build_page
from fhir_gateway.patient_scope import PatientId, StoredPatientDep
from fhir_gateway.problems import JSON_BODY_FAILURES, UPSTREAM_FAILURES, problem_responses
from fhir_gateway.security import requires

router = APIRouter(prefix="/patients", tags=["patients"])


@router.get(
    "",
    dependencies=[requires("Patient.search")],
    response_model=PatientPage,
    status_code=status.HTTP_200_OK,
    summary="List or search patients",
    responses=problem_responses(422, *UPSTREAM_FAILURES),
)
async def list_patients(
    request: Request, query: PatientListQueryDep, client: FhirClientDep, settings: SettingsDep
) -> PatientPage:
    """Patients, a page at a time: filtered by `birth_date`, `gender`, `mrn`, `insurance_no` and
    `updated_since`; sorted by `sort`; or matched by name with `q` (typos tolerated, best first)."""
    items, total = await service.list_patients(client=client, query=query, system_base=settings.identifier_system_base)
    return build_page(request, query, items, total)


@router.post(
    "",
    dependencies=[requires("Patient.create"), Depends(require_json_body)],
    response_model=PatientPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a patient",
    responses=problem_responses(*JSON_BODY_FAILURES, 409, 422, *UPSTREAM_FAILURES),
)
async def create_patient(
    data: PatientIn, request: Request, response: Response, client: FhirClientDep, settings: SettingsDep
) -> PatientPublic:
    """Store a new patient. An MRN ("MRN-" and 8 digits) is assigned when none is given; an MRN
    or insurance number another patient holds is a 409 naming it."""
    stored = await service.create_patient(client=client, data=data, system_base=settings.identifier_system_base)
    response.headers["Location"] = str(request.url_for("read_patient", patient_id=stored["id"]))
    response.headers["ETag"] = resource_etag(stored)
    return service.public(stored, settings.identifier_system_base)


@router.get(
    "/{patient_id}",
    dependencies=[requires("Patient.read")],
    response_model=PatientPublic,
    status_code=status.HTTP_200_OK,
    summary="Read a patient",
    responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
)
async def read_patient(stored: StoredPatientDep, response: Response, settings: SettingsDep) -> PatientPublic:
    """The patient as stored; the `ETag` names its version."""
    response.headers["ETag"] = resource_etag(stored)
    return service.public(stored, settings.identifier_system_base)


@router.put(
    "/{patient_id}",
    dependencies=[requires("Patient.update"), Depends(require_json_body)],
    response_model=PatientPublic,
    status_code=status.HTTP_200_OK,
    summary="Replace a patient",
    responses=problem_responses(*JSON_BODY_FAILURES, 404, 409, 410, 412, 422, *UPSTREAM_FAILURES),
)
async def replace_patient(
    patient_id: PatientId,
    data: PatientIn,
    stored: StoredPatientDep,
    expected_version: IfMatchDep,
    response: Response,
    client: FhirClientDep,
    settings: SettingsDep,
) -> PatientPublic:
    """Replace the patient's fields (an MRN left out keeps the stored one). With `If-Match`, only
    the version it names is replaced (412 otherwise). FHIR content this API does not show is kept."""
    written = await service.replace_patient(
        client=client,
        patient_id=patient_id,
        stored=stored,
        data=data,
        expected_version=expected_version,
        system_base=settings.identifier_system_base,
    )
    response.headers["ETag"] = resource_etag(written)
    return service.public(written, settings.identifier_system_base)


@router.delete(
    "/{patient_id}",
    dependencies=[requires("*.delete")],
    response_model=DeletionReport,
    status_code=status.HTTP_200_OK,
    summary="Delete a patient and their records",
    responses=problem_responses(400, 404, 409, 410, 412, 422, *UPSTREAM_FAILURES),
)
async def delete_patient(patient_id: PatientId, expected_version: IfMatchDep, client: FhirClientDep) -> DeletionReport:
    """Delete the patient with every note, interaction (encounter and observations), immunization,
    allergy and other record that references them, in one FHIR transaction: all or nothing. A
    record of a kind the cascade does not know still references the patient, so the delete is
    refused (409, naming it) and nothing is removed. With `If-Match`, only the version it names
    is deleted (412 otherwise)."""
    deleted = await cascade.delete_patient(client=client, patient_id=patient_id, version=expected_version)
    return DeletionReport(id=patient_id, deleted=deleted)
