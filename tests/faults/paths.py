"""A write path of the gateway, as the fault matrix drives it: how to prepare its subject
(without faults), the request under test, the FHIR request a fault aims at, and what the
store holds of the write afterwards: nothing of it, or all of it exactly once.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

import httpx

from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.fhir_client.retry import Repetition
from fhir_gateway.problems import PROBLEM_CONTENT_TYPE
from tests.faults.injection import Fault, Kind, Strikes

# What the store holds of a write: nothing of it, or all of it, once. Anything else (part
# of it, or some of it twice) fails the observation itself.
State = Literal["untouched", "done"]
Face = Literal["simplified", "fhir"]
Context = dict[str, Any]

_AFTER: dict[Kind, Repetition] = {
    "unsent": Repetition.UNSENT,
    "answered": Repetition.REFUSED,
    "maybe-done": Repetition.LOST,
}


@dataclass(frozen=True)
class WritePath:
    name: str
    face: Face
    strikes: Strikes
    # After what failure the request `strikes` aims at may be sent again: then a fault that
    # has passed leaves the write done, and answered as done.
    repeated: Repetition
    prepare: Callable[[httpx.AsyncClient, int], Awaitable[Context]]
    act: Callable[[httpx.AsyncClient, Context], Awaitable[httpx.Response]]
    observe: Callable[[FhirClient, Context], Awaitable[State]]
    done_status: int
    # The answer when a repeated request finds the first one's work done (a conditional
    # create then matches what it created: 200, not 201).
    redone_status: int | None = None
    # The FHIR face relays the server's own answer (its status, its Retry-After) where it
    # relays the request; what it asks on its own account, it answers 503 for.
    relays_answers: bool = False
    # A path that only reads (an operation) must leave the store as it was, whatever befalls it.
    writes: bool = True

    def __str__(self) -> str:
        return self.name

    def retries(self, fault: Fault) -> bool:
        """Whether the gateway sends the struck request again after `fault`."""
        return _AFTER[fault.kind] <= self.repeated

    def answered_done(self, fault: Fault) -> int:
        """The status of the write done, after `fault` struck it once."""
        return (self.redone_status or self.done_status) if fault.forwards else self.done_status

    def afterwards(self, *, done: bool) -> State:
        """What the store must hold once the path answered: the write done, or untouched."""
        return "done" if done and self.writes else "untouched"


def assert_clear_failure(response: httpx.Response, fault: Fault, path: WritePath) -> None:
    """The gateway's answer to a fault that outlasted what it may retry: the status the
    fault stands for, the server's Retry-After when it gave one, in the face's error format."""
    relayed = path.relays_answers and fault.answer_status is not None
    status = fault.answer_status if relayed else fault.status
    assert response.status_code == status, response.text
    assert response.headers.get("Retry-After") == fault.retry_after, response.headers
    assert "Traceback" not in response.text
    if path.face == "simplified":
        assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
        body = response.json()
        assert (body["status"], body["title"]) == (status, HTTPStatus(status).phrase)
        assert body["detail"]
    else:
        assert response.headers["content-type"].startswith("application/fhir+json")
        body = response.json()
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"]


async def everything(store: FhirClient, resource_type: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Every resource of the type a search finds in the store."""
    return [
        resource
        async for resource in store.search_all(resource_type, [*params, ("_count", "100")])
        if resource.get("resourceType") == resource_type
    ]


def whole_or_nothing(counts: dict[str, Any], done: dict[str, Any], untouched: dict[str, Any]) -> State:
    """Which of the two states `counts` (of what the write makes or removes) is, or an
    assertion naming the half-written or duplicated write."""
    if counts == untouched:
        return "untouched"
    if counts == done:
        return "done"
    raise AssertionError(f"neither untouched {untouched} nor done once {done}: the store holds {counts}")


def unchanged(counts: dict[str, int], before: dict[str, int]) -> State:
    """A path that writes nothing: the store holds what it held before."""
    assert counts == before, f"a read-only path changed the store from {before} to {counts}"
    return "untouched"
