"""A query string parsed into a `SearchQuery`: every name checked against the R4 definitions,
every value against the limits a server must keep to answer fast.

What the store cannot do is a 400 naming it, never an empty answer: a client that gets a 200
takes it as the truth.
"""

import re
from collections import Counter

from ..outcomes import bad_request
from ..search_parameters import RESOURCE_COLUMNS, ParamType, SearchParam, params_for, types_with_param
from .query import MAX_COUNT, AllOf, Chained, Composite, Condition, Criterion, Include, Reverse, SearchQuery

# Parameters that shape the result rather than select resources; `_format` and `_pretty` are
# handled by the HTTP layer and tolerated here. `_totalMethod` (fhirpy sends it with
# `_count=0`) is not R4's: HAPI FHIR ignores it, as every `_` name it does not know.
CONTROL_PARAMS = frozenset(
    {"_count", "_offset", "_sort", "_total", "_include", "_revinclude", "_summary", "_elements", "_format", "_pretty"}
)
IGNORED_PARAMS = frozenset({"_totalMethod"})

# Limits on what one search may ask: far above any real client's query, low enough that no
# query costs more than a moment to refuse or to plan.
MAX_PARAMETERS = 100
MAX_VALUES = 100
MAX_VALUE_LENGTH = 4096
MAX_OFFSET = 2**31 - 1
MAX_CHAIN_DEPTH = 3
_MAX_DIGITS = len(str(MAX_OFFSET))

_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_TYPE_NAME = re.compile(r"^[A-Z][A-Za-z]+$")
# Modifiers of each parameter type (R4 search.html#modifiers) the store answers.
_MODIFIERS: dict[ParamType, frozenset[str]] = {
    ParamType.STRING: frozenset({"exact", "contains"}),
    ParamType.TOKEN: frozenset({"not"}),
    ParamType.URI: frozenset({"below", "above"}),
    ParamType.REFERENCE: frozenset({"identifier"}),
}
_UNSUPPORTED_TYPES = (ParamType.COMPOSITE, ParamType.SPECIAL)


def parse_query(resource_type: str, query: list[tuple[str, str]]) -> SearchQuery:
    """Split a query string into conditions and result controls; anything unknown is a 400."""
    if len(query) > MAX_PARAMETERS:
        most, times = Counter(name for name, _ in query).most_common(1)[0]
        raise bad_request(
            f"Too many search parameters: {len(query)} (at most {MAX_PARAMETERS}); {most!r} is given {times} times"
        )
    parsed = SearchQuery(resource_type)
    for name, value in query:
        if len(value) > MAX_VALUE_LENGTH:
            raise bad_request(f"The value of search parameter {name!r} is longer than {MAX_VALUE_LENGTH} characters")
        if name in IGNORED_PARAMS or _unknown_control(resource_type, name):
            continue
        if name in CONTROL_PARAMS:
            _apply_control(parsed, name, value)
        elif name in _ITERATED:
            # `:recurse` is DSTU3's name for R4's `:iterate`; HAPI FHIR takes both.
            _apply_include(parsed, name.split(":")[0], value, iterate=True)
        else:
            parsed.conditions.append(parse_condition(resource_type, name, value))
    return parsed


def _unknown_control(resource_type: str, name: str) -> bool:
    """An `_`-named parameter R4 does not define (`_totalMethod`, `_foo`): HAPI FHIR ignores
    those, and so does the store; an unknown name without `_` is refused."""
    base = name.split(":", 1)[0]
    return (
        base.startswith("_")
        and base not in CONTROL_PARAMS
        and base not in _KNOWN_CONTROLS
        and base not in params_for(resource_type)
    )


_KNOWN_CONTROLS = frozenset({"_has", "_include", "_revinclude", "_filter", "_list", "_type", "_contained"})


def parse_criteria(resource_type: str, query: list[tuple[str, str]]) -> list[Condition]:
    """The conditions of a conditional operation's criteria (`identifier=sys|1`)."""
    parsed = parse_query(resource_type, query)
    if not parsed.conditions:
        raise bad_request("A conditional operation needs at least one search criterion")
    return parsed.conditions


