"""`/fhir`: standard FHIR R4 REST for EHR clients, relayed to the FHIR server after the
face's own checks (JSON only; resources valid), plus what the face adds: its
CapabilityStatement, JSON Patch on any server, and `Patient/$summary`.

Every route names the FHIR interactions it serves (`x-fhir-interaction`); the
CapabilityStatement is made from them. Specific routes come before the general ones they
would otherwise match (`Patient/$summary` before `{type}/{id}`), and the last route relays
whatever else a FHIR server may serve (operations, compartments) as it is.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, Header, Request
from fastapi.routing import APIRoute
from starlette.convertors import StringConvertor, register_url_convertor
from starlette.responses import Response

from fhir_gateway.dependencies import FhirClientDep, LanguageModelDep, SettingsDep, SummaryCacheDep
from fhir_gateway.features.fhir_api import capability, patch, service
from fhir_gateway.features.fhir_api.negotiation import (
    FORM,
    media_type_of,
    negotiate,
    require_fhir_json,
    require_media_type,
)
from fhir_gateway.features.fhir_api.outcomes import FhirFaceError, Issue, handled
from fhir_gateway.features.fhir_api.relay import FHIR_PREFIX, bases, relay, server_bundle
from fhir_gateway.features.fhir_api.validation import parsed, validated
from fhir_gateway.fhir_client import FHIR_JSON, version_of
from fhir_gateway.patient_summary.models import Audience, Length


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


class OutcomeRoute(APIRoute):
    """A route whose every failure, request validation included, answers as an OperationOutcome."""

    def get_route_handler(self) -> Any:
        handle = super().get_route_handler()

        async def handle_with_outcomes(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as exc:  # noqa: BLE001 - every failure becomes an OperationOutcome
                return await handled(request, exc)

        return handle_with_outcomes


router = APIRouter(prefix=FHIR_PREFIX, route_class=OutcomeRoute, dependencies=[Depends(negotiate)])

# Relayed interactions take and answer any resource the server serves: no schema of theirs
# could say more than "a FHIR resource". The face's own operations are described in full.
RELAYED = "FHIR REST (relayed)"
OWN = "FHIR"
_OUTCOME = {FHIR_JSON: {"schema": {"type": "object", "required": ["resourceType", "issue"]}}}
_REFUSALS = {
    status: {"description": f"{description}: an OperationOutcome says why.", "content": _OUTCOME}
    for status, description in (
        (400, "Invalid request or resource"),
        (404, "Not found"),
        (406, "Only FHIR JSON is served"),
        (410, "Deleted"),
        (412, "Several matches, or another version is current"),
        (415, "Only FHIR JSON is taken"),
        (502, "The FHIR server failed"),
        (503, "The FHIR server is unavailable"),
        (504, "The FHIR server did not answer in time"),
    )
}


def _serves(*interactions: str, tag: str = RELAYED, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    resource = {"description": "A FHIR resource (JSON).", "content": {FHIR_JSON: {"schema": {"type": "object"}}}}
    extra: dict[str, Any] = {capability.INTERACTION: list(interactions)}
    if parameters:
        extra["parameters"] = parameters
    return {
        "openapi_extra": extra,
        "response_class": Response,
        "tags": [tag],
        "responses": {200: resource, **_REFUSALS},
    }


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


IfMatch = Annotated[str | None, Header(description='The version meant (W/"3"); 412 when another is current.')]


@router.get("/metadata", summary="The gateway's CapabilityStatement", **_serves(tag=OWN))
async def metadata(request: Request, client: FhirClientDep, settings: SettingsDep) -> Response:
    """What the face serves: the server's resource types with the interactions routed here,
    JSON Patch, and `Patient/$summary`."""
    server = await service.server_capabilities(request.app.state, client)
    urls = bases(request, client)
    statement = capability.capability_statement(
        server,
        capability.routed_interactions(router.routes),
        gateway_base=urls.gateway,
        server_base=urls.server,
        system_base=settings.identifier_system_base,
        software_version=request.app.version,
        date=datetime.now(UTC).date().isoformat(),
    )
    return service.fhir_json(statement)


_TYPE_SUMMARY = _serves(tag=OWN, parameters=[_IDENTIFIER, *_SUMMARY_PARAMETERS])


@router.get("/Patient/$summary", summary="Summary of the patient an identifier names", **_TYPE_SUMMARY)
@router.post("/Patient/$summary", summary="Summary of the patient an identifier names", **_TYPE_SUMMARY)
async def type_summary(
    request: Request,
    client: FhirClientDep,
    settings: SettingsDep,
    model: LanguageModelDep,
    cache: SummaryCacheDep,
) -> Response:
    """The IPS-style document of the one patient `identifier` (system|value) names (404 for
    none, 412 for several). The parameters come in the query, or by POST as a Parameters
    resource."""
    parameters = await service.summary_parameters(request)
    if parameters.identifier is None:
        raise FhirFaceError.of(
            400, "Patient/$summary needs the patient's identifier (system|value)", expression="identifier"
        )
    patient_id = await service.patient_with(client, parameters.identifier)
    return await _summary(request, client, settings, model, cache, patient_id, parameters)


_INSTANCE_SUMMARY = _serves(tag=OWN, parameters=_SUMMARY_PARAMETERS)


@router.get("/Patient/{patient_id:fhir_id}/$summary", summary="A patient's summary", **_INSTANCE_SUMMARY)
@router.post("/Patient/{patient_id:fhir_id}/$summary", summary="A patient's summary", **_INSTANCE_SUMMARY)
async def instance_summary(
    request: Request,
    patient_id: str,
    client: FhirClientDep,
    settings: SettingsDep,
    model: LanguageModelDep,
    cache: SummaryCacheDep,
) -> Response:
    """The IPS-style document of the patient's record: a `document` Bundle, the Composition
    first, then the Patient and every resource its sections refer to. The parameters come in
    the query, or by POST as a Parameters resource."""
    parameters = await service.summary_parameters(request)
    return await _summary(request, client, settings, model, cache, patient_id, parameters)


async def _summary(
    request: Request,
    client: FhirClientDep,
    settings: SettingsDep,
    model: LanguageModelDep,
    cache: SummaryCacheDep,
    patient_id: str,
    parameters: service.SummaryParameters,
) -> Response:
    document = await service.summary_document_of(
        client,
        patient_id,
        parameters,
        gateway_base=bases(request, client).gateway,
        system_base=settings.identifier_system_base,
        software_version=request.app.version,
        model=model,
        cache=cache,
    )
    return service.fhir_json(document)


@router.get("", summary="Search all types, or a page of results", **_serves("search-system"))
@router.get("/", include_in_schema=False, **_serves())
async def search_system(request: Request, client: FhirClientDep) -> Response:
    return await relay(request, client, "", assembled=True)


@router.post("", summary="A transaction or batch Bundle", **_serves("transaction", "batch"))
@router.post("/", include_in_schema=False, **_serves())
async def transaction_or_batch(request: Request, client: FhirClientDep) -> Response:
    """Every entry's resource is validated first; `fullUrl`s under the gateway's base are
    turned into the server's."""
    require_fhir_json(request)
    bundle = validated(parsed(await request.body()), "Bundle")
    body = service.dumps(server_bundle(bundle, bases(request, client)))
    return await relay(request, client, "", body=body, assembled=True)


