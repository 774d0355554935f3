"""`/fhir`: standard FHIR R4 REST for EHR clients, relayed to the FHIR server after the
face's own checks (JSON only; resources valid), plus what the face adds: its
CapabilityStatement, JSON Patch on any server, and `Patient/$summary`.

Every route names the FHIR interactions it serves (`x-fhir-interaction`); the
CapabilityStatement is made from them. A path segment is a type, an id or an operation by
its shape, so each URL has one route and their order is free: the most used come first.
Relayed routes read nothing through FastAPI's parameters or dependencies (their path
parameters are documented, not parsed): on the relay, that machinery costs more than the
rest of the gateway's work. What no route serves is a 405 or 404 OperationOutcome.
"""

import re
from datetime import UTC, datetime
from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.convertors import StringConvertor, register_url_convertor
from starlette.responses import Response

from fhir_gateway import API_VERSION
from fhir_gateway.dependencies import get_language_model, get_summary_cache
from fhir_gateway.embedded import Issue
from fhir_gateway.features.fhir_api import access, capability, patch, service
from fhir_gateway.features.fhir_api.capability import SUMMARY_DEFINITION_ID
from fhir_gateway.features.fhir_api.negotiation import (
    FORM,
    media_type_of,
    negotiate,
    require_fhir_json,
    require_media_type,
)
from fhir_gateway.features.fhir_api.outcomes import FhirFaceError
from fhir_gateway.features.fhir_api.relay import bases, relay, server_bundle
from fhir_gateway.features.fhir_api.validation import parsed, validated
from fhir_gateway.fhir_client import FHIR_JSON, FhirClient, version_of
from fhir_gateway.patient_summary.models import Audience, Length
from fhir_gateway.refusals import FHIR_PREFIX
from fhir_gateway.settings import Settings


class _ResourceType(StringConvertor):
    regex = "[A-Z][A-Za-z]{0,63}"


class _Id(StringConvertor):
    regex = "[A-Za-z0-9.-]{1,64}"


class _Operation(StringConvertor):
    regex = "[A-Za-z][A-Za-z0-9_-]{0,63}"


# A path segment is a type, an id or an operation by its shape (R4 http.html#general), as
# FHIR servers route: `metadata`, `_history` or `$summary` never read as a type or an id, so
# each URL has one route, and a method that route lacks is a 405.
register_url_convertor("fhir_type", _ResourceType())
register_url_convertor("fhir_id", _Id())
register_url_convertor("fhir_operation", _Operation())


# Declares the face's routes, for the gateway's OpenAPI schema; `face.fhir_face` serves them.
router = APIRouter(prefix=FHIR_PREFIX)

# Relayed interactions take and answer any resource the server serves: no schema of theirs
# could say more than "a FHIR resource". The face's own operations are described in full.
RELAYED = "FHIR REST (relayed)"
OWN = "FHIR"
_OUTCOME = {FHIR_JSON: {"schema": {"type": "object", "required": ["resourceType", "issue"]}}}
_REFUSALS = {
    status: {"description": f"{description}: an OperationOutcome says why.", "content": _OUTCOME}
    for status, description in (
        (400, "Invalid request or resource"),
        (401, "No valid bearer token"),
        (403, "The token's scopes do not cover this"),
        (404, "Not found"),
        (406, "Only FHIR JSON is served"),
        (410, "Deleted"),
        (412, "Several matches, or another version is current"),
        (415, "Only FHIR JSON is taken"),
        (429, "Too many requests from this client; Retry-After says when to try again"),
        (502, "The FHIR server failed"),
        (503, "The FHIR server is unavailable"),
        (504, "The FHIR server did not answer in time"),
    )
}
_SEGMENTS = {"fhir_type": _ResourceType.regex, "fhir_id": _Id.regex, "fhir_operation": _Operation.regex}
_PATH_PARAMETER = re.compile(r"\{(?P<name>\w+):(?P<kind>\w+)\}")


