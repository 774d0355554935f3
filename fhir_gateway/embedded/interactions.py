"""FHIR REST interactions on a repository: one handler each, and the table that routes to them.

Single HTTP requests and bundle entries both come through `dispatch`, so a transaction
entry behaves exactly like the same request sent alone.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import jsonpatch
import jsonpointer

from . import responses
from .capability import capability_statement
from .conditional import match_one, resolve_references
from .outcomes import FhirStoreError, bad_request, information
from .repository import Repository
from .requests import FhirRequest, FhirResponse
from .search import DEFAULT_COUNT, MAX_COUNT, non_negative_int, parse_query
from .storage import new_id
from .validation import require_resource_type, require_valid_id, validate
from .values import date_range

Handler = Callable[[Repository, FhirRequest, str], FhirResponse]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def dispatch(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    """Run one non-bundle interaction inside the repository's transaction."""
    return _route(request)(repo, request, base)


def _route(request: FhirRequest) -> Handler:
    segments = request.segments
    shape: tuple[str, ...]
    if not segments:
        if request.method == "GET" and any(name == "_getpages" for name, _ in request.query):
            return _stored_page
        raise FhirStoreError.of(405, f"{request.method} is not supported on the server base")
    if segments == ["metadata"]:
        shape = ("metadata",)
    elif segments == ["_history"]:
        shape = ("history",)
    else:
        require_resource_type(segments[0])
        if len(segments) > 1 and segments[1] != "_history":
            require_valid_id(segments[1])
        if len(segments) == 1:
            shape = ("type",)
        elif len(segments) == 2 and segments[1] == "_history":
            shape = ("type", "history")
        elif len(segments) == 2:
            shape = ("instance",)
        elif len(segments) == 3 and segments[2] == "_history":
            shape = ("instance", "history")
        elif len(segments) == 4 and segments[2] == "_history":
            shape = ("instance", "version")
        else:
            raise bad_request(f"Unrecognised FHIR path: {request.path}")
    handler = _ROUTES.get((request.method, shape))
    if handler is None:
        raise FhirStoreError.of(405, f"{request.method} is not supported on {request.path or 'the base'}")
    return handler


# -- reads ------------------------------------------------------------------------------------


