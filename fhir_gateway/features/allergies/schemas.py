"""What `GET /patients/{id}/allergies` takes and answers."""

from fhir_gateway.paging import Page, PageQuery
from mappers.allergy import Allergy

AllergyPage = Page[Allergy]


class AllergyListQuery(PageQuery):
    """`GET /patients/{id}/allergies` query parameters."""


__all__ = ["Allergy", "AllergyListQuery", "AllergyPage"]