def parse_condition(resource_type: str, name: str, value: str) -> Condition:
    values = tuple(part.replace("\\,", ",") for part in _UNESCAPED_COMMA.split(value))
    if len(values) > MAX_VALUES:
        raise bad_request(f"Too many values for search parameter {name!r}: {len(values)} (at most {MAX_VALUES})")
    if name.startswith("_has:"):
        return _reverse(resource_type, name, values)
    head, dot, chain = name.partition(".")
    base_name, _, modifier = head.partition(":")
    if base_name in _KNOWN_CONTROLS:
        raise bad_request(f"Search parameter {base_name!r} is not supported by this server")
    param = _known(resource_type, base_name)
    if dot:
        if name.count(".") > MAX_CHAIN_DEPTH:
            raise bad_request(f"Chains of more than {MAX_CHAIN_DEPTH} links are not supported by this server: {name}")
        if param.type is not ParamType.REFERENCE:
            raise bad_request(f"Invalid chain {name!r}: {base_name} is not a reference parameter")
        return _chained(resource_type, param, modifier or None, chain, values)
    if param.type is ParamType.COMPOSITE and not modifier:
        return _composite(resource_type, param, values)
    return _criterion(resource_type, param, modifier or None, values)


def _known(resource_type: str, name: str) -> SearchParam:
    known = params_for(resource_type)
    param = known.get(name)
    if param is None:
        raise bad_request(
            f'Unknown search parameter "{name}" for resource type "{resource_type}". '
            f"Valid search parameters for this search are: {sorted(known)}"
        )
    return param


def _criterion(resource_type: str, param: SearchParam, modifier: str | None, values: tuple[str, ...]) -> Criterion:
    if param.name not in RESOURCE_COLUMNS and (param.type in _UNSUPPORTED_TYPES or not param.expressions):
        # Without an expression (`_text`, `_content`, `_query`) there is nothing indexed to
        # search: an empty answer would look like the truth.
        raise bad_request(f"Search parameter {param.name!r} ({param.type}) is not supported by this server")
    if modifier == "missing":
        if values not in (("true",), ("false",)):
            raise bad_request(f"{param.name}:missing takes true or false")
    elif modifier is not None and not _modifier_allowed(param, modifier):
        raise bad_request(f"Unsupported modifier :{modifier} on {param.type} parameter {param.name}")
    return Criterion(resource_type, param, modifier, values)


def _composite(resource_type: str, param: SearchParam, values: tuple[str, ...]) -> Composite | AllOf:
    """`a$b`: a token$token or token$quantity composite, from its own index rows; another
    composite over the resource itself, whose components are its own parameters, as all of
    them (they hold in the same element: the resource). Any other composite is refused."""
    pairs = []
    for value in values:
        parts = value.split("$")
        if len(parts) != len(param.components):
            raise bad_request(
                f"Composite search parameter {param.name!r} takes {len(param.components)} values joined by $"
            )
        pairs.append(parts)
    if param.parts is not None:
        return Composite(
            resource_type, param, param.parts.second_type, tuple((first, second) for first, second in pairs)
        )
    known = params_for(resource_type)
    if any(expression.steps for expression in param.expressions) or not all(
        part.param in known for part in param.components
    ):
        raise bad_request(f"Composite search parameter {param.name!r} is not supported by this server")
    alternatives = tuple(
        tuple(
            _criterion(resource_type, known[part.param], None, (text,))
            for part, text in zip(param.components, parts, strict=True)
        )
        for parts in pairs
    )
    return AllOf(resource_type, alternatives)


def _modifier_allowed(param: SearchParam, modifier: str) -> bool:
    if param.name in RESOURCE_COLUMNS:
        return False
    if param.type is ParamType.REFERENCE and _TYPE_NAME.match(modifier):
        return not param.targets or modifier in param.targets
    return modifier in _MODIFIERS.get(param.type, frozenset())


def _chained(
    resource_type: str,
    reference: SearchParam,
    type_modifier: str | None,
    chain: str,
    values: tuple[str, ...],
) -> Chained:
    head, further, rest = chain.partition(".")
    chained_name, _, modifier = head.partition(":")
    if type_modifier is not None:
        if not _TYPE_NAME.match(type_modifier) or (reference.targets and type_modifier not in reference.targets):
            raise bad_request(f"Invalid chain {reference.name}:{type_modifier}.{chain}: not a target type")
        candidates: tuple[str, ...] = (type_modifier,)
    else:
        inferred = reference.inferred_target
        candidates = (inferred,) if inferred else reference.targets
    target_types = types_with_param(chained_name, candidates)
    if further:
        # A link further on: only the types whose parameter is itself a reference lead on.
        target_types = [t for t in target_types if params_for(t)[chained_name].type is ParamType.REFERENCE]
    if not target_types:
        raise bad_request(
            f"Invalid chain {reference.name}.{chain}: no resource type {reference.name} may point at "
            f"has a {'reference ' if further else ''}search parameter {chained_name!r}"
        )
    if further:
        return Chained(
            resource_type,
            reference,
            tuple(
                _chained(target, params_for(target)[chained_name], modifier or None, rest, values)
                for target in target_types
            ),
        )
    inner = tuple(
        _criterion(target, params_for(target)[chained_name], modifier or None, values) for target in target_types
    )
    if any(criterion.modifier in ("missing", "not") for criterion in inner):
        raise bad_request(f"Chained search {reference.name}.{chain} cannot use :{modifier}")
    return Chained(resource_type, reference, inner)


