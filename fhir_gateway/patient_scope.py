"""What every route about one patient's records shares: the patient's id, the stored Patient
(by id, or by the health number it holds), a record written with its Observations, the
FHIR server's 404 and 410 about a resource turned into problems that name it, and the 412
a stale `If-Match` gets."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, status
from fastapi.exceptions import RequestValidationError

from fhir_gateway.dependencies import FhirClientDep
from fhir_gateway.fhir_client import (
    FhirBadRequest,
    FhirClient,
    FhirGone,
    FhirNotFound,
    SearchPage,
    create_entry,
    created_identity,
    new_urn,
    transaction,
)
from mappers.health_numbers import card_number, unplaced_number_problem
from mappers.patient import to_domain

# A FHIR id: anything else cannot name a stored resource.
FHIR_ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"

# More holders of one health number than this can only come from data written around the gateway.
_HOLDERS_PAGE = 20

PatientId = Annotated[str, Path(pattern=FHIR_ID_PATTERN, description="The patient's id (its FHIR Patient id).")]


class ResourceNotFound(HTTPException):
    def __init__(self, kind: str, resource_id: str) -> None:
        super().__init__(status.HTTP_404_NOT_FOUND, f"No {kind} has id {resource_id!r}.")


class ResourceGone(HTTPException):
    def __init__(self, kind: str, resource_id: str) -> None:
        super().__init__(status.HTTP_410_GONE, f"{kind.capitalize()} {resource_id!r} was deleted.")


class StaleVersion(HTTPException):
    def __init__(self, kind: str, resource_id: str, current: str | None, expected: str) -> None:
        at = f"at version {current}" if current else "at another version"
        super().__init__(
            status.HTTP_412_PRECONDITION_FAILED,
            f"{kind.capitalize()} {resource_id!r} is {at}; If-Match named version {expected}.",
        )


@contextmanager
def about(kind: str, resource_id: str) -> Iterator[None]:
    """Answer the FHIR server's 404 and 410 inside the block as problems naming the `kind` of
    resource and its id."""
    try:
        yield
    except FhirNotFound:
        raise ResourceNotFound(kind, resource_id) from None
    except FhirGone:
        raise ResourceGone(kind, resource_id) from None


async def read_patient(client: FhirClient, patient_id: str) -> dict[str, Any]:
    """The stored Patient (404 when unknown, 410 when deleted)."""
    with about("patient", patient_id):
        return await client.read("Patient", patient_id)


async def patient_holding(
    client: FhirClient, insurance_no: str, *, system_base: str, location: tuple[str, ...]
) -> dict[str, Any]:
    """The stored Patient whose health number is `insurance_no` (normalised; an Ontario
    version code aside), whichever province's system holds it.

    None holding it: 422 at `location` when the number is shaped like a BC or Ontario
    number but fails its check digit (a mistyped number), else 404 naming it. Several
    holding it (data written around the gateway): 409.
    """
    card = card_number(insurance_no)
    page = await client.search_page(
        "Patient", [("identifier", ",".join(dict.fromkeys([insurance_no, card])))], count=_HOLDERS_PAGE
    )
    # An identifier search matches any system: an MRN of the same digits is no health number.
    holders = [
        patient
        for patient in page.matches
        if (held := to_domain(patient, system_base=system_base).insurance_no) and card_number(held) == card
    ]
    if len(holders) == 1:
        return holders[0]
    if holders:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{len(holders)} patients hold insurance_no {insurance_no!r}: "
            f"{', '.join(str(p.get('id')) for p in holders)}.",
        )
    if problem := unplaced_number_problem(insurance_no):
        raise RequestValidationError([{"type": "value_error", "loc": location, "msg": problem}])
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"No patient has insurance_no {insurance_no!r}.")


async def create_with_observations(
    client: FhirClient,
    patient_id: str,
    resource: dict[str, Any],
    observations_of: Callable[[str], list[dict[str, Any]]],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create a record of the patient and the Observations `observations_of` makes about it
    (given the `urn:uuid:` that names it in the Bundle), in one transaction. The stored
    record (its id and meta from the answer) and the Observations, their references to it
    naming its id."""
    urn = new_urn()
    made = observations_of(urn)
    entries = [create_entry(resource, urn)] + [create_entry(observation, new_urn()) for observation in made]
    try:
        answer = await client.transaction(transaction(entries))
    except FhirBadRequest:
        # The patient was deleted after it was read: say so, rather than what the server
        # says of a reference to nothing.
        await read_patient(client, patient_id)
        raise
    identity = created_identity(answer, resource["resourceType"])
    stored = resource | identity
    stored["meta"] = resource.get("meta", {}) | identity["meta"]
    reference = {"reference": f"{resource['resourceType']}/{identity['id']}"}
    return stored, [_repointed(observation, urn, reference) for observation in made]


def _repointed(value: Any, urn: str, reference: dict[str, str]) -> Any:
    """`value` with every reference to `urn` replaced by `reference`."""
    if isinstance(value, dict):
        if value.get("reference") == urn:
            return reference
        return {key: _repointed(item, urn, reference) for key, item in value.items()}
    if isinstance(value, list):
        return [_repointed(item, urn, reference) for item in value]
    return value


async def stored_patient(patient_id: PatientId, client: FhirClientDep) -> dict[str, Any]:
    """The FHIR Patient the path names (404 when unknown, 410 when deleted)."""
    return await read_patient(client, patient_id)


async def patient_records(
    client: FhirClient,
    resource_type: str,
    patient_id: str,
    params: list[tuple[str, str]],
    *,
    count: int,
    offset: int,
) -> SearchPage:
    """One page of the resources of `resource_type` whose `patient` is the patient, after the
    patient is known to exist (404 when unknown, 410 when deleted).

    The search runs first: a page with records proves the patient exists, so only an empty
    one costs a read of the Patient.
    """
    page = await client.search_page(
        resource_type, [("patient", f"Patient/{patient_id}"), *params], count=count, offset=offset
    )
    if page.total == 0:
        await read_patient(client, patient_id)
    return page


StoredPatientDep = Annotated[dict[str, Any], Depends(stored_patient)]
