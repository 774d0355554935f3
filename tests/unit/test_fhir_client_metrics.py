"""What a FhirClient given `metrics` reports: each call's FHIR interaction and outcome, and
each request sent again with its reason; and the app's Prometheus metrics that count them.

Retry waits go to an injected sleep, so nothing here really sleeps.
"""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
from prometheus_client import CollectorRegistry, generate_latest
from starlette.types import Receive, Scope, Send

from fhir_gateway.fhir_client import FhirClient, FhirNotFound, FhirTimeout, FhirUnavailable, RetryPolicy, interaction_of
from fhir_gateway.observability import BackendMetrics
from tests.unit.conftest import BASE

pytestmark = pytest.mark.anyio

PATIENT = {"resourceType": "Patient", "id": "1"}
RACE = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "HAPI-0550: HAPI-2745: conditional"}],
}


@dataclass
class Recorded:
    """A CallMetrics that keeps what it is told."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    retries: list[tuple[str, str]] = field(default_factory=list)

    def called(self, interaction: str, outcome: str, seconds: float) -> None:
        self.calls.append((interaction, outcome))
        self.seconds.append(seconds)

    def retried(self, interaction: str, reason: str) -> None:
        self.retries.append((interaction, reason))


MakeClient = Callable[..., FhirClient]


async def no_wait(seconds: float) -> None:
    return None


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture
async def make_client(server: respx.Router, recorded: Recorded) -> AsyncIterator[MakeClient]:
    """Clients on the scripted server reporting to `recorded`; 4 attempts unless a test says otherwise."""
    clients: list[FhirClient] = []

    def make(attempts: int = 4, **options: Any) -> FhirClient:
        retry = RetryPolicy(attempts=attempts, jitter=0.0, sleep=no_wait)
        options = {"transport": httpx.MockTransport(server.async_handler), "metrics": recorded, **options}
        clients.append(FhirClient(BASE, retry=retry, **options))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> FhirClient:
    return make_client()


def bundle(bundle_type: str) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": bundle_type, "entry": [{"request": {"method": "GET", "url": "Patient"}}]}


# -- which interaction a request is ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "interaction"),
    [
        ("GET", "metadata", "capabilities"),
        ("GET", "Patient/1", "read"),
        ("HEAD", "Patient/1", "read"),
        ("GET", "Patient/1/_history/2", "vread"),
        ("GET", "Patient", "search"),
        ("GET", "/Patient/", "search"),
        ("GET", "Patient/_search", "search"),
        ("POST", "Patient/_search", "search"),
        ("GET", "Patient/1/Observation", "search"),
        ("GET", "", "search"),
        ("GET", "_history", "history"),
        ("GET", "Patient/_history", "history"),
        ("GET", "Patient/1/_history", "history"),
        ("POST", "Patient", "create"),
        ("PUT", "Patient/1", "update"),
        ("PUT", "Patient", "update"),
        ("PATCH", "Patient/1", "patch"),
        ("DELETE", "Patient/1", "delete"),
        ("DELETE", "Patient", "delete"),
        ("GET", "$meta", "operation"),
        ("POST", "Patient/$validate", "operation"),
        ("GET", "Patient/1/$everything", "operation"),
        ("POST", "Patient/1", "other"),
        ("OPTIONS", "Patient", "other"),
    ],
)
def test_the_interaction_comes_from_the_method_and_the_path_shape(method: str, path: str, interaction: str) -> None:
    assert interaction_of(method, path) == interaction


@pytest.mark.parametrize(
    ("body", "interaction"),
    [
        (b'{"resourceType": "Bundle", "type": "transaction", "entry": []}', "transaction"),
        (b'{"resourceType": "Bundle", "type": "batch", "entry": []}', "batch"),
        (b'{"resourceType": "Bundle", "type": "collection"}', "other"),
        (b"not json", "other"),
        (None, "other"),
    ],
)
def test_a_post_to_the_base_is_its_bundle_s_type(body: bytes | None, interaction: str) -> None:
    assert interaction_of("POST", "", body) == interaction


# -- what a call reports ---------------------------------------------------------------


async def test_each_typed_call_reports_its_interaction_and_status_class(
    client: FhirClient, server: respx.Router, recorded: Recorded
) -> None:
    server.get("/metadata").respond(200, json={"resourceType": "CapabilityStatement"})
    server.get("/Patient/1").respond(200, json=PATIENT)
    server.get("/Patient/2").respond(404)
    server.get("/Patient/1/_history/1").respond(200, json=PATIENT)
    server.get("/Patient/1/_history").respond(200, json={"resourceType": "Bundle"})
    server.get("/Patient").respond(200, json={"resourceType": "Bundle"})
    server.post("/Patient").respond(201, json=PATIENT)
    server.put("/Patient/1").respond(200, json=PATIENT)
    server.patch("/Patient/1").respond(200, json=PATIENT)
    server.delete("/Patient/1").respond(204)
    server.post(BASE).respond(200, json={"resourceType": "Bundle"})

    await client.capabilities()
    await client.read("Patient", "1")
    with pytest.raises(FhirNotFound):
        await client.read("Patient", "2")
    await client.vread("Patient", "1", "1")
    await client.history("Patient", "1")
    await client.search("Patient", {"family": "Lovelace"})
    await client.create({"resourceType": "Patient"})
    await client.update(PATIENT)
    await client.patch("Patient", "1", [])
    await client.delete("Patient", "1")
    await client.transaction(bundle("transaction"))
    await client.batch(bundle("batch"))

    assert recorded.calls == [
        ("capabilities", "2xx"),
        ("read", "2xx"),
        ("read", "4xx"),
        ("vread", "2xx"),
        ("history", "2xx"),
        ("search", "2xx"),
        ("create", "2xx"),
        ("update", "2xx"),
        ("patch", "2xx"),
        ("delete", "2xx"),
        ("transaction", "2xx"),
        ("batch", "2xx"),
    ]
    assert all(seconds >= 0 for seconds in recorded.seconds)
    assert recorded.retries == []


async def test_send_tells_the_interaction_from_the_request_unless_given_one(
    client: FhirClient, server: respx.Router, recorded: Recorded
) -> None:
    server.get("/Patient/1/_history/3").respond(200, json=PATIENT)
    server.post(BASE).respond(200, json={"resourceType": "Bundle"})
    server.get("/Patient/1").respond(200, json=PATIENT)

    await client.send("GET", "Patient/1/_history/3")
    await client.send("POST", "", json=bundle("batch"))
    await client.send("GET", f"{BASE}/Patient/1")
    await client.send("GET", "Patient/1", interaction="search")

    assert recorded.calls == [("vread", "2xx"), ("batch", "2xx"), ("read", "2xx"), ("search", "2xx")]


async def test_a_streamed_call_reports_once_its_headers_came(
    client: FhirClient, server: respx.Router, recorded: Recorded
) -> None:
    server.get("/Binary/1").respond(200, content=b"x" * 1000)

    async with client.stream("GET", "Binary/1") as response:
        assert recorded.calls == [("read", "2xx")]
        assert len(await response.aread()) == 1000
    assert recorded.calls == [("read", "2xx")]


async def test_a_call_with_no_answer_reports_timeout_or_unreachable(
    make_client: MakeClient, server: respx.Router, recorded: Recorded
) -> None:
    client = make_client(attempts=1)
    server.get("/Patient/1").mock(side_effect=httpx.ReadTimeout("timed out"))
    server.get("/Patient/2").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(FhirTimeout):
        await client.read("Patient", "1")
    with pytest.raises(FhirUnavailable):
        await client.read("Patient", "2")

    assert recorded.calls == [("read", "timeout"), ("read", "unreachable")]


async def test_a_bare_client_reports_nothing_and_works_the_same(server: respx.Router) -> None:
    server.get("/Patient/1").mock(side_effect=[httpx.Response(503), httpx.Response(200, json=PATIENT)])
    retry = RetryPolicy(jitter=0.0, sleep=no_wait)

    async with FhirClient(BASE, transport=httpx.MockTransport(server.async_handler), retry=retry) as bare:
        assert await bare.read("Patient", "1") == PATIENT


# -- retries ---------------------------------------------------------------------------


async def test_retries_are_counted_beyond_the_first_attempt_with_their_reasons(
    client: FhirClient, server: respx.Router, recorded: Recorded
) -> None:
    route = server.get("/Patient/1").mock(
        side_effect=[
            httpx.Response(429),
            httpx.ReadTimeout("timed out"),
            httpx.ConnectError("refused"),
            httpx.Response(200, json=PATIENT),
        ]
    )

    assert await client.read("Patient", "1") == PATIENT

    assert route.call_count == 4
    assert recorded.retries == [("read", "429"), ("read", "timeout"), ("read", "connection")]
    # One call, however many attempts it took.
    assert recorded.calls == [("read", "2xx")]


async def test_the_last_attempt_is_no_retry(make_client: MakeClient, server: respx.Router, recorded: Recorded) -> None:
    client = make_client(attempts=2)
    route = server.get("/Patient").respond(503)

    await client.send("GET", "Patient")

    assert route.call_count == 2
    assert recorded.retries == [("search", "503")]
    assert recorded.calls == [("search", "5xx")]


async def test_a_request_not_safe_to_repeat_reports_no_retry(
    client: FhirClient, server: respx.Router, recorded: Recorded
) -> None:
    server.post("/Patient").respond(503)

    with pytest.raises(FhirUnavailable):
        await client.create({"resourceType": "Patient"})

    assert recorded.retries == []
    assert recorded.calls == [("create", "5xx")]


async def test_a_conditional_create_asked_again_after_a_race_is_a_retry(
    client: FhirClient, server: respx.Router, recorded: Recorded
) -> None:
    server.post("/Patient").mock(side_effect=[httpx.Response(409, json=RACE), httpx.Response(200, json=PATIENT)])

    await client.create_if_none_exist({"resourceType": "Patient"}, "identifier=x|1")

    assert recorded.retries == [("create", "create-race")]
    assert recorded.calls == [("create", "4xx"), ("create", "2xx")]


# -- relayed requests ------------------------------------------------------------------


async def answer_204(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def test_a_relay_to_an_in_process_server_reports_its_call(recorded: Recorded) -> None:
    async with FhirClient(BASE, app=answer_204, metrics=recorded) as client:
        async with client.relay("DELETE", "Patient?identifier=x|secret") as answer:
            assert answer.status == 204
        async with client.relay("GET", "Patient/1", interaction="vread"):
            pass

    assert recorded.calls == [("delete", "2xx"), ("vread", "2xx")]


async def test_a_relay_over_the_network_reports_its_call_and_retries(
    client: FhirClient, server: respx.Router, recorded: Recorded
) -> None:
    server.get("/Patient/1/$everything").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json={"resourceType": "Bundle"})]
    )

    async with client.relay("GET", "Patient/1/$everything?_count=5") as answer:
        assert answer.status == 200

    assert recorded.calls == [("operation", "2xx")]
    assert recorded.retries == [("operation", "502")]


# -- the app's Prometheus metrics ------------------------------------------------------


async def test_the_backend_metrics_count_calls_and_retries_without_ids_or_query_values(
    make_client: MakeClient, server: respx.Router
) -> None:
    registry = CollectorRegistry()
    client = make_client(metrics=BackendMetrics(registry))
    server.get("/Patient/secret-id").mock(side_effect=[httpx.Response(503), httpx.Response(200, json=PATIENT)])
    server.get("/Patient").respond(200, json={"resourceType": "Bundle"})

    await client.read("Patient", "secret-id")
    await client.search("Patient", {"family": "Lovelace"})
    await client.search("Patient", {"family": "Byron"})

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(f"fhir_gateway_backend_{name}", labels)

    assert value("call_duration_seconds_count", interaction="read", outcome="2xx") == 1
    assert value("call_duration_seconds_count", interaction="search", outcome="2xx") == 2
    assert value("call_duration_seconds_bucket", interaction="search", outcome="2xx", le="+Inf") == 2
    assert value("retries_total", interaction="read", reason="503") == 1
    assert value("retries_total", interaction="search", reason="503") is None
    text = generate_latest(registry).decode()
    assert not any(word in text for word in ("secret-id", "Lovelace", "Byron", "Patient"))
