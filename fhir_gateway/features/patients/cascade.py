"""Delete a patient together with everything recorded about them, in one FHIR transaction.

Two round trips: one batch reads the Patient and searches every kind of record that
points at it, then one transaction deletes those records and the Patient: all go, or
none. A resource the cascade does not search for (or one written in between) still
references the patient, so the server refuses the transaction (409, naming it) and
nothing is deleted. Very large records make one large transaction: a server with a short
transaction timeout answers 504 and, again, deletes nothing.
"""

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from fhir_gateway.fhir_client import FhirClient, entry_resource, error_from_entry, resource_version
from fhir_gateway.patient_scope import StaleVersion, about

# (resource type, search parameter pointing at the patient): notes, interactions and
# their observations, immunizations, allergies, and the other clinical records.
REFERRERS: tuple[tuple[str, str], ...] = (
    ("DocumentReference", "subject"),
    ("Encounter", "subject"),
    ("Observation", "subject"),
    ("Immunization", "patient"),
    ("AllergyIntolerance", "patient"),
    ("Condition", "subject"),
    ("Composition", "subject"),
)
# Ids are all the cascade needs of a referrer; more than this of one kind are paged.
_REFERRER_PAGE = 500


async def delete_patient(*, client: FhirClient, patient_id: str, version: str | None) -> dict[str, int]:
    """Delete the patient and its referrers atomically; how many of each type went.

    404 when the patient is unknown, 410 when already deleted; with `version`, the Patient
    is deleted only at that version (412 otherwise).
    """
    reads = [{"request": {"method": "GET", "url": f"Patient/{patient_id}"}}] + [
        {"request": {"method": "GET", "url": f"{kind}?{_referrer_query(param, patient_id)}"}}
        for kind, param in REFERRERS
    ]
    answers = (await client.batch({"resourceType": "Bundle", "type": "batch", "entry": reads})).get("entry") or []
    if len(answers) != len(reads):
        raise error_from_entry({}, message=f"FHIR server answered a batch of {len(reads)} with {len(answers)} entries")
    with about("patient", patient_id):
        patient = entry_resource(answers[0])
    current = resource_version(patient)
    if version is not None and version != current:
        raise StaleVersion("patient", patient_id, current, version)
    referrers: list[tuple[str, str]] = []
    for (kind, _), answer in zip(REFERRERS, answers[1:], strict=True):
        referrers += [(kind, resource_id) for resource_id in await _referrer_ids(client, kind, entry_resource(answer))]

    patient_request: dict[str, Any] = {"method": "DELETE", "url": f"Patient/{patient_id}"}
    if version is not None:
        # The embedded store enforces ifMatch inside the transaction. HAPI FHIR ignores it on
        # DELETE, so there the version read in the batch just before is what is checked.
        patient_request["ifMatch"] = f'W/"{version}"'
    unique = list(dict.fromkeys(referrers))
    entries = [{"request": {"method": "DELETE", "url": f"{kind}/{rid}"}} for kind, rid in unique]
    entries.append({"request": patient_request})
    await client.transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    counts = Counter(kind for kind, _ in unique)
    return {"Patient": 1, **dict(sorted(counts.items()))}


def _referrer_query(param: str, patient_id: str) -> str:
    return urlencode({param: f"Patient/{patient_id}", "_elements": "id", "_count": _REFERRER_PAGE})


async def _referrer_ids(client: FhirClient, kind: str, first_page: dict[str, Any]) -> list[str]:
    """The ids a searchset holds, following its next links (rare: more than a page of one kind)."""
    ids: list[str] = []
    page: dict[str, Any] | None = first_page
    while page is not None:
        ids += [
            resource["id"]
            for entry in page.get("entry") or []
            if (resource := entry.get("resource") or {}).get("resourceType") == kind
            and isinstance(resource.get("id"), str)
        ]
        page = await client.next_page(page)
    return ids
