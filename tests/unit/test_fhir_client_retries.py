"""When FhirClient sends a request again, and how long it waits first.

Waits are recorded by an injected sleep, so nothing here really sleeps.
"""

import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import orjson
import pytest
import respx

from fhir_gateway.fhir_client import FhirClient, FhirTimeout, FhirUnavailable, RetryPolicy
from fhir_gateway.fhir_client.retry import retry_after_seconds
from tests.unit.conftest import BASE

pytestmark = pytest.mark.anyio

PATIENT = {"resourceType": "Patient", "id": "1"}


def unavailable() -> httpx.Response:
    return httpx.Response(503)


def ok() -> httpx.Response:
    return httpx.Response(200, json=PATIENT)


MakeClient = Callable[..., FhirClient]


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
async def make_client(server: respx.Router, waits: list[float]) -> AsyncIterator[MakeClient]:
    """Clients whose policy records its waits; no jitter unless a test asks for it."""
    clients: list[FhirClient] = []

    async def record(seconds: float) -> None:
        waits.append(float(seconds))

    def make(**policy: Any) -> FhirClient:
        retry = RetryPolicy(**{"jitter": 0.0, "sleep": record, **policy})
        clients.append(FhirClient(BASE, transport=httpx.MockTransport(server.async_handler), retry=retry))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> FhirClient:
    """The default policy: 4 attempts, waits from 0.2 s doubling, capped at 10 s."""
    return make_client()


def bundle(bundle_type: str, *requests: dict[str, str]) -> dict[str, Any]:
    entries = [{"request": request, "resource": {"resourceType": "Patient"}} for request in requests]
    return {"resourceType": "Bundle", "type": bundle_type, "entry": entries}


# -- what is retried -------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_a_read_is_retried_on_transient_statuses(
    client: FhirClient, server: respx.Router, waits: list[float], status: int
) -> None:
    route = server.get("/Patient/1").mock(side_effect=[httpx.Response(status), ok()])

    assert await client.read("Patient", "1") == PATIENT
    assert route.call_count == 2
    assert waits == [0.2]


@pytest.mark.parametrize("status", [400, 404, 409, 410, 412, 500])
async def test_other_error_statuses_are_not_retried(client: FhirClient, server: respx.Router, status: int) -> None:
    route = server.get("/Patient/1").respond(status)

    await client.send("GET", "Patient/1")

    assert route.call_count == 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("timed out"),
        httpx.ReadError("reset"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
async def test_a_read_is_retried_after_connection_failures_and_timeouts(
    client: FhirClient, server: respx.Router, failure: Exception
) -> None:
    route = server.get("/Patient/1").mock(side_effect=[failure, ok()])

    assert await client.read("Patient", "1") == PATIENT
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("PUT", lambda fhir: fhir.update(PATIENT)),
        ("DELETE", lambda fhir: fhir.delete("Patient", "1")),
    ],
)
async def test_put_and_delete_are_retried(client: FhirClient, server: respx.Router, method: str, call: Any) -> None:
    route = server.route(method=method, path="/Patient/1").mock(side_effect=[unavailable(), ok()])

    await call(client)

    assert route.call_count == 2


async def test_a_version_checked_put_is_retried_when_refused_not_when_its_answer_was_lost(
    client: FhirClient, server: respx.Router
) -> None:
    # Its repetition would meet the version its first attempt made and be refused 412.
    route = server.put("/Patient/1").mock(side_effect=[unavailable(), httpx.ReadTimeout("lost"), ok()])

    with pytest.raises(FhirUnavailable):
        await client.update(PATIENT, if_match="1")
    assert route.call_count == 2


