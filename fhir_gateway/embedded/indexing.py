"""Index rows for one resource: what its search parameters hold, and every reference in it."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .search_parameters import ParamType, SearchParam, params_for
from .values import EARLIEST, LATEST, date_range, fold

# The version of the index rows `index_rows` makes. Raise it whenever they change for the same
# resource (what is indexed, how text is folded): a database indexed under another version is
# reindexed when the store opens it. 2: sort keys; folding shared with the name search.
INDEX_VERSION = 2

_RELATIVE_REFERENCE = re.compile(
    r"^(?P<type>[A-Z][A-Za-z]{1,63})/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)


@dataclass
class IndexRows:
    strings: list[dict[str, Any]] = field(default_factory=list)
    sorts: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    dates: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Link:
    path: str
    target_type: str
    target_id: str


def parse_reference(reference: str) -> tuple[str, str] | None:
    """(type, id) of a relative literal reference such as `Patient/1`, else None."""
    match = _RELATIVE_REFERENCE.match(reference)
    return (match["type"], match["id"]) if match else None


def find_links(resource: dict[str, Any]) -> list[Link]:
    """Every relative literal reference in the resource (contained resources excluded)."""
    links = []
    for path, node in _references(resource, resource["resourceType"]):
        parsed = parse_reference(node["reference"])
        if parsed:
            links.append(Link(path, *parsed))
    return links


def unresolvable_references(resource: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, reference) for references other than relative (`Patient/1`) or local (`#id`).

    `urn:` references must have been resolved inside a bundle, and absolute URLs point
    outside this server, which, like HAPI FHIR with `allow_external_references: false`,
    does not accept them.
    """
    for path, node in _references(resource, resource["resourceType"]):
        reference = node["reference"]
        if not (reference.startswith("#") or parse_reference(reference)):
            yield path, reference


def rewrite_references(node: Any, mapping: dict[str, str]) -> None:
    """Replace, in place, every reference found in `mapping` (urn:uuid -> Type/id)."""
    if isinstance(node, dict):
        reference = node.get("reference")
        if isinstance(reference, str) and reference in mapping:
            node["reference"] = mapping[reference]
        for value in node.values():
            rewrite_references(value, mapping)
    elif isinstance(node, list):
        for item in node:
            rewrite_references(item, mapping)


def index_rows(resource: dict[str, Any], res_pk: int) -> IndexRows:
    resource_type = resource["resourceType"]
    rows = IndexRows()
    base = {"res_pk": res_pk, "res_type": resource_type}
    for param in params_for(resource_type).values():
        if param.type is ParamType.STRING:
            texts, shown = _strings(resource, param)
            for text in texts:
                rows.strings.append({**base, "param": param.name, "value": fold(text), "exact": text})
            if shown:
                key = fold(" ".join(shown))
                rows.sorts.append({**base, "param": param.name, "res_id": resource["id"], "value": key})
        elif param.type is ParamType.TOKEN:
            for system, code in _tokens(resource, param):
                rows.tokens.append({**base, "param": param.name, "system": system, "code": code})
        elif param.type is ParamType.DATE:
            for low, high in _dates(resource, param):
                rows.dates.append({**base, "param": param.name, "low": low, "high": high})
    rows.links = [
        {**base, "path": link.path, "target_type": link.target_type, "target_id": link.target_id}
        for link in find_links(resource)
    ]
    return rows


def _strings(resource: dict[str, Any], param: SearchParam) -> tuple[list[str], list[str]]:
    """Every text the string parameter `param` holds in `resource`, and the texts it sorts by.

    A string parameter sorts by its values in document order, folded and joined by spaces, as
    the element reads. Of a repeating complex element (names, addresses) only the item a
    reader is shown counts: the first marked `use: official`, else the first. So a Patient
    sorts on `given` by the given names of its official name, first given name first
    ("Christian Adrian" after "Bob", before "Zachary"), and descending is the reverse of that.
    """
    every: list[str] = []
    shown: list[str] = []
    for path in param.paths:
        root, _, rest = path.partition(".")
        items = element_values(resource, root)
        shown_item = _shown_item(items)
        for index, item in enumerate(items):
            if rest and not isinstance(item, dict):
                continue  # nothing to descend into
            texts = list(_texts(element_values(item, rest) if rest else [item]))
            every += texts
            if shown_item is None or index == shown_item:
                shown += texts
    return every, shown


def _shown_item(items: list[Any]) -> int | None:
    """The position of the item of a repeating complex element a reader is shown; None for
    primitive items, which all count."""
    objects = [index for index, item in enumerate(items) if isinstance(item, dict)]
    if not objects:
        return None
    return next((index for index in objects if items[index].get("use") == "official"), objects[0])


def element_values(resource: dict[str, Any], path: str) -> list[Any]:
    nodes: list[Any] = [resource]
    for name, condition in _segments(path):
        following: list[Any] = []
        for node in nodes:
            if not isinstance(node, dict) or name not in node:
                continue
            value = node[name]
            items = value if isinstance(value, list) else [value]
            if condition:
                key, wanted = condition
                items = [item for item in items if isinstance(item, dict) and item.get(key) == wanted]
            following.extend(items)
        nodes = following
    return nodes


@cache
def _segments(path: str) -> tuple[tuple[str, tuple[str, str] | None], ...]:
    segments = []
    for segment in path.split("."):
        name, _, condition = segment.partition("[")
        parsed = tuple(condition.rstrip("]").split("=", 1)) if condition else None
        segments.append((name, parsed))
    return tuple(segments)  # type: ignore[return-value]


def _values(resource: dict[str, Any], param: SearchParam) -> Iterator[Any]:
    for path in param.paths:
        yield from element_values(resource, path)


_NAME_PARTS = ("family", "given", "prefix", "suffix", "text")
_ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country", "text")


def _texts(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for part in (*_NAME_PARTS, *_ADDRESS_PARTS):
                item = value.get(part)
                for text in item if isinstance(item, list) else [item]:
                    if isinstance(text, str):
                        yield text


def _tokens(resource: dict[str, Any], param: SearchParam) -> Iterator[tuple[str | None, str | None]]:
    for value in _values(resource, param):
        if isinstance(value, bool):
            yield None, "true" if value else "false"
        elif isinstance(value, str):
            yield None, value[:200]
        elif isinstance(value, dict):
            codings = value.get("coding") if "coding" in value else [value]
            for coding in codings:
                code = coding.get("code", coding.get("value"))
                if isinstance(code, str):
                    yield coding.get("system"), code[:200]


def _dates(resource: dict[str, Any], param: SearchParam) -> Iterator[tuple[Any, Any]]:
    for value in _values(resource, param):
        try:
            if isinstance(value, str):
                yield date_range(value)
            elif isinstance(value, dict) and ("start" in value or "end" in value):
                low = date_range(value["start"])[0] if "start" in value else EARLIEST
                high = date_range(value["end"])[1] if "end" in value else LATEST
                yield low, high
        except ValueError:
            # Validation already refused malformed dates; anything left is not searchable.
            continue


def _references(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield path, node
        for key, value in node.items():
            if key != "contained":
                yield from _references(value, f"{path}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _references(item, path)