def _serves(
    *interactions: str, tag: str = RELAYED, parameters: list[dict[str, Any]] | None = None, path: str = ""
) -> dict[str, Any]:
    """How a route is documented: the interactions it serves, its parameters (the path's
    from its template), its answers."""
    resource = {"description": "A FHIR resource (JSON).", "content": {FHIR_JSON: {"schema": {"type": "object"}}}}
    in_path = [_path_parameter(name, kind) for name, kind in _PATH_PARAMETER.findall(path)]
    extra: dict[str, Any] = {capability.INTERACTION: list(interactions)}
    if parameters or in_path:
        extra["parameters"] = [*in_path, *(parameters or [])]
    return {
        "openapi_extra": extra,
        "response_class": Response,
        "tags": [tag],
        "responses": {200: resource, **_REFUSALS},
    }


def _path_parameter(name: str, kind: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": f"^{_SEGMENTS[kind]}$"},
    }


def _relays(method: str, path: str, summary: str, *interactions: str) -> Any:
    """Register a relayed route: documented with its path parameters, served without them."""
    return router.api_route(path, methods=[method], summary=summary, **_serves(*interactions, path=path))


def _query(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_SUMMARY_PARAMETERS = [
    _query("audience", "Who reads the narrative.", {"enum": list(get_args(Audience)), "default": "clinician"}),
    _query("length", "How long the narrative is.", {"enum": list(get_args(Length)), "default": "standard"}),
]
_IDENTIFIER = _query(
    "identifier",
    "The patient's identifier, as system|value.",
    {"type": "string", "pattern": r"^[^|,$\\]*\|[^|,$\\]+$"},
    required=True,
)

_TYPE = "/{resource_type:fhir_type}"
_INSTANCE = "/{resource_type:fhir_type}/{resource_id:fhir_id}"
_OPERATION = "/${operation:fhir_operation}"


@_relays("GET", _INSTANCE, "Read", "read")
async def read(request: Request) -> Response:
    """The resource as the server holds it; the OperationDefinition of `$summary` is the gateway's own."""
    access.require_on_type(request, "read")
    parameters = request.path_params
    if (parameters["resource_type"], parameters["resource_id"]) == ("OperationDefinition", SUMMARY_DEFINITION_ID):
        await negotiate(request)
        return service.fhir_json(capability.summary_definition(_settings(request).identifier_system_base))
    return await relay(request, _client(request), _relayed_path(request))


# Decorators register bottom up: the type search, the most used, first.
@_relays("GET", f"{_INSTANCE}/{{compartment:fhir_type}}", "Search in a compartment")
@_relays("GET", f"{_INSTANCE}/_history", "History of a resource", "history-instance")
@_relays("GET", f"{_TYPE}/_history", "History of a type", "history-type")
@_relays("GET", "/_history", "History of every resource", "history-system")
@_relays("GET", "", "Search all types, or a page of results", "search-system")
@_relays("GET", f"{_TYPE}/_search", "Search", "search-type")
@_relays("GET", _TYPE, "Search", "search-type")
@router.get("/", include_in_schema=False, **_serves())
async def search(request: Request) -> Response:
    """The server's Bundle, its URLs turned into the gateway's."""
    access.require_search(request)
    return await relay(request, _client(request), _relayed_path(request), assembled=True)


@_relays("GET", f"{_INSTANCE}/_history/{{version_id:fhir_id}}", "Read a version", "vread")
@_relays("DELETE", _INSTANCE, "Delete", "delete")
@_relays("DELETE", _TYPE, "Conditional delete", "delete")
async def as_it_is(request: Request) -> Response:
    access.require_on_type(request, "delete" if request.method == "DELETE" else "read")
    return await relay(request, _client(request), _relayed_path(request))


@_relays("POST", _TYPE, "Create (conditionally with If-None-Exist)", "create")
@_relays("PUT", _TYPE, "Conditional update", "update")
@_relays("PUT", _INSTANCE, "Update (or create at an id)", "update")
async def write(request: Request) -> Response:
    """The resource is validated first (400 naming the element)."""
    access.require_on_type(request, "create" if request.method == "POST" else "update")
    require_fhir_json(request)
    body = await request.body()
    validated(parsed(body), request.path_params["resource_type"])
    return await relay(request, _client(request), _relayed_path(request), body=body)


@_relays("POST", "", "A transaction or batch Bundle", "transaction", "batch")
@router.post("/", include_in_schema=False, **_serves())
async def transaction_or_batch(request: Request) -> Response:
    """Every entry's resource is validated first; `fullUrl`s under the gateway's base are
    turned into the server's."""
    client = _client(request)
    require_fhir_json(request)
    bundle = validated(parsed(await request.body()), "Bundle")
    access.require_entries(request, bundle)
    body = service.dumps(server_bundle(bundle, bases(request, client)))
    # Named here, where the Bundle is parsed already, for the backend call metrics.
    return await relay(request, client, "", body=body, assembled=True, interaction=bundle.get("type"))


@_relays("POST", f"{_TYPE}/_search", "Search by a form", "search-type")
async def search_by_form(request: Request) -> Response:
    access.require_on_type(request, "search")
    require_media_type(request, FORM, "A search by POST")
    body = await request.body()
    return await relay(request, _client(request), _relayed_path(request), body=body, assembled=True)


_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": 'The version meant (W/"3"); 412 when another is current.',
    "schema": {"type": "string"},
}


