"""FHIR search over the index tables: parameters and modifiers, paging, includes."""

import re
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, and_, or_, select, true
from sqlalchemy.sql import Select

from .outcomes import bad_request
from .repository import Repository, Stored
from .schema import date_index, links, resources, string_index, token_index
from .search_parameters import ParamType, SearchParam, params_for
from .sorting import count_all, sorted_page
from .values import date_range, fold

DEFAULT_COUNT = 20
MAX_COUNT = 1000
# Parameters that shape the result rather than select resources; `_format` and `_pretty`
# are handled by the HTTP layer and tolerated here.
CONTROL_PARAMS = frozenset(
    {"_count", "_offset", "_sort", "_total", "_include", "_revinclude", "_summary", "_elements", "_format", "_pretty"}
)
_DATE_PREFIX = re.compile(r"^(eq|ne|lt|gt|le|ge|sa|eb)(?=\d)")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


@dataclass(frozen=True)
class Include:
    source_type: str
    param: SearchParam
    target_type: str | None


@dataclass
class SearchQuery:
    resource_type: str
    criteria: list[tuple[str, str]]
    count: int = DEFAULT_COUNT
    offset: int = 0
    sort: list[tuple[str, bool]] = field(default_factory=list)
    total: bool = False
    summary_count: bool = False
    includes: list[Include] = field(default_factory=list)
    revincludes: list[Include] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)


@dataclass
class SearchResult:
    matches: list[Stored]
    included: list[Stored]
    total: int | None
    has_next: bool


def parse_query(resource_type: str, query: list[tuple[str, str]]) -> SearchQuery:
    """Split a query string into criteria and result controls; unknown names are a 400."""
    known = params_for(resource_type)
    parsed = SearchQuery(resource_type, [])
    for name, value in query:
        if name in CONTROL_PARAMS:
            _apply_control(parsed, name, value)
        elif name in ("_include:iterate", "_revinclude:iterate"):
            raise bad_request(f"{name} is not supported by this server")
        else:
            base_name = name.split(":", 1)[0]
            if base_name not in known:
                raise bad_request(
                    f'Unknown search parameter "{base_name}" for resource type "{resource_type}". '
                    f"Valid search parameters for this search are: {sorted(known)}"
                )
            parsed.criteria.append((name, value))
    return parsed


def run_search(conn: Connection, query: SearchQuery) -> SearchResult:
    base = _matching(query.resource_type, query.criteria)
    if query.summary_count or query.count == 0:
        return SearchResult([], [], count_all(conn, base), False)
    pks = sorted_page(
        conn,
        base,
        query.resource_type,
        query.sort,
        filtered=bool(query.criteria),
        limit=query.count + 1,
        offset=query.offset,
    )
    has_next = len(pks) > query.count
    pks = pks[: query.count]
    repository = Repository(conn)
    matches = repository.load(pks)
    if query.total:
        total: int | None = count_all(conn, base)
    else:
        total = None if has_next else query.offset + len(matches)
    included = _included(conn, repository, query, matches, pks)
    return SearchResult(matches, included, total, has_next)


def matching_ids(conn: Connection, resource_type: str, criteria: list[tuple[str, str]], limit: int = 2) -> list[str]:
    """Ids of resources matching `criteria` (for conditional create, update and delete)."""
    if not criteria:
        raise bad_request("A conditional operation needs at least one search criterion")
    query = parse_query(resource_type, criteria)
    statement = (
        _matching(resource_type, query.criteria)
        .with_only_columns(resources.c.res_id)
        .order_by(resources.c.pk)
        .limit(limit)
    )
    return list(conn.execute(statement).scalars())


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
            if key not in known or known[key].type is ParamType.REFERENCE:
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
        include = _parse_include(value)
        if name == "_include" and include.source_type == parsed.resource_type:
            parsed.includes.append(include)
        elif name == "_revinclude":
            parsed.revincludes.append(include)
    elif name == "_elements":
        parsed.elements.extend(element for element in value.split(",") if element)


