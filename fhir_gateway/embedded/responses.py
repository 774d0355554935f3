"""Bundles the store answers with: search sets and histories, with their paging links."""

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from .repository import Stored
from .search import SearchPage
from .values import instant

_SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
_ALWAYS_KEPT = ("resourceType", "id", "meta")


def searchset(base: str, page: SearchPage) -> dict[str, Any]:
    query = page.query
    url = f"{base}/{query.resource_type}"
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if page.total is not None:
        bundle["total"] = page.total
    if page.search_id is not None:
        bundle["link"] = _stored_links(base, url, page)
    else:
        bundle["link"] = _links(url, page.raw_query, page.offset, query.count, len(page.matches), page.has_next)
    entries = [_search_entry(base, stored, "match", query.elements) for stored in page.matches]
    entries += [_search_entry(base, stored, "include", []) for stored in page.included]
    if entries:
        bundle["entry"] = entries
    return bundle


def history(
    base: str,
    url: str,
    raw_query: list[tuple[str, str]],
    versions: list[Stored],
    *,
    offset: int,
    count: int,
    has_next: bool,
    total: int | None,
) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = _links(url, raw_query, offset, count, len(versions), has_next)
    if versions:
        bundle["entry"] = [_history_entry(base, stored) for stored in versions]
    return bundle


def http_date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _links(
    url: str, raw_query: list[tuple[str, str]], offset: int, count: int, returned: int, has_next: bool
) -> list[dict[str, str]]:
    kept = [(name, value) for name, value in raw_query if name not in ("_offset", "_count")]

    def page(start: int) -> str:
        return f"{url}?{urlencode([*kept, ('_count', str(count)), ('_offset', str(start))])}"

    links = [{"relation": "self", "url": page(offset) if raw_query else url}]
    if has_next:
        links.append({"relation": "next", "url": page(offset + returned)})
    if offset > 0:
        links.append({"relation": "previous", "url": page(max(offset - count, 0))})
    return links


def _stored_links(base: str, url: str, page: SearchPage) -> list[dict[str, str]]:
    """Links that cut pages from the stored result list, as HAPI FHIR writes them."""
    count = page.query.count

    def cut(offset: int) -> str:
        query = [("_getpages", page.search_id), ("_getpagesoffset", str(offset)), ("_count", str(count))]
        return f"{base}?{urlencode([*query, ('_bundletype', 'searchset')])}"

    first = page.offset == 0
    links = [{"relation": "self", "url": f"{url}?{urlencode(page.raw_query)}" if first else cut(page.offset)}]
    if page.has_next:
        links.append({"relation": "next", "url": cut(page.offset + count)})
    if page.offset > 0:
        links.append({"relation": "previous", "url": cut(max(page.offset - count, 0))})
    return links


def _search_entry(base: str, stored: Stored, mode: str, elements: list[str]) -> dict[str, Any]:
    resource = stored.content or {}
    if elements:
        resource = _subset(resource, elements)
    return {
        "fullUrl": f"{base}/{stored.res_type}/{stored.res_id}",
        "resource": resource,
        "search": {"mode": mode},
    }


def _subset(resource: dict[str, Any], elements: list[str]) -> dict[str, Any]:
    kept = {key: value for key, value in resource.items() if key in _ALWAYS_KEPT or key in elements}
    meta = dict(kept.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), _SUBSETTED]
    kept["meta"] = meta
    return kept


_HISTORY_STATUS = {"POST": "201 Created", "PUT": "200 OK", "PATCH": "200 OK", "DELETE": "204 No Content"}


def _history_entry(base: str, stored: Stored) -> dict[str, Any]:
    entry: dict[str, Any] = {"fullUrl": f"{base}/{stored.res_type}/{stored.res_id}"}
    if stored.content is not None:
        entry["resource"] = stored.content
    entry["request"] = {
        "method": "POST" if stored.method == "POST" else stored.method,
        "url": stored.res_type if stored.method == "POST" else f"{stored.res_type}/{stored.res_id}",
    }
    entry["response"] = {
        "status": _HISTORY_STATUS.get(stored.method, "200 OK"),
        "etag": stored.etag,
        "lastModified": instant(stored.last_updated),
    }
    return entry
