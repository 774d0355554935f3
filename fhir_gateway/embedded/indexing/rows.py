"""Index rows for one resource: one kind of row per kind of search parameter, made from the
values each parameter's expressions select."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..search_parameters import CompositeParts, ParamType, SearchParam, indexed_params
from ..values import EARLIEST, LATEST, date_range, fold
from .references import find_links, parse_reference

# The version of the index rows `index_rows` makes. Raise it whenever they change for the same
# resource (what is indexed, how text is folded): a database indexed under another version is
# reindexed when the store opens it. 2: sort keys; folding shared with the name search.
# 3: every parameter of the R4 definitions, with quantity, number, uri, reference and
# composite rows.
INDEX_VERSION = 3

_TOKEN_LENGTH = 200


@dataclass
class IndexRows:
    strings: list[dict[str, Any]] = field(default_factory=list)
    sorts: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    dates: list[dict[str, Any]] = field(default_factory=list)
    references: list[dict[str, Any]] = field(default_factory=list)
    quantities: list[dict[str, Any]] = field(default_factory=list)
    uris: list[dict[str, Any]] = field(default_factory=list)
    composites: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)


def index_rows(resource: dict[str, Any], res_pk: int) -> IndexRows:
    resource_type = resource["resourceType"]
    rows = IndexRows()
    base = {"res_pk": res_pk, "res_type": resource_type}
    present = resource.keys()
    for param, roots in indexed_params(resource_type):
        if roots is not None and roots.isdisjoint(present):
            continue  # nothing to index: the elements it reads are absent
        kind = param.type
        if kind is ParamType.STRING:
            texts, shown = _strings(resource, param)
            rows.strings += [{**base, "param": param.name, "value": fold(text), "exact": text} for text in texts]
            if shown:
                key = fold(" ".join(shown))
                rows.sorts.append({**base, "param": param.name, "res_id": resource["id"], "value": key})
            continue
        values = _values(resource, param)
        if kind is ParamType.TOKEN:
            rows.tokens += [
                {**base, "param": param.name, "system": system, "code": code} for system, code in _tokens(values)
            ]
        elif kind is ParamType.DATE:
            rows.dates += [{**base, "param": param.name, "low": low, "high": high} for low, high in _dates(values)]
        elif kind is ParamType.REFERENCE:
            targets, identifiers = _references(values)
            rows.references += [
                {**base, "param": param.name, "target_type": target_type, "target_id": target_id}
                for target_type, target_id in targets
            ]
            # `subject:identifier=sys|value` searches the identifiers references carry.
            rows.tokens += [
                {**base, "param": f"{param.name}:identifier", "system": system, "code": code}
                for system, code in identifiers
            ]
        elif kind in (ParamType.QUANTITY, ParamType.NUMBER):
            rows.quantities += [{**base, "param": param.name, **quantity} for quantity in _quantities(values)]
        elif kind is ParamType.URI:
            rows.uris += [{**base, "param": param.name, "value": value} for value in values if isinstance(value, str)]
        elif kind is ParamType.COMPOSITE and param.parts is not None:
            rows.composites += [
                {**base, "param": param.name, **pair} for pair in _composite_pairs(resource, param.parts)
            ]
    rows.links = [
        {**base, "path": link.path, "target_type": link.target_type, "target_id": link.target_id}
        for link in find_links(resource)
    ]
    return rows


def _composite_pairs(resource: dict[str, Any], parts: CompositeParts) -> Iterator[dict[str, Any]]:
    """Per element, every token of the first part paired with every value of the second."""
    for elements, first, second in parts.elements:
        for element in elements.evaluate(resource):
            tokens = list(_tokens(value for expression in first for value in expression.evaluate(element)))
            seconds = [value for expression in second for value in expression.evaluate(element)]
            if parts.second_type is ParamType.TOKEN:
                others = [
                    {"value_system": system, "value_code": code, "unit": None, "low": None, "high": None}
                    for system, code in _tokens(seconds)
                ]
            else:
                others = [
                    {
                        "value_system": row["system"],
                        "value_code": row["code"],
                        "unit": row["unit"],
                        "low": row["low"],
                        "high": row["high"],
                    }
                    for row in _quantities(seconds)
                ]
            for system, code in tokens:
                for other in others:
                    yield {"system": system, "code": code, **other}


def _values(resource: dict[str, Any], param: SearchParam) -> list[Any]:
    return [value for expression in param.expressions for value in expression.evaluate(resource)]


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
    for expression in param.expressions:
        if not expression.steps:
            continue
        items = expression.steps[0]([resource])
        shown_item = _shown_item(items)
        for index, item in enumerate(items):
            texts = list(_texts(expression.evaluate_from([item], 1)))
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


def _tokens(values: Iterable[Any]) -> Iterator[tuple[str | None, str | None]]:
    for value in values:
        if isinstance(value, bool):
            yield None, "true" if value else "false"
        elif isinstance(value, str):
            yield None, value[:_TOKEN_LENGTH]
        elif isinstance(value, dict):
            codings = value.get("coding") if "coding" in value else [value]
            for coding in codings if isinstance(codings, list) else []:
                if not isinstance(coding, dict):
                    continue
                code = coding.get("code", coding.get("value"))
                if isinstance(code, str):
                    system = coding.get("system")
                    yield (system if isinstance(system, str) else None), code[:_TOKEN_LENGTH]


def _dates(values: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    for value in values:
        try:
            if isinstance(value, str):
                yield date_range(value)
            elif isinstance(value, dict) and ("start" in value or "end" in value):
                low = date_range(value["start"])[0] if "start" in value else EARLIEST
                high = date_range(value["end"])[1] if "end" in value else LATEST
                yield low, high
            elif isinstance(value, dict) and isinstance(value.get("event"), list):
                # A Timing: each of its events.
                yield from _dates(value["event"])
        except (ValueError, TypeError):
            # Validation already refused malformed dates; anything left is not searchable.
            continue


def _references(values: Iterable[Any]) -> tuple[list[tuple[str, str]], list[tuple[str | None, str]]]:
    targets: list[tuple[str, str]] = []
    identifiers: list[tuple[str | None, str]] = []
    for value in values:
        if not isinstance(value, dict):
            continue
        reference = value.get("reference")
        parsed = parse_reference(reference) if isinstance(reference, str) else None
        if parsed:
            targets.append(parsed)
        identifier = value.get("identifier")
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            system = identifier.get("system")
            identifiers.append((system if isinstance(system, str) else None, identifier["value"][:_TOKEN_LENGTH]))
    return targets, identifiers


def _quantities(values: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Quantity and number rows: the value range each value covers, with its unit."""
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            yield _quantity_row(value, value)
        elif isinstance(value, dict) and ("low" in value or "high" in value):
            low, high = value.get("low", {}), value.get("high", {})
            unit_of = low if "value" in low else high
            yield _quantity_row(low.get("value"), high.get("value"), unit_of)
        elif isinstance(value, dict) and "value" in value:
            yield _quantity_row(value["value"], value["value"], value)


def _quantity_row(low: Any, high: Any, unit_of: dict[str, Any] | None = None) -> dict[str, Any]:
    unit_of = unit_of or {}
    return {
        "system": unit_of.get("system"),
        "code": _short(unit_of.get("code", unit_of.get("currency"))),
        "unit": _short(unit_of.get("unit")),
        "low": _number(low, float("-inf")),
        "high": _number(high, float("inf")),
    }


def _number(value: Any, missing: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return missing
    return float(value)


def _short(text: Any) -> str | None:
    return text[:_TOKEN_LENGTH] if isinstance(text, str) else None
