"""`/patients/{id}/summary`: the patient's record summarised for a clinician or the family."""

from fastapi import APIRouter

from fhir_gateway.dependencies import FhirClientDep, LanguageModelDep, SettingsDep, SummaryCacheDep
from fhir_gateway.features.summaries import service
from fhir_gateway.features.summaries.dependencies import SummaryQueryDep
from fhir_gateway.patient_scope import PatientId
from fhir_gateway.patient_summary.models import Summary
from fhir_gateway.patient_summary.record import RECORD_READS
from fhir_gateway.problems import UPSTREAM_FAILURES, problem_responses
from fhir_gateway.security import requires

router = APIRouter(prefix="/patients/{patient_id}/summary", tags=["summaries"])


@router.get(
    "",
    dependencies=[requires(*RECORD_READS)],
    response_model=Summary,
    summary="Summarise a patient's record",
    responses=problem_responses(404, 410, 422, *UPSTREAM_FAILURES),
)
async def read_summary(
    patient_id: PatientId,
    query: SummaryQueryDep,
    client: FhirClientDep,
    settings: SettingsDep,
    model: LanguageModelDep,
    cache: SummaryCacheDep,
) -> Summary:
    """The heading, key facts (each with the record it came from) and a narrative for the
    `audience` at the `length` asked. The narrative comes from the configured language model,
    checked against the record (what it names that no record holds is listed in `warnings`);
    without one, or when it fails, it is written offline from the key facts. A summary of an
    unchanged record is answered from memory."""
    return await service.summary(
        client=client,
        patient_id=patient_id,
        query=query,
        system_base=settings.identifier_system_base,
        model=model,
        cache=cache,
    )
