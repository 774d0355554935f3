"""The search parameters of every R4 resource type, from the specification's definitions.

`definitions/search_parameters.json` is generated from the official R4 SearchParameter bundle
(`scripts/generate_fhir_definitions.py`); this module only reads it and compiles each
parameter's expressions once, on first use of a resource type.
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from .expressions import Expression, compile_expression, compile_relative, element_path

_DEFINITIONS = Path(__file__).parent / "definitions" / "search_parameters.json"


class ParamType(StrEnum):
    STRING = "string"
    TOKEN = "token"
    DATE = "date"
    REFERENCE = "reference"
    QUANTITY = "quantity"
    NUMBER = "number"
    URI = "uri"
    COMPOSITE = "composite"
    SPECIAL = "special"


@dataclass(frozen=True)
class Component:
    param: str
    expression: str


@dataclass(frozen=True)
class CompositeParts:
    """How a token$token or token$quantity composite is indexed: per element one of
    `elements` selects, the token and the second value its components select there."""

    second_type: ParamType
    # (the elements, the first component's expressions there, the second's)
    elements: tuple[tuple[Expression, tuple[Expression, ...], tuple[Expression, ...]], ...]


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: ParamType
    expressions: tuple[Expression, ...] = ()
    # Resource types a reference parameter may point at; empty means any.
    targets: tuple[str, ...] = ()
    components: tuple[Component, ...] = ()
    # Set for the composites the store indexes.
    parts: CompositeParts | None = None

    @property
    def roots(self) -> frozenset[str] | None:
        """The resource elements the parameter's values come from; None if it may read any."""
        roots: set[str] = set()
        for expression in self.expressions:
            if expression.roots is None:
                return None
            roots |= expression.roots
        return frozenset(roots)

    @property
    def inferred_target(self) -> str | None:
        """The one type a bare id names (`patient=123` -> Patient/123), if there is one."""
        if len(self.targets) == 1:
            return self.targets[0]
        resolved = {name for expression in self.expressions for name in expression.resolves_to}
        return next(iter(resolved)) if len(resolved) == 1 else None


# Answered from the resource table itself rather than index rows.
RESOURCE_COLUMNS = frozenset({"_id", "_lastUpdated"})


@cache
def _definitions() -> dict[str, Any]:
    return orjson.loads(_DEFINITIONS.read_bytes())


@cache
def params_for(resource_type: str) -> dict[str, SearchParam]:
    """Every parameter a search on `resource_type` accepts, by name (empty for unknown types)."""
    definitions = _definitions()
    own = definitions["resources"].get(resource_type)
    if own is None:
        return {}
    params = {}
    for name, definition in (*definitions["common"].items(), *own.items()):
        params[name] = SearchParam(
            name,
            ParamType(definition["type"]),
            tuple(compile_expression(text, resource_type) for text in definition["expressions"]),
            tuple(definition["targets"]),
            tuple(Component(part["param"], part["expression"]) for part in definition["components"]),
        )
    for name, param in params.items():
        if param.type is ParamType.COMPOSITE:
            params[name] = replace(param, parts=_composite_parts(resource_type, param, params))
    return params


def _composite_parts(resource_type: str, param: SearchParam, params: dict[str, SearchParam]) -> CompositeParts | None:
    kinds = [params[part.param].type if part.param in params else None for part in param.components]
    if len(kinds) != 2 or kinds[0] is not ParamType.TOKEN or kinds[1] not in (ParamType.TOKEN, ParamType.QUANTITY):
        return None
    elements = []
    for expression in param.expressions:
        context = element_path(expression.text, resource_type)
        if context is None:
            return None
        first = compile_relative(param.components[0].expression, context)
        second = compile_relative(param.components[1].expression, context)
        if not first or not second:
            return None
        elements.append((expression, first, second))
    return CompositeParts(kinds[1], tuple(elements))


@cache
def indexed_params(resource_type: str) -> tuple[tuple[SearchParam, frozenset[str] | None], ...]:
    """The parameters index rows are made for, each with the elements it reads (None: any)."""
    return tuple(
        (param, param.roots)
        for param in params_for(resource_type).values()
        if param.expressions
        and param.name not in RESOURCE_COLUMNS
        and param.type not in _NOT_INDEXED
        and (param.type is not ParamType.COMPOSITE or param.parts is not None)
    )


_NOT_INDEXED = (ParamType.SPECIAL,)


def types_with_param(name: str, candidates: tuple[str, ...] = ()) -> list[str]:
    """The resource types (of `candidates`, or all) that define a parameter `name`."""
    names = candidates or tuple(_definitions()["resources"])
    return [resource_type for resource_type in names if name in params_for(resource_type)]
