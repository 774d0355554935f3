"""`POST /interactions` writes the Encounter and its Observations in one transaction: when
the FHIR server refuses part of it, or the connection drops, nothing is stored.

The gateway's FhirClient goes through a transport that changes (or drops) the transaction
on its way to the FHIR server: an embedded store of the test's own, or, with
`TEST_FHIR_BASE_URL` set, HAPI FHIR over HTTP. Either way, the server is then asked directly
what it holds.
"""

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from fhir_gateway.app import create_app
from fhir_gateway.fhir_client import FhirClient, RetryPolicy
from fhir_gateway.settings import Settings
from tests.api.checks import assert_problem
from tests.api.conftest import FHIR_BASE_URL, OpenGateway, OpenOwnStoreGateway, WrapTransport

pytestmark = pytest.mark.anyio

BC_PHN = "9698658215"
PATIENT = {
    "given_name": "Ada",
    "family_name": "Lovelace",
    "birth_date": "1980-12-10",
    "province": "BC",
    "insurance_no": BC_PHN,
}
# The Encounter, then 6 Observations: the health status, 2 symptoms, 3 metrics.
INTERACTION: dict[str, Any] = {
    "insurance_no": BC_PHN,
    "interaction_date": "2025-03-01T10:30:00-08:00",
    "ailment": "Allergic rhinitis",
    "ailment_code": "J30.1",
    "symptoms": ["sneezing", "itchy eyes"],
    "metrics": {"heart_rate": 72, "temperature_c": 36.6, "peak_flow_l_min": 420},
    "health_status": 7,
    "labels": ["allergy"],
}


def _is_transaction(request: httpx.Request) -> bool:
    """A Bundle POSTed to the FHIR base (whatever the base's path) that is a transaction."""
    if request.method != "POST" or request.url.path.rstrip("/").rsplit("/", 1)[-1] != "fhir":
        return False
    try:
        bundle = json.loads(request.content)
    except ValueError:
        return False
    return isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle" and bundle.get("type") == "transaction"


def _with_body(request: httpx.Request, body: dict[str, Any]) -> httpx.Request:
    headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"content-length"]
    return httpx.Request(
        request.method, request.url, headers=headers, content=json.dumps(body).encode(), extensions=request.extensions
    )


Breakage = Callable[[dict[str, Any]], None]


def _encounter_that_does_not_exist(observation: dict[str, Any]) -> None:
    observation["encounter"] = {"reference": "Encounter/no-such-encounter"}


def _unknown_status(observation: dict[str, Any]) -> None:
    observation["status"] = "not-a-status"


class _BreaksTheThirdObservation(httpx.AsyncBaseTransport):
    """Forwards everything; in a transaction, makes the third Observation entry invalid first
    (after the Encounter and two valid Observations, which a server that is not atomic
    would already have written)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, breakage: Breakage) -> None:
        self._inner = inner
        self._breakage = breakage
        self.broken: list[list[str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _is_transaction(request):
            bundle = json.loads(request.content)
            kinds = [(entry.get("resource") or {}).get("resourceType") for entry in bundle["entry"]]
            observations = [
                entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Observation"
            ]
            self._breakage(observations[2])
            self.broken.append(kinds)
            request = _with_body(request, bundle)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class _DropsTheTransaction(httpx.AsyncBaseTransport):
    """The connection to the FHIR server drops while a transaction is sent; everything else reaches it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.dropped = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if _is_transaction(request):
            self.dropped += 1
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


OpenWrappedGateway = Callable[[WrapTransport], AbstractAsyncContextManager[tuple[httpx.AsyncClient, FhirClient, Any]]]


