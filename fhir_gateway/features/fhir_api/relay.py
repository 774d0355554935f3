"""Requests of the FHIR face passed on to the FHIR server, and its answers passed back.

The server's status, body and the headers a FHIR client acts on (ETag, Location,
Content-Location, Last-Modified, Retry-After) come back as the server sent them, with one
change: every URL under the server's base (`Location`, a Bundle's `fullUrl`s and `link`s)
is turned into the same URL under the gateway's base, so clients only ever see the gateway.
A single resource streams through unread (a stored Bundle, a document, is content and keeps
its URLs); a Bundle the server assembled (a search, a history, a transaction's answer) is
read once to rewrite its URLs.
"""

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from fhir_gateway.features.fhir_api.negotiation import negotiate
from fhir_gateway.fhir_client import FHIR_JSON, FhirClient, Relayed, path_segment
from fhir_gateway.refusals import FHIR_PREFIX

# Request headers that carry FHIR semantics to the server. Nothing else goes: not the
# client's credentials, cookies, or hop-by-hop headers.
_FORWARDED_REQUEST_HEADERS = frozenset(
    {b"content-type", b"if-match", b"if-none-match", b"if-none-exist", b"if-modified-since", b"prefer", b"x-request-id"}
)
_RELAYED_RESPONSE_HEADERS = frozenset({"content-type", "etag", "last-modified", "retry-after"})
_URL_HEADERS = frozenset({"location", "content-location"})
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
    """The gateway's FHIR base as this request reached it, and the server's.

    What `request.base_url` says, read straight from the scope: building URL objects was a
    measurable share of a relayed read. Behind a proxy, uvicorn's --proxy-headers gives the
    scheme clients used; the Host header, the host."""
    scope = request.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    if host is None:
        server_host, port = scope.get("server") or ("localhost", None)
        default = {"http": 80, "https": 443}.get(scope.get("scheme", "http"))
        netloc = server_host if port in (None, default) else f"{server_host}:{port}"
    else:
        netloc = host.decode("latin-1")
    gateway = f"{scope.get('scheme', 'http')}://{netloc}{scope.get('root_path', '')}{FHIR_PREFIX}"
    return Bases(gateway=gateway, server=client.base_url)


def server_path(path: str) -> str:
    """A path under the base, each segment escaped (a `..` cannot climb out of the base)."""
    return "/".join(path_segment(segment, safe=_SAFE_IN_SEGMENT) for segment in path.split("/"))


async def relay(
    request: Request,
    client: FhirClient,
    path: str,
    *,
    body: bytes | None = None,
    assembled: bool = False,
    interaction: str | None = None,
) -> Response:
    """Send the request to `path` under the server's base (the client's query string as it
    came) and answer what the server answers.

    `assembled` says the answer is a Bundle the server makes (search, history, transaction):
    it is read and its URLs rewritten; otherwise the answer streams through.
    """
    await negotiate(request)
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = f"{server_path(path)}?{query}" if query else server_path(path)
    headers = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in request.scope["headers"]
        if name in _FORWARDED_REQUEST_HEADERS
    }
    if body is not None and "content-type" not in headers:
        headers["content-type"] = FHIR_JSON
    urls = bases(request, client)
    exchange = client.relay(request.method, url, content=body, headers=headers, interaction=interaction)
    answer = await exchange.__aenter__()
    if assembled or answer.chunks is None:
        try:
            content = await answer.content()
        finally:
            await exchange.__aexit__(None, None, None)
        return _answer(answer, content, urls, rewrite=assembled)
    # The body is read as the client reads it; the connection goes back to the pool when
    # the body is done or the client has gone, whichever comes first.
    done = BackgroundTask(exchange.__aexit__, None, None, None)
    headers = _headers(answer.headers, urls, whole=True)
    return StreamingResponse(answer.chunks, status_code=answer.status, headers=headers, background=done)


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


def relayed(answer: httpx.Response, urls: Bases) -> Response:
    """The server's answer to a request the gateway made on the client's behalf (the update
    of a patch), as the client gets it."""
    return Response(answer.content, status_code=answer.status_code, headers=_headers(answer.headers, urls, whole=False))


def _answer(answer: Relayed, content: bytes, urls: Bases, *, rewrite: bool) -> Response:
    if rewrite and content and "json" in answer.headers.get("content-type", ""):
        gateway = urls.gateway.encode()
        content = _url_values(urls.server).sub(lambda found: found[1] + gateway, content)
    return Response(content, status_code=answer.status, headers=_headers(answer.headers, urls, whole=False))


@cache
def _url_values(server: str) -> re.Pattern[bytes]:
    """The server's base where it begins a Bundle's URL (`fullUrl`, a link's `url`, a
    response's `location`, nested Bundles' too), found in the body's bytes: rewritten
    without parsing, and every other byte left as the server sent it."""
    return re.compile(rb'("(?:fullUrl|url|location)"\s*:\s*")' + re.escape(server.encode()) + rb'(?=[/?"])')


def _headers(answered: httpx.Headers, urls: Bases, *, whole: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in answered.multi_items():
        if name in _RELAYED_RESPONSE_HEADERS:
            headers[name] = value
        elif name in _URL_HEADERS:
            headers[name] = urls.to_gateway(value)
    # A body streamed as the server sent it keeps its length (httpx undoes any compression).
    if whole and "content-length" in answered and "content-encoding" not in answered:
        headers["content-length"] = answered["content-length"]
    return headers


def _under(url: str, base: str) -> bool:
    return url == base or url.startswith((f"{base}/", f"{base}?"))
