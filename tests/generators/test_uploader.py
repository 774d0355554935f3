"""The uploader stores every Bundle exactly once, through lost answers, and keeps what it cannot store."""

from collections import Counter
from pathlib import Path
from random import Random

import httpx
import orjson
import pytest

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient
from generators.auth import ClientCredentials, TokenError
from generators.pipeline import RunReport, outgoing_bundles
from generators.records import RecordGenerator
from generators.uploader import FAILURES_FILE, BundleUploader, Outgoing, UploadPolicy
from tests.generators.conftest import BASE, TODAY

pytestmark = pytest.mark.anyio


class LostAnswers(httpx.AsyncBaseTransport):
    """Passes every request to the store, then loses the answer to about one in five: a 503
    comes back in its place, or the connection drops. Either way the store has committed."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, rate: float, seed: int) -> None:
        self._inner = inner
        self._rate = rate
        self._rng = Random(seed)
        self.requests = 0
        self.lost = Counter[str]()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        response = await self._inner.handle_async_request(request)
        await response.aread()
        draw = self._rng.random()
        if draw < self._rate / 2:
            self.lost["dropped"] += 1
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if draw < self._rate:
            self.lost["503"] += 1
            return httpx.Response(503, request=request)
        return response


class Scripted(httpx.AsyncBaseTransport):
    """Answers with the given responses in turn, recording the requests."""

    def __init__(self, *responses: httpx.Response) -> None:
        self._responses = list(responses)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._responses.pop(0) if len(self._responses) > 1 else self._responses[0]


class Guarded(httpx.AsyncBaseTransport):
    """Passes to `inner` the requests that carry an accepted token and answers 401 to the
    rest; after the first request it stops accepting token-1, as if it had been revoked."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.authorizations: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        authorization = request.headers.get("Authorization", "")
        self.authorizations.append(authorization)
        revoked = authorization == "Bearer token-1" and len(self.authorizations) > 1
        if not authorization.startswith("Bearer ") or revoked:
            return httpx.Response(401, request=request)
        return await self._inner.handle_async_request(request)


def client_credentials(token_endpoint: httpx.MockTransport) -> ClientCredentials:
    return ClientCredentials(
        token_url="https://auth.test/token", client_id="gen", client_secret="s3cret", token_transport=token_endpoint
    )


