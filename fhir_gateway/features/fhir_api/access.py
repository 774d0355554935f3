"""What each FHIR interaction needs of the client's scopes.

An interaction on a type needs that type's permission; one on every type (the system's
search and history, an operation on the base) needs a scope on every type. A transaction or
batch needs what each of its entries does. A page of results (`?_getpages=`) names no type:
it continues a search already allowed, so any scope to search will do.
"""

from typing import Any

from fastapi import Request

from fhir_gateway.patient_summary.record import RECORD_READS
from fhir_gateway.security import Need, authorize
from fhir_gateway.security.requirements import need
from fhir_gateway.security.scopes import ANY_TYPE, SOME_TYPE, Action

SUMMARY = tuple(need(text) for text in RECORD_READS)
_ENTRY_ACTIONS: dict[str, Action] = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}
# Operations can do anything their server lets them (`$expunge`, `$meta-delete`): one sent
# by POST needs every permission on its type, one read by GET only to read it.
_OPERATION_ACTIONS: dict[str, tuple[Action, ...]] = {
    "GET": ("read",),
    "POST": ("create", "read", "update", "delete", "search"),
}


def require(request: Request, *needs: Need) -> None:
    authorize(request.scope, needs)


def require_on_type(request: Request, action: Action, parameter: str = "resource_type") -> None:
    authorize(request.scope, (Need(request.path_params.get(parameter, ANY_TYPE), action),))


def require_search(request: Request) -> None:
    """A search, a history, or a page of either, by the route it came in on."""
    parameters = request.path_params
    path: str = request.scope["path"]
    if "compartment" in parameters:
        needs = (Need(parameters["compartment"], "search"), Need(parameters["resource_type"], "read"))
    elif path.endswith("/_history"):
        needs = (Need(parameters.get("resource_type", ANY_TYPE), "read"),)
    elif "resource_type" in parameters:
        needs = (Need(parameters["resource_type"], "search"),)
    elif "_getpages" in request.query_params:
        needs = (Need(SOME_TYPE, "search"),)
    else:
        types = [kind for value in request.query_params.getlist("_type") for kind in value.split(",") if kind]
        needs = tuple(Need(kind, "search") for kind in types) or (Need(ANY_TYPE, "search"),)
    authorize(request.scope, needs)


def require_operation(request: Request) -> None:
    resource_type = request.path_params.get("resource_type", ANY_TYPE)
    actions = _OPERATION_ACTIONS.get(request.method, _OPERATION_ACTIONS["POST"])
    needs = [Need(resource_type, action) for action in actions]
    if request.path_params.get("operation") == "everything":
        # The whole compartment, of every type.
        needs.append(Need(ANY_TYPE, "search"))
    authorize(request.scope, tuple(needs))


def require_entries(request: Request, bundle: dict[str, Any]) -> None:
    """What each entry of a (validated) transaction or batch does."""
    needs: dict[Need, None] = {}
    for entry in bundle.get("entry") or []:
        entry_request = entry.get("request") or {}
        method = str(entry_request.get("method", "GET")).upper()
        path = str(entry_request.get("url", "")).split("?", 1)[0].strip("/")
        segments = path.split("/") if path else []
        resource_type = segments[0] if segments and segments[0][:1].isupper() else ANY_TYPE
        if method in _ENTRY_ACTIONS:
            action = _ENTRY_ACTIONS[method]
        else:
            action = "read" if len(segments) >= 2 and not segments[1].startswith("_") else "search"
        needs[Need(resource_type, action)] = None
    authorize(request.scope, tuple(needs))
