"""Request-scoped inputs of the interactions routes."""

from typing import Annotated

from fastapi import Depends, Path, Query

from fhir_gateway.features.interactions.schemas import InteractionListQuery, PatientInteractionQuery
from fhir_gateway.patient_scope import FHIR_ID_PATTERN

InteractionId = Annotated[
    str, Path(pattern=FHIR_ID_PATTERN, description="The interaction's id (its FHIR Encounter id).")
]


async def list_query(query: Annotated[InteractionListQuery, Query()]) -> InteractionListQuery:
    """The validated query of `GET /patients/{id}/interactions`."""
    return query


async def insurance_no_query(query: Annotated[PatientInteractionQuery, Query()]) -> PatientInteractionQuery:
    """The validated query of `GET /interactions`."""
    return query


InteractionListQueryDep = Annotated[InteractionListQuery, Depends(list_query)]
PatientInteractionQueryDep = Annotated[PatientInteractionQuery, Depends(insurance_no_query)]