class Waits:
    """The back-off's sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def bundles(count: int, batch_size: int, seed: int = 5) -> tuple[list[Outgoing], list[list[dict]]]:
    records = list(RecordGenerator("BC", seed, TODAY).records(count))
    made = list(outgoing_bundles(records, batch_size=batch_size, name_prefix="test", report=RunReport()))
    return made, records


def transaction_response(entries: int, status: str = "201 Created") -> httpx.Response:
    body = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [{"response": {"status": status}}] * entries,
    }
    return httpx.Response(200, json=body)


async def stored_counts(store: EmbeddedStore) -> dict[str, int]:
    async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
        return {
            resource_type: (await client.search(resource_type, {"_summary": "count"}))["total"]
            for resource_type in ("Patient", "Immunization", "AllergyIntolerance")
        }


async def test_lost_answers_are_retried_and_nothing_is_stored_twice(store: EmbeddedStore, tmp_path: Path) -> None:
    made, records = bundles(count=120, batch_size=8)
    transport = LostAnswers(httpx.ASGITransport(store.app), rate=0.2, seed=11)
    waits = Waits()
    policy = UploadPolicy(concurrency=4, attempts=10, failed_dir=tmp_path / "failed")
    uploader = BundleUploader(BASE, policy, transport=transport, sleep=waits)

    report = await uploader.upload(made)
    await uploader.aclose()

    expected = Counter(resource["resourceType"] for record in records for resource in record)
    assert transport.lost["dropped"] > 0 and transport.lost["503"] > 0
    assert report.failures == []
    assert report.stored_bundles == len(made) == 15
    assert report.retries == sum(transport.lost.values()) == len(waits.seconds)
    assert transport.requests == len(made) + report.retries
    assert await stored_counts(store) == dict(expected)
    async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
        stored_ids = [patient["id"] async for patient in client.search_all("Patient", {"_count": 100})]
    assert sorted(stored_ids) == sorted(record[0]["id"] for record in records)
    assert not (tmp_path / "failed").exists()


async def test_sending_the_same_bundles_again_changes_nothing(store: EmbeddedStore, tmp_path: Path) -> None:
    made, records = bundles(count=30, batch_size=10)
    uploader = BundleUploader(BASE, UploadPolicy(failed_dir=tmp_path), transport=httpx.ASGITransport(store.app))

    first = await uploader.upload(made)
    again = await uploader.upload(made)
    await uploader.aclose()

    resources = sum(len(record) for record in records)
    assert first.outcomes == {"201": resources}
    # A PUT of identical content is no new version: the server answers 200 and keeps version 1.
    assert again.outcomes == {"200": resources}
    async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
        patient = await client.read("Patient", records[0][0]["id"])
    assert patient["meta"]["versionId"] == "1"


async def test_a_retry_after_answer_sets_the_wait(tmp_path: Path) -> None:
    made, _ = bundles(count=2, batch_size=2)
    entries = sum(made[0].resource_counts.values())
    transport = Scripted(httpx.Response(429, headers={"Retry-After": "7"}), transaction_response(entries))
    waits = Waits()
    uploader = BundleUploader(BASE, UploadPolicy(failed_dir=tmp_path), transport=transport, sleep=waits)

    report = await uploader.upload(made)
    await uploader.aclose()

    assert waits.seconds == [7.0]
    assert report.retries == 1 and report.stored_bundles == 1


async def test_a_bundle_failing_past_its_budget_is_kept_with_the_reason(tmp_path: Path) -> None:
    made, _ = bundles(count=4, batch_size=2)
    transport = Scripted(httpx.Response(503, json={"resourceType": "OperationOutcome", "issue": []}))
    waits = Waits()
    failed = tmp_path / "failed"
    policy = UploadPolicy(concurrency=1, attempts=3, initial_wait=0.5, max_wait=4, jitter=0, failed_dir=failed)
    uploader = BundleUploader(BASE, policy, transport=transport, sleep=waits)

    report = await uploader.upload(made)
    await uploader.aclose()

    assert len(transport.requests) == 6
    # Exponential back-off: each wait longer than the one before.
    assert waits.seconds == [0.5, 1.0, 0.5, 1.0]
    assert [failure.name for failure in report.failures] == ["test-000001", "test-000002"]
    assert report.stored_bundles == 0
    for bundle in made:
        assert (failed / f"{bundle.name}.json").read_bytes() == bundle.body
    reasons = [orjson.loads(line) for line in (failed / FAILURES_FILE).read_bytes().splitlines()]
    assert [(reason["bundle"], reason["status"]) for reason in reasons] == [
        ("test-000001.json", 503),
        ("test-000002.json", 503),
    ]


async def test_a_refused_bundle_is_not_retried_and_names_the_servers_reason(tmp_path: Path) -> None:
    made, _ = bundles(count=1, batch_size=1)
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "diagnostics": "bad entry"}]}
    transport = Scripted(httpx.Response(400, json=outcome))
    waits = Waits()
    uploader = BundleUploader(BASE, UploadPolicy(failed_dir=tmp_path), transport=transport, sleep=waits)

    report = await uploader.upload(made)
    await uploader.aclose()

    assert len(transport.requests) == 1 and waits.seconds == []
    assert report.failures[0].status == 400
    assert report.failures[0].reason == "HTTP 400: bad entry"


async def test_a_connection_that_never_opens_is_a_kept_failure(tmp_path: Path) -> None:
    made, _ = bundles(count=1, batch_size=1)

    class Refused(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

    policy = UploadPolicy(attempts=2, failed_dir=tmp_path)
    uploader = BundleUploader(BASE, policy, transport=Refused(), sleep=Waits())

    report = await uploader.upload(made)
    await uploader.aclose()

    assert report.retries == 1
    assert report.failures[0].status is None
    assert (tmp_path / f"{made[0].name}.json").exists()


async def test_a_kept_bundle_reads_back_as_it_was_sent(tmp_path: Path) -> None:
    made, _ = bundles(count=3, batch_size=3)
    path = tmp_path / f"{made[0].name}.json"
    path.write_bytes(made[0].body)

    assert Outgoing.from_file(path) == made[0]


async def test_every_bundle_carries_the_access_token_and_a_revoked_one_is_renewed(
    store: EmbeddedStore, tmp_path: Path
) -> None:
    made, records = bundles(count=6, batch_size=2)
    grants: list[httpx.Request] = []

    def grant(request: httpx.Request) -> httpx.Response:
        grants.append(request)
        return httpx.Response(200, json={"access_token": f"token-{len(grants)}", "expires_in": 3600})

    transport = Guarded(httpx.ASGITransport(store.app))
    auth = client_credentials(httpx.MockTransport(grant))
    uploader = BundleUploader(BASE, UploadPolicy(concurrency=1, failed_dir=tmp_path), transport=transport, auth=auth)

    report = await uploader.upload(made)
    await uploader.aclose()

    assert report.failures == [] and report.stored_bundles == 3
    assert len(grants) == 2
    assert transport.authorizations == ["Bearer token-1", "Bearer token-1", "Bearer token-2", "Bearer token-2"]
    expected = Counter(resource["resourceType"] for record in records for resource in record)
    assert await stored_counts(store) == dict(expected)


async def test_an_upload_without_an_access_token_stops_with_the_reason(tmp_path: Path) -> None:
    made, _ = bundles(count=8, batch_size=2)
    token_endpoint = httpx.MockTransport(lambda request: httpx.Response(401, json={"error": "invalid_client"}))
    transport = Scripted(transaction_response(0))
    failed = tmp_path / "failed"
    policy = UploadPolicy(concurrency=4, failed_dir=failed)
    uploader = BundleUploader(BASE, policy, transport=transport, auth=client_credentials(token_endpoint))

    with pytest.raises(TokenError, match="answered 401: invalid_client"):
        await uploader.upload(made)
    await uploader.aclose()

    assert transport.requests == []
    assert not failed.exists()
