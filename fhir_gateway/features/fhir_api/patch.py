"""PATCH of a resource, the same whatever FHIR server is behind: the resource is read,
patched, validated and written back with `If-Match` of the version read, so an edit made in
between is never overwritten.

A patch is a JSON Patch (RFC 6902, `application/json-patch+json`), or a JSON Merge Patch
(RFC 7386, `application/merge-patch+json`): the changed elements of the resource, null
removing one. A patch sent as plain JSON is read by its shape, an array of operations or
an object of changes, as fhirpy sends its `patch()`.

With the client's own `If-Match` the patch applies to that version or not at all (412).
Without one it applies to the newest version: when another edit lands between the read and
the write, the patch is applied again to what that edit left, a few times at most (then the
server's 409 or 412 is the answer).
"""

import copy
from collections.abc import Callable
from typing import Any

import httpx
import json_merge_patch
import jsonpatch
from fastapi import Request
from starlette.responses import Response

from fhir_gateway.features.fhir_api.outcomes import FhirFaceError
from fhir_gateway.features.fhir_api.relay import Bases, relayed, server_path
from fhir_gateway.features.fhir_api.validation import parsed, validated
from fhir_gateway.fhir_client import FhirClient, FhirVersionConflict, error_from_response, etag, resource_version

ATTEMPTS = 5
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
_PLAIN_JSON = ("application/json", "application/fhir+json", None)

# The resource as it is -> the resource as the patch leaves it.
Changes = Callable[[dict[str, Any]], Any]


def changes(body: bytes, media_type: str | None) -> Changes:
    """What the body asks to change (400 when it is no patch; 415 for another kind)."""
    if media_type not in (JSON_PATCH, MERGE_PATCH, *_PLAIN_JSON):
        raise FhirFaceError.of(415, f"A patch is sent as {JSON_PATCH} or {MERGE_PATCH}, not {media_type!r}")
    document = parsed(body)
    if media_type == JSON_PATCH or (media_type in _PLAIN_JSON and isinstance(document, list)):
        return _json_patch(document)
    if not isinstance(document, dict):
        raise FhirFaceError.of(400, "A merge patch is a JSON object of the elements it changes")
    if document.get("resourceType") == "Parameters":
        raise FhirFaceError.of(415, f"FHIRPath Patch is not served; send a {JSON_PATCH} or a {MERGE_PATCH}")
    return lambda current: json_merge_patch.merge(copy.deepcopy(current), document)


def _json_patch(document: Any) -> Changes:
    if not isinstance(document, list) or not all(isinstance(operation, dict) for operation in document):
        raise FhirFaceError.of(400, "A JSON Patch is a JSON array of operations, such as [{'op': 'replace', ...}]")
    try:
        return jsonpatch.JsonPatch(document).apply
    except (jsonpatch.InvalidJsonPatch, jsonpatch.JsonPointerException) as error:
        raise FhirFaceError.of(400, f"The JSON Patch is malformed: {error}") from None


async def patch(
    request: Request,
    client: FhirClient,
    urls: Bases,
    resource_type: str,
    resource_id: str,
    patched_by: Changes,
    if_match: str | None,
) -> Response:
    """Apply the patch to the resource and answer as the server answered its update."""
    path = server_path(f"{resource_type}/{resource_id}")
    headers = {"prefer": request.headers.get("prefer") or "return=representation"}
    for attempt in range(1, ATTEMPTS + 1):
        current = await client.read(resource_type, resource_id)
        version = resource_version(current)
        if if_match is not None and version != if_match:
            raise FhirFaceError.of(
                412, f"{resource_type}/{resource_id} is at version {version}, not {if_match} as If-Match says"
            )
        patched = _applied(patched_by, current, resource_type, resource_id)
        write_headers = {**headers, "if-match": etag(version)} if version else headers
        answer = await client.send("PUT", path, json=patched, headers=write_headers)
        if if_match is None and attempt < ATTEMPTS and _lost_race(answer):
            continue
        return relayed(answer, urls)
    raise AssertionError("unreachable: the last attempt answers")


def _applied(patched_by: Changes, current: dict[str, Any], resource_type: str, resource_id: str) -> dict[str, Any]:
    try:
        patched = patched_by(current)
    except jsonpatch.JsonPatchTestFailed as failure:
        raise FhirFaceError.of(422, f"A test operation of the patch failed: {failure}") from None
    except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPointerException) as conflict:
        raise FhirFaceError.of(422, f"The patch does not apply to {resource_type}/{resource_id}: {conflict}") from None
    except jsonpatch.InvalidJsonPatch as error:
        raise FhirFaceError.of(400, f"The JSON Patch is malformed: {error}") from None
    if (
        not isinstance(patched, dict)
        or patched.get("resourceType") != resource_type
        or patched.get("id") != resource_id
    ):
        raise FhirFaceError.of(422, "A patch may change neither the resource's type nor its id")
    # What the patch made must be a valid resource: 422, as it is the patch that cannot be processed.
    return validated(patched, resource_type, status=422)


def _lost_race(answer: httpx.Response) -> bool:
    # A stale If-Match (412; HAPI's 409 HAPI-0989), or HAPI's 409 for two writes of one
    # resource colliding in its database: either way another edit landed first.
    return answer.status_code == 409 or isinstance(error_from_response(answer), FhirVersionConflict)