@router.get("/_history", summary="History of every resource", **_serves("history-system"))
async def history_system(request: Request, client: FhirClientDep) -> Response:
    return await relay(request, client, "_history", assembled=True)


@router.get("/{resource_type:fhir_type}", summary="Search", **_serves("search-type"))
@router.get("/{resource_type:fhir_type}/_search", summary="Search", **_serves("search-type"))
async def search_type(request: Request, resource_type: str, client: FhirClientDep) -> Response:
    return await relay(request, client, resource_type, assembled=True)


@router.post("/{resource_type:fhir_type}/_search", summary="Search by a form", **_serves("search-type"))
async def search_by_form(request: Request, resource_type: str, client: FhirClientDep) -> Response:
    require_media_type(request, FORM, "A search by POST")
    return await relay(request, client, f"{resource_type}/_search", body=await request.body(), assembled=True)


@router.post("/{resource_type:fhir_type}", summary="Create (conditionally with If-None-Exist)", **_serves("create"))
async def create(request: Request, resource_type: str, client: FhirClientDep) -> Response:
    body = await _resource_body(request, resource_type)
    return await relay(request, client, resource_type, body=body)


@router.put("/{resource_type:fhir_type}", summary="Conditional update", **_serves("update"))
async def conditional_update(request: Request, resource_type: str, client: FhirClientDep) -> Response:
    body = await _resource_body(request, resource_type)
    return await relay(request, client, resource_type, body=body)


@router.delete("/{resource_type:fhir_type}", summary="Conditional delete", **_serves("delete"))
async def conditional_delete(request: Request, resource_type: str, client: FhirClientDep) -> Response:
    return await relay(request, client, resource_type)


@router.get("/{resource_type:fhir_type}/_history", summary="History of a type", **_serves("history-type"))
async def history_type(request: Request, resource_type: str, client: FhirClientDep) -> Response:
    return await relay(request, client, f"{resource_type}/_history", assembled=True)


@router.get("/{resource_type:fhir_type}/{resource_id:fhir_id}", summary="Read", **_serves("read"))
async def read(
    request: Request, resource_type: str, resource_id: str, client: FhirClientDep, settings: SettingsDep
) -> Response:
    """The resource as the server holds it; the OperationDefinition of `$summary` is the gateway's own."""
    if (resource_type, resource_id) == ("OperationDefinition", capability.SUMMARY_DEFINITION_ID):
        return service.fhir_json(capability.summary_definition(settings.identifier_system_base))
    return await relay(request, client, f"{resource_type}/{resource_id}")


@router.put(
    "/{resource_type:fhir_type}/{resource_id:fhir_id}", summary="Update (or create at an id)", **_serves("update")
)
async def update(request: Request, resource_type: str, resource_id: str, client: FhirClientDep) -> Response:
    body = await _resource_body(request, resource_type)
    return await relay(request, client, f"{resource_type}/{resource_id}", body=body)


