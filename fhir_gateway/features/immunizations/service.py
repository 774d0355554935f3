"""A patient's Immunizations from the FHIR server, as the API shows them."""

from fhir_gateway.features.immunizations.schemas import Immunization, ImmunizationListQuery
from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.patient_scope import patient_records
from mappers.immunization import to_domain


async def list_immunizations(
    *, client: FhirClient, patient_id: str, query: ImmunizationListQuery
) -> tuple[list[Immunization], int]:
    """One page of the patient's immunizations, newest first, and how many there are."""
    # Ties broken by id on every server, so that pages never overlap or skip.
    page = await patient_records(
        client, "Immunization", patient_id, [("_sort", "-date,_id")], count=query.size, offset=query.offset
    )
    return [to_domain(resource, patient_id) for resource in page.matches], page.total
