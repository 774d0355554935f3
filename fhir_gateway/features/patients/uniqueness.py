"""One patient per MRN and per insurance number, on any FHIR server.

FHIR has no unique constraint, so the gateway keeps the rule itself:

- a create is a conditional create (`If-None-Exist: identifier=<mrn>,<insurance number>`):
  the server writes it only when no patient holds either identifier, and answers with the
  holder otherwise;
- an update first searches for another holder;
- after either write, the identifiers are searched again. Two writers that raced past
  those checks (conditional creates on different identifier pairs, or an update racing
  a create) both see both claims; the one whose version was stored later undoes its
  write and answers 409, so the earlier claim stands.

An Ontario number's version code is not part of the identity: "9876543217AB" and
"9876543217CD" are the same card holder.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fhir_gateway.features.patients.exceptions import DuplicatePatient
from fhir_gateway.fhir_client import FhirClient
from mappers import health_numbers
from mappers.patient import PatientFields, mrn_system, to_domain

# More holders than this can only come from data written around the gateway.
_HOLDERS_PAGE = 20


def identifier_values(patient: PatientFields, system_base: str) -> list[str]:
    """The `identifier` search values (`system|value`) that must stay unique to `patient`."""
    values = [f"{mrn_system(system_base)}|{patient.mrn}"] if patient.mrn else []
    if patient.insurance_no:
        values += insurance_values(patient.insurance_no)
    return values


def insurance_values(number: str) -> list[str]:
    """`identifier` search values finding an insurance number under whichever system holds it.

    Values without a system: listing each provincial system an insurance number may sit
    under makes a query over HAPI FHIR's 768-character limit on conditional-create URLs
    (HAPI-0550). A value that some unrelated system also holds is told apart afterwards by
    `clashes`, which compares the mapped insurance numbers.
    """
    return list(dict.fromkeys([number, _card_number(number)]))


def if_none_exist(values: list[str]) -> str:
    """The `If-None-Exist` query that matches any patient holding one of `values`."""
    return urlencode([("identifier", ",".join(values))])


async def holders(client: FhirClient, values: list[str]) -> list[dict[str, Any]]:
    """Patients holding any of the identifier `values`."""
    if not values:
        return []
    bundle = await client.search("Patient", [("identifier", ",".join(values)), ("_count", _HOLDERS_PAGE)])
    return [
        entry["resource"]
        for entry in bundle.get("entry") or []
        if (entry.get("resource") or {}).get("resourceType") == "Patient"
    ]


def clashes(holder: dict[str, Any], patient: PatientFields, system_base: str) -> list[str]:
    """Which of `patient`'s unique fields `holder` (a FHIR Patient) also has, named with their values."""
    held = to_domain(holder, system_base=system_base)
    found = []
    if patient.mrn and held.mrn == patient.mrn:
        found.append(f"mrn {patient.mrn!r}")
    if (
        patient.insurance_no
        and held.insurance_no
        and _card_number(held.insurance_no) == _card_number(patient.insurance_no)
    ):
        found.append(f"insurance_no {patient.insurance_no!r}")
    return found


async def ensure_free(client: FhirClient, patient: PatientFields, system_base: str, *, own_id: str) -> None:
    """Raise DuplicatePatient when a patient other than `own_id` holds `patient`'s MRN or insurance number."""
    for holder in await holders(client, identifier_values(patient, system_base)):
        if holder.get("id") != own_id:
            refuse(holder, patient, system_base)


async def settle_claims(
    client: FhirClient,
    stored: dict[str, Any],
    patient: PatientFields,
    system_base: str,
    *,
    undo: Callable[[], Awaitable[object]],
) -> None:
    """After writing `stored`, give way to an earlier claim on its identifiers.

    When another patient claimed one of them before this write did, `undo` reverses the
    write and DuplicatePatient is raised.
    """
    ours = _claim_order(stored)
    for holder in await holders(client, identifier_values(patient, system_base)):
        if holder.get("id") != stored.get("id") and _claim_order(holder) < ours:
            await undo()
            refuse(holder, patient, system_base)


def refuse(holder: dict[str, Any], patient: PatientFields, system_base: str) -> None:
    """Raise DuplicatePatient naming what `holder` shares with `patient`."""
    # A holder found by search always shares an identifier; naming it needs its values.
    raise DuplicatePatient(clashes(holder, patient, system_base) or ["an identifier"], str(holder.get("id")))


def _claim_order(resource: dict[str, Any]) -> tuple[datetime, str]:
    """When a patient's current claims were written; ties broken by id."""
    written = (resource.get("meta") or {}).get("lastUpdated")
    try:
        moment = datetime.fromisoformat(written) if isinstance(written, str) else datetime.max
    except ValueError:
        moment = datetime.max
    if moment.tzinfo is not None:
        moment = moment.replace(tzinfo=None) - moment.utcoffset()  # type: ignore[operator]
    return moment, str(resource.get("id"))


def _card_number(number: str) -> str:
    """The number without an Ontario version code."""
    parts = health_numbers.split_on_hcn(number)
    return parts[0] if parts else number
