"""Resource validation at the store's edge, with fhir.resources' R4B models."""

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel, ValidationError

from .indexing import unresolvable_references
from .outcomes import FhirStoreError, Issue, bad_request, not_found
from .resource_types import resource_types

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@cache
def _model(resource_type: str) -> type[Resource] | None:
    if resource_type not in resource_types():
        return None
    model = get_fhir_model_class(resource_type)
    return model if issubclass(model, Resource) else None


def is_resource_type(resource_type: str) -> bool:
    return _model(resource_type) is not None


def require_resource_type(resource_type: str) -> None:
    if not is_resource_type(resource_type):
        raise not_found(f"Unknown resource type '{resource_type}'")


def require_valid_id(res_id: str) -> None:
    if not ID_PATTERN.match(res_id):
        raise bad_request(f"Invalid resource id {res_id!r}: ids are 1-64 characters of A-Z a-z 0-9 - .")


def validate(body: Any, expected_type: str | None = None) -> dict[str, Any]:
    """The body as a valid resource (of `expected_type` when given), or a 400 naming the path."""
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        raise bad_request("Request body is not a FHIR resource: a JSON object with a resourceType is required")
    resource_type = body["resourceType"]
    if expected_type and resource_type != expected_type:
        raise bad_request(
            f'Incorrect resource type found, expected "{expected_type}" but found "{resource_type}"',
            expression="resourceType",
        )
    model = _model(resource_type)
    if model is None:
        raise bad_request(f"Unknown resource type '{resource_type}'", expression="resourceType")
    try:
        instance = model.model_validate(body)
    except ValidationError as error:
        raise FhirStoreError(400, [_issue(resource_type, detail) for detail in error.errors()]) from None
    problems = list(_forbidden_json(body, resource_type))
    problems += _strictness_issues(instance, body, resource_type)
    if problems:
        raise FhirStoreError(400, problems)
    for path, reference in unresolvable_references(body):
        raise bad_request(
            f"Reference {reference!r} in path {path} is neither relative (Type/id) nor local (#id): "
            "this server resolves no other references",
            expression=path,
        )
    return body


def _issue(resource_type: str, detail: Any) -> Issue:
    path = resource_type
    for part in detail["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = detail["msg"].removeprefix("Value error, ")
    return Issue(f"{path}: {message}", path, "required" if detail["type"] == "missing" else "structure")


_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _forbidden_json(node: Any, path: str) -> Iterator[Issue]:
    """What FHIR JSON forbids and the models let through: control characters in strings (all
    but tab, carriage return and line feed), and properties whose value is null (only items of
    a primitive array may be null, beside their `_element` extensions)."""
    if isinstance(node, str):
        if _FORBIDDEN_CONTROL.search(node):
            yield Issue(f"{path}: strings may not contain control characters", path, "structure")
    elif isinstance(node, dict):
        for key, value in node.items():
            if value is None:
                yield Issue(f"{path}.{key}: null is not a value; leave the property out", f"{path}.{key}", "structure")
            else:
                yield from _forbidden_json(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _forbidden_json(item, f"{path}[{index}]")


def _strictness_issues(instance: BaseModel, data: dict[str, Any], path: str) -> Iterator[Issue]:
    """What the models let through but FHIR R4 forbids.

    The models coerce JSON types ("yes" becomes True) and do not enforce required
    bindings; walking the validated model beside the JSON it came from finds both.
    """
    for name, field in type(instance).model_fields.items():
        alias = field.alias or name
        if alias not in data:
            continue
        raw, value = data[alias], getattr(instance, name)
        allowed = (field.json_schema_extra or {}).get("enum_values")  # type: ignore[union-attr]
        repeated = isinstance(raw, list) and isinstance(value, list)
        # The model keeps list order and length, so items pair up one to one.
        pairs = zip(value, raw, strict=True) if repeated else [(value, raw)]
        for index, (item, raw_item) in enumerate(pairs):
            where = f"{path}.{alias}" + (f"[{index}]" if isinstance(raw, list) else "")
            if allowed and raw_item not in allowed:
                yield Issue(f"{where}: unknown code {raw_item!r}, expected one of {allowed}", where, "code-invalid")
            elif isinstance(item, bool) and not isinstance(raw_item, bool):
                yield Issue(f"{where}: must be a JSON boolean (true or false)", where, "structure")
            elif (
                isinstance(item, int)
                and not isinstance(item, bool)
                and (isinstance(raw_item, bool) or not isinstance(raw_item, int))
            ):
                yield Issue(f"{where}: must be a JSON integer", where, "structure")
            elif isinstance(item, BaseModel) and isinstance(raw_item, dict):
                yield from _strictness_issues(item, raw_item, where)
