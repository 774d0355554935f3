"""Requests of the FHIR face passed on to the FHIR server, and its answers passed back.

The server's status, body and the headers a FHIR client acts on (ETag, Location,
Content-Location, Last-Modified, Retry-After) come back as the server sent them, with one
change: every URL under the server's base (`Location`, a Bundle's `fullUrl`s and `link`s)
is turned into the same URL under the gateway's base, so clients only ever see the gateway.
A single resource streams through unread; a Bundle the server assembled (a search, a
history, a transaction's answer) is read once to rewrite its URLs.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from fhir_gateway.fhir_client import FHIR_JSON, FhirClient

# Where the face is served, under the gateway's root.
FHIR_PREFIX = "/fhir"
# Request headers that carry FHIR semantics to the server. Nothing else goes: not the
# client's credentials, cookies, or hop-by-hop headers.
_FORWARDED_REQUEST_HEADERS = (
    "content-type",
    "if-match",
    "if-none-match",
    "if-none-exist",
    "if-modified-since",
    "prefer",
    "x-request-id",
)
_RELAYED_RESPONSE_HEADERS = ("content-type", "etag", "last-modified", "retry-after")
_URL_HEADERS = ("location", "content-location")
# Bundles the server makes for an interaction, whose URLs are its own; a stored Bundle
# (a document, a collection) is content and is left alone.
_ASSEMBLED_BUNDLES = frozenset({"searchset", "history", "transaction-response", "batch-response"})
# A path segment goes to the server as the client meant it: FHIR's own characters kept,
# anything that could change the URL's structure escaped.
_SAFE_IN_SEGMENT = "$-._~!*'(),;=:@+"


@dataclass(frozen=True)
class Bases:
    """The FHIR base URL clients use (the gateway's) and the one the server answers with."""

    gateway: str
    server: str

    def to_gateway(self, url: str) -> str:
        return self.gateway + url[len(self.server) :] if _under(url, self.server) else url

    def to_server(self, url: str) -> str:
        return self.server + url[len(self.gateway) :] if _under(url, self.gateway) else url


def bases(request: Request, client: FhirClient) -> Bases:
    # Behind a proxy, uvicorn's --proxy-headers gives the scheme and host clients used.
    return Bases(gateway=f"{str(request.base_url).rstrip('/')}{FHIR_PREFIX}", server=client.base_url)


def server_path(path: str) -> str:
    """A path under the base, each segment escaped (a `..` cannot climb out of the base)."""
    return "/".join(_segment(segment) for segment in path.split("/"))


async def relay(
    request: Request,
    client: FhirClient,
    path: str,
    *,
    body: bytes | None = None,
    assembled: bool = False,
) -> Response:
    """Send the request to `path` under the server's base (the client's query string as it
    came) and answer what the server answers.

    `assembled` says the answer is a Bundle the server makes (search, history, transaction):
    it is read and its URLs rewritten; otherwise the answer streams through.
    """
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = f"{server_path(path)}?{query}" if query else server_path(path)
    headers = {name: value for name in _FORWARDED_REQUEST_HEADERS if (value := request.headers.get(name)) is not None}
    if body is not None and "content-type" not in headers:
        headers["content-type"] = FHIR_JSON
    urls = bases(request, client)
    if assembled:
        answer = await client.send(request.method, url, content=body, headers=headers)
        return _rewritten(answer, urls)
    stream = client.stream(request.method, url, content=body, headers=headers)
    answer = await stream.__aenter__()
    # The body is read as the client reads it; the connection goes back to the pool when
    # the body is done or the client has gone, whichever comes first.
    done = BackgroundTask(stream.__aexit__, None, None, None)
    return StreamingResponse(
        answer.aiter_bytes(),
        status_code=answer.status_code,
        headers=_headers(answer, urls, whole=True),
        background=done,
    )


def server_bundle(bundle: dict[str, Any], urls: Bases) -> dict[str, Any]:
    """A transaction or batch as the server must read it: its entries' `fullUrl`s and
    request URLs under the gateway's base turned into the server's."""
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("fullUrl"), str):
            entry["fullUrl"] = urls.to_server(entry["fullUrl"])
        request = entry.get("request")
        if isinstance(request, dict) and isinstance(request.get("url"), str) and _under(request["url"], urls.gateway):
            request["url"] = request["url"][len(urls.gateway) :].lstrip("/")
    return bundle


def relayed(answer: httpx.Response, urls: Bases, body: dict[str, Any] | None = None) -> Response:
    """The server's answer to a request the gateway made on the client's behalf (the update
    of a patch), as the client gets it; `body` replaces the answer's own."""
    content = orjson.dumps(body) if body is not None else answer.content
    return Response(content, status_code=answer.status_code, headers=_headers(answer, urls, whole=False))


def _rewritten(answer: httpx.Response, urls: Bases) -> Response:
    body = answer.content
    if body and "json" in answer.headers.get("content-type", ""):
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            document = None
        if _is_assembled_bundle(document):
            return relayed(answer, urls, _gateway_bundle(document, urls))
    return relayed(answer, urls)


def _is_assembled_bundle(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and document.get("resourceType") == "Bundle"
        and document.get("type") in _ASSEMBLED_BUNDLES
    )


def _gateway_bundle(bundle: dict[str, Any], urls: Bases) -> dict[str, Any]:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and isinstance(link.get("url"), str):
            link["url"] = urls.to_gateway(link["url"])
    for entry in bundle.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("fullUrl"), str):
            entry["fullUrl"] = urls.to_gateway(entry["fullUrl"])
        response = entry.get("response")
        if isinstance(response, dict) and isinstance(response.get("location"), str):
            response["location"] = urls.to_gateway(response["location"])
        if isinstance(entry.get("resource"), dict) and _is_assembled_bundle(entry["resource"]):
            # A batch's search answers are searchsets of their own.
            _gateway_bundle(entry["resource"], urls)
    return bundle


def _headers(answer: httpx.Response, urls: Bases, *, whole: bool) -> dict[str, str]:
    headers = {name: value for name in _RELAYED_RESPONSE_HEADERS if (value := answer.headers.get(name)) is not None}
    for name in _URL_HEADERS:
        if (value := answer.headers.get(name)) is not None:
            headers[name] = urls.to_gateway(value)
    # A body streamed as the server sent it keeps its length (httpx undoes any compression).
    if whole and "content-length" in answer.headers and "content-encoding" not in answer.headers:
        headers["content-length"] = answer.headers["content-length"]
    return headers


def _under(url: str, base: str) -> bool:
    return url == base or url.startswith((f"{base}/", f"{base}?"))


def _segment(segment: str) -> str:
    if segment in (".", ".."):
        return "%2E" * len(segment)
    return quote(segment, safe=_SAFE_IN_SEGMENT)
