"""The gateway over a real embedded store on a fresh SQLite file, and an HTTP client on it.

`client` runs the app's lifespan, as a server would, and talks to it in-process. Tests
that need an app built differently call `open_gateway(app)` themselves.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.app import create_app
from fhir_gateway.settings import EMBEDDED, Settings

ALLOWED_ORIGIN = "https://clinic.example"
BASE_URL = "http://gateway.test"

OpenGateway = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Every knob a test relies on is passed explicitly: neither a developer's `.env` nor
    # the environment may change what the tests see.
    return Settings(
        _env_file=None,
        fhir_base_url=EMBEDDED,
        embedded_database_url=f"sqlite:///{tmp_path / 'store' / 'fhir.db'}",
        cors_origins=[ALLOWED_ORIGIN],
        home_url=None,
        fhir_retry_attempts=1,
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
def open_gateway() -> OpenGateway:
    """Start `app` (its lifespan included) and give an HTTP client on it."""
    return _running


@pytest.fixture
async def client(app: FastAPI, open_gateway: OpenGateway) -> AsyncIterator[httpx.AsyncClient]:
    async with open_gateway(app) as client:
        yield client