async def test_a_transaction_with_a_version_checked_entry_is_not_repeated_once_sent(
    client: FhirClient, server: respx.Router
) -> None:
    answer = {"resourceType": "Bundle", "type": "transaction-response"}
    route = server.post(BASE).mock(
        side_effect=[unavailable(), httpx.ReadError("reset"), httpx.Response(200, json=answer)]
    )
    entry = {"method": "PUT", "url": "Patient/a", "ifMatch": 'W/"3"'}

    with pytest.raises(FhirUnavailable):
        await client.transaction(bundle("transaction", {"method": "PUT", "url": "Patient/b"}, entry))
    assert route.call_count == 2


async def test_a_conditional_create_is_retried(client: FhirClient, server: respx.Router) -> None:
    route = server.post("/Patient").mock(side_effect=[unavailable(), httpx.ReadTimeout("timed out"), ok()])

    outcome = await client.create_if_none_exist({"resourceType": "Patient"}, "identifier=x|1")
    assert outcome.resource == PATIENT
    assert route.call_count == 3


async def test_a_plain_create_is_not_retried_on_503(client: FhirClient, server: respx.Router) -> None:
    route = server.post("/Patient").mock(side_effect=[unavailable(), ok()])

    with pytest.raises(FhirUnavailable):
        await client.create({"resourceType": "Patient"})
    assert route.call_count == 1


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("timed out"), httpx.ReadError("reset")])
async def test_a_plain_create_is_not_retried_once_it_may_have_been_received(
    client: FhirClient, server: respx.Router, failure: Exception
) -> None:
    route = server.post("/Patient").mock(side_effect=[failure, ok()])

    with pytest.raises(FhirUnavailable):
        await client.create({"resourceType": "Patient"})
    assert route.call_count == 1


async def test_a_patch_is_not_retried_on_503(client: FhirClient, server: respx.Router) -> None:
    route = server.patch("/Patient/1").mock(side_effect=[unavailable(), ok()])

    with pytest.raises(FhirUnavailable):
        await client.patch("Patient", "1", [{"op": "remove", "path": "/gender"}])
    assert route.call_count == 1


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("timed out")])
async def test_any_request_is_retried_when_no_connection_was_made(
    client: FhirClient, server: respx.Router, failure: Exception
) -> None:
    created = server.post("/Patient").mock(side_effect=[failure, httpx.Response(201, json=PATIENT)])
    patched = server.patch("/Patient/1").mock(side_effect=[failure, ok()])

    assert await client.create({"resourceType": "Patient"}) == PATIENT
    assert await client.patch("Patient", "1", []) == PATIENT
    assert (created.call_count, patched.call_count) == (2, 2)


