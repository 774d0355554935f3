"""Patients on the FHIR server: create, replace and list, each through `FhirClient` only."""

import secrets
from typing import Any

from fhir_gateway.features.patients import fuzzy, uniqueness
from fhir_gateway.features.patients.schemas import PatientIn, PatientListQuery, PatientPublic
from fhir_gateway.fhir_client import FhirClient, FhirVersionConflict, resource_version
from fhir_gateway.patient_scope import StaleVersion
from mappers.name_keys import fold
from mappers.patient import PatientFields, mrn_system, to_domain, to_fhir

# A drawn MRN that is already taken (one chance in 10^8 per patient) is drawn again.
_MRN_DRAWS = 5
# A replace re-reads and retries when someone else wrote the patient in between.
_REPLACE_ATTEMPTS = 3

_FHIR_SORT = {"family_name": "family", "given_name": "given", "birth_date": "birthdate", "updated_at": "_lastUpdated"}
DEFAULT_SORT = [("family_name", False), ("given_name", False)]


def new_mrn() -> str:
    """A fresh medical record number: "MRN-" and 8 random digits."""
    return f"MRN-{secrets.randbelow(10**8):08d}"


def public(resource: dict[str, Any], system_base: str) -> PatientPublic:
    """The API view of a stored FHIR Patient."""
    return to_domain(resource, system_base=system_base, model=PatientPublic)


async def create_patient(*, client: FhirClient, data: PatientIn, system_base: str) -> dict[str, Any]:
    """Store a new patient and return its FHIR Patient; 409 when its MRN or insurance number is taken."""
    if data.mrn and data.insurance_no:
        # The create's criteria name the insurance number only; a chosen MRN is checked first.
        await uniqueness.ensure_free(client, data, system_base, own_id="")
    for _ in range(_MRN_DRAWS):
        patient = data if data.mrn else data.model_copy(update={"mrn": new_mrn()})
        try:
            outcome = await client.create_if_none_exist(
                to_fhir(patient, system_base=system_base), uniqueness.create_criteria(patient, system_base)
            )
        except FhirVersionConflict:
            # Several patients hold these identifiers already: name one of them.
            await uniqueness.ensure_free(client, patient, system_base, own_id="")
            raise
        holder = outcome.resource
        # A create whose answer was lost is sent again and answered with the patient the
        # first one stored: holding the MRN drawn for this very request, that one is ours.
        if outcome.created or (data.mrn is None and _holds_as_written(holder, patient, system_base)):
            earlier = await uniqueness.earlier_claim(client, outcome.resource, patient, system_base)
            if earlier is None:
                return outcome.resource
            await client.delete("Patient", outcome.resource["id"])
            holder = earlier
        drawn_mrn_taken = data.mrn is None and uniqueness.clashes(holder, patient, system_base) == [
            f"mrn {patient.mrn!r}"
        ]
        if not drawn_mrn_taken:
            uniqueness.refuse(holder, patient, system_base)
    raise RuntimeError(f"no free MRN after {_MRN_DRAWS} draws")


async def replace_patient(
    *,
    client: FhirClient,
    patient_id: str,
    stored: dict[str, Any],
    data: PatientIn,
    expected_version: str | None,
    system_base: str,
) -> dict[str, Any]:
    """Replace a stored patient's fields and return the stored FHIR Patient.

    FHIR content the API does not show is kept. An MRN left out keeps the stored one.
    With `expected_version`, a patient at another version is refused (412). The MRN and
    insurance number are checked for other holders only when the replace changes them.
    """
    for attempt in range(1, _REPLACE_ATTEMPTS + 1):
        current_version = resource_version(stored)
        if expected_version is not None and expected_version != current_version:
            raise StaleVersion("patient", patient_id, current_version, expected_version)
        held = to_domain(stored, system_base=system_base)
        patient = data if data.mrn else data.model_copy(update={"mrn": held.mrn or new_mrn()})
        claims = uniqueness.identifiers_changed(held, patient)
        if claims:
            await uniqueness.ensure_free(client, patient, system_base, own_id=patient_id)
        try:
            written = await client.update(
                to_fhir(patient, system_base=system_base, onto=stored), if_match=expected_version or current_version
            )
        except FhirVersionConflict:
            if expected_version is not None or attempt == _REPLACE_ATTEMPTS:
                raise
            stored = await client.read("Patient", patient_id)
            continue
        # Only a writer that raced past the check above can have claimed them since.
        earlier = await uniqueness.earlier_claim(client, written, patient, system_base) if claims else None
        if earlier is not None:
            await client.update(stored, if_match=resource_version(written))
            uniqueness.refuse(earlier, patient, system_base)
        return written
    raise AssertionError("unreachable: the last attempt returns or raises")


def _holds_as_written(resource: dict[str, Any], patient: PatientIn, system_base: str) -> bool:
    """Whether a stored Patient says exactly what `patient` says, every field of it."""
    fields = set(PatientFields.model_fields)
    return to_domain(resource, system_base=system_base).model_dump(include=fields) == patient.model_dump(include=fields)


async def list_patients(
    *, client: FhirClient, query: PatientListQuery, system_base: str
) -> tuple[list[PatientPublic], int]:
    """One page of patients and the total, filtered, sorted, or fuzzily matched by `query.q`."""
    filters = filter_params(query, system_base)
    if query.q:
        matches = await fuzzy.search(client=client, text=query.q, filters=filters, system_base=system_base)
        window = slice(query.offset, query.offset + query.size)
        if not query.sort:
            return [public(match.resource, system_base) for match in matches[window]], len(matches)
        patients = sort_patients([public(match.resource, system_base) for match in matches], query.sort_keys())
        return patients[window], len(patients)
    sort = query.sort_keys() or DEFAULT_SORT
    fhir_sort = ",".join(f"{'-' if descending else ''}{_FHIR_SORT[field]}" for field, descending in sort)
    # Ties broken by id on every server, so that pages never overlap or skip.
    params = [*filters, ("_sort", f"{fhir_sort},_id")]
    page = await client.search_page("Patient", params, count=query.size, offset=query.offset)
    return [public(resource, system_base) for resource in page.matches], page.total


def filter_params(query: PatientListQuery, system_base: str) -> list[tuple[str, str]]:
    """FHIR search parameters for the list filters of `query`."""
    params: list[tuple[str, str]] = []
    if query.birth_date:
        params.append(("birthdate", f"eq{query.birth_date.isoformat()}"))
    if query.gender:
        params.append(("gender", query.gender))
    if query.mrn:
        params.append(("identifier", f"{mrn_system(system_base)}|{query.mrn}"))
    if query.insurance_no:
        params.append(("identifier", ",".join(uniqueness.insurance_values(query.insurance_no))))
    if query.updated_since:
        params.append(("_lastUpdated", f"ge{query.updated_since.isoformat()}"))
    return params


def sort_patients(patients: list[PatientPublic], keys: list[tuple[str, bool]]) -> list[PatientPublic]:
    """`patients` in the order of the sort `keys` (missing values last, ties by id)."""
    ordered = sorted(patients, key=lambda patient: patient.id)
    for field, descending in reversed(keys):
        present = [patient for patient in ordered if getattr(patient, field) is not None]
        missing = [patient for patient in ordered if getattr(patient, field) is None]
        present.sort(key=lambda patient, field=field: _sort_value(patient, field), reverse=descending)
        ordered = present + missing
    return ordered


def _sort_value(patient: PatientPublic, field: str) -> Any:
    value = getattr(patient, field)
    # Names sort as the FHIR server sorts them: folded, so that "Émile" sorts with "Emile".
    return fold(value) if isinstance(value, str) else value
