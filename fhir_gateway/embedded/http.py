"""The store's HTTP face: FHIR REST over Starlette, JSON only, errors as OperationOutcome."""

import logging
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from .outcomes import FhirStoreError, bad_request
from .requests import FhirRequest, FhirResponse
from .responses import http_date

# Runs one request to completion: (request, base URL, whether to answer the representation).
Handle = Callable[..., FhirResponse]

FHIR_JSON = "application/fhir+json; charset=utf-8"
JSON_PATCH = "application/json-patch+json"
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
_FORM = "application/x-www-form-urlencoded"
_FORMAT_PARAMS = ("_format", "_pretty")
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

logger = logging.getLogger(__name__)


def create_http_app(handle: Handle, max_body_bytes: int) -> Starlette:
    """An ASGI app serving FHIR REST under `/fhir` by `handle`."""

    async def endpoint(request: Request) -> Response:
        try:
            fhir_request, representation = await _to_fhir_request(request, max_body_bytes)
            base = str(request.base_url).rstrip("/") + "/fhir"
            response = await run_in_threadpool(handle, fhir_request, base, representation=representation)
            # Prefer: return=minimal drops the resource a single write answers with; a
            # bundle's answer is the response bundle itself, shaped entry by entry.
            minimal = (
                not representation and fhir_request.method in ("POST", "PUT", "PATCH") and not fhir_request.is_bundle
            )
            return _to_http(response, base, with_body=not minimal and request.method != "HEAD")
        except FhirStoreError as error:
            return _json_response(error.status, error.outcome())
        except ClientDisconnect:
            return Response(status_code=400)
        except Exception as error:
            # The kind of failure and where, not its message or traceback: those may quote
            # resource content or SQL values, which are PHI.
            logger.error(
                "embedded FHIR store failed on %s %s: %s at\n%s",
                request.method,
                _route_of(request),
                type(error).__name__,
                _where_raised(error),
            )
            failure = FhirStoreError.of(500, "Internal error in the FHIR store; see the server log")
            return _json_response(500, failure.outcome())

    routes = [
        Route("/fhir", endpoint, methods=_METHODS),
        Route("/fhir/{path:path}", endpoint, methods=_METHODS),
    ]
    return Starlette(routes=routes)


def _where_raised(error: BaseException) -> str:
    """The frames an exception passed through (file, line, function), without its message."""
    frames = traceback.extract_tb(error.__traceback__)
    return "\n".join(f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames)


def _route_of(request: Request) -> str:
    """The request's path with ids left out (`Patient/{id}`): ids may be identifiers."""
    segments = request.path_params.get("path", "").strip("/").split("/")
    return "/".join(segments[:1] + ["{id}" for _ in segments[1:2]] + segments[2:3])


async def _to_fhir_request(request: Request, max_body_bytes: int) -> tuple[FhirRequest, bool]:
    _negotiate(request)
    query = [(name, value) for name, value in request.query_params.multi_items() if name not in _FORMAT_PARAMS]
    path = request.path_params.get("path", "").strip("/")
    method = "GET" if request.method == "HEAD" else request.method
    body: Any = None
    if path.endswith("/_search") and path.count("/") == 1 and method in ("GET", "POST"):
        # Search by POST (R4 http.html#search): the form body's parameters join the URL's.
        if method == "POST":
            query += _form_parameters(request, await _read_body(request, max_body_bytes))
        path, method = path.removesuffix("/_search"), "GET"
    elif request.method in ("POST", "PUT", "PATCH"):
        body = _parse_body(request, await _read_body(request, max_body_bytes))
    fhir_request = FhirRequest(
        method=method,
        path=path,
        query=query,
        body=body,
        if_match=request.headers.get("if-match"),
        if_none_exist=request.headers.get("if-none-exist"),
    )
    return fhir_request, _prefers_representation(request)


def _negotiate(request: Request) -> None:
    """JSON is all the store speaks: asking only for anything else is a 406."""
    requested = request.query_params.get("_format")
    if requested is not None and requested not in ("json", *_JSON_TYPES):
        raise FhirStoreError.of(406, f"Unsupported _format {requested!r}: this server speaks JSON only")
    accept = request.headers.get("accept", "")
    if accept and not any(kind in part for part in accept.split(",") for kind in ("json", "*/*", "application/*")):
        raise FhirStoreError.of(406, f"Cannot answer with {accept!r}: this server speaks application/fhir+json")


async def _read_body(request: Request, max_body_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body_bytes:
        raise _too_large(max_body_bytes)
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > max_body_bytes:
            raise _too_large(max_body_bytes)
    return bytes(chunks)


def _too_large(limit: int) -> FhirStoreError:
    return FhirStoreError.of(413, f"Request body exceeds the limit of {limit} bytes")


def _parse_body(request: Request, raw: bytes) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "PATCH":
        if content_type != JSON_PATCH:
            raise FhirStoreError.of(
                415, f"PATCH needs Content-Type {JSON_PATCH} (JSON Patch); got {content_type or 'none'!r}"
            )
    elif content_type and content_type not in _JSON_TYPES:
        raise FhirStoreError.of(415, f"Unsupported Content-Type {content_type!r}: send application/fhir+json")
    if not raw:
        raise bad_request("Request body is empty")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise bad_request(f"Failed to parse request body as JSON: {error}") from None


def _form_parameters(request: Request, raw: bytes) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _FORM:
        raise FhirStoreError.of(415, f"POST [type]/_search needs Content-Type {_FORM}; got {content_type or 'none'!r}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("The form body of a search is not UTF-8") from None
    return [(name, value) for name, value in parse_qsl(text, keep_blank_values=True) if name not in _FORMAT_PARAMS]


def _prefers_representation(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return "return=minimal" not in prefer.replace(" ", "")


def _to_http(response: FhirResponse, base: str, *, with_body: bool) -> Response:
    headers: dict[str, str] = {}
    stored = response.stored
    if stored is not None:
        headers["ETag"] = stored.etag
        headers["Last-Modified"] = http_date(stored.last_updated)
    if response.location and response.status == 201:
        headers["Location"] = f"{base}/{response.location}"
    elif response.location and stored is not None and stored.method in ("PUT", "PATCH", "POST"):
        headers["Content-Location"] = f"{base}/{response.location}"
    body = response.body if with_body else None
    if body is None:
        return Response(status_code=response.status, headers=headers, media_type=FHIR_JSON)
    return _json_response(response.status, body, headers)


def _json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type=FHIR_JSON)