async def test_a_transaction_of_idempotent_entries_is_retried(client: FhirClient, server: respx.Router) -> None:
    transaction = bundle(
        "transaction",
        {"method": "PUT", "url": "Patient/a"},
        {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=x|1"},
        {"method": "DELETE", "url": "Observation/b"},
        {"method": "GET", "url": "Patient?identifier=x|2"},
    )
    answer = {"resourceType": "Bundle", "type": "transaction-response"}
    route = server.post(BASE).mock(side_effect=[unavailable(), httpx.Response(200, json=answer)])

    assert await client.transaction(transaction) == answer
    assert route.call_count == 2


@pytest.mark.parametrize(
    "entry",
    [{"method": "POST", "url": "Patient"}, {"method": "PATCH", "url": "Patient/a"}, {"url": "Patient/a"}],
)
async def test_a_transaction_with_one_unsafe_entry_is_not_retried(
    client: FhirClient, server: respx.Router, entry: dict[str, str]
) -> None:
    route = server.post(BASE).respond(503)

    with pytest.raises(FhirUnavailable):
        await client.transaction(bundle("transaction", {"method": "PUT", "url": "Patient/a"}, entry))
    assert route.call_count == 1


async def test_a_batch_of_idempotent_entries_is_retried(client: FhirClient, server: respx.Router) -> None:
    answer = {"resourceType": "Bundle", "type": "batch-response"}
    route = server.post(BASE).mock(side_effect=[httpx.Response(502), httpx.Response(200, json=answer)])

    await client.batch(bundle("batch", {"method": "PUT", "url": "Patient/a"}))

    assert route.call_count == 2


async def test_a_relayed_transaction_is_judged_by_its_bytes(client: FhirClient, server: respx.Router) -> None:
    route = server.post(BASE).mock(side_effect=[unavailable(), httpx.Response(200, json={})])
    body = orjson.dumps(bundle("transaction", {"method": "PUT", "url": "Patient/a"}))

    response = await client.send("POST", "", content=body)

    assert response.status_code == 200
    assert route.call_count == 2


async def test_a_bundle_posted_anywhere_but_the_base_is_a_plain_create(
    client: FhirClient, server: respx.Router
) -> None:
    route = server.post("/Bundle").respond(503)
    body = orjson.dumps(bundle("transaction", {"method": "PUT", "url": "Patient/a"}))

    response = await client.send("POST", "Bundle", content=body)

    assert response.status_code == 503
    assert route.call_count == 1


# -- how long it waits -----------------------------------------------------------------


async def test_waits_double_up_to_max_wait(make_client: MakeClient, server: respx.Router, waits: list[float]) -> None:
    client = make_client(attempts=6, initial_wait=1.0, max_wait=3.0)
    server.get("/Patient/1").respond(503)

    await client.send("GET", "Patient/1")

    assert waits == [1.0, 2.0, 3.0, 3.0, 3.0]


async def test_jitter_adds_at_most_jitter_seconds_within_the_cap(
    make_client: MakeClient, server: respx.Router, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # the largest jitter allowed
    client = make_client(initial_wait=0.2, jitter=0.5, max_wait=1.0)
    server.get("/Patient/1").respond(503)

    await client.send("GET", "Patient/1")

    assert waits == pytest.approx([0.7, 0.9, 1.0])


async def test_retry_after_in_seconds_replaces_the_backoff(
    client: FhirClient, server: respx.Router, waits: list[float]
) -> None:
    server.get("/Patient/1").mock(side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), ok()])

    await client.read("Patient", "1")

    assert waits == [2.0]


async def test_retry_after_is_capped_by_max_wait(client: FhirClient, server: respx.Router, waits: list[float]) -> None:
    server.get("/Patient/1").mock(side_effect=[httpx.Response(503, headers={"Retry-After": "3600"}), ok()])

    await client.read("Patient", "1")

    assert waits == [10.0]


async def test_retry_after_as_an_http_date_is_honoured(
    client: FhirClient, server: respx.Router, waits: list[float]
) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    server.get("/Patient/1").mock(side_effect=[httpx.Response(503, headers={"Retry-After": soon}), ok()])

    await client.read("Patient", "1")

    # HTTP dates have whole seconds: three seconds ahead, less what the clock has moved since.
    assert len(waits) == 1
    assert 2.0 < waits[0] <= 3.0


