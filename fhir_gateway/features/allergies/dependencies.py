"""Request-scoped inputs of the allergies route."""

from typing import Annotated

from fastapi import Depends, Query

from fhir_gateway.features.allergies.schemas import AllergyListQuery


async def list_query(query: Annotated[AllergyListQuery, Query()]) -> AllergyListQuery:
    """The validated query of a list request."""
    return query


AllergyListQueryDep = Annotated[AllergyListQuery, Depends(list_query)]
