"""Request-scoped inputs of the summary route: its query and the cache."""

from typing import Annotated

from fastapi import Depends, Query, Request

from fhir_gateway.dependencies import SettingsDep
from fhir_gateway.features.summaries.cache import SummaryCache
from fhir_gateway.features.summaries.schemas import SummaryQuery


async def summary_query(query: Annotated[SummaryQuery, Query()]) -> SummaryQuery:
    """The validated query of `GET /patients/{id}/summary`."""
    return query


async def summary_cache(request: Request, settings: SettingsDep) -> SummaryCache:
    state = request.app.state
    if not hasattr(state, "summary_cache"):
        state.summary_cache = SummaryCache(settings.summary_cache_size)
    return state.summary_cache


SummaryQueryDep = Annotated[SummaryQuery, Depends(summary_query)]
SummaryCacheDep = Annotated[SummaryCache, Depends(summary_cache)]
