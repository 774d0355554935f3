"""One patient per MRN and per insurance number, on any FHIR server.

FHIR has no unique constraint, so the gateway keeps the rule itself:

- a create is a conditional create whose criteria are the same for every create of one
  insurance number (`If-None-Exist: identifier=<insurance number>`; of one MRN when there
  is no insurance number): the server writes it only when no patient holds it, and
  answers with the holder otherwise. Servers serialise conditional creates with identical
  criteria (HAPI FHIR guards each conditional-create URL with a unique index; the embedded
  store writes one at a time), so racing creates of one number store exactly one. An MRN
  the client chose, beside an insurance number, is searched for first;
- an update that changes an MRN or insurance number first searches for another holder;
- after a create, or an update that changed them, the identifiers are searched again.
  Writers that raced past those checks on different criteria (an update racing a create,
  creates of one client-chosen MRN with different insurance numbers) both see both
  claims; the one whose version was stored later undoes its write and answers 409, so the
  earlier claim stands. On the embedded store this is exact; HAPI stamps `lastUpdated`
  before its commit, so there, for these rarer races, it is best-effort.

An Ontario number's version code is not part of the identity: "9876543217AB" and
"9876543217CD" are the same card holder.
"""

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fhir_gateway.features.patients.exceptions import DuplicatePatient
from fhir_gateway.fhir_client import FhirClient
from mappers.health_numbers import card_number
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
    return list(dict.fromkeys([number, card_number(number)]))


def create_criteria(patient: PatientFields, system_base: str) -> str:
    """The `If-None-Exist` query of a create: the same for every create of its insurance
    number (of its MRN when it has none), so that a server serialises racing creates."""
    number = patient.insurance_no
    values = insurance_values(number) if number else identifier_values(patient, system_base)
    return urlencode([("identifier", ",".join(values))])


def identifiers_changed(held: PatientFields, patient: PatientFields) -> bool:
    """Whether writing `patient` over the stored `held` claims an MRN or insurance number it did not hold."""
    changed_mrn = patient.mrn is not None and patient.mrn != held.mrn
    changed_number = patient.insurance_no is not None and (
        held.insurance_no is None or card_number(held.insurance_no) != card_number(patient.insurance_no)
    )
    return changed_mrn or changed_number


async def holders(client: FhirClient, values: list[str]) -> list[dict[str, Any]]:
    """Patients holding any of the identifier `values`."""
    if not values:
        return []
    page = await client.search_page("Patient", [("identifier", ",".join(values))], count=_HOLDERS_PAGE)
    return page.matches


def clashes(holder: dict[str, Any], patient: PatientFields, system_base: str) -> list[str]:
    """Which of `patient`'s unique fields `holder` (a FHIR Patient) also has, named with their values."""
    held = to_domain(holder, system_base=system_base)
    found = []
    if patient.mrn and held.mrn == patient.mrn:
        found.append(f"mrn {patient.mrn!r}")
    if (
        patient.insurance_no
        and held.insurance_no
        and card_number(held.insurance_no) == card_number(patient.insurance_no)
    ):
        found.append(f"insurance_no {patient.insurance_no!r}")
    return found


async def ensure_free(client: FhirClient, patient: PatientFields, system_base: str, *, own_id: str) -> None:
    """Raise DuplicatePatient when a patient other than `own_id` holds `patient`'s MRN or insurance number."""
    for holder in await holders(client, identifier_values(patient, system_base)):
        if holder.get("id") != own_id:
            refuse(holder, patient, system_base)


async def earlier_claim(
    client: FhirClient, stored: dict[str, Any], patient: PatientFields, system_base: str
) -> dict[str, Any] | None:
    """After writing `stored`, another patient that claimed one of its identifiers first, if any."""
    ours = _claim_order(stored)
    for holder in await holders(client, identifier_values(patient, system_base)):
        if holder.get("id") != stored.get("id") and _claim_order(holder) < ours:
            return holder
    return None


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
