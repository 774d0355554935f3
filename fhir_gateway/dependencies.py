"""FastAPI dependencies every slice may take: what the composition root keeps on `app.state`,
and the version an `If-Match` header names.

Routes take `SettingsDep`, `FhirClientDep`, `EmbeddedStoreDep`, `LanguageModelDep`, `SummaryCacheDep`,
`MetricsDep` or `IfMatchDep` parameters
rather than reaching into the app or the request themselves, so tests can override any of them.
"""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from pydantic import WithJsonSchema

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import ETAG_SHAPE, FhirClient, version_of
from fhir_gateway.llm import LanguageModel
from fhir_gateway.observability import HttpMetrics
from fhir_gateway.patient_summary.cache import SummaryCache
from fhir_gateway.settings import Settings


# Every dependency here is `async def`, though none awaits: FastAPI runs a plain `def`
# dependency in a worker thread, a hop that measurably slowed every request.
async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


async def get_fhir_client(request: Request) -> FhirClient:
    """The app's one FHIR client (set up by the app's lifespan)."""
    return request.app.state.fhir_client


async def get_embedded_store(request: Request) -> EmbeddedStore | None:
    """The in-process FHIR store, or None when the FHIR server is remote."""
    return request.app.state.embedded_store


async def get_language_model(request: Request) -> LanguageModel | None:
    """The app's one language model client (set up by the lifespan), or None when no
    `OPENAI_API_KEY` is configured."""
    return request.app.state.language_model


async def get_summary_cache(request: Request) -> SummaryCache:
    """The summaries both faces keep (made on first use, sized by `SUMMARY_CACHE_SIZE`), their
    lookups counted in the app's metrics."""
    state = request.app.state
    if not hasattr(state, "summary_cache"):
        state.summary_cache = SummaryCache(state.settings.summary_cache_size, lookups=state.metrics.summary_cache)
    return state.summary_cache


async def get_metrics(request: Request) -> HttpMetrics:
    """The app's metrics (what `/metrics` serves)."""
    return request.app.state.metrics


async def if_match_version(
    if_match: Annotated[
        str | None,
        # A header is absent or a string: the schema says so (a null would be sent as "null").
        WithJsonSchema({"type": "string", "pattern": ETAG_SHAPE}),
        Header(description='The version the change is meant for, as its ETag (W/"3"); 412 when it is stale.'),
    ] = None,
) -> str | None:
    """The version an `If-Match` header names (`W/"3"`, `"3"` or `3`), or None without one."""
    if if_match is None:
        return None
    try:
        return version_of(if_match)
    except ValueError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f'If-Match {if_match!r} is not the ETag of a version, such as W/"3".'
        ) from None


SettingsDep = Annotated[Settings, Depends(get_settings)]
FhirClientDep = Annotated[FhirClient, Depends(get_fhir_client)]
EmbeddedStoreDep = Annotated[EmbeddedStore | None, Depends(get_embedded_store)]
IfMatchDep = Annotated[str | None, Depends(if_match_version)]
LanguageModelDep = Annotated[LanguageModel | None, Depends(get_language_model)]
SummaryCacheDep = Annotated[SummaryCache, Depends(get_summary_cache)]
MetricsDep = Annotated[HttpMetrics, Depends(get_metrics)]
