"""Request-scoped inputs of the summary route: its query."""

from typing import Annotated

from fastapi import Depends, Query

from fhir_gateway.features.summaries.schemas import SummaryQuery


async def summary_query(query: Annotated[SummaryQuery, Query()]) -> SummaryQuery:
    """The validated query of `GET /patients/{id}/summary`."""
    return query


SummaryQueryDep = Annotated[SummaryQuery, Depends(summary_query)]
