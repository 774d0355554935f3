"""FhirClient: the one async FHIR R4 REST client of the gateway.

It speaks to HAPI FHIR over the network and to the embedded store in-process (through
`httpx.ASGITransport`) by the same code path: only the transport and base URL differ.
Given `metrics`, it reports every call it makes and every request it sends again.
"""

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import quote, unquote

import httpx
import orjson
from starlette.types import ASGIApp, Message

from fhir_gateway.fhir_client.errors import (
    HAPI_CONDITIONAL_RACE_CODE,
    FhirConflict,
    FhirError,
    FhirTimeout,
    FhirUnavailable,
    error_from_response,
    error_from_transport,
)
from fhir_gateway.fhir_client.etags import etag
from fhir_gateway.fhir_client.retry import RetryPolicy, repetition_of

FHIR_JSON = "application/fhir+json"
JSON_PATCH = "application/json-patch+json"

# A mapping (a sequence value repeats the name) or (name, value) pairs, names repeated at will.
QueryValue = str | int | float | bool | None
QueryParams = (
    Mapping[str, QueryValue | Sequence[QueryValue]] | list[tuple[str, QueryValue]] | tuple[tuple[str, QueryValue], ...]
)

# Writes ask for the stored resource back; a server that answers without it anyway is read
# back through the answer's Location.
_RETURN_REPRESENTATION = {"Prefer": "return=representation"}
# A conditional create that lost a race is asked again; the second answer is the match.
_CONDITIONAL_CREATE_ATTEMPTS = 3
_CREATE_RACE = "create-race"
_STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
# What a GET or HEAD of one path segment under the base is, when not a type's search.
_BASE_READS = {"metadata": "capabilities", "_history": "history"}
_WRITES = {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class CallMetrics(Protocol):
    """What a FhirClient tells of its calls, to whoever counts them (the app's metrics).

    A call is one request of the client's caller, its retries and their waits included,
    timed until the answer's status and headers came (a body streamed is the caller's to
    read). `interaction` is the FHIR interaction (`interaction_of`); `outcome` the answer's
    status class ("2xx" to "5xx"), or "timeout" or "unreachable" when no answer came; a
    call that ends otherwise (cancelled) is not told. `retried` hears of every request
    sent again, beyond the first: the reason is the status that made it ("503"),
    "timeout", "connection", or "create-race" (a conditional create asked again after
    losing a race with another of the same criteria).
    """

    def called(self, interaction: str, outcome: str, seconds: float) -> None: ...

    def retried(self, interaction: str, reason: str) -> None: ...


@dataclass(frozen=True)
class SearchPage:
    """One page of search results: the matches, the resources `_include`/`_revinclude` added,
    and how many resources match in all."""

    matches: list[dict[str, Any]]
    included: list[dict[str, Any]]
    total: int


@dataclass(frozen=True)
class Relayed:
    """The server's answer to a relayed request: its status and headers, and its body, whole
    (`body`) or to be read as it comes (`chunks`)."""

    status: int
    headers: httpx.Headers
    body: bytes | None = None
    chunks: AsyncIterator[bytes] | None = None

    async def content(self) -> bytes:
        """The whole body."""
        if self.body is not None or self.chunks is None:
            return self.body or b""
        return b"".join([chunk async for chunk in self.chunks])


@dataclass(frozen=True)
class ConditionalCreate:
    """What a conditional create stored: the new resource (`created`), or the one match."""

    resource: dict[str, Any]
    created: bool


class FhirClient:
    """Async client of one FHIR R4 server (see `retry` for which requests are repeated).

    Typed methods return parsed JSON and raise a `FhirError` subclass for any 4xx or 5xx;
    `send` relays whatever the server answered.
    """

    def __init__(
        self,
        base_url: str,
        *,
        app: ASGIApp | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        metrics: CallMetrics | None = None,
    ) -> None:
        if app is not None and transport is not None:
            raise ValueError("pass either an in-process app or a transport, not both")
        self._base_url = base_url.rstrip("/")
        self._base = httpx.URL(self._base_url)
        self._base_path = self._base.path.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._metrics = metrics
        self._app = app
        if app is not None:
            transport = httpx.ASGITransport(app)
        default_headers = httpx.Headers({"Accept": FHIR_JSON})
        default_headers.update(headers or {})
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers=default_headers,
            auth=auth,
        )
        self._app_headers = [(b"host", self._base.netloc), *self._http.headers.raw]

    @property
    def base_url(self) -> str:
        """The FHIR base URL, without a trailing slash."""
        return self._base_url

    async def aclose(self) -> None:
        """Close the connections this client holds."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def send(
        self,
        method: str,
        url: str,
        *,
        params: QueryParams | None = None,
        content: bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        interaction: str | None = None,
    ) -> httpx.Response:
        """Send one request (`url` relative to the base, or absolute) and return the final
        answer whatever its status, after any retries.

        A body is sent as `application/fhir+json` unless `headers` say otherwise. Raises
        `FhirUnavailable` (or `FhirTimeout`) only when no answer could be had. `interaction`
        names the FHIR interaction for the metrics when the caller knows it; otherwise it
        is told from the method and the path (`interaction_of`).
        """
        request = self._request(method, url, params=params, content=content, json=json, headers=headers)
        return await self._dispatch(request, self._http.send, interaction)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        interaction: str | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """`send`, but a successful answer's body is left unread, to be streamed while the
        context is open (an error's body, an OperationOutcome, is read, so that it can be
        retried like any other)."""

        async def send_streaming(request: httpx.Request) -> httpx.Response:
            response = await self._http.send(request, stream=True)
            if response.is_error:
                await response.aread()
            return response

        request = self._request(method, url, content=content, headers=headers)
        response = await self._dispatch(request, send_streaming, interaction)
        try:
            yield response
        finally:
            await response.aclose()

    @asynccontextmanager
    async def relay(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        interaction: str | None = None,
    ) -> AsyncIterator[Relayed]:
        """Pass a request on as it is (`url` relative to the base, its query string included)
        and give the answer as it is, its body streamed while the context is open.

        A server over the network is asked through `stream` (retried as any request). An
        in-process server (`app`) is called directly: the request is the gateway's hottest
        path, and httpx's request and response objects cost more than the server's read.
        Nothing can fail between the two, so nothing is retried there. `interaction` is
        `send`'s.
        """
        if self._app is None:
            async with self.stream(method, url, content=content, headers=headers, interaction=interaction) as response:
                yield Relayed(response.status_code, response.headers, chunks=response.aiter_bytes())
            return
        path, _, query = url.partition("?")
        if self._metrics is None:
            yield await self._call_app(method, path, query, content, headers or {})
            return
        started = time.perf_counter()
        relayed = await self._call_app(method, path, query, content, headers or {})
        self._metrics.called(
            interaction or interaction_of(method.upper(), path, content),
            _status_class(relayed.status),
            time.perf_counter() - started,
        )
        yield relayed

    async def _call_app(
        self, method: str, path: str, query: str, content: bytes | None, headers: Mapping[str, str]
    ) -> Relayed:
        assert self._app is not None
        path = f"{self._base_path}/{path}".rstrip("/") if path else self._base.path
        raw_headers = list(self._app_headers)
        raw_headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        if content is not None:
            raw_headers.append((b"content-length", str(len(content)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": self._base.scheme,
            "path": unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": raw_headers,
            "server": (self._base.host, self._base.port or 80),
            "client": ("127.0.0.1", 0),
        }
        received = False
        started: Message = {}
        body = bytearray()

        async def receive() -> Message:
            nonlocal received
            if received:
                return {"type": "http.disconnect"}
            received = True
            return {"type": "http.request", "body": content or b"", "more_body": False}

        async def send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self._app(scope, receive, send)
        return Relayed(started["status"], httpx.Headers(started.get("headers") or []), body=bytes(body))

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: QueryParams | None = None,
        content: bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        if content is not None and json is not None:
            raise ValueError("pass either content or json, not both")
        body = orjson.dumps(json) if json is not None else content
        request_headers = httpx.Headers({"Content-Type": FHIR_JSON} if body is not None else {})
        request_headers.update(headers or {})
        return self._http.build_request(
            method.upper(), self._resolve(url), params=params, content=body, headers=request_headers
        )

    async def _dispatch(
        self,
        request: httpx.Request,
        send: Callable[[httpx.Request], Awaitable[httpx.Response]],
        interaction: str | None,
    ) -> httpx.Response:
        metrics = self._metrics
        if metrics is None:
            return await self._attempts(request, send, None)
        interaction = interaction or interaction_of(request.method, self._under_base(request.url.path), request.content)
        started = time.perf_counter()
        try:
            response = await self._attempts(request, send, partial(metrics.retried, interaction))
        except FhirUnavailable as failure:
            outcome = "timeout" if isinstance(failure, FhirTimeout) else "unreachable"
            metrics.called(interaction, outcome, time.perf_counter() - started)
            raise
        metrics.called(interaction, _status_class(response.status_code), time.perf_counter() - started)
        return response

    async def _attempts(
        self,
        request: httpx.Request,
        send: Callable[[httpx.Request], Awaitable[httpx.Response]],
        on_retry: Callable[[str], None] | None,
    ) -> httpx.Response:
        retrying = self._retry.retrying(
            repetition=repetition_of(request, self._base), label=self._label(request), on_retry=on_retry
        )
        try:
            response: httpx.Response = await retrying(send, request)
        except httpx.TransportError as exc:
            raise error_from_transport(exc) from exc
        return response

    async def capabilities(self) -> dict[str, Any]:
        """The server's CapabilityStatement."""
        return _body(await self._checked("GET", "metadata", interaction="capabilities"))

    async def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """The current version of a resource."""
        return _body(await self._checked("GET", _path(resource_type, resource_id), interaction="read"))

    async def vread(self, resource_type: str, resource_id: str, version: str) -> dict[str, Any]:
        """One version of a resource."""
        return _body(
            await self._checked("GET", _path(resource_type, resource_id, "_history", version), interaction="vread")
        )

    async def create(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Create `resource` (POST) and return it as stored."""
        resource_type = _resource_type(resource)
        response = await self._checked(
            "POST", _path(resource_type), json=resource, headers=_RETURN_REPRESENTATION, interaction="create"
        )
        return await self._stored(response, resource_type)

    async def create_if_none_exist(self, resource: dict[str, Any], criteria: str) -> ConditionalCreate:
        """Create `resource` unless a resource matches `criteria` (a search query such as
        "identifier=sys|val"); the server then answers with that match and stores nothing.

        Several matches are a `FhirVersionConflict` (412), as FHIR's conditional create says.
        A create that lost a race with another of the same criteria is asked again, so that
        it answers the match the winner stored.
        """
        resource_type = _resource_type(resource)
        headers = {**_RETURN_REPRESENTATION, "If-None-Exist": criteria}
        for attempt in range(1, _CONDITIONAL_CREATE_ATTEMPTS + 1):
            try:
                response = await self._checked(
                    "POST", _path(resource_type), json=resource, headers=headers, interaction="create"
                )
            except FhirConflict as conflict:
                if HAPI_CONDITIONAL_RACE_CODE not in conflict.diagnostics or attempt == _CONDITIONAL_CREATE_ATTEMPTS:
                    raise
                if self._metrics is not None:
                    self._metrics.retried("create", _CREATE_RACE)
                continue
            return ConditionalCreate(await self._stored(response, resource_type), created=response.status_code == 201)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def update(self, resource: dict[str, Any], *, if_match: str | None = None) -> dict[str, Any]:
        """Replace (or create at its id) `resource` by PUT and return it as stored."""
        resource_type = _resource_type(resource)
        resource_id = resource.get("id")
        if not isinstance(resource_id, str) or not resource_id:
            raise ValueError("an update needs the resource's id")
        response = await self._checked(
            "PUT",
            _path(resource_type, resource_id),
            json=resource,
            headers=_write_headers(if_match),
            interaction="update",
        )
        return await self._stored(response, resource_type)

    async def conditional_update(self, resource: dict[str, Any], criteria: str) -> dict[str, Any]:
        """PUT `resource` to the one resource matching `criteria` (a search query), creating
        it when nothing matches."""
        resource_type = _resource_type(resource)
        response = await self._checked(
            "PUT",
            f"{_path(resource_type)}?{criteria.lstrip('?')}",
            json=resource,
            headers=_RETURN_REPRESENTATION,
            interaction="update",
        )
        return await self._stored(response, resource_type)

    async def patch(
        self,
        resource_type: str,
        resource_id: str,
        operations: list[dict[str, Any]],
        *,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """Apply a JSON Patch to a resource and return it as stored."""
        headers = {"Content-Type": JSON_PATCH, **_write_headers(if_match)}
        response = await self._checked(
            "PATCH",
            _path(resource_type, resource_id),
            content=orjson.dumps(operations),
            headers=headers,
            interaction="patch",
        )
        return await self._stored(response, resource_type)

    async def delete(self, resource_type: str, resource_id: str, *, if_match: str | None = None) -> None:
        """Delete a resource (deleting an unknown id succeeds)."""
        headers = {"If-Match": etag(if_match)} if if_match else None
        await self._checked("DELETE", _path(resource_type, resource_id), headers=headers, interaction="delete")

    async def search(self, resource_type: str, params: QueryParams | None = None) -> dict[str, Any]:
        """The first page of a search, as a searchset Bundle; repeated parameter names are kept."""
        return _body(await self._checked("GET", _path(resource_type), params=params, interaction="search"))

    async def search_page(
        self, resource_type: str, params: QueryParams | None = None, *, count: int, offset: int = 0
    ) -> SearchPage:
        """The `count` matches after the first `offset` of a search, with the total it finds.

        Give the search a `_sort` ending in `_id` when pages must neither overlap nor skip.
        """
        paging = [("_count", str(count)), ("_offset", str(offset)), ("_total", "accurate")]
        bundle = await self.search(resource_type, [*_pairs(params), *paging])
        total = bundle.get("total")
        if not isinstance(total, int):
            raise FhirError(502, message="FHIR server answered a search with _total=accurate without a total")
        matches: list[dict[str, Any]] = []
        included: list[dict[str, Any]] = []
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            mode = (entry.get("search") or {}).get("mode", "match")
            if mode == "match" and resource.get("resourceType") == resource_type:
                matches.append(resource)
            elif mode == "include":
                included.append(resource)
        return SearchPage(matches, included, total)

    async def next_page(self, bundle: dict[str, Any]) -> dict[str, Any] | None:
        """The page after `bundle`, or None on the last page.

        The `next` link is followed exactly as the server wrote it: paging URLs are opaque.
        """
        for link in bundle.get("link") or []:
            if link.get("relation") == "next" and link.get("url"):
                return _body(await self._checked("GET", link["url"], interaction="search"))
        return None

    async def search_all(self, resource_type: str, params: QueryParams | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every resource a search finds (matches and includes), page after page.

        Entries that only carry a warning about the search (mode `outcome`) are left out.
        """
        page: dict[str, Any] | None = await self.search(resource_type, params)
        while page is not None:
            for entry in page.get("entry") or []:
                if "resource" in entry and (entry.get("search") or {}).get("mode") != "outcome":
                    yield entry["resource"]
            page = await self.next_page(page)

    async def history(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """Every version of a resource, as a history Bundle (newest first)."""
        return _body(await self._checked("GET", _path(resource_type, resource_id, "_history"), interaction="history"))

    async def transaction(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """Process a transaction Bundle (all or nothing); returns the transaction-response."""
        return await self._post_bundle(bundle, "transaction")

    async def batch(self, bundle: dict[str, Any]) -> dict[str, Any]:
        """Process a batch Bundle (entries independent); returns the batch-response."""
        return await self._post_bundle(bundle, "batch")

    async def _post_bundle(self, bundle: dict[str, Any], bundle_type: str) -> dict[str, Any]:
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != bundle_type:
            raise ValueError(f"expected a Bundle of type {bundle_type}")
        return _body(await self._checked("POST", "", json=bundle, interaction=bundle_type))

    async def _checked(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.send(method, url, **kwargs)
        if response.is_error:
            raise error_from_response(response)
        return response

    async def _stored(self, response: httpx.Response, resource_type: str) -> dict[str, Any]:
        if response.content:
            body = _body(response)
            if body.get("resourceType") == resource_type:
                return body
        location = response.headers.get("Location") or response.headers.get("Content-Location")
        if location:
            return _body(await self._checked("GET", location))
        status = response.status_code
        raise FhirError(status, message=f"FHIR server answered {status} without the {resource_type} or its Location")

    def _resolve(self, url: str) -> httpx.URL:
        target = httpx.URL(url)
        if target.is_absolute_url:
            return target
        relative = url.lstrip("/")
        separator = "" if not relative or relative.startswith("?") else "/"
        return httpx.URL(f"{self._base_url}{separator}{relative}")

    def _label(self, request: httpx.Request) -> str:
        # The resource type (first path segment under the base), never ids or query values.
        first_segment = self._under_base(request.url.path).strip("/").split("/", 1)[0]
        return f"{request.method} {first_segment or '(base)'}"

    def _under_base(self, path: str) -> str:
        return path[len(self._base_path) :] if path.startswith(self._base_path) else path


def interaction_of(method: str, path: str, body: bytes | None = None) -> str:
    """The FHIR interaction a request is, from its method and its path under the base
    (without the query): read, vread, search, create, update, patch, delete, transaction,
    batch, history, operation, capabilities, or "other". Never an id or a query value, so
    that it can label a metric. A POST to the base is told by its Bundle's type."""
    trimmed = path.strip("/")
    segments = trimmed.split("/") if trimmed else []
    last = segments[-1] if segments else ""
    if last.startswith("$"):
        return "operation"
    if method in ("GET", "HEAD"):
        if not segments:
            return "search"
        if len(segments) == 1:
            return _BASE_READS.get(last, "search")
        if last == "_history":
            return "history"
        if len(segments) == 2:
            return "search" if last == "_search" else "read"
        if len(segments) == 4 and segments[2] == "_history":
            return "vread"
        # A search in a compartment: Patient/1/Observation.
        return "search"
    if method == "POST":
        if not segments:
            return _bundle_interaction(body)
        if last == "_search":
            return "search"
        return "create" if len(segments) == 1 else "other"
    return _WRITES.get(method, "other")


def _bundle_interaction(body: bytes | None) -> str:
    try:
        bundle = orjson.loads(body or b"")
    except orjson.JSONDecodeError:
        return "other"
    kind = bundle.get("type") if isinstance(bundle, dict) else None
    return kind if kind in ("transaction", "batch") else "other"


def _status_class(status: int) -> str:
    return _STATUS_CLASSES.get(status // 100, "other")


def _path(*segments: str) -> str:
    return "/".join(path_segment(segment) for segment in segments)


def path_segment(value: str, *, safe: str = "") -> str:
    """One segment of a path under the base, percent-encoded but for the `safe` characters,
    the dots of a dot-segment too, so that it can never point at another URL."""
    if value in (".", ".."):
        return "%2E" * len(value)
    return quote(value, safe=safe)


def _resource_type(resource: dict[str, Any]) -> str:
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not resource_type:
        raise ValueError("the resource has no resourceType")
    return resource_type


def _write_headers(if_match: str | None) -> dict[str, str]:
    headers = dict(_RETURN_REPRESENTATION)
    if if_match:
        headers["If-Match"] = etag(if_match)
    return headers


def _pairs(params: QueryParams | None) -> list[tuple[str, QueryValue]]:
    """Query parameters as (name, value) pairs, repeated names kept."""
    if params is None:
        return []
    if isinstance(params, Mapping):
        return [
            (name, item)
            for name, value in params.items()
            for item in (value if isinstance(value, list | tuple) else [value])
        ]
    return list(params)


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise FhirError(
            response.status_code,
            message=f"FHIR server answered {response.status_code} with a body that is not a FHIR resource",
        )
    return body
