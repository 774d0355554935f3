"""RFC 9457 problem details: the one place where an error becomes an HTTP answer.

Every error of the simplified API leaves as `application/problem+json`:
`{"type", "title", "status", "detail", "errors": [{"loc": [...], "msg": "..."}]}`.
Request validation, HTTP exceptions, FHIR server failures and unexpected exceptions
are all translated here, so no route has to know how errors look on the wire.
"""

import logging
import math
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from fhir_gateway.fhir_client import (
    FhirBadRequest,
    FhirConflict,
    FhirError,
    FhirGone,
    FhirNotFound,
    FhirTimeout,
    FhirUnavailable,
    FhirVersionConflict,
)
from fhir_gateway.http_rules import allowed_methods

PROBLEM_CONTENT_TYPE = "application/problem+json"
# What any route that calls the FHIR server may answer when that server fails or times out.
UPSTREAM_FAILURES = (502, 503, 504)
# What any route that takes a JSON body may answer about the body itself: malformed JSON,
# too large, not JSON at all.
JSON_BODY_FAILURES = (400, 413, 415)
_GENERIC_500_DETAIL = "The server could not complete the request; quote the X-Request-ID when reporting it."

logger = logging.getLogger(__name__)


class ProblemFieldError(BaseModel):
    """One offending input: where it is (`loc`, as FastAPI names it) and what is wrong."""

    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem details body."""

    type: str = Field(default="about:blank", description="A URI naming the problem type.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong with this request.")
    errors: list[ProblemFieldError] = Field(
        default_factory=list, description="The offending inputs, when there are any."
    )


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    errors: Iterable[ProblemFieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A `application/problem+json` response for `status` (no body where HTTP allows none)."""
    if not is_body_allowed_for_status_code(status):
        return Response(status_code=status, headers=headers)
    title = _title(status)
    problem = Problem(title=title, status=status, detail=detail or title, errors=list(errors))
    return JSONResponse(problem.model_dump(), status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries declaring that these statuses answer with a Problem."""
    # `model` registers the schema (FastAPI files it under application/json as well).
    schema = {"$ref": f"#/components/schemas/{Problem.__name__}"}
    return {
        status: {
            "model": Problem,
            "description": _title(status),
            "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}},
        }
        for status in statuses
    }


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem details."""
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(FhirError)(_fhir_error)
    # Starlette runs this one outermost (ServerErrorMiddleware), for anything unhandled.
    app.exception_handler(Exception)(_unexpected_error)


def request_id_of(request: Request) -> str | None:
    """The id the request-id middleware gave this request, if it ran."""
    return getattr(request.state, "request_id", None)


async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
    failures = list(exc.errors())
    # FastAPI reports an unparsable JSON body as a validation error; it is a malformed request.
    if any(failure.get("type") == "json_invalid" for failure in failures):
        malformed = [_field_error(f) for f in failures if f.get("type") == "json_invalid"]
        return problem_response(400, "The request body is not valid JSON.", errors=malformed)
    count = len(failures)
    noun = "field is" if count == 1 else "fields are"
    return problem_response(422, f"{count} {noun} invalid.", errors=[_field_error(f) for f in failures])


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 405:
        # Starlette names only the methods of the first route on the path; every route counts.
        allow = ", ".join(allowed_methods(request.app, request.url.path))
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        return problem_response(405, f"{request.method} is not served here; use {allow}.", headers={"Allow": allow})
    return problem_response(exc.status_code, detail, headers=exc.headers)


async def _fhir_error(_request: Request, exc: FhirError) -> Response:
    status = _fhir_status(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, FhirUnavailable) and exc.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(exc.retry_after))
    if status >= 500:
        # The FHIR server's own words about its failure are for its operators, not clients.
        logger.warning("FHIR server failure (%s): %s", type(exc).__name__, exc.diagnostics)
        return problem_response(status, _upstream_detail(exc), headers=headers)
    return problem_response(status, exc.diagnostics or None, errors=_outcome_errors(exc.outcome), headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = request_id_of(request)
    logger.error("Unhandled %s on request %s", type(exc).__name__, request_id, exc_info=exc)
    headers = {"X-Request-ID": request_id} if request_id else None
    return problem_response(500, _GENERIC_500_DETAIL, headers=headers)


def _fhir_status(exc: FhirError) -> int:
    # Most specific first: FhirTimeout is a FhirUnavailable.
    if isinstance(exc, FhirTimeout):
        return 504
    if isinstance(exc, FhirUnavailable):
        # No answer at all, an overloaded or rate-limiting server: try again later (503);
        # any other failure of the server is a bad gateway (502).
        return 503 if exc.status in (429, 503) else 502
    if isinstance(exc, FhirVersionConflict):
        return 412
    if isinstance(exc, FhirConflict):
        return 409
    if isinstance(exc, FhirGone):
        return 410
    if isinstance(exc, FhirNotFound):
        return 404
    if isinstance(exc, FhirBadRequest):
        return 422 if exc.status == 422 else 400
    # A FHIR answer the gateway has no meaning for is the upstream's fault, not the client's.
    return 502


def _upstream_detail(exc: FhirError) -> str:
    if isinstance(exc, FhirTimeout):
        return "The FHIR server did not answer in time."
    if isinstance(exc, FhirUnavailable):
        return "The FHIR server is unavailable."
    return "The FHIR server answered with an unexpected error."


def _outcome_errors(outcome: object) -> list[ProblemFieldError]:
    """The OperationOutcome's issues, located by their FHIRPath expressions."""
    if not isinstance(outcome, Mapping):
        return []
    errors = []
    for issue in outcome.get("issue") or []:
        if not isinstance(issue, Mapping) or not issue.get("diagnostics"):
            continue
        expression = issue.get("expression") or []
        loc: list[str | int] = [expression] if isinstance(expression, str) else [str(e) for e in expression]
        errors.append(ProblemFieldError(loc=loc, msg=str(issue["diagnostics"])))
    return errors


def _field_error(failure: Mapping[str, Any]) -> ProblemFieldError:
    # Only loc and msg: the rejected input itself may be clinical data.
    return ProblemFieldError(loc=list(failure.get("loc", ())), msg=str(failure.get("msg", "")))


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