@pytest.fixture
def wrapped_gateway(
    settings: Settings, own_store_gateway: OpenOwnStoreGateway, open_gateway: OpenGateway
) -> OpenWrappedGateway:
    """Start a gateway whose FhirClient's transport `wrap` wraps, on the backend the tests run
    against: (the HTTP client on the gateway, its FhirClient, the wrapping transport)."""

    @asynccontextmanager
    async def start(wrap: WrapTransport) -> AsyncIterator[tuple[httpx.AsyncClient, FhirClient, Any]]:
        if FHIR_BASE_URL is None:
            async with own_store_gateway(wrap) as gateway:
                yield gateway.client, gateway.fhir, gateway.transport
            return
        transport = wrap(httpx.AsyncHTTPTransport())
        fhir = FhirClient(FHIR_BASE_URL, transport=transport, retry=RetryPolicy(attempts=1))
        try:
            async with open_gateway(create_app(settings, fhir_client=fhir)) as client:
                yield client, fhir, transport
        finally:
            await fhir.aclose()

    return start


async def _stored(fhir: FhirClient, resource_type: str) -> list[dict[str, Any]]:
    """Every resource of the type the FHIR server holds (each test starts on an empty one)."""
    bundle = await fhir.search(resource_type, [("_count", "100")])
    return [entry["resource"] for entry in bundle.get("entry") or []]


async def _assert_nothing_stored(client: httpx.AsyncClient, fhir: FhirClient) -> None:
    assert await _stored(fhir, "Encounter") == []
    assert await _stored(fhir, "Observation") == []
    listed = await client.get("/interactions", params={"insurance_no": BC_PHN})
    assert listed.status_code == 200, listed.text
    assert (listed.json()["items"], listed.json()["total"]) == ([], 0)


def _assert_clear_problem(response: httpx.Response, statuses: range | tuple[int, ...]) -> dict[str, Any]:
    assert response.status_code in statuses, response.text
    problem = assert_problem(response, response.status_code)
    assert problem["detail"]
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return problem


@pytest.mark.parametrize(
    "breakage", [_encounter_that_does_not_exist, _unknown_status], ids=["missing-encounter", "invalid-status"]
)
async def test_a_refused_third_observation_leaves_no_encounter_and_no_observation(
    wrapped_gateway: OpenWrappedGateway, breakage: Breakage
) -> None:
    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _BreaksTheThirdObservation(inner, breakage)

    async with wrapped_gateway(wrap) as (client, fhir, transport):
        created = await client.post("/patients", json=PATIENT)
        assert created.status_code == 201, created.text

        response = await client.post("/interactions", json=INTERACTION)

        _assert_clear_problem(response, range(400, 600))
        assert transport.broken == [["Encounter", *["Observation"] * 6]]
        await _assert_nothing_stored(client, fhir)
        # The refusal took nothing else with it: the patient is still there.
        assert (await client.get(f"/patients/{created.json()['id']}")).status_code == 200


async def test_the_same_interaction_is_stored_whole_when_nothing_breaks_it(
    wrapped_gateway: OpenWrappedGateway,
) -> None:
    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return _BreaksTheThirdObservation(inner, lambda observation: None)

    async with wrapped_gateway(wrap) as (client, fhir, transport):
        assert (await client.post("/patients", json=PATIENT)).status_code == 201

        response = await client.post("/interactions", json=INTERACTION)

        assert response.status_code == 201, response.text
        assert transport.broken == [["Encounter", *["Observation"] * 6]]
        assert [encounter["id"] for encounter in await _stored(fhir, "Encounter")] == [response.json()["id"]]
        assert len(await _stored(fhir, "Observation")) == 6


async def test_a_connection_dropped_on_the_transaction_is_a_gateway_problem_and_nothing_is_stored(
    wrapped_gateway: OpenWrappedGateway,
) -> None:
    async with wrapped_gateway(_DropsTheTransaction) as (client, fhir, transport):
        assert (await client.post("/patients", json=PATIENT)).status_code == 201

        response = await client.post("/interactions", json=INTERACTION)

        _assert_clear_problem(response, (502, 503, 504))
        assert transport.dropped == 1
        await _assert_nothing_stored(client, fhir)
