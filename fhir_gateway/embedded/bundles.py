"""Transaction and batch bundles, each entry sent through the same interactions as a request.

A transaction runs every entry in one database transaction (all or nothing), in the order
the specification prescribes: DELETE, POST, PUT/PATCH, then GET. `urn:uuid:` fullUrls of
created resources get their ids reserved first, and every reference to them is rewritten.
Conditional references (`Practitioner?identifier=...`, as Synthea writes them) are resolved by
each entry's interaction, as for the same request sent alone.
"""

import base64
from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from .conditional import match_one
from .indexing import rewrite_references
from .interactions import WRITE_METHODS, dispatch
from .outcomes import FhirStoreError, bad_request
from .repository import Repository
from .requests import FhirRequest, FhirResponse
from .storage import new_id
from .validation import content_passes
from .values import instant

_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}

# Runs a function in a fresh database transaction that commits when it returns.
InTransaction = Callable[[Callable[[Repository], FhirResponse]], FhirResponse]


def bundle_type(body: Any) -> str:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise bad_request("POST to the server base needs a Bundle of type transaction or batch")
    kind = body.get("type")
    if kind not in ("transaction", "batch"):
        raise bad_request(f"Unable to process a bundle of type {kind!r}: only transaction and batch are accepted")
    return kind


def checked_entries(body: dict[str, Any]) -> frozenset[int]:
    """The entries whose resource passes `check_content`: checked before the write transaction
    takes its lock, so that validation, the costliest part of a write, runs beside other
    writers. An entry that fails is left to fail where it runs, in its turn."""
    checked = set()
    for index, entry in enumerate(_entries(body)):
        if _content_passes(entry):
            checked.add(index)
    return frozenset(checked)


def _content_passes(entry: dict[str, Any]) -> bool:
    request, resource = entry.get("request"), entry.get("resource")
    if not isinstance(request, dict) or not isinstance(request.get("url"), str) or not isinstance(resource, dict):
        return False
    if str(request.get("method")).upper() not in ("POST", "PUT"):
        return False
    return content_passes(resource, urlsplit(request["url"]).path.strip("/").split("/")[0])


