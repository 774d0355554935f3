"""FhirClient as a whole: its public names, its base URL, its headers, and its two backends.

The other test_fhir_client_* files specify the interactions, the errors and the retries.
"""

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import fhir_gateway.fhir_client as fhir_client
from fhir_gateway.fhir_client import FhirClient, FhirNotFound, RetryPolicy

pytestmark = pytest.mark.anyio

BASE = "http://fhir.test/fhir"


@pytest.fixture
def server() -> respx.Router:
    """Answers any URL, so tests can see where each request went."""
    return respx.Router(assert_all_called=False)


@pytest.fixture
async def client(server: respx.Router) -> AsyncIterator[FhirClient]:
    async with FhirClient(BASE, transport=httpx.MockTransport(server.async_handler)) as fhir:
        yield fhir


def test_the_package_exports_exactly_its_public_names() -> None:
    public = {name for name in vars(fhir_client) if not name.startswith("_")}
    submodules = {"client", "errors", "etags", "retry", "transactions"}

    assert set(fhir_client.__all__) == public - submodules


def test_the_base_url_loses_its_trailing_slash() -> None:
    assert FhirClient("http://hapi:8080/fhir/").base_url == "http://hapi:8080/fhir"


def test_the_default_retry_policy() -> None:
    assert RetryPolicy() == RetryPolicy(attempts=4, initial_wait=0.2, max_wait=10.0, jitter=0.2)


@pytest.mark.parametrize(
    ("url", "sent_to"),
    [
        ("Patient/1", f"{BASE}/Patient/1"),
        ("/Patient/1", f"{BASE}/Patient/1"),
        ("Patient?name=ada", f"{BASE}/Patient?name=ada"),
        ("", BASE),
        ("?_getpages=abc", f"{BASE}?_getpages=abc"),
        ("http://elsewhere.test/fhir/Patient/1", "http://elsewhere.test/fhir/Patient/1"),
    ],
)
async def test_send_resolves_relative_urls_under_the_base(
    client: FhirClient, server: respx.Router, url: str, sent_to: str
) -> None:
    route = server.route().respond(200)

    await client.send("GET", url)

    assert str(route.calls.last.request.url) == sent_to


async def test_send_passes_params_content_and_headers_through(client: FhirClient, server: respx.Router) -> None:
    route = server.route().respond(201)

    await client.send(
        "post",
        "Patient",
        params=[("_pretty", "false")],
        content=b'{"resourceType":"Patient"}',
        headers={"content-type": "application/json", "Prefer": "return=minimal"},
    )

    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url.params["_pretty"] == "false"
    assert request.content == b'{"resourceType":"Patient"}'
    assert request.headers.get_list("Content-Type") == ["application/json"]
    assert request.headers["Prefer"] == "return=minimal"
    assert request.headers["Accept"] == "application/fhir+json"


async def test_send_serialises_json_as_fhir_json(client: FhirClient, server: respx.Router) -> None:
    route = server.route().respond(200)

    await client.send("PUT", "Patient/1", json={"resourceType": "Patient", "id": "1"})

    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/fhir+json"
    assert request.content == b'{"resourceType":"Patient","id":"1"}'


async def test_send_refuses_content_and_json_together(client: FhirClient) -> None:
    with pytest.raises(ValueError, match="either content or json"):
        await client.send("POST", "Patient", content=b"{}", json={})


async def test_a_request_without_a_body_has_no_content_type(client: FhirClient, server: respx.Router) -> None:
    route = server.route().respond(200)

    await client.send("GET", "Patient/1")

    assert "Content-Type" not in route.calls.last.request.headers


async def test_headers_given_to_the_client_go_with_every_request(server: respx.Router) -> None:
    route = server.route().respond(200, json={"resourceType": "Patient"})
    transport = httpx.MockTransport(server.async_handler)

    async with FhirClient(BASE, transport=transport, headers={"Authorization": "Bearer t0k3n"}) as fhir:
        await fhir.read("Patient", "1")

    assert route.calls.last.request.headers["Authorization"] == "Bearer t0k3n"


async def test_leaving_the_context_closes_the_client(server: respx.Router) -> None:
    async with FhirClient(BASE, transport=httpx.MockTransport(server.async_handler)) as fhir:
        pass

    with pytest.raises(RuntimeError, match="closed"):
        await fhir.send("GET", "metadata")


async def test_the_embedded_store_is_reached_in_process_through_asgi() -> None:
    async def read_patient(request: Request) -> JSONResponse:
        if request.path_params["id"] != "1":
            return JSONResponse({"resourceType": "OperationOutcome", "issue": []}, status_code=404)
        return JSONResponse({"resourceType": "Patient", "id": "1"}, media_type="application/fhir+json")

    store = Starlette(routes=[Route("/fhir/Patient/{id}", read_patient)])

    async with FhirClient("http://embedded/fhir", transport=httpx.ASGITransport(app=store)) as fhir:
        assert await fhir.read("Patient", "1") == {"resourceType": "Patient", "id": "1"}
        with pytest.raises(FhirNotFound):
            await fhir.read("Patient", "2")
