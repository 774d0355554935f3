"""Transaction and batch Bundles the slices write: their entries, and what the server's
answers say of them."""

import uuid
from typing import Any

from fhir_gateway.fhir_client.client import FhirClient
from fhir_gateway.fhir_client.errors import error_from_entry

# Ids are all a delete needs of the Observations of a resource; more than this are paged.
_OBSERVATION_PAGE = 500


def new_urn() -> str:
    """A `urn:uuid:` naming a resource created in the same transaction, until the server ids it."""
    return f"urn:uuid:{uuid.uuid4()}"


def create_entry(resource: dict[str, Any], full_url: str) -> dict[str, Any]:
    """A transaction entry creating `resource`, which the Bundle's other entries refer to by `full_url`."""
    return {"fullUrl": full_url, "resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}


def transaction(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def created_identity(answer: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """The id and meta the server gave the first entry of a transaction, from its response."""
    entries = answer.get("entry") or []
    first = entries[0] if entries and isinstance(entries[0], dict) else {}
    response = first.get("response") if isinstance(first.get("response"), dict) else {}
    segments = str(response.get("location") or "").split("/")
    if resource_type not in segments[:-1]:
        raise error_from_entry(first, message=f"FHIR server answered a transaction without the {resource_type}'s id")
    at = segments.index(resource_type)
    resource_id = segments[at + 1]
    version = segments[at + 3] if len(segments) > at + 3 and segments[at + 2] == "_history" else None
    meta: dict[str, Any] = {}
    if version:
        meta["versionId"] = version
    if isinstance(response.get("lastModified"), str):
        meta["lastUpdated"] = response["lastModified"]
    return {"id": resource_id, "meta": meta}


def entry_resource(answer: dict[str, Any]) -> dict[str, Any]:
    """The resource an entry of a batch response holds, or the error its status names."""
    status = str((answer.get("response") or {}).get("status", ""))
    resource = answer.get("resource")
    if not status.startswith("2") or not isinstance(resource, dict):
        raise error_from_entry(answer)
    return resource


async def delete_with_observations(
    client: FhirClient, resource_type: str, resource_id: str, *, link: str, version: str | None
) -> dict[str, int]:
    """Delete a resource and the Observations whose search parameter `link` points at it
    (`encounter`, `derived-from`) in one transaction; how many of each type went. With
    `version`, the resource goes only at that version."""
    observation_ids = [
        resource["id"]
        async for resource in client.search_all(
            "Observation",
            {link: f"{resource_type}/{resource_id}", "_elements": "id", "_count": _OBSERVATION_PAGE},
        )
        if resource.get("resourceType") == "Observation"
    ]
    request: dict[str, Any] = {"method": "DELETE", "url": f"{resource_type}/{resource_id}"}
    if version is not None:
        request["ifMatch"] = f'W/"{version}"'
    entries = [{"request": {"method": "DELETE", "url": f"Observation/{oid}"}} for oid in dict.fromkeys(observation_ids)]
    entries.append({"request": request})
    await client.transaction(transaction(entries))
    return {resource_type: 1, "Observation": len(entries) - 1}
