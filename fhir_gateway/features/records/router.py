"""`/api/generate/records`: a synthetic medical record from ICD-10-CM and CPT codes."""

from fastapi import APIRouter, Depends

from fhir_gateway.dependencies import FhirClientDep, LanguageModelDep, MetricsDep, SettingsDep
from fhir_gateway.features.records import service
from fhir_gateway.features.records.schemas import ChatRequest, GeneratedRecord
from fhir_gateway.http_rules import require_json_body
from fhir_gateway.problems import JSON_BODY_FAILURES, UPSTREAM_FAILURES, problem_responses
from fhir_gateway.security import requires

router = APIRouter(prefix="/api/generate", tags=["synthetic data"])


@router.post(
    "/records",
    response_model=GeneratedRecord,
    summary="Generate a synthetic medical record",
    dependencies=[requires("DocumentReference.create"), Depends(require_json_body)],
    responses=problem_responses(*JSON_BODY_FAILURES, 404, 410, 422, *UPSTREAM_FAILURES),
)
async def generate_record(
    body: ChatRequest, client: FhirClientDep, settings: SettingsDep, model: LanguageModelDep, metrics: MetricsDep
) -> GeneratedRecord:
    """A synthetic record for the ICD-10-CM codes the messages hold (each must be in the
    release the gateway ships; 422 naming each that is not) and the CPT codes given (shape
    checked, passed through without descriptions). Laid out as visit summary, history and
    physical, assessment and plan, prescriptions and follow-up; written by the configured
    language model, else from a template and labelled so. With `patient_id`, it is also kept
    as that patient's note, typed by the note classifier."""
    system_base = settings.identifier_system_base
    record = await service.generate(client=client, request=body, model=model, system_base=system_base)
    metrics.records.generated(by_language_model=record.generator.kind == "openai", kept_as_note=record.note is not None)
    return record
