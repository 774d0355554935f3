"""A scripted FHIR server (respx) and a FhirClient over it, for the client's own tests."""

from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from fhir_gateway.fhir_client import FhirClient, RetryPolicy

BASE = "http://fhir.test/fhir"


@pytest.fixture
def server() -> respx.Router:
    return respx.Router(base_url=BASE, assert_all_called=False)


@pytest.fixture
async def client(server: respx.Router) -> AsyncIterator[FhirClient]:
    """One attempt: tests of retries build their own client."""
    transport = httpx.MockTransport(server.async_handler)
    async with FhirClient(BASE, transport=transport, retry=RetryPolicy(attempts=1)) as fhir:
        yield fhir
