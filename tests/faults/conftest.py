"""The gateway over a real embedded store of its own, behind a transport that injects faults.

The gateway's FhirClient retries as in production (3 attempts here), without waiting:
`max_wait=0` caps every back-off and every `Retry-After`, so no test sleeps. The store is
read afterwards directly, past the faults, to see what it really holds.

The api tests' `settings` and `open_gateway` are imported, so they are fixtures here too.
"""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.app import EMBEDDED_BASE_URL, create_app
from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient, RetryPolicy
from fhir_gateway.settings import Settings
from tests.api.conftest import FHIR_BASE_URL, OpenGateway, open_gateway, settings
from tests.faults.injection import FaultyStore

__all__ = ["ATTEMPTS", "FaultyGateway", "gateway", "open_gateway", "settings", "store"]

ATTEMPTS = 3


@dataclass
class FaultyGateway:
    """An HTTP client on the gateway, the faulty transport its FhirClient goes through, and
    a FhirClient on the store itself."""

    client: httpx.AsyncClient
    faults: FaultyStore
    store: FhirClient
    app: FastAPI


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    if FHIR_BASE_URL is not None:
        pytest.skip("injects faults in front of an embedded store of its own")
    store = EmbeddedStore(f"sqlite:///{tmp_path / 'faults.db'}")
    yield store
    store.dispose()


@pytest.fixture
async def gateway(settings: Settings, store: EmbeddedStore, open_gateway: OpenGateway) -> AsyncIterator[FaultyGateway]:
    faults = FaultyStore(httpx.ASGITransport(store.app))
    retry = RetryPolicy(attempts=ATTEMPTS, initial_wait=0, max_wait=0, jitter=0)
    async with (
        FhirClient(EMBEDDED_BASE_URL, transport=faults, retry=retry) as fhir,
        FhirClient(
            EMBEDDED_BASE_URL, transport=httpx.ASGITransport(store.app), retry=RetryPolicy(attempts=1)
        ) as direct,
    ):
        app = create_app(settings, fhir_client=fhir)
        async with open_gateway(app) as client:
            yield FaultyGateway(client, faults, direct, app)
