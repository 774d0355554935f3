"""Request-scoped inputs of the patients routes."""

from typing import Annotated

from fastapi import Depends, Query

from fhir_gateway.features.patients.schemas import PatientListQuery


async def list_query(query: Annotated[PatientListQuery, Query()]) -> PatientListQuery:
    """The validated query of `GET /patients`."""
    return query


PatientListQueryDep = Annotated[PatientListQuery, Depends(list_query)]
