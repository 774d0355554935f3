"""The references a resource holds: literal (`Patient/1`), local (`#id`), placeholders
(`urn:uuid:...`) and conditional (`Patient?identifier=...`)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_RELATIVE_REFERENCE = re.compile(
    r"^(?P<type>[A-Z][A-Za-z]{1,63})/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)
_CONDITIONAL_REFERENCE = re.compile(r"^(?P<type>[A-Z][A-Za-z]{1,63})\?(?P<criteria>.+)$", re.DOTALL)


@dataclass(frozen=True)
class Link:
    path: str
    target_type: str
    target_id: str


def parse_reference(reference: str) -> tuple[str, str] | None:
    """(type, id) of a relative literal reference such as `Patient/1`, else None."""
    match = _RELATIVE_REFERENCE.match(reference)
    return (match["type"], match["id"]) if match else None


def parse_conditional_reference(reference: str) -> tuple[str, str] | None:
    """(type, criteria) of a conditional reference such as `Patient?identifier=x|1`, else None."""
    match = _CONDITIONAL_REFERENCE.match(reference)
    return (match["type"], match["criteria"]) if match else None


def find_links(resource: dict[str, Any]) -> list[Link]:
    """Every relative literal reference in the resource (contained resources excluded)."""
    links = []
    for path, node in references(resource, resource["resourceType"]):
        parsed = parse_reference(node["reference"])
        if parsed:
            links.append(Link(path, *parsed))
    return links


def unresolvable_references(resource: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, reference) for references other than relative (`Patient/1`) or local (`#id`).

    `urn:` and conditional references must have been resolved inside a bundle, and absolute
    URLs point outside this server, which, like HAPI FHIR with `allow_external_references:
    false`, does not accept them.
    """
    for path, node in references(resource, resource["resourceType"]):
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


def references(node: Any, path: str, *, contained: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, Reference) for every Reference element with a `reference`; inside contained
    resources too if `contained`."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield path, node
        for key, value in node.items():
            if key != "contained":
                yield from references(value, f"{path}.{key}", contained=contained)
            elif contained and isinstance(value, list):
                for index, item in enumerate(value):
                    yield from references(item, f"{path}.contained[{index}]", contained=True)
    elif isinstance(node, list):
        for item in node:
            yield from references(item, path, contained=contained)
