"""Conditional operations: the one place search criteria pick the resource a request means.

Clients write the criteria in several forms: `identifier=sys|1` (R4's `If-None-Exist`),
`Patient?identifier=sys|1` (HAPI's generic client, Synthea) or an absolute URL on this
server's base. Conditional create, update and delete, `ifNoneExist` in bundles and
conditional references (`"reference": "Practitioner?identifier=..."`) all match here.
"""

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from .indexing import parse_conditional_reference, references
from .outcomes import FhirStoreError, bad_request
from .repository import Repository
from .search import parse_criteria

_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def criteria_of(res_type: str, criteria: str, base: str) -> list[tuple[str, str]]:
    """The search parameters of conditional `criteria` on `res_type`, in any form sent."""
    text = criteria.strip()
    if _ABSOLUTE.match(text):
        url = urlsplit(text)
        own = urlsplit(base)
        if (url.scheme, url.netloc) != (own.scheme, own.netloc) or not url.path.startswith(own.path.rstrip("/") + "/"):
            raise bad_request(f"Conditional URL {text[:200]!r} is not on this server's base {base}")
        text = url.path[len(own.path.rstrip("/")) + 1 :] + "?" + url.query
    path, question, query = text.partition("?")
    if question:
        if path.strip("/") != res_type:
            raise bad_request(
                f"Conditional URL {text[:200]!r} names resource type {path.strip('/')!r}, not {res_type!r}"
            )
    else:
        query = path
    return parse_qsl(query, keep_blank_values=True)


def match_one(repo: Repository, res_type: str, criteria: str, base: str, *, lock: bool = True) -> str | None:
    """The id of the one `res_type` resource matching `criteria`; None for none, 412 for several.

    `lock` serialises the transactions matching the same criteria, so that two conditional
    creates cannot both find nothing.
    """
    pairs = criteria_of(res_type, criteria, base)
    if lock:
        repo.lock(f"{res_type}?{sorted(pairs)}")
    ids = repo.match(res_type, parse_criteria(res_type, pairs), 2)
    if len(ids) > 1:
        raise FhirStoreError.of(
            412, f"Failed to process conditional request: multiple {res_type} resources match {criteria[:200]!r}"
        )
    return ids[0] if ids else None


def resolve_references(repo: Repository, body: Any, base: str) -> None:
    """Point, in place, every conditional reference in `body` (a resource, contained ones
    included) at the one resource it matches: as HAPI FHIR does, in any create or update."""
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        return
    if b"?" not in orjson.dumps(body):
        return  # no conditional reference anywhere: nothing to walk (serialising is faster)
    resolved = repo.resolved_references
    for path, node in references(body, body["resourceType"], contained=True):
        reference = node["reference"]
        conditional = parse_conditional_reference(reference)
        if conditional is None:
            continue
        if reference not in resolved:
            resolved[reference] = resolve_reference(repo, *conditional, base, path)
        node["reference"] = resolved[reference]


def resolve_reference(repo: Repository, res_type: str, criteria: str, base: str, where: str) -> str:
    """`Type/id` of the one resource a conditional reference (`Type?criteria`) at `where` means."""
    try:
        matched = match_one(repo, res_type, criteria, base, lock=False)
    except FhirStoreError as error:
        if error.status == 412:
            raise FhirStoreError.of(
                412,
                f"Invalid conditional reference {res_type}?{criteria[:200]} at {where}: "
                f"it matches more than one {res_type}",
                expression=where,
            ) from None
        raise
    if matched is None:
        raise bad_request(
            f"Invalid conditional reference {res_type}?{criteria[:200]} at {where}: no {res_type} matches it",
            expression=where,
        )
    return f"{res_type}/{matched}"