def _metadata(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    return FhirResponse(200, capability_statement(base))


def _read(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type, res_id = request.segments[:2]
    stored = repo.read(res_type, res_id)
    if stored is None:
        raise FhirStoreError.of(404, f"Resource {res_type}/{res_id} is not known")
    if stored.deleted:
        raise FhirStoreError.of(410, f"Resource {res_type}/{res_id} was deleted at version {stored.version}")
    return FhirResponse.of(200, stored)


def _vread(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type, res_id, _, version = request.segments
    if not version.isdigit():
        raise bad_request(f"Invalid version id {version!r}")
    stored = repo.vread(res_type, res_id, int(version))
    if stored is None:
        raise FhirStoreError.of(404, f"Version {version} of resource {res_type}/{res_id} is not known")
    if stored.deleted:
        raise FhirStoreError.of(410, f"Version {version} of resource {res_type}/{res_id} is a deletion")
    return FhirResponse.of(200, stored)


def _search(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type = request.segments[0]
    query = parse_query(res_type, request.query)
    page = repo.search(query, request.query)
    return FhirResponse(200, responses.searchset(base, page))


def _stored_page(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    """A page of a stored result list, as the page links of a search name it."""
    params = dict(request.query)
    count = min(non_negative_int("_count", params.get("_count", str(DEFAULT_COUNT))), MAX_COUNT)
    offset = non_negative_int("_getpagesoffset", params.get("_getpagesoffset", "0"))
    page = repo.page(params["_getpages"], offset, count)
    return FhirResponse(200, responses.searchset(base, page))


def _history(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    segments = request.segments
    res_type = segments[0] if segments[0] != "_history" else None
    res_id = segments[1] if len(segments) == 3 else None
    count, offset, since = DEFAULT_COUNT, 0, None
    for name, value in request.query:
        if name == "_count":
            count = min(non_negative_int(name, value), MAX_COUNT)
        elif name == "_offset":
            offset = non_negative_int(name, value)
        elif name == "_since":
            try:
                since = date_range(value)[0]
            except ValueError:
                raise bad_request(f"Invalid _since value {value!r}") from None
        elif name not in ("_format", "_pretty"):
            raise bad_request(f"Unknown history parameter {name!r}")
    page, has_next, total = repo.history(res_type=res_type, res_id=res_id, since=since, offset=offset, count=count)
    if res_id and total == 0:
        raise FhirStoreError.of(404, f"Resource {res_type}/{res_id} is not known")
    url = f"{base}/{request.path}"
    bundle = responses.history(
        base, url, request.query, page, offset=offset, count=count, has_next=has_next, total=total
    )
    return FhirResponse(200, bundle)


# -- writes -----------------------------------------------------------------------------------


def _create(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type = request.segments[0]
    resolve_references(repo, request.body, base)
    resource = validate(request.body, res_type, content_checked=request.content_checked)
    if request.if_none_exist:
        existing = match_one(repo, res_type, request.if_none_exist, base)
        if existing is not None:
            stored = repo.read(res_type, existing)
            assert stored is not None  # it matched a search in this very transaction
            return FhirResponse.of(200, stored)
    return FhirResponse.of(201, repo.create(resource, request.assigned_id))


def _update(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type, res_id = request.segments[:2]
    require_valid_id(res_id)
    resolve_references(repo, request.body, base)
    resource = validate(request.body, res_type, content_checked=request.content_checked)
    if "id" not in resource:
        raise bad_request("Can not update resource: the resource body must contain an id element", expression="id")
    if resource["id"] != res_id:
        raise bad_request(
            f"Can not update resource: the body id {resource['id']!r} does not match the URL id {res_id!r}",
            expression=f"{res_type}.id",
        )
    return _store_update(repo, resource, res_id, request.if_match)


def _conditional_update(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type = request.segments[0]
    resolve_references(repo, request.body, base)
    resource = validate(request.body, res_type, content_checked=request.content_checked)
    matched = match_one(repo, res_type, urlencode(request.query), base)
    if matched is None:
        res_id = resource.get("id") or new_id()
    elif resource.get("id", matched) != matched:
        raise bad_request(
            f"Conditional update matched {res_type}/{matched} but the body id is {resource['id']!r}",
            expression=f"{res_type}.id",
        )
    else:
        res_id = matched
    return _store_update(repo, resource, res_id, request.if_match)


def _store_update(repo: Repository, resource: dict[str, Any], res_id: str, if_match: str | None) -> FhirResponse:
    res_type = resource["resourceType"]
    if res_id.isdigit() and repo.read(res_type, res_id) is None:
        raise bad_request(
            f"Can not create resource with ID[{res_id}], no resource with this ID exists and clients may "
            "only assign IDs which contain at least one non-numeric character"
        )
    stored, created = repo.update(resource, res_id, if_match=_version(if_match))
    return FhirResponse.of(201 if created else 200, stored)


def _patch(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type, res_id = request.segments[:2]
    current = _read(repo, request, base).body
    assert current is not None
    operations = request.body
    if not isinstance(operations, list):
        raise bad_request("A JSON Patch body must be a JSON array of operations")
    try:
        patched = jsonpatch.JsonPatch(operations).apply(current)
    except jsonpatch.JsonPatchTestFailed as error:
        raise FhirStoreError.of(422, f"JSON Patch test failed: {error}") from None
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError, KeyError) as error:
        raise bad_request(f"Failed to apply JSON Patch to {res_type}/{res_id}: {error}") from None
    resolve_references(repo, patched, base)
    resource = validate(patched, res_type)
    if resource.get("id") != res_id:
        raise bad_request("A patch may not change the resource id", expression=f"{res_type}.id")
    stored, _ = repo.update(resource, res_id, if_match=_version(request.if_match), method="PATCH")
    return FhirResponse.of(200, stored)


def _delete(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type, res_id = request.segments[:2]
    deleted = repo.delete(res_type, res_id, if_match=_version(request.if_match))
    if deleted is None:
        return FhirResponse(200, information(f"Resource {res_type}/{res_id} did not exist: nothing deleted"))
    return FhirResponse(200, information(f"Successfully deleted {res_type}/{res_id}"), stored=deleted)


def _conditional_delete(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    res_type = request.segments[0]
    matched = match_one(repo, res_type, urlencode(request.query), base)
    if matched is None:
        return FhirResponse(200, information("No resource matched the criteria: nothing deleted"))
    return _delete(repo, FhirRequest("DELETE", f"{res_type}/{matched}", if_match=request.if_match), base)


# -- helpers ----------------------------------------------------------------------------------


def _version(if_match: str | None) -> int | None:
    """The version an If-Match header names: `W/"3"`, `"3"` or `3`."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise bad_request(f'Invalid If-Match value {if_match!r}: expected W/"<version>"')
    return int(value)


_ROUTES: dict[tuple[str, tuple[str, ...]], Handler] = {
    ("GET", ("metadata",)): _metadata,
    ("GET", ("history",)): _history,
    ("GET", ("type",)): _search,
    ("POST", ("type",)): _create,
    ("PUT", ("type",)): _conditional_update,
    ("DELETE", ("type",)): _conditional_delete,
    ("GET", ("type", "history")): _history,
    ("GET", ("instance",)): _read,
    ("PUT", ("instance",)): _update,
    ("PATCH", ("instance",)): _patch,
    ("DELETE", ("instance",)): _delete,
    ("GET", ("instance", "history")): _history,
    ("GET", ("instance", "version")): _vread,
}
