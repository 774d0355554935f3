"""Refusals written by the gateway's edge (authentication, rate limits, CORS, body caps), in
the format of the face that was asked: an OperationOutcome under `/fhir`, where FHIR clients
expect one, and problem details everywhere else."""

from collections.abc import Mapping

import orjson
from fastapi.utils import is_body_allowed_for_status_code
from starlette.responses import Response
from starlette.types import Scope

from fhir_gateway.embedded import FhirStoreError, Issue
from fhir_gateway.fhir_client import FHIR_JSON
from fhir_gateway.problems import problem_response

FHIR_PREFIX = "/fhir"


def is_fhir_path(path: str) -> bool:
    return path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/")


def refusal(
    scope: Scope,
    status: int,
    detail: str,
    *,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The answer refusing the request of `scope`; `code` is the OperationOutcome's issue code
    (the status's usual one when not given)."""
    if not is_fhir_path(scope.get("path", "")):
        return problem_response(status, detail, headers=headers)
    if not is_body_allowed_for_status_code(status):
        return Response(status_code=status, headers=headers)
    body = orjson.dumps(FhirStoreError(status, [Issue(detail, code=code)]).outcome())
    return Response(body, status_code=status, headers=headers, media_type=FHIR_JSON)
