"""Request ids, the access log, metrics, the request-body cap and CORS."""

import json
import logging
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from prometheus_client.parser import text_string_to_metric_families

from fhir_gateway.app import create_app
from fhir_gateway.observability import ACCESS_LOGGER
from fhir_gateway.settings import Settings
from tests.api.conftest import ALLOWED_ORIGIN, OpenGateway

pytestmark = pytest.mark.anyio

BODY_LIMIT = 1024


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings.model_copy(update={"max_request_bytes": BODY_LIMIT}))
    app.state.bodies_read = []

    @app.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        body = await request.body()
        request.app.state.bodies_read.append(len(body))
        return {"size": len(body)}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]


def samples(metrics_text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called `name`, keyed by their sorted labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == name
    }


# --- X-Request-ID -----------------------------------------------------------


async def test_a_request_without_an_id_gets_a_fresh_uuid4(client: httpx.AsyncClient) -> None:
    first = (await client.get("/health")).headers["X-Request-ID"]
    second = (await client.get("/health")).headers["X-Request-ID"]

    assert uuid.UUID(first).version == 4
    assert first != second


@pytest.mark.parametrize("offered", ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "x" * 128])
async def test_a_sane_client_id_is_echoed(client: httpx.AsyncClient, offered: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": offered})

    assert response.headers["X-Request-ID"] == offered


@pytest.mark.parametrize("offered", ["x" * 129, "two words", 'quote"d', "a;b", ""])
async def test_an_unusable_client_id_is_replaced(client: httpx.AsyncClient, offered: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": offered})

    assert uuid.UUID(response.headers["X-Request-ID"]).version == 4


async def test_error_answers_carry_the_request_id_too(client: httpx.AsyncClient) -> None:
    for path in ("/nowhere", "/boom"):
        response = await client.get(path, headers={"X-Request-ID": "trace-1"})
        assert response.headers["X-Request-ID"] == "trace-1", path


# --- access log -------------------------------------------------------------


async def test_one_json_access_line_per_request_without_the_query_string(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    response = await client.get("/items/7", params={"name": "Ada Lovelace", "mrn": "MRN-00012345"})

    [line] = access_lines(caplog)
    assert set(line) == {"request_id", "method", "path", "status", "duration_ms"}
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["method"] == "GET"
    assert line["path"] == "/items/7"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert "Ada" not in caplog.text and "MRN-00012345" not in caplog.text


async def test_the_access_log_never_holds_the_body(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    await client.post("/upload", content=b"Ada Lovelace, born 1815-12-10")

    [line] = access_lines(caplog)
    assert line["path"] == "/upload" and line["status"] == 200
    assert "Lovelace" not in caplog.text


async def test_an_unhandled_error_is_logged_as_500(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    response = await client.get("/boom")

    assert response.status_code == 500
    assert [(line["path"], line["status"]) for line in access_lines(caplog)] == [("/boom", 500)]


# --- metrics ----------------------------------------------------------------


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/items/1")
    await client.get("/items/2")
    await client.get("/no-such-route/12345")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    counts = samples(response.text, "fhir_gateway_http_requests_total")
    assert counts[(("method", "GET"), ("route", "/items/{item_id}"), ("status", "200"))] == 2
    assert counts[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] == 1
    # Raw paths never become label values.
    assert "/items/1" not in response.text and "/no-such-route/12345" not in response.text


async def test_metrics_time_requests_in_a_histogram(client: httpx.AsyncClient) -> None:
    await client.get("/health")

    response = await client.get("/metrics")

    counts = samples(response.text, "fhir_gateway_http_request_duration_seconds_count")
    assert counts[(("method", "GET"), ("route", "/health"), ("status", "200"))] == 1
    buckets = samples(response.text, "fhir_gateway_http_request_duration_seconds_bucket")
    assert buckets[(("le", "+Inf"), ("method", "GET"), ("route", "/health"), ("status", "200"))] == 1


async def test_metrics_of_one_app_are_its_own(settings: Settings, open_gateway: OpenGateway) -> None:
    for _ in range(2):
        async with open_gateway(create_app(settings)) as client:
            await client.get("/health")
            text = (await client.get("/metrics")).text
        counts = samples(text, "fhir_gateway_http_requests_total")
        assert counts[(("method", "GET"), ("route", "/health"), ("status", "200"))] == 1


async def test_unknown_methods_share_one_label(client: httpx.AsyncClient) -> None:
    await client.request("BREW", "/health")

    counts = samples((await client.get("/metrics")).text, "fhir_gateway_http_requests_total")
    assert counts[(("method", "other"), ("route", "/health"), ("status", "405"))] == 1


# --- request-body cap -------------------------------------------------------


async def test_a_body_within_the_limit_is_served(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.post("/upload", content=b"x" * BODY_LIMIT)

    assert response.status_code == 200
    assert app.state.bodies_read == [BODY_LIMIT]


async def test_a_declared_oversized_body_is_refused_unread(client: httpx.AsyncClient, app: FastAPI) -> None:
    response = await client.post("/upload", content=b"x" * (BODY_LIMIT + 1))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert str(BODY_LIMIT) in response.json()["detail"]
    assert "X-Request-ID" in response.headers
    assert app.state.bodies_read == []


async def test_a_streamed_oversized_body_is_cut_off(client: httpx.AsyncClient, app: FastAPI) -> None:
    chunks_sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        for _ in range(10):
            chunks_sent += 1
            yield b"x" * 500

    response = await client.post("/upload", content=chunks())

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413 and str(BODY_LIMIT) in response.json()["detail"]
    assert app.state.bodies_read == []
    # Reading stopped at the limit: the rest of the stream was never pulled.
    assert chunks_sent == 3


# --- CORS -------------------------------------------------------------------


async def test_preflight_from_a_configured_origin_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/health",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "If-Match, Content-Type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "PUT" in response.headers["access-control-allow-methods"]


@pytest.mark.parametrize("path", ["/health", "/patients", "/fhir/Patient"])
async def test_preflight_from_another_origin_is_refused_in_problem_details(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.options(
        path, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )

    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 403
    assert "origin" in problem["detail"] and "CORS_ORIGINS" in problem["detail"]


async def test_preflight_for_a_method_not_served_names_the_method(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/patients", headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "TRACE"}
    )

    assert response.status_code == 403
    assert "method" in response.json()["detail"]


async def test_a_simple_request_from_another_origin_gets_no_cors_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "https://evil.example"})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_cors_responses_expose_etag_location_and_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": ALLOWED_ORIGIN})

    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location", "x-request-id"} <= exposed


async def test_home_url_is_an_allowed_origin(settings: Settings, open_gateway: OpenGateway) -> None:
    home = "https://home.example"
    app = create_app(settings.model_copy(update={"home_url": home}))
    async with open_gateway(app) as client:
        response = await client.get("/health", headers={"Origin": home})

    assert response.headers["access-control-allow-origin"] == home