async def test_retry_after_as_a_distant_http_date_is_capped(
    client: FhirClient, server: respx.Router, waits: list[float]
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    server.get("/Patient/1").mock(side_effect=[httpx.Response(503, headers={"Retry-After": later}), ok()])

    await client.read("Patient", "1")

    assert waits == [10.0]


async def test_an_unreadable_retry_after_falls_back_to_the_backoff(
    client: FhirClient, server: respx.Router, waits: list[float]
) -> None:
    server.get("/Patient/1").mock(side_effect=[httpx.Response(503, headers={"Retry-After": "soon"}), ok()])

    await client.read("Patient", "1")

    assert waits == [0.2]


NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
        ("Sat, 01 Mar 2025 11:59:00 GMT", 0.0),
        ("Saturday, 01-Mar-25 12:01:00 GMT", 60.0),
        ("whenever", None),
        ("inf", None),
        (None, None),
    ],
)
def test_retry_after_values(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


async def test_concurrent_requests_retry_independently(make_client: MakeClient, server: respx.Router) -> None:
    waits_by_task: list[float] = []

    async def yielding_sleep(seconds: float) -> None:
        waits_by_task.append(float(seconds))
        await anyio.lowlevel.checkpoint()  # let the other requests run while this one waits

    client = make_client(sleep=yielding_sleep)
    for resource_id in ("1", "2", "3"):
        server.get(f"/Patient/{resource_id}").mock(
            side_effect=[unavailable(), unavailable(), httpx.Response(200, json={"id": resource_id})]
        )
    found: dict[str, dict[str, Any]] = {}

    async def read(resource_id: str) -> None:
        found[resource_id] = await client.read("Patient", resource_id)

    async with anyio.create_task_group() as tasks:
        for resource_id in ("1", "2", "3"):
            tasks.start_soon(read, resource_id)

    assert found == {resource_id: {"id": resource_id} for resource_id in ("1", "2", "3")}
    assert sorted(waits_by_task) == [0.2, 0.2, 0.2, 0.4, 0.4, 0.4]


# -- giving up -------------------------------------------------------------------------


async def test_send_gives_up_after_the_attempts_and_returns_the_last_answer(
    client: FhirClient, server: respx.Router, waits: list[float]
) -> None:
    route = server.get("/Patient/1").respond(503)

    response = await client.send("GET", "Patient/1")

    assert response.status_code == 503
    assert route.call_count == 4
    assert waits == [0.2, 0.4, 0.8]


async def test_a_typed_read_gives_up_with_unavailable(
    client: FhirClient, server: respx.Router, waits: list[float]
) -> None:
    route = server.get("/Patient/1").respond(503, headers={"Retry-After": "1"})

    with pytest.raises(FhirUnavailable) as caught:
        await client.read("Patient", "1")

    assert route.call_count == 4
    assert caught.value.status == 503
    assert caught.value.retry_after == 1.0
    assert waits == [1.0, 1.0, 1.0]


async def test_repeated_timeouts_give_up_with_fhir_timeout(client: FhirClient, server: respx.Router) -> None:
    route = server.get("/Patient/1").mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(FhirTimeout):
        await client.send("GET", "Patient/1")
    assert route.call_count == 4


async def test_repeated_connection_failures_give_up_with_unavailable(
    make_client: MakeClient, server: respx.Router
) -> None:
    client = make_client(attempts=2)
    route = server.post("/Patient").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(FhirUnavailable) as caught:
        await client.create({"resourceType": "Patient"})
    assert not isinstance(caught.value, FhirTimeout)
    assert route.call_count == 2


async def test_one_attempt_means_no_retry(make_client: MakeClient, server: respx.Router, waits: list[float]) -> None:
    client = make_client(attempts=1)
    route = server.get("/Patient/1").respond(503)

    await client.send("GET", "Patient/1")

    assert (route.call_count, waits) == (1, [])


def test_a_policy_needs_at_least_one_attempt_and_no_negative_waits() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(max_wait=-1)


# -- what is logged --------------------------------------------------------------------


async def test_retries_are_logged_without_ids_query_values_or_bodies(
    client: FhirClient, server: respx.Router, caplog: pytest.LogCaptureFixture
) -> None:
    server.get("/Patient").mock(side_effect=[unavailable(), httpx.Response(200, json={"resourceType": "Bundle"})])
    server.put("/Patient/secret-id").mock(side_effect=[httpx.ReadTimeout("timed out"), ok()])

    with caplog.at_level(logging.WARNING, logger="fhir_gateway.fhir_client"):
        await client.search("Patient", {"family": "Lovelace"})
        await client.update({"resourceType": "Patient", "id": "secret-id", "name": [{"family": "Byron"}]})

    assert [record.getMessage() for record in caplog.records] == [
        "FHIR request GET Patient failed (status 503) on attempt 1; retrying in 0.20s",
        "FHIR request PUT Patient failed (ReadTimeout) on attempt 1; retrying in 0.20s",
    ]