def non_negative_int(name: str, value: str) -> int:
    # ASCII only: str.isdigit() also holds for digits int() refuses, such as "²".
    if not (value.isascii() and value.isdigit()):
        raise bad_request(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _parse_include(value: str) -> Include:
    parts = value.split(":")
    if len(parts) not in (2, 3):
        raise bad_request(f"Invalid include specification {value!r}: expected Type:param[:targetType]")
    source_type, name = parts[0], parts[1]
    param = params_for(source_type).get(name)
    if param is None or param.type is not ParamType.REFERENCE:
        raise bad_request(f"Invalid include {value!r}: {source_type} has no reference parameter {name!r}")
    return Include(source_type, param, parts[2] if len(parts) == 3 else None)


# -- criteria ---------------------------------------------------------------------------------


def _matching(resource_type: str, criteria: list[tuple[str, str]]) -> Select:
    known = params_for(resource_type)
    conditions: list[ColumnElement[bool]] = []
    narrowed_by_index = False
    for name, raw in criteria:
        base_name, _, modifier = name.partition(":")
        condition, positive = _criterion(resource_type, known[base_name], modifier or None, raw)
        conditions.append(condition)
        narrowed_by_index |= positive
    if not narrowed_by_index:
        conditions += [resources.c.res_type == resource_type, resources.c.deleted.is_(False)]
    # Otherwise type and liveness are implied, since index rows exist only for current
    # resources; leaving them out lets SQLite drive the query from the index lookup
    # instead of scanning every resource of the type.
    return select(resources.c.pk).where(*conditions)


def _criterion(
    resource_type: str, param: SearchParam, modifier: str | None, raw: str
) -> tuple[ColumnElement[bool], bool]:
    """The condition for one parameter, and whether it is a positive index lookup."""
    values = [value.replace("\\,", ",") for value in _UNESCAPED_COMMA.split(raw)]
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise bad_request(f"{param.name}:missing takes true or false")
        present = resources.c.pk.in_(_index_rows(resource_type, param, true()))
        return (~present, False) if raw == "true" else (present, True)
    if param.name == "_id":
        _no_modifier(param, modifier)
        return resources.c.res_id.in_(values), False
    if param.name == "_lastUpdated":
        _no_modifier(param, modifier)
        return or_(*(_date_condition(resources.c.last_updated, resources.c.last_updated, v) for v in values)), False
    if param.type is ParamType.STRING:
        return _in_index(resource_type, param, or_(*(_string_condition(param, modifier, v) for v in values))), True
    if param.type is ParamType.TOKEN:
        if modifier not in (None, "not"):
            raise bad_request(f"Unsupported modifier :{modifier} on token parameter {param.name}")
        matches = _in_index(resource_type, param, _token_conditions(values))
        return (~matches, False) if modifier == "not" else (matches, True)
    if param.type is ParamType.DATE:
        _no_modifier(param, modifier)
        return _date_criterion(resource_type, param, values)
    return _reference_criterion(resource_type, param, modifier, values), True


def _date_criterion(resource_type: str, param: SearchParam, values: list[str]) -> tuple[ColumnElement[bool], bool]:
    positive = [value for value in values if not value.startswith("ne")]
    negated = [value[2:] for value in values if value.startswith("ne")]
    parts = [
        ~_in_index(resource_type, param, _date_condition(date_index.c.low, date_index.c.high, value))
        for value in negated
    ]
    if positive:
        conditions = or_(*(_date_condition(date_index.c.low, date_index.c.high, value) for value in positive))
        parts.append(_in_index(resource_type, param, conditions))
    return or_(*parts), not negated


def _no_modifier(param: SearchParam, modifier: str | None) -> None:
    if modifier:
        raise bad_request(f"Unsupported modifier :{modifier} on parameter {param.name}")


def _index_table(param: SearchParam):  # type: ignore[no-untyped-def]
    return {ParamType.STRING: string_index, ParamType.TOKEN: token_index, ParamType.DATE: date_index}.get(param.type)


def _index_rows(resource_type: str, param: SearchParam, condition: ColumnElement[bool]) -> Select:
    table = _index_table(param)
    if table is None:  # reference parameters live in the link table
        return select(links.c.res_pk).where(
            links.c.res_type == resource_type, links.c.path.in_(_link_paths(resource_type, param)), condition
        )
    return select(table.c.res_pk).where(table.c.res_type == resource_type, table.c.param == param.name, condition)


def _in_index(resource_type: str, param: SearchParam, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return resources.c.pk.in_(_index_rows(resource_type, param, condition))


def _string_condition(param: SearchParam, modifier: str | None, value: str) -> ColumnElement[bool]:
    if modifier == "exact":
        return string_index.c.exact == value
    folded = fold(value)
    if modifier == "contains":
        return string_index.c.value.contains(folded, autoescape=True)
    if modifier is not None:
        raise bad_request(f"Unsupported modifier :{modifier} on string parameter {param.name}")
    # A range instead of LIKE: both databases answer it from the index.
    return and_(string_index.c.value >= folded, string_index.c.value < folded + "\U0010ffff")


def _token_conditions(values: list[str]) -> ColumnElement[bool]:
    """Any of the token `values`, as index lookups: one `code IN (...)` per system named."""
    by_system: dict[str | None, list[str]] = {}
    for value in values:
        if "|" not in value:
            by_system.setdefault(None, []).append(value)
            continue
        system, code = value.split("|", 1)
        if not code:
            # "system|" matches any code: there is nothing to look up.
            return or_(*(_token_condition(value) for value in values))
        by_system.setdefault(system, []).append(code)
    groups = [_codes_of(system, codes) for system, codes in by_system.items()]
    if len(groups) == 1:
        return groups[0]
    # An OR of per-system lookups would read every index row of the parameter: the codes
    # are looked up together, then filtered by system.
    return and_(token_index.c.code.in_([code for codes in by_system.values() for code in codes]), or_(*groups))


def _codes_of(system: str | None, codes: list[str]) -> ColumnElement[bool]:
    """`codes` under `system` ("" for none, None for any)."""
    lookup = token_index.c.code.in_(codes)
    if system is None:
        return lookup
    return and_(lookup, token_index.c.system.is_(None) if system == "" else token_index.c.system == system)


def _token_condition(value: str) -> ColumnElement[bool]:
    if "|" not in value:
        return token_index.c.code == value
    system, code = value.split("|", 1)
    if not system:
        return and_(token_index.c.system.is_(None), token_index.c.code == code)
    if not code:
        return token_index.c.system == system
    return and_(token_index.c.system == system, token_index.c.code == code)


def _date_condition(low_column, high_column, value: str) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    match = _DATE_PREFIX.match(value)
    prefix = match.group(1) if match else "eq"
    text = value[len(prefix) :] if match else value
    try:
        low, high = date_range(text)
    except ValueError:
        raise bad_request(f"Invalid date/time in search: {value!r}") from None
    return {
        "eq": lambda: and_(low_column >= low, high_column <= high),
        "lt": lambda: low_column < low,
        "gt": lambda: high_column > high,
        "le": lambda: low_column <= high,
        "ge": lambda: high_column >= low,
        "sa": lambda: low_column > high,
        "eb": lambda: high_column < low,
    }[prefix]()


def _link_paths(resource_type: str, param: SearchParam) -> list[str]:
    return [f"{resource_type}.{path}" for path in param.paths]


def _reference_criterion(
    resource_type: str, param: SearchParam, modifier: str | None, values: list[str]
) -> ColumnElement[bool]:
    conditions = []
    for value in values:
        target_type, target_id = _reference_value(param, modifier, value)
        condition = links.c.target_id == target_id
        if target_type:
            condition = and_(condition, links.c.target_type == target_type)
        conditions.append(condition)
    return resources.c.pk.in_(_index_rows(resource_type, param, or_(*conditions)))


def _reference_value(param: SearchParam, modifier: str | None, value: str) -> tuple[str | None, str]:
    value = value.split("/_history/", 1)[0]
    if "://" in value:
        value = "/".join(value.rstrip("/").split("/")[-2:])
    if "/" in value:
        target_type, target_id = value.rsplit("/", 1)
        return target_type, target_id
    if modifier:
        if not modifier[:1].isupper():
            raise bad_request(f"Unsupported modifier :{modifier} on reference parameter {param.name}")
        return modifier, value
    return (param.targets[0] if len(param.targets) == 1 else None), value


# -- includes ---------------------------------------------------------------------------------


def _included(
    conn: Connection, repository: Repository, query: SearchQuery, matches: list[Stored], pks: list[int]
) -> list[Stored]:
    if not matches or not (query.includes or query.revincludes):
        return []
    seen = {(stored.res_type, stored.res_id) for stored in matches}
    found: list[int] = []
    for include in query.includes:
        condition = and_(links.c.res_pk.in_(pks), links.c.path.in_(_link_paths(include.source_type, include.param)))
        if include.target_type:
            condition = and_(condition, links.c.target_type == include.target_type)
        targets = conn.execute(select(links.c.target_type, links.c.target_id).where(condition)).all()
        if targets:
            found += (
                conn.execute(
                    select(resources.c.pk).where(
                        or_(*(and_(resources.c.res_type == t, resources.c.res_id == i) for t, i in set(targets))),
                        resources.c.deleted.is_(False),
                    )
                )
                .scalars()
                .all()
            )
    ids = [stored.res_id for stored in matches]
    for include in query.revincludes:
        found += (
            conn.execute(
                select(links.c.res_pk).where(
                    links.c.res_type == include.source_type,
                    links.c.path.in_(_link_paths(include.source_type, include.param)),
                    links.c.target_type == query.resource_type,
                    links.c.target_id.in_(ids),
                )
            )
            .scalars()
            .all()
        )
    unique = list(dict.fromkeys(found))
    return [stored for stored in repository.load(unique) if (stored.res_type, stored.res_id) not in seen]
