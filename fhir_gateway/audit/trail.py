"""The audit trail's writer: AuditEvents queued by requests, written in batches by a task of
its own, off every request's path.

A request only puts its event on a bounded queue; when the queue is full (the FHIR server
is down, or slower than the traffic) the event is dropped and counted, rather than held
in memory without end or made to slow the request. Each batch is one FHIR transaction of
PUTs at fresh ids: one commit for all (a batch would commit each entry, at twice the cost
per event), and one the FhirClient may repeat after any transient failure without
recording an event twice. Failures are counted and logged by number only: events hold who
asked for which record.
"""

import asyncio
import logging
import uuid
from types import TracebackType
from typing import Any

from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.observability import AuditMetrics

logger = logging.getLogger(__name__)

# Writing what is queued when the app stops may take this long before the rest is given up.
_DRAIN_SECONDS = 10.0
# Queued by `flush`: the writer writes what it holds at once instead of waiting for a full
# batch or its time. Told apart from events by identity.
_FLUSH: dict[str, Any] = {}


class AuditTrail:
    def __init__(
        self, client: FhirClient, *, metrics: AuditMetrics, batch_size: int, flush_seconds: float, queue_size: int
    ) -> None:
        self._client = client
        self._metrics = metrics
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=queue_size)
        self._writer: asyncio.Task[None] | None = None

    def record(self, event: dict[str, Any]) -> None:
        """Queue `event` to be written; never blocks, never raises."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._metrics.counted("dropped")

    async def flush(self) -> None:
        """Write every event queued so far now, and wait until it is written (or has failed)."""
        await self._queue.put(_FLUSH)
        await self._queue.join()

    async def __aenter__(self) -> "AuditTrail":
        self._writer = asyncio.create_task(self._write_batches(), name="audit-trail")
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            await asyncio.wait_for(self.flush(), _DRAIN_SECONDS)
        except TimeoutError:
            logger.warning("audit trail: %d AuditEvents not written at shutdown", self._queue.qsize())
        if self._writer is not None:
            self._writer.cancel()

    async def _write_batches(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            taken = [await self._queue.get()]
            deadline = loop.time() + self._flush_seconds
            while taken[-1] is not _FLUSH and len(taken) < self._batch_size:
                try:
                    taken.append(await asyncio.wait_for(self._queue.get(), max(0.0, deadline - loop.time())))
                except TimeoutError:
                    break
            events = [item for item in taken if item is not _FLUSH]
            if events:
                await self._write(events)
            for _ in taken:
                self._queue.task_done()

    async def _write(self, events: list[dict[str, Any]]) -> None:
        entries = [
            {"resource": {**event, "id": str(event_id)}, "request": {"method": "PUT", "url": f"AuditEvent/{event_id}"}}
            for event in events
            for event_id in [uuid.uuid4()]
        ]
        try:
            await self._client.transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})
        # Whatever goes wrong, the writer lives on for the next batch: no failure may end the trail.
        except Exception as exc:  # noqa: BLE001
            logger.warning("audit trail: %d AuditEvents not written (%s)", len(events), type(exc).__name__)
            self._metrics.counted("failed", len(events))
            return
        self._metrics.counted("written", len(events))
