"""Every error leaves as RFC 9457 problem details, and FHIR failures keep their meaning."""

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from fhir_gateway.app import create_app
from fhir_gateway.dependencies import FhirClientDep
from fhir_gateway.fhir_client import (
    FhirBadRequest,
    FhirClient,
    FhirConflict,
    FhirError,
    FhirGone,
    FhirNotFound,
    FhirTimeout,
    FhirUnavailable,
    FhirVersionConflict,
    RetryPolicy,
)
from fhir_gateway.settings import Settings
from tests.api.checks import assert_problem
from tests.api.conftest import OpenGateway

pytestmark = pytest.mark.anyio

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors"}


class Visit(BaseModel):
    name: str
    age: int = Field(ge=0)


def outcome(diagnostics: str, expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": "error", "code": "processing", "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


# Each case: the error a route raises, and the status and Retry-After the client gets.
FHIR_ERROR_CASES = [
    pytest.param(FhirNotFound(404, outcome=outcome("Patient/p1 is not known")), 404, None, id="not-found"),
    pytest.param(FhirGone(410, outcome=outcome("Patient/p1 was deleted")), 410, None, id="gone"),
    pytest.param(FhirConflict(409, outcome=outcome("Referenced by Encounter/e1")), 409, None, id="conflict"),
    pytest.param(FhirVersionConflict(412, outcome=outcome("Version 2 is not current")), 412, None, id="stale-412"),
    pytest.param(FhirVersionConflict(409, outcome=outcome("HAPI-0989: stale")), 412, None, id="stale-hapi-409"),
    pytest.param(FhirBadRequest(400, outcome=outcome("Unknown search parameter")), 400, None, id="bad-request"),
    pytest.param(FhirBadRequest(422, outcome=outcome("Invalid date")), 422, None, id="unprocessable"),
    pytest.param(FhirTimeout(504, message="FHIR server did not answer in time"), 504, None, id="timeout"),
    pytest.param(FhirUnavailable(503, retry_after=7.2), 503, "8", id="unavailable-retry-after"),
    pytest.param(FhirUnavailable(503), 503, None, id="unreachable"),
    pytest.param(FhirUnavailable(429, retry_after=3), 503, "3", id="rate-limited"),
    pytest.param(FhirUnavailable(500, outcome=outcome("NullPointerException at ...")), 502, None, id="server-error"),
    pytest.param(FhirUnavailable(502), 502, None, id="bad-gateway"),
    pytest.param(FhirError(401), 502, None, id="unexpected-answer"),
]


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.post("/visits")
    async def create_visit(visit: Visit, size: int = Query(20, le=100)) -> Visit:
        return visit

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database password is hunter2")

    @app.get("/fhir-failure")
    async def fhir_failure() -> None:
        raise app.state.fhir_error

    return app


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/route"), 404)

    assert body["errors"] == []


async def test_wrong_method_is_a_405_problem_that_says_what_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")

    assert_problem(response, 405)
    assert response.headers["allow"] == "GET, OPTIONS"


async def test_invalid_fields_are_a_422_problem_naming_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/visits", params={"size": 500}, json={"name": "Ada Lovelace", "age": -1})

    body = assert_problem(response, 422)
    assert body["detail"] == "2 fields are invalid."
    assert sorted(error["loc"] for error in body["errors"]) == [["body", "age"], ["query", "size"]]
    assert all(error["msg"] for error in body["errors"])
    # The rejected values are not echoed back: they may be clinical data.
    assert "-1" not in response.text and "500" not in response.text


async def test_a_missing_field_is_named(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post("/visits", json={"age": 3}), 422)

    assert [error["loc"] for error in body["errors"]] == [["body", "name"]]


async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/visits", content=b'{"name": "Ada", "age": ', headers={"Content-Type": "application/json"}
    )

    body = assert_problem(response, 400)
    assert body["detail"] == "The request body is not valid JSON."
    [error] = body["errors"]
    assert error["loc"][0] == "body"


async def test_an_unhandled_error_is_a_generic_500_problem(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="fhir_gateway.problems")

    response = await client.get("/boom", headers={"X-Request-ID": "req-500"})

    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text and "RuntimeError" not in response.text
    assert "X-Request-ID" in body["detail"]
    assert response.headers["X-Request-ID"] == "req-500"
    [record] = [r for r in caplog.records if r.name == "fhir_gateway.problems"]
    assert "req-500" in record.getMessage()
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])


@pytest.mark.parametrize(("error", "status", "retry_after"), FHIR_ERROR_CASES)
async def test_fhir_errors_keep_their_meaning(
    client: httpx.AsyncClient, app: FastAPI, error: FhirError, status: int, retry_after: str | None
) -> None:
    app.state.fhir_error = error

    response = await client.get("/fhir-failure")

    body = assert_problem(response, status)
    assert response.headers.get("Retry-After") == retry_after
    if status < 500:
        # The FHIR server's diagnostics tell the client what to fix.
        assert body["detail"] == error.diagnostics
    else:
        # Its internals do not leave the gateway.
        assert error.diagnostics == "" or error.diagnostics not in response.text


async def test_fhir_issues_become_located_errors(client: httpx.AsyncClient, app: FastAPI) -> None:
    @app.get("/invalid-patient")
    async def invalid_patient() -> None:
        raise FhirBadRequest(400, outcome=outcome("birthDate is not a valid date", expression="Patient.birthDate"))

    body = assert_problem(await client.get("/invalid-patient"), 400)

    assert body["errors"] == [{"loc": ["Patient.birthDate"], "msg": "birthDate is not a valid date"}]


@pytest.mark.parametrize(
    ("upstream", "status", "retry_after"),
    [
        pytest.param(httpx.Response(503, headers={"Retry-After": "30"}), 503, "30", id="overloaded"),
        pytest.param(httpx.Response(404, json=outcome("Patient/p9 is not known")), 404, None, id="missing"),
        pytest.param(
            httpx.Response(409, json=outcome("HAPI-0989: version 1 is not current")), 412, None, id="hapi-stale"
        ),
    ],
)
async def test_fhir_server_answers_reach_the_client_as_problems(
    settings: Settings,
    open_gateway: OpenGateway,
    upstream: httpx.Response,
    status: int,
    retry_after: str | None,
) -> None:
    fhir_client = FhirClient(
        "http://fhir.test/fhir", transport=httpx.MockTransport(lambda _: upstream), retry=RetryPolicy(attempts=1)
    )
    app = create_app(settings, fhir_client=fhir_client)

    @app.get("/patients/{patient_id}")
    async def read_patient(patient_id: str, client: FhirClientDep) -> dict[str, Any]:
        return await client.read("Patient", patient_id)

    async with open_gateway(app) as client:
        response = await client.get("/patients/p9")
    await fhir_client.aclose()

    assert_problem(response, status)
    assert response.headers.get("Retry-After") == retry_after


async def test_an_unreachable_fhir_server_is_a_503_problem(settings: Settings, open_gateway: OpenGateway) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    fhir_client = FhirClient(
        "http://fhir.test/fhir", transport=httpx.MockTransport(refuse), retry=RetryPolicy(attempts=1)
    )
    app = create_app(settings, fhir_client=fhir_client)

    @app.get("/capabilities")
    async def capabilities(client: FhirClientDep) -> dict[str, Any]:
        return await client.capabilities()

    async with open_gateway(app) as client:
        response = await client.get("/capabilities")
    await fhir_client.aclose()

    body = assert_problem(response, 503)
    assert body["detail"] == "The FHIR server is unavailable."
