"""What `GET /patients/{id}/immunizations` takes and answers."""

from fhir_gateway.paging import Page, PageQuery
from mappers.immunization import Immunization

ImmunizationPage = Page[Immunization]


class ImmunizationListQuery(PageQuery):
    """`GET /patients/{id}/immunizations` query parameters."""


__all__ = ["Immunization", "ImmunizationListQuery", "ImmunizationPage"]
