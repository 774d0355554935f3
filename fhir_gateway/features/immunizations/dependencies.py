"""Request-scoped inputs of the immunizations route."""

from typing import Annotated

from fastapi import Depends, Query

from fhir_gateway.features.immunizations.schemas import ImmunizationListQuery


async def list_query(query: Annotated[ImmunizationListQuery, Query()]) -> ImmunizationListQuery:
    """The validated query of a list request."""
    return query


ImmunizationListQueryDep = Annotated[ImmunizationListQuery, Depends(list_query)]
