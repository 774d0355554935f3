"""Bodies checked before anything reaches the FHIR server: JSON, a resource of the type the
URL names, valid against R4 (fhir.resources' R4B models and R4's required codes, every
entry of a Bundle included), each failure located by its element path."""

from typing import Any

import orjson

from fhir_gateway.embedded import FhirStoreError, check_content
from fhir_gateway.features.fhir_api.outcomes import FhirFaceError


def parsed(body: bytes) -> Any:
    """The body as JSON (400 when it is empty or not JSON)."""
    if not body.strip():
        raise FhirFaceError.of(400, "The request body is empty: a FHIR resource is required")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise FhirFaceError.of(400, f"The request body is not valid JSON: {error}") from None


def validated(resource: Any, expected_type: str | None = None, *, status: int = 400) -> dict[str, Any]:
    """`resource` when it is a valid resource (of `expected_type` when given), else `status`
    with an issue per failure, each naming its element path (`Patient.name[0].given`)."""
    try:
        check_content(resource, expected_type)
    except FhirStoreError as error:
        raise FhirFaceError(status, error.issues) from None
    return resource
