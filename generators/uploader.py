"""Sends transaction Bundles to a FHIR server, several at a time, and accounts for every one.

Retries are the FHIR client's own (`fhir_gateway.fhir_client.retry`): a transaction whose
entries are all PUTs is safe to repeat, so a connection error, a timeout, 429, 502, 503 or
504 is retried with exponential back-off and jitter, honouring `Retry-After`, up to the
policy's attempts. A Bundle still failing then, or refused outright, is written to the
failure directory (the Bundle as sent, plus a line in `failures.ndjson` saying why), so
`python -m generators resend DIR` can send it again: nothing is silently lost.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
import orjson

from fhir_gateway.fhir_client import FhirClient, FhirError, RetryPolicy
from generators.auth import TokenError

FAILURES_FILE = "failures.ndjson"
DEFAULT_FAILED_DIR = Path("failed-bundles")

_MAX_REASON_CHARS = 500

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class UploadPolicy:
    """How an upload runs: parallel Bundles, and the retry budget of each."""

    concurrency: int = 4
    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    jitter: float = 0.5
    timeout: float = 120.0
    failed_dir: Path = DEFAULT_FAILED_DIR

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")


@dataclass(frozen=True)
class Outgoing:
    """One serialized transaction Bundle, its name (the file it is kept in if it fails) and
    how many resources of each type it holds."""

    name: str
    body: bytes
    resource_counts: dict[str, int]

    @classmethod
    def from_file(cls, path: Path) -> "Outgoing":
        """A Bundle kept in a file, named after the file."""
        body = path.read_bytes()
        counts = Counter(entry["resource"]["resourceType"] for entry in orjson.loads(body).get("entry") or [])
        return cls(path.stem, body, dict(counts))


@dataclass
class Failure:
    """A Bundle that could not be stored, and where it was kept to be sent again."""

    name: str
    reason: str
    status: int | None
    path: Path


@dataclass
class UploadReport:
    """What an upload did: Bundles sent and stored, resources per type and outcome, retries, failures."""

    bundles: int = 0
    stored_bundles: int = 0
    resources: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    failures: list[Failure] = field(default_factory=list)


class _CountingSleep:
    """The retry policy's sleep: each call is one retry about to happen, so it is counted."""

    def __init__(self, sleep: Sleep) -> None:
        self.count = 0
        self._sleep = sleep

    async def __call__(self, seconds: float) -> None:
        self.count += 1
        await self._sleep(seconds)


class BundleUploader:
    """Uploads serialized transaction Bundles to the FHIR server at `base_url`.

    `transport` replaces the network (tests pass an in-process store); `auth`
    authenticates every request; `sleep` does the back-off waiting.
    """

    def __init__(
        self,
        base_url: str,
        policy: UploadPolicy | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: httpx.Auth | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.policy = policy or UploadPolicy()
        self._sleep = _CountingSleep(sleep)
        retry = RetryPolicy(
            attempts=self.policy.attempts,
            initial_wait=self.policy.initial_wait,
            max_wait=self.policy.max_wait,
            jitter=self.policy.jitter,
            sleep=self._sleep,
        )
        self._client = FhirClient(base_url, transport=transport, timeout=self.policy.timeout, retry=retry, auth=auth)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def upload(
        self,
        bundles: Iterable[Outgoing],
        on_done: Callable[[Outgoing, bool], None] | None = None,
    ) -> UploadReport:
        """Send every Bundle, `policy.concurrency` at a time; `on_done(bundle, stored)` is
        called as each one finishes.

        Without an access token no Bundle can be stored: a `TokenError` ends the upload.
        """
        report = UploadReport()
        retries_before = self._sleep.count
        # One iterator shared by the workers: each takes the next Bundle when it is free.
        # Producing a Bundle never awaits, so two workers never step it at once.
        pending = iter(bundles)

        async def worker() -> None:
            for bundle in pending:
                stored = await self._send(bundle, report)
                if on_done is not None:
                    on_done(bundle, stored)

        try:
            async with anyio.create_task_group() as group:
                for _ in range(self.policy.concurrency):
                    group.start_soon(worker)
        except* TokenError as failed:
            # One reason, not a group of them: every worker is refused the same way. `from`
            # would replace the cause it carries, the token endpoint's own failure.
            raise failed.exceptions[0]  # noqa: B904
        report.retries = self._sleep.count - retries_before
        return report

    async def _send(self, bundle: Outgoing, report: UploadReport) -> bool:
        report.bundles += 1
        try:
            response = await self._client.send("POST", "", content=bundle.body)
        except FhirError as error:
            # No answer at all (`send` raises only then): there is no status to report.
            self._fail(bundle, str(error), None, report)
            return False
        if response.is_error:
            self._fail(bundle, _reason(response), response.status_code, report)
            return False
        statuses = _entry_statuses(response)
        if statuses is None:
            self._fail(bundle, "the answer is not a transaction-response Bundle", response.status_code, report)
            return False
        report.stored_bundles += 1
        report.resources.update(bundle.resource_counts)
        report.outcomes.update(statuses)
        return True

    def _fail(self, bundle: Outgoing, reason: str, status: int | None, report: UploadReport) -> None:
        directory = self.policy.failed_dir
        directory.mkdir(parents=True, exist_ok=True)
        name = bundle.name
        path = directory / f"{name}.json"
        path.write_bytes(bundle.body)
        reason = reason[:_MAX_REASON_CHARS]
        failure = Failure(name=name, reason=reason, status=status, path=path)
        with (directory / FAILURES_FILE).open("ab") as log:
            log.write(orjson.dumps({"bundle": path.name, "status": status, "reason": reason}) + b"\n")
        # Bundle names and statuses only: the reason may quote resource content.
        logger.warning("bundle %s failed (status %s); kept at %s", name, status, path)
        report.failures.append(failure)


def _entry_statuses(response: httpx.Response) -> list[str] | None:
    """Each entry's status code ("201", "200"), or None when the answer is not a response Bundle.

    A success without a body says nothing per entry, but a transaction is all or nothing:
    every entry was stored.
    """
    if not response.content:
        return []
    try:
        answer = orjson.loads(response.content)
        return [str(entry["response"]["status"]).split(" ", 1)[0] for entry in answer["entry"]]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None


def _reason(response: httpx.Response) -> str:
    try:
        outcome = orjson.loads(response.content)
        issues = outcome.get("issue") or []
        text = "; ".join(str(issue.get("diagnostics", "")) for issue in issues if isinstance(issue, dict))
    except (orjson.JSONDecodeError, AttributeError):
        text = ""
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")
