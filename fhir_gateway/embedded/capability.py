"""The store's CapabilityStatement: every R4 resource type, with the parameters it indexes."""

from functools import cache
from typing import Any

from .resource_types import resource_types
from .search_parameters import ParamType, params_for
from .validation import required_codes

SOFTWARE_NAME = "fhir-gateway embedded FHIR store"

_INTERACTIONS = required_codes("CapabilityStatement.rest.resource.interaction.code")


def capability_statement(base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-01-01",
        "publisher": "fhir-gateway",
        "kind": "instance",
        "software": {"name": SOFTWARE_NAME},
        "implementation": {"description": SOFTWARE_NAME, "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "resource": [_resource(resource_type) for resource_type in sorted(resource_types())],
                "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "history-system"}],
            }
        ],
    }


@cache
def _resource(resource_type: str) -> dict[str, Any]:
    params = params_for(resource_type).values()
    reference_params = [param.name for param in params if param.type is ParamType.REFERENCE]
    resource: dict[str, Any] = {
        "type": resource_type,
        "interaction": [{"code": code} for code in _INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalUpdate": True,
        "conditionalDelete": "single",
        "referencePolicy": ["literal", "enforced", "local"],
        "searchParam": [{"name": param.name, "type": str(param.type)} for param in params],
    }
    if reference_params:
        resource["searchInclude"] = [f"{resource_type}:{name}" for name in reference_params]
    return resource
