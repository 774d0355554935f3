"""Search parameter expressions, compiled once into steps over resource JSON.

The R4 definitions write almost every expression in a few shapes: a path
(`Patient.name.given`), a filter (`.where(system='phone')`), a type test on a reference
(`.where(resolve() is Patient)`), a choice narrowed to one type (`Observation.value as Quantity`,
`.as(Age)`, `.ofType(Period)`) and a first item (`entry[0]`). Those compile to plain steps that
walk the JSON; a choice element (`Observation.effective`) expands to its concrete keys
(`effectiveDateTime`, `effectivePeriod`, ...) from the specification's own table of choice
paths, which fhirpathpy ships. Any other expression (there is one in R4:
`Patient.deceased.exists() and Patient.deceased != false`) is evaluated by fhirpathpy itself.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import orjson
from fhirpathpy import compile as compile_fhirpath
from fhirpathpy.models import models

_MODEL = models["r4"]
_CHOICES: dict[str, list[str]] = _MODEL["choiceTypePaths"]
_TYPES: dict[str, str] = _MODEL["path2Type"]
_ELSEWHERE: dict[str, str] = _MODEL["pathsDefinedElsewhere"]

_ROOTS = ("Resource", "DomainResource")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_WHERE_EQUALS = re.compile(r"^where\((?P<key>[A-Za-z]+)\s*=\s*'(?P<value>[^']*)'\)$")
_WHERE_RESOLVE = re.compile(r"^where\(resolve\(\) is (?P<type>[A-Z][A-Za-z]+)\)$")
_TYPE_FUNCTION = re.compile(r"^(?:as|ofType)\((?P<type>[A-Za-z]+)\)$")
_INDEXED = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9]*)\[(?P<index>\d+)\]$")
_AS_OPERATOR = re.compile(r"^(?P<path>.+?)\s+as\s+(?P<type>[A-Za-z]+)$")

Nodes = list[Any]
Step = Callable[[Nodes], Nodes]


@dataclass(frozen=True)
class Expression:
    """One compiled expression: `evaluate(resource)` gives the values it selects, in document
    order. `evaluate_from` runs its steps from a later one on, which sorting needs (it keeps
    one item of a repeating element, then follows the rest)."""

    text: str
    steps: tuple[Step, ...]
    # Reference type tests (`where(resolve() is Patient)`) narrow reference values; a
    # reference parameter's rows keep only targets of these types.
    resolves_to: frozenset[str] = frozenset()

    @property
    def roots(self) -> frozenset[str] | None:
        """The resource's own elements the expression starts from; None if it may read any."""
        first = self.steps[0] if self.steps else None
        if isinstance(first, _Child):
            return frozenset({first.name})
        if isinstance(first, _Choice):
            return frozenset(first.keys)
        return None

    def evaluate(self, resource: dict[str, Any]) -> Nodes:
        return self.evaluate_from([resource], 0)

    def evaluate_from(self, nodes: Nodes, start: int) -> Nodes:
        for step in self.steps[start:]:
            if not nodes:
                break
            nodes = step(nodes)
        return nodes


class _Fallback:
    """An expression fhirpathpy evaluates (compiled once).

    It reads only the resource's elements the expression names, so it runs on those alone,
    and answers from a cache when they are as before: most resources lack them or share
    them (every living patient's `deceased` is absent), and fhirpathpy takes a hundred times
    longer than a compiled path.
    """

    def __init__(self, text: str, resource_type: str) -> None:
        self._evaluate = compile_fhirpath(text, model=_MODEL)
        self._names = tuple(sorted(set(re.findall(rf"\b{resource_type}\.([a-z][A-Za-z0-9]*)", text))))
        self._cached = lru_cache(maxsize=1024)(self._on_elements)

    def __call__(self, nodes: Nodes) -> Nodes:
        found: Nodes = []
        for node in nodes:
            if not isinstance(node, dict) or not self._names:
                found += self._evaluate(node)
                continue
            elements = {key: value for key, value in node.items() if _names_element(key, self._names)}
            key = orjson.dumps(elements, option=orjson.OPT_SORT_KEYS)
            found += self._cached(node.get("resourceType"), key)
        return found

    def _on_elements(self, resource_type: str | None, elements: bytes) -> Nodes:
        return list(self._evaluate({"resourceType": resource_type, **orjson.loads(elements)}))


def _names_element(key: str, names: tuple[str, ...]) -> bool:
    """Whether `key` is one of `names` or a choice of one (`deceasedBoolean` of `deceased`)."""
    return any(key == name or (key.startswith(name) and key[len(name) : len(name) + 1].isupper()) for name in names)


@cache
def compile_expression(text: str, resource_type: str) -> Expression:
    """`text` (one part of a parameter's expression, rooted at `resource_type`) compiled."""
    try:
        steps, resolves = _compile(text.strip(), resource_type)
    except _NotCompiled:
        return Expression(text, (_Fallback(text, resource_type),))
    return Expression(text, tuple(steps), frozenset(resolves))


@cache
def compile_relative(text: str, context: str) -> tuple[Expression, ...]:
    """A composite component's expression (`value.as(Quantity) | value.as(Range)`), relative
    to the elements at `context` (an element path such as `Observation.component`)."""
    compiled = []
    for part in _union_parts(text):
        try:
            steps, resolves, _ = _compile_path(_segments(_unwrapped(part)), None, context)
        except _NotCompiled:
            return ()
        compiled.append(Expression(part, tuple(steps), frozenset(resolves)))
    return tuple(compiled)


def element_path(text: str, resource_type: str) -> str | None:
    """The element path `text` (a plain path from the resource) selects; None if not plain."""
    try:
        _, _, path = _compile_path(_segments(_unwrapped(text)), resource_type)
    except _NotCompiled:
        return None
    return path


