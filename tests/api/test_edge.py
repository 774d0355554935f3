"""The edge every answer passes: rate limits per client and the security headers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.app import create_app
from fhir_gateway.security import new_api_key
from fhir_gateway.settings import Settings
from tests.api.conftest import BASE_URL, OpenGateway

pytestmark = pytest.mark.anyio

PROBLEM_JSON = "application/problem+json"


def _keyed(settings: Settings, rate_limit: str) -> tuple[Settings, dict[str, dict[str, str]]]:
    """Settings with authentication on, the limit, and the headers of two clients, by name."""
    headers, entries = {}, []
    for name in ("ehr", "clinic"):
        key, configured = new_api_key(name, ["system/*.read"])
        headers[name] = {"Authorization": f"Bearer {key}"}
        entries.append(configured.entry())
    changed = settings.model_copy(update={"is_local_dev": False, "api_keys": entries, "rate_limit": rate_limit})
    return changed, headers


@asynccontextmanager
async def _from_address(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


# --- rate limits


async def test_a_client_over_its_limit_is_refused_429_with_retry_after(
    settings: Settings, open_gateway: OpenGateway
) -> None:
    limited, headers = _keyed(settings, "3/hour")
    async with open_gateway(create_app(limited)) as client:
        answers = [await client.get("/patients", headers=headers["ehr"]) for _ in range(4)]
        other = await client.get("/patients", headers=headers["clinic"])

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == PROBLEM_JSON
    assert refused.json()["status"] == 429
    assert "3 per 1 hour" in refused.json()["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # The limit is each client's own.
    assert other.status_code == 200


async def test_the_fhir_face_refuses_with_an_operation_outcome(settings: Settings, open_gateway: OpenGateway) -> None:
    limited, headers = _keyed(settings, "1/minute")
    async with open_gateway(create_app(limited)) as client:
        first = await client.get("/fhir/Patient", headers=headers["ehr"])
        second = await client.get("/fhir/Patient", headers=headers["ehr"])

    assert first.status_code == 200
    assert second.status_code == 429
    assert second.headers["content-type"].startswith("application/fhir+json")
    assert second.json()["resourceType"] == "OperationOutcome"
    assert second.json()["issue"][0]["code"] == "throttled"
    assert 0 < int(second.headers["Retry-After"]) <= 60


async def test_health_checks_are_never_limited(settings: Settings, open_gateway: OpenGateway) -> None:
    limited, headers = _keyed(settings, "1/hour")
    async with open_gateway(create_app(limited)) as client:
        assert (await client.get("/patients", headers=headers["ehr"])).status_code == 200
        probes = [await client.get(path) for path in ("/health", "/health/live", "/health/ready") * 3]

    assert {probe.status_code for probe in probes} == {200}


async def test_several_limits_apply_together(settings: Settings, open_gateway: OpenGateway) -> None:
    limited, headers = _keyed(settings, "100/second;2/hour")
    async with open_gateway(create_app(limited)) as client:
        statuses = [(await client.get("/patients", headers=headers["ehr"])).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


async def test_on_an_open_gateway_clients_are_told_apart_by_address(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit": "2/hour"}))
    async with (
        app.router.lifespan_context(app),
        _from_address(app, "10.0.0.1") as first,
        _from_address(app, "10.0.0.2") as second,
    ):
        statuses = [(await first.get("/patients")).status_code for _ in range(3)]
        other = await second.get("/patients")

    assert statuses == [200, 200, 429]
    assert other.status_code == 200


async def test_no_rate_limit_when_configured_empty(settings: Settings, open_gateway: OpenGateway) -> None:
    async with open_gateway(create_app(settings.model_copy(update={"rate_limit": ""}))) as client:
        statuses = {(await client.get("/patients")).status_code for _ in range(30)}

    assert statuses == {200}


@pytest.mark.parametrize("value", ["12 per fortnight", "lots", "5/minute;often"])
def test_an_unreadable_rate_limit_stops_the_start(value: str) -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        Settings(_env_file=None, is_local_dev=True, rate_limit=value)


# --- security headers


@pytest.mark.parametrize("path", ["/health", "/patients", "/fhir/metadata", "/fhir/Patient", "/openapi.json", "/nope"])
async def test_every_answer_carries_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["cache-control"] == "no-store"
    assert "server" not in response.headers


async def test_a_refusal_at_the_edge_carries_them_too(settings: Settings, open_gateway: OpenGateway) -> None:
    secured, _ = _keyed(settings, "")
    async with open_gateway(create_app(secured)) as client:
        response = await client.get("/patients")

    assert response.status_code == 401
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_may_load_their_scripts_and_styles_and_nothing_else(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["content-security-policy"].split(";")
    )

    assert response.status_code == 200
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    # Every script and stylesheet the page names comes from a source the policy allows.
    for source in ("https://cdn.jsdelivr.net",):
        assert source in response.text
        assert source in policy["script-src"]
    assert "'unsafe-inline'" in policy["script-src"]  # FastAPI's inline bootstrap script
