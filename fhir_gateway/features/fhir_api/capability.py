"""The FHIR face's CapabilityStatement, made from what it really routes and what its FHIR
server declares: each resource type the server serves, with the interactions both the face
routes and the server supports (JSON Patch wherever the server reads and updates, since the
face patches through those), the server's search parameters and operations, and the face's
own `$summary` on Patient. The OperationDefinition of `$summary` is served beside it.
"""

from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute

from fhir_gateway.embedded import required_codes
from fhir_gateway.features.fhir_api.relay import Bases

# The key under which each route of the face names the FHIR interactions it serves.
INTERACTION = "x-fhir-interaction"
SUMMARY_DEFINITION_ID = "Patient-summary"

_TYPE_INTERACTIONS = required_codes("CapabilityStatement.rest.resource.interaction.code")
_SYSTEM_INTERACTIONS = required_codes("CapabilityStatement.rest.interaction.code")
# What of the server's description of a resource type still holds behind the face.
_KEPT = (
    "type",
    "profile",
    "supportedProfile",
    "documentation",
    "versioning",
    "readHistory",
    "updateCreate",
    "conditionalCreate",
    "conditionalRead",
    "conditionalUpdate",
    "conditionalDelete",
    "referencePolicy",
    "searchInclude",
    "searchRevInclude",
    "searchParam",
    "operation",
)


def routed_interactions(routes: Iterable[BaseRoute]) -> frozenset[str]:
    """The interactions the face's routes declare."""
    return frozenset(
        code for route in routes for code in (getattr(route, "openapi_extra", None) or {}).get(INTERACTION, ())
    )


def capability_statement(
    server: dict[str, Any],
    routed: frozenset[str],
    *,
    urls: Bases,
    system_base: str,
    software_version: str,
    date: str,
    authenticated: bool,
) -> dict[str, Any]:
    """The gateway's CapabilityStatement over the server's (`server`): the server's own URLs
    in it (its OperationDefinitions, say) become the gateway's. `authenticated`: whether
    requests need a bearer token, which `rest.security` then says."""
    server = _rebased(server, urls)
    rest = next((part for part in server.get("rest") or [] if part.get("mode") == "server"), {})
    system = {item.get("code") for item in rest.get("interaction") or []}
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "FHIR Gateway",
        "kind": "instance",
        "software": {"name": "FHIR Gateway", "version": software_version},
        "implementation": {"description": "FHIR Gateway: the FHIR face", "url": urls.gateway},
        "fhirVersion": server.get("fhirVersion") or "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json", "application/merge-patch+json"],
        "rest": [
            {
                "mode": "server",
                "security": _SECURED if authenticated else _OPEN,
                "resource": [
                    _resource(resource, routed, system_base)
                    for resource in rest.get("resource") or []
                    if isinstance(resource, dict) and resource.get("type")
                ],
                "interaction": [{"code": code} for code in _SYSTEM_INTERACTIONS if code in routed and code in system],
                **({"operation": rest["operation"]} if rest.get("operation") else {}),
            }
        ],
    }


_SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
_SECURED = {
    "cors": True,
    "service": [{"coding": [{"system": _SECURITY_SERVICE, "code": "OAuth"}], "text": "Bearer tokens"}],
    "description": "Every interaction needs `Authorization: Bearer` with an API key or a JWT of the configured "
    "issuer; SMART scopes (system/Patient.read, system/*.rs, user/Observation.write …) decide what it may do "
    "(403 otherwise). This statement is open.",
}
_OPEN = {"cors": True, "description": "Served without authentication, for local development (IS_LOCAL_DEV)."}


def summary_definition(system_base: str) -> dict[str, Any]:
    """The OperationDefinition of `Patient/$summary`."""
    return {
        "resourceType": "OperationDefinition",
        "id": SUMMARY_DEFINITION_ID,
        "url": summary_definition_url(system_base),
        "name": "PatientSummary",
        "title": "Patient summary as an IPS-style document",
        "status": "active",
        "kind": "operation",
        "description": "A document Bundle summarising the patient's record: the Composition first (LOINC 60591-5) "
        "with problems, medications, allergies, immunizations, vital signs and a narrative section, then the "
        "Patient and every resource the sections refer to.",
        "affectsState": False,
        "code": "summary",
        "resource": ["Patient"],
        "system": False,
        "type": True,
        "instance": True,
        "parameter": [
            {
                "name": "identifier",
                "use": "in",
                "min": 0,
                "max": "1",
                "type": "string",
                "searchType": "token",
                "documentation": "The patient's identifier (system|value), when the operation is called on the type.",
            },
            {
                "name": "audience",
                "use": "in",
                "min": 0,
                "max": "1",
                "type": "code",
                "documentation": "Who reads the narrative: clinician (the default) or family.",
            },
            {
                "name": "length",
                "use": "in",
                "min": 0,
                "max": "1",
                "type": "code",
                "documentation": "How long the narrative is: brief, standard (the default) or detailed.",
            },
            {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Bundle"},
        ],
    }


def summary_definition_url(system_base: str) -> str:
    return f"{system_base}/OperationDefinition/{SUMMARY_DEFINITION_ID}"


def _resource(resource: dict[str, Any], routed: frozenset[str], system_base: str) -> dict[str, Any]:
    served = {item.get("code") for item in resource.get("interaction") or []}
    if {"read", "update"} <= served:
        served.add("patch")
    described = {key: resource[key] for key in _KEPT if key in resource}
    described["interaction"] = [{"code": code} for code in _TYPE_INTERACTIONS if code in routed and code in served]
    if resource["type"] == "Patient":
        summary = {"name": "summary", "definition": summary_definition_url(system_base)}
        described["operation"] = [*(resource.get("operation") or []), summary]
    return described


def _rebased(node: Any, urls: Bases) -> Any:
    if isinstance(node, str):
        return urls.to_gateway(node)
    if isinstance(node, dict):
        return {key: _rebased(value, urls) for key, value in node.items()}
    if isinstance(node, list):
        return [_rebased(item, urls) for item in node]
    return node
