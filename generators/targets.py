"""Which FHIR server the generators write to: one at a URL, or the embedded store in-process.

`embedded` opens the gateway's embedded store on `EMBEDDED_DATABASE_URL` (the gateway's
own setting, `.env` included) and reaches it through `httpx.ASGITransport`, exactly as the
gateway does; anything else is the base URL of a FHIR server on the network.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.settings import EMBEDDED, Settings

# The embedded store is reached in-process; the host only has to be a valid URL.
EMBEDDED_BASE_URL = "http://embedded/fhir"


@asynccontextmanager
async def fhir_target(fhir_url: str) -> AsyncIterator[tuple[str, httpx.AsyncBaseTransport | None]]:
    """(base URL, transport) of the FHIR server `fhir_url` names; the transport is None for the network."""
    if fhir_url != EMBEDDED:
        yield fhir_url, None
        return
    settings = Settings()
    store = EmbeddedStore(settings.embedded_database_url, max_body_bytes=settings.fhir_max_body_bytes)
    try:
        yield EMBEDDED_BASE_URL, httpx.ASGITransport(store.app)
    finally:
        store.dispose()


async def is_empty(fhir_url: str, auth: httpx.Auth | None = None) -> bool:
    """Whether the FHIR server holds no Patient."""
    async with (
        fhir_target(fhir_url) as (base_url, transport),
        FhirClient(base_url, transport=transport, auth=auth) as client,
    ):
        bundle = await client.search("Patient", {"_summary": "count"})
    return bundle.get("total") == 0