@router.patch(
    _INSTANCE, summary="JSON Patch or JSON Merge Patch", **_serves("patch", path=_INSTANCE, parameters=[_IF_MATCH])
)
async def json_patch(request: Request) -> Response:
    """Read, patch, validate and update with `If-Match` of the version read: the same on any
    server, and an edit made meanwhile is never lost. A JSON Patch, or a JSON Merge Patch
    (plain JSON: an array of operations, or an object of changes)."""
    access.require_on_type(request, "update")
    await negotiate(request)
    client = _client(request)
    patched_by = patch.changes(await request.body(), media_type_of(request))
    resource_type, resource_id = request.path_params["resource_type"], request.path_params["resource_id"]
    version = _version(request.headers.get("if-match"))
    return await patch.patch(request, client, bases(request, client), resource_type, resource_id, patched_by, version)


@router.get("/metadata", summary="The gateway's CapabilityStatement", **_serves(tag=OWN))
async def metadata(request: Request) -> Response:
    """What the face serves: the server's resource types with the interactions routed here,
    JSON Patch, and `Patient/$summary`."""
    await negotiate(request)
    client = _client(request)
    server = await service.server_capabilities(request.app.state, client)
    urls = bases(request, client)
    statement = capability.capability_statement(
        server,
        capability.routed_interactions(router.routes),
        urls=urls,
        system_base=_settings(request).identifier_system_base,
        software_version=API_VERSION,
        date=datetime.now(UTC).date().isoformat(),
        authenticated=not _settings(request).is_local_dev,
    )
    return service.fhir_json(statement)


_TYPE_SUMMARY = _serves(tag=OWN, parameters=[_IDENTIFIER, *_SUMMARY_PARAMETERS])


@router.get("/Patient/$summary", summary="Summary of the patient an identifier names", **_TYPE_SUMMARY)
@router.post("/Patient/$summary", summary="Summary of the patient an identifier names", **_TYPE_SUMMARY)
async def type_summary(request: Request) -> Response:
    """The IPS-style document of the one patient `identifier` (system|value) names (404 for
    none, 412 for several). The parameters come in the query, or by POST as a Parameters
    resource."""
    access.require(request, *access.SUMMARY)
    await negotiate(request)
    parameters = await service.summary_parameters(request)
    if parameters.identifier is None:
        raise FhirFaceError.of(
            400, "Patient/$summary needs the patient's identifier (system|value)", expression="identifier"
        )
    patient_id = await service.patient_with(_client(request), parameters.identifier)
    return await _summary(request, patient_id, parameters)


