"""The errors the FHIR client raises, and the one place an HTTP answer becomes one of them."""

from http import HTTPStatus
from typing import Any

import httpx
import orjson

from fhir_gateway.fhir_client.retry import retry_after_seconds

# HAPI FHIR answers a stale `If-Match` with 409 and this code in the diagnostics, where
# the FHIR specification says 412; both mean the same thing to the gateway.
HAPI_STALE_VERSION_CODE = "HAPI-0989"
# HAPI FHIR keeps one row per conditional-create URL under a unique index: of creates that
# race with the same criteria one is stored, the others answer 409 with this code.
HAPI_CONDITIONAL_RACE_CODE = "HAPI-2745"

# The status a no-answer error stands for, so callers can relay every FhirError the same way.
NO_ANSWER_STATUS = 503
TIMEOUT_STATUS = 504
# An answer the gateway cannot use is the server's failure: a bad gateway.
BAD_ANSWER_STATUS = 502


class FhirError(Exception):
    """The FHIR server refused or failed a request.

    `status` is the HTTP status it answered (503, or 504 for a timeout, when no answer came),
    `outcome` its OperationOutcome body when it sent one, and `diagnostics` the diagnostics
    of that outcome's issues joined by "; " (empty when there is none).
    """

    def __init__(self, status: int, *, outcome: dict[str, Any] | None = None, message: str | None = None) -> None:
        self.status = status
        self.outcome = outcome
        self.diagnostics = _diagnostics(outcome)
        super().__init__(message or _answer_message(status, self.diagnostics))


class FhirBadRequest(FhirError):
    """400 or 422: the server found the request or the resource invalid."""


class FhirNotFound(FhirError):
    """404: no such resource (or version)."""


class FhirGone(FhirError):
    """410: the resource was deleted."""


class FhirConflict(FhirError):
    """409: the write conflicts with what is stored (a delete blocked by a referrer, for one)."""


class FhirVersionConflict(FhirError):
    """412, or HAPI's 409 HAPI-0989: `If-Match` named a stale version, or a conditional
    request matched several resources."""


class FhirUnavailable(FhirError):
    """The server could not be reached, or answered 429 or 5xx (after any retries).

    `retry_after` is the server's `Retry-After` in seconds when it gave one.
    """

    def __init__(
        self,
        status: int,
        *,
        outcome: dict[str, Any] | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, outcome=outcome, message=message)
        self.retry_after = retry_after


class FhirTimeout(FhirUnavailable):
    """The server did not answer in time (or a proxy in front of it answered 504)."""


_ERRORS_BY_STATUS: dict[int, type[FhirError]] = {
    400: FhirBadRequest,
    422: FhirBadRequest,
    404: FhirNotFound,
    410: FhirGone,
    409: FhirConflict,
    412: FhirVersionConflict,
    429: FhirUnavailable,
    504: FhirTimeout,
}


def error_from_response(response: httpx.Response) -> FhirError:
    """The typed error for an error answer (status 4xx or 5xx) of the FHIR server."""
    return _typed(
        response.status_code,
        _operation_outcome(response),
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


def error_from_entry(entry: dict[str, Any], *, message: str | None = None) -> FhirError:
    """The typed error for an entry of a batch-response that did not answer what was asked:
    its status (`"404 Not Found"`) and outcome, or a 502 when it has no error status."""
    response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
    words = str(response.get("status") or "").split(" ", 1)[0]
    status = int(words) if words.isdigit() and 400 <= int(words) < 600 else BAD_ANSWER_STATUS
    outcome = response.get("outcome")
    if not (isinstance(outcome, dict) and outcome.get("resourceType") == "OperationOutcome"):
        outcome = None
    if status == BAD_ANSWER_STATUS and message is None:
        message = "FHIR server answered a batch entry without the resource or an error status"
    return _typed(status, outcome, message=message)


def _typed(
    status: int, outcome: dict[str, Any] | None, *, message: str | None = None, retry_after: float | None = None
) -> FhirError:
    error_class = _ERRORS_BY_STATUS.get(status) or (FhirUnavailable if status >= 500 else FhirError)
    if status == 409 and HAPI_STALE_VERSION_CODE in _diagnostics(outcome):
        error_class = FhirVersionConflict
    if issubclass(error_class, FhirUnavailable):
        return error_class(status, outcome=outcome, message=message, retry_after=retry_after)
    return error_class(status, outcome=outcome, message=message)


def error_from_transport(exc: httpx.TransportError) -> FhirUnavailable:
    """The typed error for a request that got no answer at all."""
    # The exception text names the failure ("timed out", "Connection refused"), never the
    # request's URL or body, so it is safe to carry into logs and answers.
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return FhirTimeout(TIMEOUT_STATUS, message=f"FHIR server did not answer in time ({reason})")
    return FhirUnavailable(NO_ANSWER_STATUS, message=f"FHIR server unreachable ({reason})")


def _operation_outcome(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        return body
    return None


def _diagnostics(outcome: dict[str, Any] | None) -> str:
    if outcome is None:
        return ""
    texts = []
    for issue in outcome.get("issue") or []:
        text = issue.get("diagnostics") or (issue.get("details") or {}).get("text")
        if text:
            texts.append(text)
    return "; ".join(texts)


def _answer_message(status: int, diagnostics: str) -> str:
    try:
        reason = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        reason = str(status)
    message = f"FHIR server answered {reason}"
    return f"{message}: {diagnostics}" if diagnostics else message
