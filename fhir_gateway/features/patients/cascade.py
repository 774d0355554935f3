"""Delete a patient together with everything recorded about them, in one FHIR transaction.

The resources that point at the patient are found by standard reference searches, then
deleted with the Patient in a single transaction bundle: all go, or none. A resource the
cascade does not search for (or one written while the cascade runs) still references
the patient, so the server refuses the transaction (409, naming it) and nothing is
deleted. Very large records make one large transaction: a server with a short
transaction timeout answers 504 and, again, deletes nothing.
"""

from collections import Counter
from typing import Any

from fhir_gateway.fhir_client import FhirClient, FhirVersionConflict

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
# Ids are all the cascade needs of a referrer.
_REFERRER_PAGE = 200


async def delete_patient(*, client: FhirClient, patient_id: str, version: str | None) -> dict[str, int]:
    """Delete the patient and its referrers atomically; how many of each type went.

    With `version`, the Patient is deleted only at that version (412 otherwise).
    """
    referrers = [
        (resource_type, resource_id)
        for resource_type, param in REFERRERS
        for resource_id in await _referrer_ids(client, resource_type, param, patient_id)
    ]
    patient_request: dict[str, Any] = {"method": "DELETE", "url": f"Patient/{patient_id}"}
    if version is not None:
        # The store enforces ifMatch inside the transaction; HAPI FHIR ignores it on DELETE,
        # so the version is also checked once the referrers are known, right before the
        # transaction (on HAPI a write in between these two requests still goes unseen).
        patient_request["ifMatch"] = f'W/"{version}"'
        await _require_version(client, patient_id, version)
    entries = [{"request": {"method": "DELETE", "url": f"{kind}/{rid}"}} for kind, rid in referrers]
    entries.append({"request": patient_request})
    await client.transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    counts = Counter(resource_type for resource_type, _ in referrers)
    return {"Patient": 1, **dict(sorted(counts.items()))}


async def _require_version(client: FhirClient, patient_id: str, version: str) -> None:
    current = (await client.read("Patient", patient_id)).get("meta", {}).get("versionId")
    if current != version:
        raise FhirVersionConflict(
            412, message=f"Patient/{patient_id} is at version {current}, not the version {version} If-Match named"
        )


async def _referrer_ids(client: FhirClient, resource_type: str, param: str, patient_id: str) -> list[str]:
    params = {param: f"Patient/{patient_id}", "_elements": "id", "_count": _REFERRER_PAGE}
    ids = []
    async for resource in client.search_all(resource_type, params):
        if resource.get("resourceType") == resource_type and isinstance(resource.get("id"), str):
            ids.append(resource["id"])
    return list(dict.fromkeys(ids))
