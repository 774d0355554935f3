"""Faults of a FHIR server, injected into the transport in front of a real embedded store.

`FaultyStore` forwards every request to the store it wraps, except those an armed fault
strikes: that one is refused before it leaves (no connection, a connect timeout), answered
in the store's place (503, 429), or forwarded and its answer lost on the way back (a read
timeout, a reset, a disconnect): then the store has acted on it and the gateway cannot know.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx
import orjson

# What the gateway can know of a request a fault struck: nothing was sent, a server's
# answer says it was refused, or it may have been carried out.
Kind = Literal["unsent", "answered", "maybe-done"]

FHIR_JSON = "application/fhir+json"

Strikes = Callable[[httpx.Request], bool]


@dataclass(frozen=True)
class Fault:
    name: str
    kind: Kind
    # The status the gateway owes its client once this fault outlasts its retries (the
    # simplified API's; the FHIR face relays an answered fault's status as the server gave it).
    status: int
    answer_status: int | None = None
    retry_after: str | None = None
    error: type[httpx.TransportError] | None = None

    @property
    def forwards(self) -> bool:
        return self.kind == "maybe-done"

    def strike(self, request: httpx.Request) -> httpx.Response:
        if self.error is not None:
            raise self.error(f"injected {self.name}", request=request)
        assert self.answer_status is not None
        headers = {"Content-Type": FHIR_JSON}
        if self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "transient", "diagnostics": f"injected {self.name}"}],
        }
        return httpx.Response(self.answer_status, headers=headers, content=orjson.dumps(outcome), request=request)

    def __str__(self) -> str:
        return self.name


REFUSED = Fault("refused", "unsent", 503, error=httpx.ConnectError)
CONNECT_TIMEOUT = Fault("connect-timeout", "unsent", 504, error=httpx.ConnectTimeout)
UNAVAILABLE = Fault("503-retry-after", "answered", 503, answer_status=503, retry_after="3")
THROTTLED = Fault("429-retry-after", "answered", 503, answer_status=429, retry_after="7")
READ_TIMEOUT = Fault("read-timeout-after-commit", "maybe-done", 504, error=httpx.ReadTimeout)
RESET = Fault("read-error-after-commit", "maybe-done", 503, error=httpx.ReadError)
DISCONNECT = Fault("disconnect-after-commit", "maybe-done", 503, error=httpx.RemoteProtocolError)

FAULTS = (REFUSED, CONNECT_TIMEOUT, UNAVAILABLE, THROTTLED, READ_TIMEOUT, RESET, DISCONNECT)
# One in five answers of an overloaded server: a bare 503, no Retry-After.
OVERLOADED = Fault("503", "answered", 503, answer_status=503)


@dataclass(frozen=True)
class Seen:
    """A request that reached the transport: whether the armed fault aimed at it, and
    whether it struck it."""

    method: str
    path: str
    aimed: bool
    struck: bool


def _never(request: httpx.Request) -> bool:
    return False


class FaultyStore(httpx.AsyncBaseTransport):
    """The store's transport, with at most one fault armed at a time."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._fault: Fault | None = None
        self._strikes: Strikes = _never
        self._left: int | None = None
        self._every = 0
        self._counted = 0
        self.seen: list[Seen] = []
        # Requests the armed fault aimed at, struck or not (the retries past its `times`).
        self.aimed = 0

    def arm(self, fault: Fault, strikes: Strikes, *, times: int | None = None) -> None:
        """Strike the requests `strikes` selects: the first `times` of them, or all."""
        self._fault, self._strikes, self._left, self._every = fault, strikes, times, 0
        self.seen.clear()
        self.aimed = 0

    def arm_every(self, nth: int, aimed: Strikes, fault: Fault = OVERLOADED) -> None:
        """Strike every `nth` request, whatever it is (counted from now); the requests
        `aimed` selects are only noted."""
        self._fault, self._strikes, self._left, self._every, self._counted = fault, aimed, None, nth, 0
        self.seen.clear()
        self.aimed = 0

    def disarm(self) -> None:
        self._fault, self._strikes, self._every = None, _never, 0

    def struck(self) -> list[Seen]:
        return [seen for seen in self.seen if seen.struck]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self._fault
        aimed = fault is not None and self._strikes(request)
        self.aimed += aimed
        hit = fault is not None and self._hits(request, aimed=aimed)
        self.seen.append(Seen(request.method, request.url.path, aimed, hit))
        if not hit or fault is None:
            return await self._inner.handle_async_request(request)
        if fault.forwards:
            answer = await self._inner.handle_async_request(request)
            await answer.aread()
            await answer.aclose()
        return fault.strike(request)

    def _hits(self, request: httpx.Request, *, aimed: bool) -> bool:
        if self._every:
            self._counted += 1
            return self._counted % self._every == 0
        if not aimed or self._left == 0:
            return False
        if self._left is not None:
            self._left -= 1
        return True

    async def aclose(self) -> None:
        await self._inner.aclose()


# -- which requests a fault strikes --------------------------------------------------------


def bundle_type(request: httpx.Request) -> str | None:
    """The type of the Bundle a request POSTs to the FHIR base, if it does."""
    if request.method != "POST" or not request.url.path.rstrip("/").endswith("/fhir"):
        return None
    try:
        bundle = orjson.loads(request.content)
    except orjson.JSONDecodeError:
        return None
    return bundle.get("type") if isinstance(bundle, dict) else None


def transactions(request: httpx.Request) -> bool:
    return bundle_type(request) == "transaction"


def batches(request: httpx.Request) -> bool:
    return bundle_type(request) == "batch"


def method_on(method: str, resource_type: str) -> Strikes:
    """Requests of `method` on `resource_type` (the type, an instance, or a conditional URL)."""

    def strikes(request: httpx.Request) -> bool:
        segments = request.url.path.split("/fhir/", 1)[-1].split("/")
        return request.method == method and segments[0] == resource_type

    return strikes


def operations(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.rsplit("/", 1)[-1].startswith("$")
