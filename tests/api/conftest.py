"""The gateway over a real embedded store on a fresh SQLite file, and an HTTP client on it.

With `TEST_FHIR_BASE_URL` set (`make hapi-test` sets it) the gateway talks to the FHIR server
at that base URL instead, so the same tests run against HAPI FHIR: each test starts on a server
emptied with `$expunge`, and tests about the embedded store itself skip.

`client` runs the app's lifespan, as a server would, and talks to it in-process. Tests
that need an app built differently call `open_gateway(app)` themselves.
"""

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.app import EMBEDDED_BASE_URL, create_app
from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient, RetryPolicy
from fhir_gateway.settings import EMBEDDED, Settings

ALLOWED_ORIGIN = "https://clinic.example"
BASE_URL = "http://gateway.test"

FHIR_BASE_URL_VAR = "TEST_FHIR_BASE_URL"
FHIR_BASE_URL: str | None = os.environ.get(FHIR_BASE_URL_VAR) or None

# Tests of the embedded store itself (its database file, its readiness check, its connections,
# its order of several given names, which HAPI FHIR sorts by the smallest one: see
# tests/contract/target.py): a gateway on another FHIR server has no such store.
EMBEDDED_STORE_TESTS = frozenset(
    {
        "test_ready_checks_fhir_and_database_of_the_embedded_store",
        "test_embedded_store_is_created_where_settings_say",
        "test_ready_is_503_naming_the_database_when_it_cannot_be_opened",
        "test_lifespan_closes_the_store_connections",
        "test_several_given_names_sort_as_shown_first_given_name_first",
    }
)

OpenGateway = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
WrapTransport = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


@dataclass
class OwnStoreGateway:
    """A gateway on an embedded store of its own, reached through a wrapped transport."""

    client: httpx.AsyncClient
    fhir: FhirClient
    transport: httpx.AsyncBaseTransport
    store: EmbeddedStore


OpenOwnStoreGateway = Callable[[WrapTransport], AbstractAsyncContextManager[OwnStoreGateway]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if FHIR_BASE_URL is None:
        return
    skip = pytest.mark.skip(reason=f"about the embedded store; {FHIR_BASE_URL_VAR} names another FHIR server")
    for item in items:
        name = getattr(item, "originalname", item.name)
        if name in EMBEDDED_STORE_TESTS and item.path.parent == Path(__file__).parent:
            item.add_marker(skip)


def _expunge_everything(base_url: str) -> None:
    """Empty the FHIR server, history included, as a fresh embedded store is empty."""
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "expungeEverything", "valueBoolean": True}]}
    response = httpx.post(
        f"{base_url}/$expunge", json=parameters, headers={"Content-Type": "application/fhir+json"}, timeout=60
    )
    response.raise_for_status()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    if FHIR_BASE_URL is not None:
        _expunge_everything(FHIR_BASE_URL)
    # Every knob a test relies on is passed explicitly: neither a developer's `.env` nor
    # the environment may change what the tests see (`TEST_FHIR_BASE_URL` alone chooses
    # the FHIR server, and is not one of the gateway's own variables).
    return Settings(
        _env_file=None,
        is_local_dev=True,
        fhir_base_url=FHIR_BASE_URL or EMBEDDED,
        embedded_database_url=f"sqlite:///{tmp_path / 'store' / 'fhir.db'}",
        cors_origins=[ALLOWED_ORIGIN],
        home_url=None,
        fhir_retry_attempts=1,
        # Limits are tested on their own (test_edge.py), not met by chance in a busy test.
        rate_limit="",
        # Background writes of the audit trail would add to what tests count in the store:
        # the trail is tested on its own (test_audit.py).
        audit_enabled=False,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@asynccontextmanager
async def _running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        # Like a real server, answer an unhandled exception with the app's 500 response
        # instead of raising it into the test.
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


@pytest.fixture
def own_store_gateway(settings: Settings, tmp_path: Path, open_gateway: OpenGateway) -> OpenOwnStoreGateway:
    """Start the gateway on a fresh embedded store whose transport `wrap` intercepts (to
    inject faults or record requests); its FhirClient makes one attempt per request."""

    @asynccontextmanager
    async def start(wrap: WrapTransport) -> AsyncIterator[OwnStoreGateway]:
        if FHIR_BASE_URL is not None:
            pytest.skip("builds its own embedded store")
        store = EmbeddedStore(f"sqlite:///{tmp_path / 'own-store.db'}")
        transport = wrap(httpx.ASGITransport(store.app))
        fhir = FhirClient(EMBEDDED_BASE_URL, transport=transport, retry=RetryPolicy(attempts=1))
        try:
            async with open_gateway(create_app(settings, fhir_client=fhir)) as client:
                yield OwnStoreGateway(client, fhir, transport, store)
        finally:
            await fhir.aclose()
            store.dispose()

    return start


@pytest.fixture
def open_gateway() -> OpenGateway:
    """Start `app` (its lifespan included) and give an HTTP client on it."""
    return _running


@pytest.fixture
async def client(app: FastAPI, open_gateway: OpenGateway) -> AsyncIterator[httpx.AsyncClient]:
    async with open_gateway(app) as client:
        yield client
