"""When a FHIR request is sent again, and how long the client waits before it does.

A request is repeated only when repeating it cannot change the outcome (`Repetition`):

- when no connection could even be established (connect error, connect or pool
  timeout) nothing was sent, so any request is repeated;
- when the server answered 429, 502, 503 or 504 it refused the request, and one that
  is safe to repeat is: GET, HEAD, PUT, DELETE; a POST with `If-None-Exist` (a
  conditional create); a POST to the base of a transaction or batch Bundle whose every
  entry is itself safe to repeat (GET, HEAD, PUT, DELETE, or POST with `ifNoneExist`);
- when the answer was lost (a timeout, a dropped connection) the server may have acted,
  and the same requests are repeated, except a version-checked one (`If-Match`, or an
  entry's `ifMatch`): its repetition would meet the version its first attempt made and
  be refused 412, telling a write that was done as a conflict.

A plain POST or a PATCH is never repeated once it may have been sent.

Waits grow exponentially from `initial_wait`, plus up to `jitter` seconds at random, and
never exceed `max_wait`. A `Retry-After` answer (seconds or an HTTP date) replaces the
computed wait, capped by `max_wait` as well.

Every retry is logged, and told to `on_retry` with its reason: the status that made it
("503"), "timeout" or "connection".
"""

import asyncio
import enum
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
from tenacity import (
    AsyncRetrying,
    Future,
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})

# Failures that leave the request unsent, and failures after which it may have been acted on.
NOTHING_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

Sleep = Callable[[float], Awaitable[None]]


class Repetition(enum.IntEnum):
    """After what failure a request may be sent again; each level includes the ones before."""

    UNSENT = 0  # only when nothing was sent
    REFUSED = 1  # also when the server answered that it did not act (429, 502, 503, 504)
    LOST = 2  # also when its answer was lost, whatever the server did


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and after how long, a request that is safe to repeat is sent again.

    `attempts` counts the first try. `sleep` does the waiting; tests pass one that only
    records the waits.
    """

    attempts: int = 4
    initial_wait: float = 0.2
    max_wait: float = 10.0
    jitter: float = 0.2
    sleep: Sleep = field(default=asyncio.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if min(self.initial_wait, self.max_wait, self.jitter) < 0:
            raise ValueError("waits and jitter cannot be negative")

    def retrying(
        self, *, repetition: Repetition, label: str, on_retry: Callable[[str], None] | None = None
    ) -> AsyncRetrying:
        """The tenacity controller for one request: `repetition` says after what failure the
        request may be sent again (see `repetition_of`); `label` ("GET Patient") is what gets logged;
        `on_retry` hears the reason of each retry, just before its wait.

        Once attempts run out it returns the last response, or raises the last transport
        error again.
        """
        backoff = wait_exponential_jitter(multiplier=self.initial_wait, max=self.max_wait, jitter=self.jitter)

        def wait(state: RetryCallState) -> float:
            hinted = retry_after_seconds(_response(state).headers.get("Retry-After")) if _answered(state) else None
            return backoff(state) if hinted is None else min(hinted, self.max_wait)

        def should_retry_error(exc: BaseException) -> bool:
            return isinstance(exc, NOTHING_SENT_ERRORS) or (
                repetition is Repetition.LOST and isinstance(exc, TRANSIENT_ERRORS)
            )

        def should_retry_answer(response: httpx.Response) -> bool:
            return repetition >= Repetition.REFUSED and response.status_code in RETRYABLE_STATUSES

        def before_retry(state: RetryCallState) -> None:
            # Method and resource type only: URLs can carry search values, bodies carry PHI.
            logger.warning(
                "FHIR request %s failed (%s) on attempt %d; retrying in %.2fs",
                label,
                f"status {_response(state).status_code}" if _answered(state) else _error_name(state),
                state.attempt_number,
                state.upcoming_sleep,
            )
            if on_retry is not None:
                on_retry(_reason(state))

        return AsyncRetrying(
            sleep=self.sleep,
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            retry=retry_if_exception(should_retry_error) | retry_if_result(should_retry_answer),
            before_sleep=before_retry,
            retry_error_callback=_last_outcome,
        )


def repetition_of(request: httpx.Request, base_url: httpx.URL) -> Repetition:
    """After what failure sending `request` again has the same effect as sending it once."""
    if request.method in IDEMPOTENT_METHODS:
        return Repetition.REFUSED if "If-Match" in request.headers else Repetition.LOST
    if request.method == "POST" and "If-None-Exist" in request.headers:
        return Repetition.LOST
    if request.method == "POST" and _targets(request.url, base_url):
        return _bundle_repetition(request.content)
    return Repetition.UNSENT


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks to wait (never negative), or None if it says nothing usable."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value, now or datetime.now(UTC))
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date.strip())
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # HTTP dates are always GMT; a date without a zone is read the same way.
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _answered(state: RetryCallState) -> bool:
    return state.outcome is not None and not state.outcome.failed


def _response(state: RetryCallState) -> httpx.Response:
    response: httpx.Response = _outcome(state).result()
    return response


def _error_name(state: RetryCallState) -> str:
    return type(_outcome(state).exception()).__name__


def _reason(state: RetryCallState) -> str:
    # Few values, to label a metric: the retryable statuses, or the kind of transport failure.
    if _answered(state):
        return str(_response(state).status_code)
    return "timeout" if isinstance(_outcome(state).exception(), httpx.TimeoutException) else "connection"


def _last_outcome(state: RetryCallState) -> Any:
    # The last response when there was one (the caller decides what its status means),
    # else the last transport error is raised again.
    return _outcome(state).result()


def _outcome(state: RetryCallState) -> Future:
    # Tenacity consults wait, logging and give-up only after an attempt has ended.
    assert state.outcome is not None
    return state.outcome


def _targets(url: httpx.URL, base_url: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port, url.path.rstrip("/")) == (
        base_url.scheme,
        base_url.host,
        base_url.port,
        base_url.path.rstrip("/"),
    )


def _bundle_repetition(content: bytes) -> Repetition:
    try:
        bundle = orjson.loads(content)
    except orjson.JSONDecodeError:
        return Repetition.UNSENT
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return Repetition.UNSENT
    if bundle.get("type") not in ("transaction", "batch"):
        return Repetition.UNSENT
    return min((_entry_repetition(entry) for entry in bundle.get("entry") or []), default=Repetition.LOST)


def _entry_repetition(entry: Any) -> Repetition:
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict):
        return Repetition.UNSENT
    method = str(request.get("method", "")).upper()
    if method in IDEMPOTENT_METHODS:
        return Repetition.REFUSED if request.get("ifMatch") else Repetition.LOST
    return Repetition.LOST if method == "POST" and request.get("ifNoneExist") else Repetition.UNSENT
