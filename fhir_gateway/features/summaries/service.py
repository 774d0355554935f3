"""A patient's summary for the simplified API: the record gathered, then summarised."""

from fhir_gateway.features.summaries.schemas import SummaryQuery
from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.llm import LanguageModel
from fhir_gateway.patient_summary.cache import SummaryCache
from fhir_gateway.patient_summary.compose import summarize
from fhir_gateway.patient_summary.models import Summary
from fhir_gateway.patient_summary.record import gather


async def summary(
    *,
    client: FhirClient,
    patient_id: str,
    query: SummaryQuery,
    system_base: str,
    model: LanguageModel | None,
    cache: SummaryCache,
) -> Summary:
    """The summary of the patient's record (404 when the patient is unknown, 410 when deleted)."""
    record = await gather(client, patient_id, system_base=system_base)
    return await summarize(
        record, audience=query.audience, length=query.length, system_base=system_base, model=model, cache=cache
    )