_INSTANCE_SUMMARY = _serves(tag=OWN, parameters=[_path_parameter("patient_id", "fhir_id"), *_SUMMARY_PARAMETERS])


@router.get("/Patient/{patient_id:fhir_id}/$summary", summary="A patient's summary", **_INSTANCE_SUMMARY)
@router.post("/Patient/{patient_id:fhir_id}/$summary", summary="A patient's summary", **_INSTANCE_SUMMARY)
async def instance_summary(request: Request) -> Response:
    """The IPS-style document of the patient's record: a `document` Bundle, the Composition
    first, then the Patient and every resource its sections refer to. The parameters come in
    the query, or by POST as a Parameters resource."""
    access.require(request, *access.SUMMARY)
    await negotiate(request)
    parameters = await service.summary_parameters(request)
    return await _summary(request, request.path_params["patient_id"], parameters)


async def _summary(request: Request, patient_id: str, parameters: service.SummaryParameters) -> Response:
    client = _client(request)
    settings = _settings(request)
    document = await service.summary_document_of(
        client,
        patient_id,
        parameters,
        gateway_base=bases(request, client).gateway,
        system_base=settings.identifier_system_base,
        software_version=API_VERSION,
        model=await get_language_model(request),
        cache=await get_summary_cache(request),
    )
    return service.fhir_json(document)


_OPERATION_SUMMARY = "An operation the FHIR server serves"


@_relays("GET", _OPERATION, _OPERATION_SUMMARY)
@_relays("POST", _OPERATION, _OPERATION_SUMMARY)
@_relays("GET", f"{_TYPE}{_OPERATION}", _OPERATION_SUMMARY)
@_relays("POST", f"{_TYPE}{_OPERATION}", _OPERATION_SUMMARY)
@_relays("GET", f"{_INSTANCE}{_OPERATION}", _OPERATION_SUMMARY)
@_relays("POST", f"{_INSTANCE}{_OPERATION}", _OPERATION_SUMMARY)
async def operation(request: Request) -> Response:
    """Relayed as it is; a resource sent along (the operation's Parameters) is validated first."""
    access.require_operation(request)
    body = await request.body()
    if body:
        require_fhir_json(request)
        validated(parsed(body))
    return await relay(request, _client(request), _relayed_path(request), body=body or None, assembled=True)


@router.api_route(
    "/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False
)
async def unrouted(request: Request) -> Response:
    """What no route above serves: a 405 naming the methods its URL has, else a 404 (for
    OPTIONS, the methods)."""
    path = request.url.path
    methods = {
        method
        for route in router.routes
        if route is not UNROUTED and isinstance(route, APIRoute) and route.path_regex.match(path)
        for method in route.methods
    }
    if "GET" in methods:
        methods.add("HEAD")
    allowed = [*sorted(methods), "OPTIONS"] if methods else []
    if request.method == "OPTIONS":
        return Response(status_code=204 if allowed else 404, headers={"Allow": ", ".join(allowed)} if allowed else None)
    if allowed:
        issues = [Issue(f"{request.method} is not served here; use {', '.join(allowed)}")]
        raise FhirFaceError(405, issues, {"Allow": ", ".join(allowed)})
    raise FhirFaceError.of(404, f"{path} is not a FHIR REST URL this server serves")


UNROUTED = router.routes[-1]


def _client(request: Request) -> FhirClient:
    client: FhirClient = request.app.state.fhir_client
    return client


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _relayed_path(request: Request) -> str:
    # The scope's path, not `request.url`: a URL object is built for nothing on every relay.
    path: str = request.scope["path"]
    return path.removeprefix(FHIR_PREFIX).strip("/")


def _version(if_match: str | None) -> str | None:
    if if_match is None:
        return None
    try:
        return version_of(if_match)
    except ValueError:
        raise FhirFaceError.of(400, f'If-Match {if_match!r} is not the ETag of a version, such as W/"3"') from None
