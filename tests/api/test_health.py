"""Liveness, readiness, and the lifespan that opens and closes the FHIR backend."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from fhir_gateway.app import create_app
from fhir_gateway.features.health import service
from fhir_gateway.fhir_client import FhirClient, RetryPolicy
from fhir_gateway.settings import Settings
from tests.api.conftest import OpenGateway

pytestmark = pytest.mark.anyio

REMOTE_BASE = "http://fhir.test/fhir"
CAPABILITY_STATEMENT = {"resourceType": "CapabilityStatement", "status": "active", "fhirVersion": "4.0.1"}


def remote_client(transport: httpx.MockTransport) -> FhirClient:
    return FhirClient(REMOTE_BASE, transport=transport, retry=RetryPolicy(attempts=1))


def refuse_connections(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused", request=request)


def answer_metadata(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/fhir/metadata"
    return httpx.Response(200, json=CAPABILITY_STATEMENT)


def database_path(settings: Settings) -> Path:
    return Path(make_url(settings.embedded_database_url).database or "")


@pytest.fixture
def database_taken_away(client: httpx.AsyncClient, app: FastAPI, settings: Settings) -> Iterator[Path]:
    """Take the running store's database away: close its connections, put a folder in its place."""
    path = database_path(settings)
    app.state.embedded_store.dispose()
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    path.mkdir()
    yield path
    shutil.rmtree(path)


async def test_health_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_fhir_and_database_of_the_embedded_store(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"fhir": "ok", "database": "ok"}}


async def test_embedded_store_is_created_where_settings_say(client: httpx.AsyncClient, settings: Settings) -> None:
    # The fixture's database lives in a folder that did not exist before startup.
    assert database_path(settings).is_file()


async def test_ready_with_a_remote_fhir_server_has_no_database_check(
    settings: Settings, open_gateway: OpenGateway
) -> None:
    app = create_app(settings, fhir_client=remote_client(httpx.MockTransport(answer_metadata)))
    async with open_gateway(app) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"fhir": "ok"}}


async def test_ready_is_503_naming_fhir_when_the_fhir_server_is_down(
    settings: Settings, open_gateway: OpenGateway
) -> None:
    app = create_app(settings, fhir_client=remote_client(httpx.MockTransport(refuse_connections)))
    async with open_gateway(app) as client:
        ready = await client.get("/health/ready")
        health = await client.get("/health")

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable"
    assert set(body["checks"]) == {"fhir"}
    assert body["checks"]["fhir"].startswith("unavailable: ")
    assert "Connection refused" in body["checks"]["fhir"]
    # Liveness never depends on the FHIR server.
    assert health.status_code == 200


async def test_ready_is_503_when_the_fhir_server_does_not_answer_in_time(
    settings: Settings, open_gateway: OpenGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "CHECK_TIMEOUT_SECONDS", 0.05)

    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(5)
        return httpx.Response(200, json=CAPABILITY_STATEMENT)

    app = create_app(settings, fhir_client=remote_client(httpx.MockTransport(hang)))
    with anyio.fail_after(2):
        async with open_gateway(app) as client:
            response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["fhir"] == "unavailable: no answer within 0.05s"


async def test_ready_is_503_naming_the_database_when_it_cannot_be_opened(
    client: httpx.AsyncClient, database_taken_away: Path
) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unavailable: ")
    assert "unable to open database file" in body["checks"]["database"]


async def test_lifespan_closes_the_client_it_built(app: FastAPI, open_gateway: OpenGateway) -> None:
    async with open_gateway(app):
        fhir_client: FhirClient = app.state.fhir_client
        assert (await fhir_client.capabilities())["resourceType"] == "CapabilityStatement"

    with pytest.raises(RuntimeError, match="closed"):
        await fhir_client.capabilities()


async def test_lifespan_closes_the_store_connections(
    app: FastAPI, open_gateway: OpenGateway, settings: Settings
) -> None:
    wal = database_path(settings).with_name(database_path(settings).name + "-wal")
    async with open_gateway(app) as client:
        await client.get("/health/ready")
        assert wal.exists()

    # SQLite folds its write-ahead log back and removes it once the last connection closes.
    assert not wal.exists()


async def test_a_client_passed_in_stays_open_for_its_owner(settings: Settings, open_gateway: OpenGateway) -> None:
    fhir_client = remote_client(httpx.MockTransport(answer_metadata))
    async with open_gateway(create_app(settings, fhir_client=fhir_client)):
        pass

    assert (await fhir_client.capabilities())["resourceType"] == "CapabilityStatement"
    await fhir_client.aclose()