def _reverse(resource_type: str, name: str, values: tuple[str, ...]) -> Reverse:
    parts = name.split(":", 3)
    if len(parts) != 4 or not _TYPE_NAME.match(parts[1]):
        raise bad_request(f"Invalid _has parameter {name!r}: expected _has:Type:reference:parameter")
    _, source_type, reference_name, inner_name = parts
    if inner_name.startswith("_has"):
        raise bad_request(f"Nested _has parameters are not supported by this server: {name}")
    if not params_for(source_type):
        raise bad_request(f"Invalid _has parameter {name!r}: unknown resource type {source_type!r}")
    reference = _known(source_type, reference_name)
    if reference.type is not ParamType.REFERENCE:
        raise bad_request(f"Invalid _has parameter {name!r}: {source_type}.{reference_name} is not a reference")
    inner = parse_condition(source_type, inner_name, ",".join(value.replace(",", "\\,") for value in values))
    if not isinstance(inner, Criterion) or inner.modifier in ("missing", "not"):
        raise bad_request(f"Invalid _has parameter {name!r}: its last part must be a plain search parameter")
    return Reverse(resource_type, source_type, reference, inner)


# -- result controls --------------------------------------------------------------------------


def _apply_control(parsed: SearchQuery, name: str, value: str) -> None:
    if name == "_count":
        parsed.count = min(non_negative_int(name, value), MAX_COUNT)
    elif name == "_offset":
        parsed.offset = non_negative_int(name, value)
    elif name == "_sort":
        known = params_for(parsed.resource_type)
        for key in filter(None, value.split(",")):
            descending = key.startswith("-")
            key = key.lstrip("-")
            param = known.get(key)
            if param is None or param.type not in _SORTABLE:
                raise bad_request(f"Unknown or unsortable _sort parameter: {key}")
            parsed.sort.append((key, descending))
    elif name == "_total":
        if value not in ("none", "estimate", "accurate"):
            raise bad_request(f"Invalid _total value: {value}")
        parsed.total = value != "none"
    elif name == "_summary":
        if value == "count":
            parsed.summary_count = True
        elif value != "false":
            raise bad_request(f"Unsupported _summary value: {value} (supported: count, false)")
    elif name in ("_include", "_revinclude"):
        _apply_include(parsed, name, value, iterate=False)
    elif name == "_elements":
        parsed.elements.extend(element for element in value.split(",") if element)


_SORTABLE = frozenset({ParamType.STRING, ParamType.TOKEN, ParamType.DATE, ParamType.QUANTITY, ParamType.NUMBER})


def non_negative_int(name: str, value: str) -> int:
    # ASCII only: str.isdigit() also holds for digits int() refuses, such as "²".
    if not (value.isascii() and value.isdigit()):
        raise bad_request(f"{name} must be a non-negative integer, got {value[:40]!r}")
    number = int(value) if len(value) <= _MAX_DIGITS else MAX_OFFSET + 1
    if number > MAX_OFFSET:
        raise bad_request(f"{name} is out of range: at most {MAX_OFFSET}")
    return number


_ITERATED = frozenset({"_include:iterate", "_revinclude:iterate", "_include:recurse", "_revinclude:recurse"})


def _apply_include(parsed: SearchQuery, name: str, value: str, *, iterate: bool) -> None:
    include = _parse_include(value, iterate)
    if name == "_revinclude":
        parsed.revincludes.append(include)
    elif iterate or include.source_type == parsed.resource_type:
        # An iterated include may start from what other includes found, of any type.
        parsed.includes.append(include)


def _parse_include(value: str, iterate: bool) -> Include:
    parts = value.split(":")
    if len(parts) not in (2, 3):
        raise bad_request(f"Invalid include specification {value!r}: expected Type:param[:targetType]")
    source_type, name = parts[0], parts[1]
    param = params_for(source_type).get(name)
    if param is None or param.type is not ParamType.REFERENCE:
        raise bad_request(f"Invalid include {value!r}: {source_type} has no reference parameter {name!r}")
    return Include(source_type, param, parts[2] if len(parts) == 3 else None, iterate)
