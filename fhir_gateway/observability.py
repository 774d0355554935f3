"""The HTTP edge of the gateway: request ids, access log, Prometheus metrics, body cap.

All of it is pure ASGI middleware, so streaming responses and request bodies pass
through untouched and nothing here buffers a body.
"""

import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fhir_gateway.refusals import refusal

REQUEST_ID_HEADER = "X-Request-ID"
ACCESS_LOGGER = "fhir_gateway.access"

# A client's id is echoed into headers and logs: only plain tokens, so it can neither
# forge log lines nor smuggle header syntax.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
# Label values must stay few: an arbitrary method or path would grow a series per request.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UNMATCHED_ROUTE = "unmatched"
_NAMESPACE = "fhir_gateway"
# A call to the FHIR server takes from a fraction of a millisecond (the embedded store,
# in-process) to the client's timeout: the default buckets start at 5 ms.
_BACKEND_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

access_logger = logging.getLogger(ACCESS_LOGGER)


class RequestIdMiddleware:
    """Give every request an id (the client's, when it is a sane token) and echo it back.

    The id is kept in the request state (`request.state.request_id`), where logs and
    error handlers find it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = offered if offered and _SANE_REQUEST_ID.fullmatch(offered) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class BackendMetrics:
    """The calls of the app's FhirClient (a `fhir_client.CallMetrics`): their duration by
    FHIR interaction and outcome, and the requests sent again by interaction and reason."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._duration = Histogram(
            "backend_call_duration_seconds",
            "Time a call to the FHIR server took, its retries and their waits included, until the "
            "answer's headers, by FHIR interaction and outcome (status class, timeout or unreachable).",
            ("interaction", "outcome"),
            namespace=_NAMESPACE,
            registry=registry,
            buckets=_BACKEND_BUCKETS,
        )
        self._retries = Counter(
            "backend_retries",
            "Requests to the FHIR server sent again (beyond the first attempt), by FHIR interaction "
            "and reason (the status, timeout, connection, or create-race).",
            ("interaction", "reason"),
            namespace=_NAMESPACE,
            registry=registry,
        )
        # Every relayed request is a call: one dict lookup finds its series, not labels().
        self._durations: dict[tuple[str, str], Histogram] = {}

    def called(self, interaction: str, outcome: str, seconds: float) -> None:
        key = (interaction, outcome)
        series = self._durations.get(key)
        if series is None:
            series = self._durations[key] = self._duration.labels(interaction, outcome)
        series.observe(seconds)

    def retried(self, interaction: str, reason: str) -> None:
        self._retries.labels(interaction, reason).inc()


class SummaryCacheMetrics:
    """Lookups of the summary cache (a `patient_summary.cache.Lookups`), hits and misses."""

    def __init__(self, registry: CollectorRegistry) -> None:
        lookups = Counter(
            "summary_cache_lookups",
            "Lookups of the summary cache, by result (hit: the summary was made before; miss).",
            ("result",),
            namespace=_NAMESPACE,
            registry=registry,
        )
        self._hits = lookups.labels("hit")
        self._misses = lookups.labels("miss")

    def hit(self) -> None:
        self._hits.inc()

    def miss(self) -> None:
        self._misses.inc()


class RecordMetrics:
    """The records `POST /api/generate/records` generated."""

    def __init__(self, registry: CollectorRegistry) -> None:
        generated = Counter(
            "records_generated",
            "Synthetic records generated, by what wrote the text (language_model or template) "
            "and whether it was kept as a patient's note.",
            ("written_by", "kept_as_note"),
            namespace=_NAMESPACE,
            registry=registry,
        )
        self._generated = {
            (by_model, kept): generated.labels("language_model" if by_model else "template", str(kept).lower())
            for by_model in (True, False)
            for kept in (True, False)
        }

    def generated(self, *, by_language_model: bool, kept_as_note: bool) -> None:
        self._generated[by_language_model, kept_as_note].inc()


class AuditMetrics:
    """What became of the audit trail's AuditEvents."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._events = Counter(
            "audit_events",
            "AuditEvents of the audit trail, by result: written to the FHIR server, failed "
            "(the server refused or could not be reached), or dropped (the queue was full).",
            ("result",),
            namespace=_NAMESPACE,
            registry=registry,
        )
        for result in ("written", "failed", "dropped"):
            self._events.labels(result)

    def counted(self, result: str, events: int = 1) -> None:
        self._events.labels(result).inc(events)


@dataclass(frozen=True)
class HttpMetrics:
    """The metrics of one app, in a registry of its own: its HTTP requests, its calls to the
    FHIR server, its summary cache, its record generator and its audit trail."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    backend: BackendMetrics
    summary_cache: SummaryCacheMetrics
    records: RecordMetrics
    audit: AuditMetrics

    @classmethod
    def create(cls) -> "HttpMetrics":
        """Fresh metrics, plus the usual process, platform and GC collectors."""
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        labels = ("method", "route", "status")
        return cls(
            registry=registry,
            requests=Counter(
                "http_requests",
                "HTTP requests answered, by method, route template and status.",
                labels,
                namespace=_NAMESPACE,
                registry=registry,
            ),
            latency=Histogram(
                "http_request_duration_seconds",
                "Time to answer an HTTP request, by method, route template and status.",
                labels,
                namespace=_NAMESPACE,
                registry=registry,
            ),
            backend=BackendMetrics(registry),
            summary_cache=SummaryCacheMetrics(registry),
            records=RecordMetrics(registry),
            audit=AuditMetrics(registry),
        )

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        labels = (method if method in _KNOWN_METHODS else "other", route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)


class RequestTelemetryMiddleware:
    """One JSON access-log line and the request metrics for every HTTP request.

    The line holds the request id, method, path (never the query string, which may
    carry names or identifiers), status and duration; no headers, no bodies.
    """

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # An exception escaping the app becomes a 500 further out (the problem handler).
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.observe(method=scope["method"], route=_route_template(scope), status=status, seconds=seconds)
            access_logger.info(
                orjson.dumps(
                    {
                        "request_id": scope.get("state", {}).get("request_id"),
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    }
                ).decode()
            )


class RequestBodyLimitMiddleware:
    """Answer 413 to a request whose body exceeds `max_body_bytes`.

    A declared Content-Length over the cap is refused before the app runs; a body
    without one (chunked) is counted as the app reads it, and reading stops at the cap.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            response = refusal(scope, 413, self._detail())
            await response(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    # FastAPI lets an HTTPException from the body read reach the problem handler.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, receive_within_limit, send)

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_body_bytes} bytes."


metrics_router = APIRouter(tags=["observability"])


@metrics_router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."}},
)
def metrics(request: Request) -> Response:
    """Request counts and latencies by method, route template and status; calls to the FHIR
    server by interaction and outcome, and their retries; summary cache hits and misses;
    records generated; process metrics."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn and the gateway.

    Access-log records are JSON documents already, so they are written bare, one per line.
    """
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "bare": {"format": "%(message)s"},
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "bare", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "fhir_gateway": {"handlers": ["stderr"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"handlers": ["access"], "level": level, "propagate": False},
            # Their INFO and DEBUG records carry request URLs and bodies (identifiers, prompts):
            # patient data, kept out of the logs whatever LOG_LEVEL says.
            **{name: {"level": "WARNING"} for name in ("httpx", "httpcore", "openai")},
        },
    }


def _route_template(scope: Scope) -> str:
    # The router leaves the matched route in the scope; its path is the template (without
    # convertors: `/fhir/{resource_type}`).
    route = scope.get("route")
    path = getattr(route, "path_format", None)
    return path if isinstance(path, str) else _UNMATCHED_ROUTE
