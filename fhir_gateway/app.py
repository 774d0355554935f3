"""`create_app`: the one composition root of the gateway."""

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import cache

import anyio
from fastapi import Depends, FastAPI
from starlette.middleware.authentication import AuthenticationMiddleware

from fhir_gateway import API_VERSION
from fhir_gateway.audit import AuditMiddleware, AuditTrail
from fhir_gateway.cors import CorsMiddleware
from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.features.allergies.router import router as allergies_router
from fhir_gateway.features.fhir_api.face import FhirFaceDispatch, fhir_face
from fhir_gateway.features.fhir_api.router import router as fhir_router
from fhir_gateway.features.generate.router import router as generate_router
from fhir_gateway.features.health.router import router as health_router
from fhir_gateway.features.immunizations.router import router as immunizations_router
from fhir_gateway.features.interactions.router import router as interactions_router
from fhir_gateway.features.notes.router import router as notes_router
from fhir_gateway.features.patients.router import router as patients_router
from fhir_gateway.features.records.router import router as records_router
from fhir_gateway.features.summaries.router import router as summaries_router
from fhir_gateway.features.ui.router import router as ui_router
from fhir_gateway.fhir_client import FhirClient, RetryPolicy
from fhir_gateway.http_rules import refuse_repeated_query_parameters
from fhir_gateway.llm import language_model
from fhir_gateway.observability import (
    REQUEST_ID_HEADER,
    HttpMetrics,
    RequestBodyLimitMiddleware,
    RequestIdMiddleware,
    RequestTelemetryMiddleware,
    metrics_router,
)
from fhir_gateway.problems import install_problem_handlers, problem_responses
from fhir_gateway.rate_limits import RateLimitMiddleware
from fhir_gateway.security import Authenticator, refuse_authentication
from fhir_gateway.security_headers import SecurityHeadersMiddleware
from fhir_gateway.settings import Settings

# The embedded store is reached in-process; the host only has to be a valid URL.
EMBEDDED_BASE_URL = "http://embedded/fhir"

_DESCRIPTION = """
A FHIR-native gateway: a simplified JSON API for people and scripts over one FHIR R4
server (HAPI FHIR, or the embedded store in-process). Every clinical fact is kept as a
standard FHIR resource.

Errors are RFC 9457 problem details (`application/problem+json`); every response carries
an `X-Request-ID`.
"""


def create_app(settings: Settings | None = None, *, fhir_client: FhirClient | None = None) -> FastAPI:
    """Build the gateway.

    The FHIR backend comes from `settings`: the embedded store on
    `embedded_database_url` (reached in-process through `httpx.ASGITransport`) when
    `fhir_base_url` is `embedded`, else the FHIR server at `fhir_base_url`. The app's
    lifespan opens it and closes it again.

    A `fhir_client` passed in replaces that backend (no embedded store is opened); its
    caller keeps ownership and closes it, and its calls reach `/metrics` only if it was made
    with `metrics=app.state.metrics.backend`.
    """
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            store: EmbeddedStore | None = None
            client = fhir_client
            if client is None:
                if settings.uses_embedded_store:
                    store = await anyio.to_thread.run_sync(_open_embedded_store, settings)
                    stack.callback(store.dispose)
                client = _fhir_client(settings, store, app.state.metrics)
                stack.push_async_callback(client.aclose)
            app.state.embedded_store = store
            app.state.fhir_client = client
            app.state.audit_trail = (
                await stack.enter_async_context(_audit_trail(settings, client, app.state.metrics))
                if settings.audit_enabled
                else None
            )
            app.state.language_model = model = language_model(settings)
            if model is not None:
                stack.push_async_callback(model.aclose)
            _freeze_startup_objects()
            yield

    app = FastAPI(
        title="FHIR Gateway",
        version=API_VERSION,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = HttpMetrics.create()
    authenticator = Authenticator.from_settings(settings)

    install_problem_handlers(app)
    # Added innermost first. Outermost, the request id wraps everything, so even a 413, a
    # 401 or a CORS refusal carries one and is logged and counted. Authentication comes
    # after CORS (a preflight carries no credentials) and before the audit trail and the
    # rate limit, which both need to know who is asking.
    app.add_middleware(FhirFaceDispatch, face=fhir_face())
    app.add_middleware(RequestBodyLimitMiddleware, max_body_bytes=settings.max_request_bytes)
    app.add_middleware(RateLimitMiddleware, limits=settings.rate_limits)
    app.add_middleware(AuditMiddleware, system_base=settings.identifier_system_base, metrics=app.state.metrics.audit)
    app.add_middleware(AuthenticationMiddleware, backend=authenticator, on_error=refuse_authentication)
    app.add_middleware(
        CorsMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["ETag", "Location", REQUEST_ID_HEADER],
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestTelemetryMiddleware, metrics=app.state.metrics)
    app.add_middleware(RequestIdMiddleware)

    # The simplified API's rules; FHIR's own query parameters repeat at will (date=ge…&date=le…).
    simplified = [Depends(refuse_repeated_query_parameters)]
    for router in (health_router, metrics_router):
        app.include_router(router, dependencies=simplified)
    for router in (
        patients_router,
        notes_router,
        interactions_router,
        summaries_router,
        records_router,
        generate_router,
        immunizations_router,
        allergies_router,
    ):
        app.include_router(router, dependencies=simplified, responses=problem_responses(401, 403, 429))
    # In the schema with the rest; served by the face's own app (FhirFaceDispatch).
    app.include_router(fhir_router)
    app.include_router(ui_router)
    return app


def _audit_trail(settings: Settings, client: FhirClient, metrics: HttpMetrics) -> AuditTrail:
    return AuditTrail(
        client,
        metrics=metrics.audit,
        batch_size=settings.audit_batch_size,
        flush_seconds=settings.audit_flush_seconds,
        queue_size=settings.audit_queue_size,
    )


@cache
def _freeze_startup_objects() -> None:
    """Keep what the process holds once started (modules, models, the store's definitions:
    about 190,000 objects) out of the garbage collector's full collections, each of which
    walked them all, for 130 ms, every few requests. Once per process: later apps (tests
    build many) add only what they make themselves."""
    gc.collect()
    gc.freeze()


def _open_embedded_store(settings: Settings) -> EmbeddedStore:
    return EmbeddedStore(settings.embedded_database_url, max_body_bytes=settings.fhir_max_body_bytes)


def _fhir_client(settings: Settings, store: EmbeddedStore | None, metrics: HttpMetrics) -> FhirClient:
    return FhirClient(
        EMBEDDED_BASE_URL if store is not None else settings.fhir_base_url,
        app=store.app if store is not None else None,
        timeout=settings.fhir_timeout_seconds,
        connect_timeout=settings.fhir_connect_timeout_seconds,
        retry=RetryPolicy(attempts=settings.fhir_retry_attempts, max_wait=settings.fhir_retry_max_wait_seconds),
        metrics=metrics.backend,
    )
