"""Patients on the FHIR server: create, replace and list, each through `FhirClient` only."""

import secrets
from typing import Any

from fhir_gateway.features.patients import fuzzy, uniqueness
from fhir_gateway.features.patients.exceptions import StaleVersion
from fhir_gateway.features.patients.schemas import PatientIn, PatientListQuery, PatientPublic
from fhir_gateway.fhir_client import FhirClient, FhirError, FhirVersionConflict, error_from_response
from mappers.name_keys import fold
from mappers.patient import Patient, mrn_system, to_domain, to_fhir

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
    return PatientPublic.model_validate(to_domain(resource, system_base=system_base).model_dump())


async def create_patient(*, client: FhirClient, data: PatientIn, system_base: str) -> dict[str, Any]:
    """Store a new patient and return its FHIR Patient; 409 when its MRN or insurance number is taken."""
    for _ in range(_MRN_DRAWS):
        patient = Patient.model_validate({**data.model_dump(), "mrn": data.mrn or new_mrn()})
        stored, created = await _create_unless_held(client, patient, system_base)
        if created:

            async def undo(stored_id: str = stored["id"]) -> None:
                await client.delete("Patient", stored_id)

            await uniqueness.settle_claims(client, stored, patient, system_base, undo=undo)
            return stored
        found = uniqueness.clashes(stored, patient, system_base)
        drawn_mrn_taken = data.mrn is None and found == [f"mrn {patient.mrn!r}"]
        if not drawn_mrn_taken:
            uniqueness.refuse(stored, patient, system_base)
    raise RuntimeError(f"no free MRN after {_MRN_DRAWS} draws")


async def _create_unless_held(client: FhirClient, patient: Patient, system_base: str) -> tuple[dict[str, Any], bool]:
    """Conditionally create `patient`: (the stored Patient, True), or (the holder of one of its
    identifiers, False)."""
    values = uniqueness.identifier_values(patient, system_base)
    response = await client.send(
        "POST",
        "Patient",
        json=to_fhir(patient, system_base=system_base),
        headers={"If-None-Exist": uniqueness.if_none_exist(values), "Prefer": "return=representation"},
    )
    if response.is_error:
        error = error_from_response(response)
        if isinstance(error, FhirVersionConflict):
            # Several patients hold these identifiers: name one of them.
            await uniqueness.ensure_free(client, patient, system_base, own_id="")
        raise error
    body = response.json() if response.content else None
    if not isinstance(body, dict) or body.get("resourceType") != "Patient":
        # A server that ignored `Prefer: return=representation` still says where the Patient is.
        location = response.headers.get("Location") or response.headers.get("Content-Location")
        if not location:
            raise FhirError(response.status_code, message="FHIR server answered a create without the Patient")
        body = await client.read("Patient", _id_from_location(location))
    return body, response.status_code == 201


def _id_from_location(location: str) -> str:
    """The id in a `.../Patient/{id}[/_history/{version}]` URL."""
    path = location.split("?", 1)[0].split("/_history/", 1)[0]
    return path.rstrip("/").rsplit("/", 1)[-1]


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
    With `expected_version`, a patient at another version is refused (412).
    """
    for attempt in range(1, _REPLACE_ATTEMPTS + 1):
        current_version = (stored.get("meta") or {}).get("versionId")
        if expected_version is not None and expected_version != current_version:
            raise StaleVersion(patient_id, current_version, expected_version)
        held_mrn = to_domain(stored, system_base=system_base).mrn
        patient = Patient.model_validate(
            {**data.model_dump(), "id": patient_id, "mrn": data.mrn or held_mrn or new_mrn()}
        )
        await uniqueness.ensure_free(client, patient, system_base, own_id=patient_id)
        try:
            written = await client.update(
                to_fhir(patient, system_base=system_base, onto=stored),
                if_match=expected_version or current_version,
            )
        except FhirVersionConflict:
            if expected_version is not None or attempt == _REPLACE_ATTEMPTS:
                raise
            stored = await client.read("Patient", patient_id)
            continue

        async def undo(previous: dict[str, Any] = stored, written_version: str = written["meta"]["versionId"]) -> None:
            await client.update(previous, if_match=written_version)

        await uniqueness.settle_claims(client, written, patient, system_base, undo=undo)
        return written
    raise AssertionError("unreachable: the last attempt returns or raises")


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
    params = [
        *filters,
        # Ties broken by id on every server, so that pages never overlap or skip.
        ("_sort", f"{fhir_sort},_id"),
        ("_count", str(query.size)),
        ("_offset", str(query.offset)),
        ("_total", "accurate"),
    ]
    bundle = await client.search("Patient", params)
    resources = [
        entry["resource"]
        for entry in bundle.get("entry") or []
        if (entry.get("search") or {}).get("mode", "match") == "match" and "resource" in entry
    ]
    total = bundle.get("total")
    if not isinstance(total, int):
        raise FhirError(502, message="FHIR server answered a search with _total=accurate without a total")
    return [public(resource, system_base) for resource in resources], total


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