def transaction(
    repo: Repository,
    body: dict[str, Any],
    base: str,
    *,
    representation: bool,
    checked: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    """Every entry inside `repo`'s transaction; any failure raises and so rolls all back.
    `checked` names the entries whose content `checked_entries` found valid."""
    requests = [
        _entry_request(index, entry, content_checked=index in checked) for index, entry in enumerate(_entries(body))
    ]
    requests = _resolve_placeholders(repo, requests, _entries(body), base)
    responses: list[FhirResponse | None] = [None] * len(requests)
    for index in sorted(range(len(requests)), key=lambda i: _ORDER.get(requests[i].method, 4)):
        try:
            responses[index] = dispatch(repo, requests[index], base)
        except FhirStoreError as error:
            raise _at_entry(error, index, requests[index]) from None
    repo.verify()
    answered = [(request, response) for request, response in zip(requests, responses, strict=True) if response]
    return _response_bundle("transaction-response", answered, base, representation=representation)


def batch(run: InTransaction, body: dict[str, Any], base: str, *, representation: bool) -> dict[str, Any]:
    """Each entry in its own transaction; a failed entry answers with its OperationOutcome."""
    answered: list[tuple[FhirRequest | None, FhirResponse]] = []
    for index, entry in enumerate(_entries(body)):
        request = None
        try:
            request = _entry_request(index, entry, content_checked=_content_passes(entry))
            answered.append((request, run(lambda repo, request=request: _checked(repo, request, base))))
        except FhirStoreError as error:
            answered.append((request, FhirResponse(error.status, error.outcome())))
    return _response_bundle("batch-response", answered, base, representation=representation)


def _checked(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    response = dispatch(repo, request, base)
    repo.verify()
    return response


def _entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    entries = body.get("entry", [])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise bad_request("Bundle.entry must be a list of entries", expression="Bundle.entry")
    return entries


def _entry_request(index: int, entry: dict[str, Any], *, content_checked: bool = False) -> FhirRequest:
    request = entry.get("request")
    where = f"Bundle.entry[{index}].request"
    if (
        not isinstance(request, dict)
        or not isinstance(request.get("method"), str)
        or not isinstance(request.get("url"), str)
    ):
        raise bad_request(f"{where} needs a method and a url", expression=where)
    method = request["method"].upper()
    if method not in (*WRITE_METHODS, "GET", "HEAD"):
        raise bad_request(f"{where}.method {method!r} is not supported", expression=f"{where}.method")
    url = urlsplit(request["url"])
    # A copy (through JSON: several times faster than deepcopy), as references get rewritten.
    body = orjson.loads(orjson.dumps(entry["resource"])) if "resource" in entry else None
    if method == "PATCH":
        body = _patch_document(index, body)
    elif method in ("POST", "PUT") and body is None:
        raise bad_request(f"Bundle.entry[{index}] has no resource to {method}", expression=f"Bundle.entry[{index}]")
    return FhirRequest(
        method="GET" if method == "HEAD" else method,
        path=url.path.strip("/"),
        query=parse_qsl(url.query, keep_blank_values=True),
        body=body,
        if_match=request.get("ifMatch"),
        if_none_exist=request.get("ifNoneExist"),
        content_checked=content_checked,
    )


def _patch_document(index: int, body: Any) -> Any:
    """A PATCH entry carries its JSON Patch as a Binary resource."""
    if not isinstance(body, dict) or body.get("resourceType") != "Binary" or "data" not in body:
        raise bad_request(
            f"Bundle.entry[{index}] PATCH needs a Binary resource holding a JSON Patch",
            expression=f"Bundle.entry[{index}].resource",
        )
    try:
        return orjson.loads(base64.b64decode(body["data"]))
    except (ValueError, orjson.JSONDecodeError):
        raise bad_request(f"Bundle.entry[{index}] Binary.data is not a base64 JSON Patch") from None


def _resolve_placeholders(
    repo: Repository, requests: list[FhirRequest], entries: list[dict[str, Any]], base: str
) -> list[FhirRequest]:
    """Reserve ids for created resources and point every `urn:` reference at them.

    A conditional create that already has its match points its references at that match.
    """
    mapping: dict[str, str] = {}
    reserved: dict[int, str] = {}
    for index, (request, entry) in enumerate(zip(requests, entries, strict=True)):
        full_url = entry.get("fullUrl")
        if not isinstance(full_url, str) or not full_url.startswith("urn:"):
            continue
        segments = request.segments
        if request.method == "POST" and len(segments) == 1:
            reserved[index] = new_id()
            matched = _single_match(repo, request, base)
            mapping[full_url] = f"{segments[0]}/{matched or reserved[index]}"
        elif request.method == "PUT" and len(segments) == 2:
            mapping[full_url] = "/".join(segments)
    for request in requests:
        if mapping and request.body is not None:
            rewrite_references(request.body, mapping)
    return [_with_id(request, reserved.get(index)) for index, request in enumerate(requests)]


def _single_match(repo: Repository, request: FhirRequest, base: str) -> str | None:
    if not request.if_none_exist:
        return None
    try:
        return match_one(repo, request.segments[0], request.if_none_exist, base)
    except FhirStoreError as error:
        if error.status == 412:
            return None  # the entry itself answers the 412 when it runs
        raise


def _with_id(request: FhirRequest, assigned_id: str | None) -> FhirRequest:
    return request if assigned_id is None else replace(request, assigned_id=assigned_id)


def _at_entry(error: FhirStoreError, index: int, request: FhirRequest) -> FhirStoreError:
    for issue in error.issues:
        issue.diagnostics = f"Transaction failed at Bundle.entry[{index}] ({request.method} {request.path}): " + (
            issue.diagnostics
        )
    return error


def _response_bundle(
    kind: str, answered: list[tuple[FhirRequest | None, FhirResponse]], base: str, *, representation: bool
) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [_response_entry(request, response, base, representation) for request, response in answered],
    }


def _response_entry(
    request: FhirRequest | None, response: FhirResponse, base: str, representation: bool
) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    stored = response.stored
    if stored is not None and not stored.deleted:
        entry["fullUrl"] = f"{base}/{stored.res_type}/{stored.res_id}"
    is_read = request is not None and request.method == "GET"
    if response.status < 400 and (is_read or (representation and stored is not None and not stored.deleted)):
        entry["resource"] = response.body
    outcome: dict[str, Any] = {"status": f"{response.status} {HTTPStatus(response.status).phrase}"}
    if response.location:
        outcome["location"] = response.location
    if stored is not None:
        outcome["etag"] = stored.etag
        outcome["lastModified"] = instant(stored.last_updated)
    if response.status >= 400:
        outcome["outcome"] = response.body
    entry["response"] = outcome
    return entry
