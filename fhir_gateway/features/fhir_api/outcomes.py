"""How the FHIR face refuses: an OperationOutcome (`application/fhir+json`) with the right
status, for its own refusals and for every error the gateway raises under `/fhir`.

The FHIR server's own refusals are not translated: they are relayed as the server sent them.
"""

import logging
import math
from dataclasses import dataclass, field
from http import HTTPStatus

import orjson
from fastapi import Request
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from fhir_gateway.embedded import FhirStoreError, Issue
from fhir_gateway.fhir_client import FHIR_JSON, FhirError, FhirTimeout, FhirUnavailable

_GENERIC_500 = "The server could not complete the request; quote the X-Request-ID when reporting it."

logger = logging.getLogger(__name__)


@dataclass
class FhirFaceError(FhirStoreError):
    """A request the FHIR face refuses before (or instead of) the FHIR server seeing it: an
    OperationOutcome as the embedded store writes them, and the headers to answer with."""

    headers: dict[str, str] = field(default_factory=dict)


def outcome_response(status: int, issues: list[Issue], headers: dict[str, str] | None = None) -> Response:
    if not is_body_allowed_for_status_code(status):
        return Response(status_code=status, headers=headers)
    body = orjson.dumps(FhirStoreError(status, issues).outcome())
    return Response(body, status_code=status, headers=headers, media_type=FHIR_JSON)


async def handled(request: Request, exc: Exception) -> Response:
    """The OperationOutcome answer to any failure under `/fhir`."""
    if isinstance(exc, FhirFaceError):
        return outcome_response(exc.status, exc.issues, exc.headers)
    if isinstance(exc, StarletteHTTPException):
        return _http_error(exc)
    if isinstance(exc, FhirError):
        return _fhir_error(exc)
    return _unexpected_error(request, exc)


def _http_error(exc: StarletteHTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else _phrase(exc.status_code)
    return outcome_response(exc.status_code, [Issue(detail)], exc.headers)


def _fhir_error(exc: FhirError) -> Response:
    """A FHIR server that could not be reached or failed the gateway's own requests (the
    reads of a patch or a summary): its words are for its operators, not for clients."""
    if isinstance(exc, FhirTimeout):
        return outcome_response(504, [Issue("The FHIR server did not answer in time.")])
    if isinstance(exc, FhirUnavailable):
        logger.warning("FHIR server unavailable (%s)", exc.status)
        headers = {"Retry-After": str(math.ceil(exc.retry_after))} if exc.retry_after is not None else None
        status = 503 if exc.status in (429, 503) else 502
        return outcome_response(status, [Issue("The FHIR server is unavailable.")], headers)
    if exc.status >= 500 or exc.status < 400:
        logger.warning("FHIR server failure (%s): %s", exc.status, exc.diagnostics)
        return outcome_response(502, [Issue("The FHIR server answered with an unexpected error.")])
    # The server's refusal of a request made on the client's behalf: its own outcome.
    if exc.outcome is not None:
        return Response(orjson.dumps(exc.outcome), status_code=exc.status, media_type=FHIR_JSON)
    return outcome_response(exc.status, [Issue(str(exc))])


def _unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = getattr(request.state, "request_id", None)
    logger.error("Unhandled %s on request %s", type(exc).__name__, request_id, exc_info=exc)
    return outcome_response(500, [Issue(_GENERIC_500)], {"X-Request-ID": request_id} if request_id else None)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
