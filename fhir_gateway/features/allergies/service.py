"""A patient's AllergyIntolerances from the FHIR server, as the API shows them."""

from fhir_gateway.features.allergies.schemas import Allergy, AllergyListQuery
from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.patient_scope import patient_records
from mappers.allergy import to_domain


async def list_allergies(*, client: FhirClient, patient_id: str, query: AllergyListQuery) -> tuple[list[Allergy], int]:
    """One page of the patient's allergies and intolerances, most recently recorded first, and how many there are."""
    # Ties broken by id on every server, so that pages never overlap or skip.
    page = await patient_records(
        client, "AllergyIntolerance", patient_id, [("_sort", "-date,_id")], count=query.size, offset=query.offset
    )
    return [to_domain(resource, patient_id) for resource in page.matches], page.total
