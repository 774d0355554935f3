"""What every route of the simplified API holds to, whatever its slice: a query parameter the
schema declares single-valued is given once, a JSON body comes as JSON, and every method a
path serves is named in `Allow`.

The OpenAPI schema is the contract, so these rules read it: which methods each path
serves, and which query parameters take several values.
"""

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from starlette.routing import compile_path

_JSON_TYPES = ("application/json",)


@dataclass(frozen=True)
class _Path:
    pattern: re.Pattern[str]
    # Method (upper case) -> the query parameters it takes several values of.
    repeatable: dict[str, frozenset[str]]


async def refuse_repeated_query_parameters(request: Request) -> None:
    """422 for a query parameter given more than once where the route takes one value.

    Starlette would silently keep the last (`page=1&page=2` reads as page 2), which hides a
    client's mistake.
    """
    counts = Counter(name for name, _ in request.query_params.multi_items())
    if all(count == 1 for count in counts.values()):
        return
    repeatable: frozenset[str] = frozenset()
    for path in _paths(request.app):
        if path.pattern.match(request.url.path):
            repeatable = path.repeatable.get(request.method, frozenset())
            break
    repeated = [name for name, count in counts.items() if count > 1 and name not in repeatable]
    if repeated:
        raise RequestValidationError(
            [
                {"type": "repeated_parameter", "loc": ("query", name), "msg": "is given more than once; give it once"}
                for name in repeated
            ]
        )


async def require_json_body(request: Request) -> None:
    """415 for a body sent as anything but JSON (a missing Content-Type is read as JSON)."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"The body must be JSON (Content-Type application/json), not {media_type or 'an empty type'!r}.",
        )


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the schema says `path` is served with, and OPTIONS ([] when no route has it)."""
    methods = {method for known in _paths(app) if known.pattern.match(path) for method in known.repeatable}
    return sorted(methods | {"OPTIONS"}) if methods else []


def _paths(app: FastAPI) -> list[_Path]:
    known: list[_Path] | None = getattr(app.state, "schema_paths", None)
    if known is None:
        known = [
            _Path(
                pattern=compile_path(template)[0],
                repeatable={method.upper(): _array_parameters(operation) for method, operation in operations.items()},
            )
            for template, operations in app.openapi().get("paths", {}).items()
        ]
        app.state.schema_paths = known
    return known


def _array_parameters(operation: dict[str, Any]) -> frozenset[str]:
    return frozenset(
        parameter["name"]
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "query" and _is_array(parameter.get("schema", {}))
    )


def _is_array(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_array(option) for option in schema.get("anyOf", []))