class _NotCompiled(Exception):
    pass


def _compile(text: str, resource_type: str) -> tuple[list[Step], list[str]]:
    text = _unwrapped(text)
    operator = _AS_OPERATOR.match(text)
    if operator and _balanced(operator["path"]):
        steps, resolves, path = _compile_path(_segments(operator["path"]), resource_type)
        return _narrowed(steps, path, operator["type"]), resolves
    if text.startswith("("):
        # `(Observation.value as CodeableConcept).text`: a narrowed choice, then a path on.
        close = _closing(text)
        inner, rest = text[1:close], text[close + 1 :]
        if not rest.startswith("."):
            raise _NotCompiled(text)
        steps, resolves = _compile(inner, resource_type)
        inner_path = _typed_path(inner, resource_type)
        more, more_resolves, _ = _compile_path(_segments(rest[1:]), None, inner_path)
        return steps + more, resolves + more_resolves
    steps, resolves, _ = _compile_path(_segments(text), resource_type)
    return steps, resolves


def _compile_path(
    segments: list[str], resource_type: str | None, path: str | None = None
) -> tuple[list[Step], list[str], str]:
    """Steps for dotted `segments`; `path` tracks the element path in the specification's
    terms (restarting at a datatype's name), to know which elements are choices."""
    if resource_type is not None:
        if not segments or segments[0] not in (resource_type, *_ROOTS):
            raise _NotCompiled(".".join(segments))
        segments, path = segments[1:], resource_type
    assert path is not None
    steps: list[Step] = []
    resolves: list[str] = []
    for segment in segments:
        if _NAME.match(segment):
            path = _child_path(path, segment)
            steps.append(_child_step(segment, path))
        elif indexed := _INDEXED.match(segment):
            path = _child_path(path, indexed["name"])
            steps += [_child_step(indexed["name"], path), _item_step(int(indexed["index"]))]
        elif where := _WHERE_EQUALS.match(segment):
            steps.append(_where_step(where["key"], where["value"]))
        elif resolve := _WHERE_RESOLVE.match(segment):
            steps.append(_reference_type_step(resolve["type"]))
            resolves.append(resolve["type"])
        elif typed := _TYPE_FUNCTION.match(segment):
            steps = _narrowed(steps, path, typed["type"])
        else:
            raise _NotCompiled(segment)
    return steps, resolves, path


def _child_path(path: str, name: str) -> str:
    element = f"{path}.{name}"
    element = _ELSEWHERE.get(element, element)
    # A complex datatype's elements are defined on the datatype: restart the path there.
    return _TYPES.get(element, element)


def _typed_path(text: str, resource_type: str) -> str:
    operator = _AS_OPERATOR.match(_unwrapped(text))
    if not operator:
        raise _NotCompiled(text)
    _, _, path = _compile_path(_segments(operator["path"]), resource_type)
    return operator["type"][0].upper() + operator["type"][1:]


def _child_step(name: str, path: str) -> Step:
    choices = _CHOICES.get(path)
    if choices is None:
        return _Child(name)
    return _Choice(name, tuple(name + choice for choice in choices))


def _narrowed(steps: list[Step], path: str, type_name: str) -> list[Step]:
    """The last step, a choice element, kept to its alternative of `type_name`."""
    if not steps or not isinstance(steps[-1], _Choice):
        raise _NotCompiled(type_name)
    wanted = type_name[0].upper() + type_name[1:]
    choice = steps[-1]
    key = choice.name + wanted
    if key not in choice.keys:
        raise _NotCompiled(type_name)
    return [*steps[:-1], _Choice(choice.name, (key,))]


class _Child:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, nodes: Nodes) -> Nodes:
        found: Nodes = []
        for node in nodes:
            if isinstance(node, dict) and self.name in node:
                value = node[self.name]
                if isinstance(value, list):
                    found.extend(value)
                else:
                    found.append(value)
        return found


class _Choice:
    def __init__(self, name: str, keys: tuple[str, ...]) -> None:
        self.name = name
        self.keys = keys

    def __call__(self, nodes: Nodes) -> Nodes:
        found: Nodes = []
        for node in nodes:
            if not isinstance(node, dict):
                continue
            for key in self.keys:
                if key in node:
                    value = node[key]
                    found.extend(value if isinstance(value, list) else [value])
        return found


def _item_step(index: int) -> Step:
    return lambda nodes: nodes[index : index + 1]


def _where_step(key: str, value: str) -> Step:
    return lambda nodes: [node for node in nodes if isinstance(node, dict) and node.get(key) == value]


def _reference_type_step(type_name: str) -> Step:
    prefix = f"{type_name}/"

    def step(nodes: Nodes) -> Nodes:
        kept = []
        for node in nodes:
            reference = node.get("reference") if isinstance(node, dict) else None
            if isinstance(reference, str) and (reference.startswith(prefix) or f"/{prefix}" in reference):
                kept.append(node)
            elif isinstance(node, dict) and node.get("type") == type_name and "reference" not in node:
                kept.append(node)  # a logical reference (identifier only) of that type
        return kept

    return step


def _unwrapped(text: str) -> str:
    while text.startswith("(") and _closing(text) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing(text: str) -> int:
    depth = 0
    quoted = False
    for index, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise _NotCompiled(text)


def _balanced(text: str) -> bool:
    return text.count("(") == text.count(")")


def _segments(text: str) -> list[str]:
    """`text` split on the dots outside parentheses and quotes."""
    return _split(text, ".")


def _union_parts(text: str) -> list[str]:
    """`text` split on the unions (`|`) outside parentheses and quotes."""
    return _split(text, "|")


def _split(text: str, separator: str) -> list[str]:
    parts, depth, quoted, current = [], 0, False, ""
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == separator and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts
