"""Resource validation at the store's edge, with fhir.resources' R4B models and R4's required codes.

The models check structure; the codes of R4's required bindings come from the
specification's own value sets, generated into definitions/required_codes.json
(scripts/generate_fhir_definitions.py).
"""

import re
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from typing import Any, NamedTuple

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel, ValidationError

from .indexing import unresolvable_references
from .outcomes import FhirStoreError, Issue, bad_request, not_found
from .resource_types import datatypes, resource_types

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


def validate(body: Any, expected_type: str | None = None, *, content_checked: bool = False) -> dict[str, Any]:
    """The body as a valid resource (of `expected_type` when given), or a 400 naming the path.

    `content_checked` says `check_content` passed on this body already (before the write
    transaction began); its references are still checked here, after they were resolved.
    """
    if not content_checked:
        check_content(body, expected_type)
    for path, reference in unresolvable_references(body):
        raise bad_request(
            f"Reference {reference!r} in path {path} is neither relative (Type/id) nor local (#id): "
            "this server resolves no other references",
            expression=path,
        )
    return body


def content_passes(body: Any, expected_type: str) -> bool:
    """Whether `check_content` accepts the body (checked ahead; a failure is found again, and
    reported, where the interaction validates in its own order)."""
    try:
        check_content(body, expected_type)
    except FhirStoreError:
        return False
    return True


def check_content(body: Any, expected_type: str | None = None) -> None:
    """Refuse a body that is not a valid resource, references left aside: the costly part of
    validation, which needs no database and so runs before a write transaction takes its lock."""
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
    problems += _strictness_issues(instance, body, resource_type, resource_type)
    if problems:
        raise FhirStoreError(400, problems)


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


class _Binding(NamedTuple):
    codes: list[str]  # in the specification's order, for the message
    allowed: frozenset[str]


class _RequiredCodes(NamedTuple):
    bindings: dict[str, _Binding]  # element path (`Questionnaire.item.type`) -> its codes
    content_references: dict[str, str]  # `Questionnaire.item.item` -> `Questionnaire.item`


@cache
def _required_codes() -> _RequiredCodes:
    table = orjson.loads((files(__package__) / "definitions" / "required_codes.json").read_bytes())
    # Bindings the specification cannot enumerate (MIME types, currencies, UCUM) are left
    # out on purpose: any code is taken there.
    bindings = {path: _Binding(codes, frozenset(codes)) for path, codes in table["bindings"].items()}
    return _RequiredCodes(bindings, table["content_references"])


def required_codes(element: str) -> list[str]:
    """The codes R4 allows for an element with a required binding (`CapabilityStatement.rest.interaction.code`),
    in the specification's order."""
    return list(_required_codes().bindings[element].codes)


@cache
def _element_root(model: type[BaseModel]) -> str | None:
    """The element path a value of this model starts afresh at: its type for a datatype or a
    (contained) resource, none for a backbone element, whose path goes on from its parent's."""
    kind = model.get_resource_type()  # type: ignore[attr-defined]
    return kind if kind in datatypes() or kind in resource_types() else None


_LISTED_CODES = 20


def _unknown_code(where: str, code: Any, binding: _Binding) -> Issue:
    codes = binding.codes
    if len(codes) <= _LISTED_CODES:
        expected = f"one of {codes}"
    else:
        expected = f"one of {len(codes)} codes: [{', '.join(map(repr, codes[:_LISTED_CODES]))}, ...]"
    return Issue(f"{where}: unknown code {code!r}, expected {expected}", where, "code-invalid")


class _Field(NamedTuple):
    name: str
    alias: str
    element: str  # the element definition's path (`Questionnaire.item.type`)
    binding: _Binding | None


@cache
def _fields(model: type[BaseModel], element: str) -> tuple[_Field, ...]:
    """The fields of a model standing for `element`, with their element paths and bindings.

    A choice element (`valueCode`) is `value[x]` in the definitions; a contentReference
    (`Questionnaire.item.item`) stands for the element it names (`Questionnaire.item`)."""
    required = _required_codes()
    fields = []
    for name, field in model.model_fields.items():
        choice = (field.json_schema_extra or {}).get("one_of_many")  # type: ignore[union-attr]
        alias = field.alias or name
        child = f"{element}.{choice}[x]" if choice else f"{element}.{alias}"
        child = required.content_references.get(child, child)
        fields.append(_Field(name, alias, child, required.bindings.get(child)))
    return tuple(fields)


def _strictness_issues(instance: BaseModel, data: dict[str, Any], path: str, element: str) -> Iterator[Issue]:
    """What the models let through but FHIR R4 forbids.

    The models coerce JSON types ("yes" becomes True) and do not enforce required
    bindings; walking the validated model beside the JSON it came from finds both.
    `path` names the place in the JSON, `element` the element definition it stands for.
    """
    for name, alias, child, binding in _fields(type(instance), element):
        if alias not in data:
            continue
        raw, value = data[alias], getattr(instance, name)
        repeated = isinstance(raw, list) and isinstance(value, list)
        # The model keeps list order and length, so items pair up one to one.
        pairs = zip(value, raw, strict=True) if repeated else [(value, raw)]
        for index, (item, raw_item) in enumerate(pairs):
            where = f"{path}.{alias}" + (f"[{index}]" if isinstance(raw, list) else "")
            if binding and isinstance(raw_item, str) and raw_item not in binding.allowed:
                yield _unknown_code(where, raw_item, binding)
            elif isinstance(item, bool) and not isinstance(raw_item, bool):
                yield Issue(f"{where}: must be a JSON boolean (true or false)", where, "structure")
            elif (
                isinstance(item, int)
                and not isinstance(item, bool)
                and (isinstance(raw_item, bool) or not isinstance(raw_item, int))
            ):
                yield Issue(f"{where}: must be a JSON integer", where, "structure")
            elif isinstance(item, BaseModel) and isinstance(raw_item, dict):
                yield from _strictness_issues(item, raw_item, where, _element_root(type(item)) or child)
