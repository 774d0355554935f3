"""Parsed search conditions as SQL over the index tables: one `IN (index lookup)` each.

Index rows exist only for current, non-deleted resources, so a positive lookup implies the
type and liveness of what it finds; only a search with no positive lookup filters the
resource table itself.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import ColumnElement, Select, Table, and_, false, or_, select, true

from ..outcomes import bad_request
from ..schema import (
    composite_index,
    date_index,
    quantity_index,
    reference_index,
    resources,
    string_index,
    token_index,
    uri_index,
)
from ..search_parameters import ParamType, SearchParam
from ..values import EARLIEST, LATEST, date_range, fold, now
from .query import AllOf, Chained, Composite, Condition, Criterion, Reverse

_PREFIX = re.compile(r"^(eq|ne|lt|gt|le|ge|sa|eb|ap|>=|<=|>|<)")
# The comparison prefixes of DSTU2, which clients such as fhirclient still send.
_OLD_PREFIXES = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}
_TABLES: dict[ParamType, Table] = {
    ParamType.STRING: string_index,
    ParamType.TOKEN: token_index,
    ParamType.DATE: date_index,
    ParamType.REFERENCE: reference_index,
    ParamType.QUANTITY: quantity_index,
    ParamType.NUMBER: quantity_index,
    ParamType.URI: uri_index,
}


def matching(resource_type: str, conditions: list[Condition]) -> Select:
    """A statement selecting the pks of the current `resource_type` resources matching all."""
    clauses: list[ColumnElement[bool]] = []
    narrowed_by_index = False
    for condition in conditions:
        clause, positive = _condition(condition)
        clauses.append(clause)
        narrowed_by_index |= positive
    if not narrowed_by_index:
        clauses += [resources.c.res_type == resource_type, resources.c.deleted.is_(False)]
    # Otherwise type and liveness are implied; leaving them out lets the database drive the
    # query from the index lookup instead of scanning every resource of the type.
    return select(resources.c.pk).where(*clauses)


def _condition(condition: Condition) -> tuple[ColumnElement[bool], bool]:
    """The clause for one condition, and whether it is a positive index lookup."""
    if isinstance(condition, Chained):
        return resources.c.pk.in_(_chained_rows(condition)), True
    if isinstance(condition, Reverse):
        return resources.c.res_id.in_(_reverse_targets(condition)), False
    if isinstance(condition, Composite):
        return resources.c.pk.in_(_composite_rows(condition)), True
    if isinstance(condition, AllOf):
        alternatives = [
            and_(*(resources.c.pk.in_(criterion_rows(part)) for part in parts)) for parts in condition.alternatives
        ]
        return or_(*alternatives), True
    return _criterion(condition)


def _criterion(criterion: Criterion) -> tuple[ColumnElement[bool], bool]:
    param, modifier, values = criterion.param, criterion.modifier, criterion.values
    if param.name == "_id":
        return resources.c.res_id.in_(values), False
    if param.name == "_lastUpdated":
        clauses = [_range_clause(resources.c.last_updated, resources.c.last_updated, *_date_bounds(v)) for v in values]
        return or_(*clauses), False
    if modifier == "missing":
        present = resources.c.pk.in_(_rows(criterion.resource_type, param, true(), modifier))
        return (~present, False) if values == ("true",) else (present, True)
    if param.type is ParamType.TOKEN and modifier == "not":
        return ~resources.c.pk.in_(_rows(criterion.resource_type, param, _token_values(values))), False
    negated = [value[2:] for value in values if value.startswith("ne") and param.type in _ORDERED]
    if negated:
        return _with_negations(criterion, negated)
    return resources.c.pk.in_(criterion_rows(criterion)), True


def criterion_rows(criterion: Criterion) -> Select:
    """The pks of the resources a positive criterion matches, from its index table."""
    param, modifier, values = criterion.param, criterion.modifier, criterion.values
    if param.type is ParamType.TOKEN or (param.type is ParamType.REFERENCE and modifier == "identifier"):
        clause = _token_values(values)  # the codes looked up together
    else:
        clause = or_(*(_value_clause(param, modifier, value) for value in values))
    return _rows(criterion.resource_type, param, clause, modifier)


def _rows(resource_type: str, param: SearchParam, clause: ColumnElement[bool], modifier: str | None = None) -> Select:
    table = _TABLES.get(param.type)
    if table is None:
        raise bad_request(f"Search parameter {param.name!r} ({param.type}) is not supported by this server")
    name = param.name
    if param.type is ParamType.REFERENCE and modifier == "identifier":
        table, name = token_index, f"{param.name}:identifier"
    return _uncorrelated(select(table.c.res_pk).where(table.c.res_type == resource_type, table.c.param == name, clause))


_ORDERED = (ParamType.DATE, ParamType.QUANTITY, ParamType.NUMBER)


def _with_negations(criterion: Criterion, negated: list[str]) -> tuple[ColumnElement[bool], bool]:
    param = criterion.param
    parts = [
        ~resources.c.pk.in_(_rows(criterion.resource_type, param, _value_clause(param, None, value)))
        for value in negated
    ]
    positive = tuple(value for value in criterion.values if not value.startswith("ne"))
    if positive:
        parts.append(resources.c.pk.in_(criterion_rows(Criterion(criterion.resource_type, param, None, positive))))
    return or_(*parts), False


def _value_clause(param: SearchParam, modifier: str | None, value: str) -> ColumnElement[bool]:
    kind = param.type
    if kind is ParamType.STRING:
        return _string_clause(modifier, value)
    if kind is ParamType.TOKEN or (kind is ParamType.REFERENCE and modifier == "identifier"):
        return _token_values((value,))
    if kind is ParamType.DATE:
        return _range_clause(date_index.c.low, date_index.c.high, *_date_bounds(value))
    if kind is ParamType.REFERENCE:
        return _reference_clause(param, modifier, value)
    if kind in (ParamType.QUANTITY, ParamType.NUMBER):
        return _quantity_clause(kind, value)
    if kind is ParamType.URI:
        return _uri_clause(modifier, value)
    raise bad_request(f"Search parameter {param.name!r} ({kind}) is not supported by this server")


# -- strings and uris -------------------------------------------------------------------------


def _string_clause(modifier: str | None, value: str) -> ColumnElement[bool]:
    if modifier == "exact":
        return string_index.c.exact == value
    folded = fold(value)
    if modifier == "contains":
        return string_index.c.value.contains(folded, autoescape=True)
    # A range instead of LIKE: both databases answer it from the index.
    return and_(string_index.c.value >= folded, string_index.c.value < folded + "\U0010ffff")


def _uri_clause(modifier: str | None, value: str) -> ColumnElement[bool]:
    if modifier == "below":
        return and_(uri_index.c.value >= value, uri_index.c.value < value + "\U0010ffff")
    if modifier == "above":
        # Every stored uri that `value` starts with: its prefixes, looked up exactly.
        prefixes = {value[:end] for end in range(1, len(value) + 1) if end == len(value) or value[end] == "/"}
        return uri_index.c.value.in_(sorted(prefixes))
    return uri_index.c.value == value


# -- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TokenColumns:
    system: ColumnElement[str]
    code: ColumnElement[str]


_TOKEN = _TokenColumns(token_index.c.system, token_index.c.code)


def _token_values(values: tuple[str, ...], columns: _TokenColumns = _TOKEN) -> ColumnElement[bool]:
    """Any of the token `values`, as index lookups: one `code IN (...)` per system named."""
    by_system: dict[str | None, list[str]] = {}
    for value in values:
        if "|" not in value:
            by_system.setdefault(None, []).append(value)
            continue
        system, code = value.split("|", 1)
        if not code:
            # "system|" matches any code: there is nothing to look up.
            return or_(*(_token_clause(value, columns) for value in values))
        by_system.setdefault(system, []).append(code)
    groups = [_codes_of(system, codes, columns) for system, codes in by_system.items()]
    if len(groups) == 1:
        return groups[0]
    # An OR of per-system lookups would read every index row of the parameter: the codes
    # are looked up together, then filtered by system.
    return and_(columns.code.in_([code for codes in by_system.values() for code in codes]), or_(*groups))


def _codes_of(system: str | None, codes: list[str], columns: _TokenColumns) -> ColumnElement[bool]:
    """`codes` under `system` ("" for none, None for any)."""
    lookup = columns.code.in_(codes)
    if system is None:
        return lookup
    return and_(lookup, columns.system.is_(None) if system == "" else columns.system == system)


def _token_clause(value: str, columns: _TokenColumns) -> ColumnElement[bool]:
    if "|" not in value:
        return columns.code == value
    system, code = value.split("|", 1)
    if not system:
        return and_(columns.system.is_(None), columns.code == code)
    if not code:
        return columns.system == system
    return and_(columns.system == system, columns.code == code)


# -- dates, numbers and quantities ------------------------------------------------------------


def _prefixed(value: str) -> tuple[str, str]:
    match = _PREFIX.match(value)
    if not match:
        return "eq", value
    prefix = match.group(1)
    return _OLD_PREFIXES.get(prefix, prefix), value[len(prefix) :]


def _date_bounds(value: str) -> tuple[str, object, object]:
    prefix, text = _prefixed(value)
    try:
        low, high = date_range(text)
    except ValueError:
        raise bad_request(f"Invalid date/time in search: {value[:100]!r}") from None
    if prefix == "ap":
        # R4: approximately, within 10% of the gap between now and the date asked.
        moment = now()
        gap = max(abs(moment - low), abs(moment - high)) / 10
        low = low - gap if low - EARLIEST > gap else EARLIEST
        high = high + gap if LATEST - high > gap else LATEST
    return prefix, low, high


def _range_clause(low_column, high_column, prefix: str, low, high) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """Whether a stored range [low_column, high_column] satisfies `prefix` against the
    searched range [low, high] (R4 search.html#prefix, read on ranges)."""
    if prefix == "eq":
        return and_(low_column >= low, high_column <= high)
    if prefix == "lt":
        return low_column < low
    if prefix == "gt":
        return high_column > high
    if prefix == "le":
        return low_column <= high
    if prefix == "ge":
        return high_column >= low
    if prefix == "ap":
        return and_(low_column <= high, high_column >= low)
    if prefix == "sa":
        return low_column > high
    if prefix == "eb":
        return high_column < low
    raise bad_request(f"Unsupported prefix {prefix!r}")


@dataclass(frozen=True)
class _QuantityColumns:
    low: ColumnElement[float]
    high: ColumnElement[float]
    system: ColumnElement[str]
    code: ColumnElement[str]
    unit: ColumnElement[str]


_QUANTITY = _QuantityColumns(
    quantity_index.c.low, quantity_index.c.high, quantity_index.c.system, quantity_index.c.code, quantity_index.c.unit
)


def _quantity_clause(kind: ParamType, value: str, columns: _QuantityColumns = _QUANTITY) -> ColumnElement[bool]:
    prefix, text = _prefixed(value)
    number_text, *unit = text.split("|")
    if kind is ParamType.NUMBER and unit:
        raise bad_request(f"Invalid number in search: {value[:100]!r}")
    try:
        number = Decimal(number_text)
    except InvalidOperation:
        raise bad_request(f"Invalid number in search: {value[:100]!r}") from None
    if not number.is_finite():
        raise bad_request(f"Invalid number in search: {value[:100]!r}")
    # A value as written stands for the range its precision implies: 5.4 is [5.35, 5.45].
    exponent = number.as_tuple().exponent
    half = Decimal(5).scaleb(int(exponent) - 1)
    if prefix in ("eq", "ne"):
        low, high = float(number - half), float(number + half)
        clause = and_(columns.low >= low, columns.high < high)
    elif prefix == "ap":
        # R4: approximately, within 10% of the value.
        margin = abs(number) / 10
        clause = _range_clause(columns.low, columns.high, "ap", float(number - margin), float(number + margin))
    else:
        clause = _range_clause(columns.low, columns.high, prefix, float(number), float(number))
    if unit:
        clause = and_(clause, _unit_clause(unit, columns))
    return clause


def _unit_clause(unit: list[str], columns: _QuantityColumns) -> ColumnElement[bool]:
    if len(unit) != 2:
        raise bad_request("A quantity is searched as [prefix]number|system|code or [prefix]number||code")
    system, code = unit
    if system:
        return and_(columns.system == system, columns.code == code)
    if not code:
        return true()
    return or_(columns.code == code, columns.unit == code)


# -- composites -------------------------------------------------------------------------------

_FIRST = _TokenColumns(composite_index.c.system, composite_index.c.code)
_SECOND_TOKEN = _TokenColumns(composite_index.c.value_system, composite_index.c.value_code)
_SECOND_QUANTITY = _QuantityColumns(
    composite_index.c.low,
    composite_index.c.high,
    composite_index.c.value_system,
    composite_index.c.value_code,
    composite_index.c.unit,
)


def _composite_rows(composite: Composite) -> Select:
    """Rows of a token$token or token$quantity composite whose parts match in one element."""
    param = composite.param
    second_is_token = composite.second_type is ParamType.TOKEN
    clauses = []
    for first, second in composite.pairs:
        second_clause = (
            _token_values((second,), _SECOND_TOKEN)
            if second_is_token
            else _quantity_clause(ParamType.QUANTITY, second, _SECOND_QUANTITY)
        )
        clauses.append(and_(_token_values((first,), _FIRST), second_clause))
    return _uncorrelated(
        select(composite_index.c.res_pk).where(
            composite_index.c.res_type == composite.resource_type, composite_index.c.param == param.name, or_(*clauses)
        )
    )


# -- references -------------------------------------------------------------------------------


def _reference_clause(param: SearchParam, modifier: str | None, value: str) -> ColumnElement[bool]:
    target_type, target_id = _reference_value(param, modifier, value)
    clause = reference_index.c.target_id == target_id
    if target_type:
        clause = and_(clause, reference_index.c.target_type == target_type)
    return clause


def _reference_value(param: SearchParam, modifier: str | None, value: str) -> tuple[str | None, str]:
    value = value.split("/_history/", 1)[0]
    if "://" in value:
        value = "/".join(value.rstrip("/").split("/")[-2:])
    if "/" in value:
        target_type, target_id = value.rsplit("/", 1)
        if modifier and modifier != target_type:
            return modifier, "\x00"  # Patient/1 is never a Group: nothing matches
        return target_type, target_id
    if modifier:
        return modifier, value
    return param.inferred_target, value


def _chained_rows(chained: Chained) -> Select:
    """Rows of `chained.reference` pointing at a resource matching one of its inner criteria."""
    targets = resources.alias()
    by_type = [
        and_(
            reference_index.c.target_type == inner.resource_type,
            reference_index.c.target_id.in_(
                _uncorrelated(
                    select(targets.c.res_id).where(
                        targets.c.res_type == inner.resource_type,
                        targets.c.pk.in_(_chained_rows(inner) if isinstance(inner, Chained) else criterion_rows(inner)),
                    )
                )
            ),
        )
        for inner in chained.inner
    ]
    return _uncorrelated(
        select(reference_index.c.res_pk).where(
            reference_index.c.res_type == chained.resource_type,
            reference_index.c.param == chained.reference.name,
            or_(*by_type) if by_type else false(),
        )
    )


def _reverse_targets(reverse: Reverse) -> Select:
    """Ids of `reverse.resource_type` resources that a matching source resource points at."""
    return _uncorrelated(
        select(reference_index.c.target_id).where(
            reference_index.c.res_type == reverse.source_type,
            reference_index.c.param == reverse.reference.name,
            reference_index.c.target_type == reverse.resource_type,
            reference_index.c.res_pk.in_(criterion_rows(reverse.inner)),
        )
    )


def _uncorrelated(statement: Select) -> Select:
    """`statement` as a subquery of its own: a chain or `_has` nests lookups of one index table
    inside another of the same, which SQLAlchemy would otherwise join to the outer one."""
    return statement.correlate(None)