@router.patch(
    "/{resource_type:fhir_type}/{resource_id:fhir_id}", summary="JSON Patch or JSON Merge Patch", **_serves("patch")
)
async def json_patch(
    request: Request, resource_type: str, resource_id: str, client: FhirClientDep, if_match: IfMatch = None
) -> Response:
    """Read, patch, validate and update with `If-Match` of the version read: the same on any
    server, and an edit made meanwhile is never lost. A JSON Patch, or a JSON Merge Patch
    (plain JSON: an array of operations, or an object of changes)."""
    patched_by = patch.changes(await request.body(), media_type_of(request))
    version = _version(if_match)
    return await patch.patch(request, client, bases(request, client), resource_type, resource_id, patched_by, version)


@router.delete("/{resource_type:fhir_type}/{resource_id:fhir_id}", summary="Delete", **_serves("delete"))
async def delete(request: Request, resource_type: str, resource_id: str, client: FhirClientDep) -> Response:
    return await relay(request, client, f"{resource_type}/{resource_id}")


@router.get(
    "/{resource_type:fhir_type}/{resource_id:fhir_id}/_history",
    summary="History of a resource",
    **_serves("history-instance"),
)
async def history_instance(request: Request, resource_type: str, resource_id: str, client: FhirClientDep) -> Response:
    return await relay(request, client, f"{resource_type}/{resource_id}/_history", assembled=True)


@router.get(
    "/{resource_type:fhir_type}/{resource_id:fhir_id}/_history/{version_id:fhir_id}",
    summary="Read a version",
    **_serves("vread"),
)
async def vread(
    request: Request, resource_type: str, resource_id: str, version_id: str, client: FhirClientDep
) -> Response:
    return await relay(request, client, f"{resource_type}/{resource_id}/_history/{version_id}")


_OPERATION_SUMMARY = "An operation the FHIR server serves"


@router.get("/${operation:fhir_operation}", summary=_OPERATION_SUMMARY, **_serves())
@router.post("/${operation:fhir_operation}", summary=_OPERATION_SUMMARY, **_serves())
@router.get("/{resource_type:fhir_type}/${operation:fhir_operation}", summary=_OPERATION_SUMMARY, **_serves())
@router.post("/{resource_type:fhir_type}/${operation:fhir_operation}", summary=_OPERATION_SUMMARY, **_serves())
@router.get(
    "/{resource_type:fhir_type}/{resource_id:fhir_id}/${operation:fhir_operation}",
    summary=_OPERATION_SUMMARY,
    **_serves(),
)
@router.post(
    "/{resource_type:fhir_type}/{resource_id:fhir_id}/${operation:fhir_operation}",
    summary=_OPERATION_SUMMARY,
    **_serves(),
)
async def operation(request: Request, client: FhirClientDep) -> Response:
    """Relayed as it is; a resource sent along (the operation's Parameters) is validated first."""
    path = request.url.path.removeprefix(FHIR_PREFIX).strip("/")
    body = await request.body()
    if body:
        require_fhir_json(request)
        validated(parsed(body))
    return await relay(request, client, path, body=body or None, assembled=True)


@router.get(
    "/{resource_type:fhir_type}/{resource_id:fhir_id}/{compartment:fhir_type}",
    summary="Search in a compartment",
    **_serves(),
)
async def compartment_search(
    request: Request, resource_type: str, resource_id: str, compartment: str, client: FhirClientDep
) -> Response:
    return await relay(request, client, f"{resource_type}/{resource_id}/{compartment}", assembled=True)


@router.api_route(
    "/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False
)
async def unrouted(request: Request) -> Response:
    """What no route above serves: a 405 naming the methods its URL has, else a 404 (for
    OPTIONS, the methods)."""
    path = request.url.path
    allowed = sorted(
        {
            method
            for route in router.routes
            if route is not _UNROUTED and route.path_regex.match(path)
            for method in route.methods
        }
    )
    allowed = [*allowed, "OPTIONS"] if allowed else []
    if request.method == "OPTIONS":
        return Response(status_code=204 if allowed else 404, headers={"Allow": ", ".join(allowed)} if allowed else None)
    if allowed:
        raise FhirFaceError(
            405,
            [Issue(f"{request.method} is not served here; use {', '.join(allowed)}")],
            {"Allow": ", ".join(allowed)},
        )
    raise FhirFaceError.of(404, f"{path} is not a FHIR REST URL this server serves")


_UNROUTED = router.routes[-1]


async def _resource_body(request: Request, resource_type: str) -> bytes:
    require_fhir_json(request)
    body = await request.body()
    validated(parsed(body), resource_type)
    return body


def _version(if_match: str | None) -> str | None:
    if if_match is None:
        return None
    try:
        return version_of(if_match)
    except ValueError:
        raise FhirFaceError.of(400, f'If-Match {if_match!r} is not the ETag of a version, such as W/"3"') from None
