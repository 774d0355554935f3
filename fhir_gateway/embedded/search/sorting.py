"""The order of search results: sort keys in turn, missing values last, ties broken by id.

A string parameter sorts by its sort key (the `idx_sort` row `indexing.index_rows` makes: its
shown values in document order, folded); a token, date, number or quantity parameter by its
smallest value ascending and its largest descending.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, and_, func, select
from sqlalchemy.sql import Select

from ..schema import date_index, quantity_index, resources, sort_index, token_index
from ..search_parameters import ParamType, SearchParam, params_for

# (parameter name, descending)
SortKey = tuple[str, bool]

_NEVER_MISSING = frozenset({"_id", "_lastUpdated"})


@dataclass(frozen=True)
class _Rows:
    """What a sorted statement reads: its resources' pk, id and time of last update, and, when
    it walks the sort keys of its first sort parameter, their values."""

    pk: ColumnElement[int]
    res_id: ColumnElement[str]
    last_updated: ColumnElement[datetime]
    first_key: ColumnElement[str] | None = None


_RESOURCES = _Rows(resources.c.pk, resources.c.res_id, resources.c.last_updated)


def sorted_page(
    conn: Connection,
    matching: Select,
    resource_type: str,
    sort: list[SortKey],
    *,
    filtered: bool,
    limit: int,
    offset: int,
) -> list[int]:
    """The pks of `limit` resources selected by `matching` (which selects resource pks) from
    `offset` on, in the order of `sort`; `filtered` says whether `matching` has criteria."""
    first = sort[0][0] if sort else None
    if filtered or first is None or params_for(resource_type)[first].type is not ParamType.STRING:
        # The criteria's index lookups drive the query and the matches are sorted: a walk of
        # the sort keys would have to test them row by row.
        return _pks(conn, _sorted(matching, resource_type, sort, _RESOURCES), limit, offset)
    # Unfiltered, sorting every resource of the type would cost a row per resource on each
    # page; walking the sort keys of the first parameter in index order stops after the page.
    # Sort keys exist only for current resources, so the walk reads no other table.
    keys = sort_index.alias("first_key")
    walk = select(keys.c.res_pk).where(keys.c.res_type == resource_type, keys.c.param == first)
    last_updated = select(resources.c.last_updated).where(resources.c.pk == keys.c.res_pk).scalar_subquery()
    rows = _Rows(keys.c.res_pk, keys.c.res_id, last_updated, keys.c.value)
    pks = _pks(conn, _sorted(walk, resource_type, sort, rows), limit, offset)
    if len(pks) == limit:
        return pks
    # The resources without a value for the first parameter come after all those with one.
    held = select(sort_index.c.res_pk).where(sort_index.c.res_type == resource_type, sort_index.c.param == first)
    holders = offset + len(pks) if pks else count_all(conn, held)
    missing = _sorted(matching.where(resources.c.pk.not_in(held)), resource_type, sort, _RESOURCES)
    return pks + _pks(conn, missing, limit - len(pks), max(0, offset - holders))


def count_all(conn: Connection, statement: Select) -> int:
    """How many rows `statement` selects."""
    return conn.execute(select(func.count()).select_from(statement.subquery())).scalar_one()


def _pks(conn: Connection, statement: Select, limit: int, offset: int) -> list[int]:
    return list(conn.execute(statement.limit(limit).offset(offset)).scalars())


def _sorted(statement: Select, resource_type: str, sort: list[SortKey], rows: _Rows) -> Select:
    """`statement` ordered by `sort`, missing values last in either direction, ties broken by
    id (ascending); without sort keys, in the order resources were first stored."""
    if not sort:
        return statement.order_by(resources.c.pk)
    known = params_for(resource_type)
    order: list[ColumnElement] = []  # type: ignore[type-arg]
    for position, (name, descending) in enumerate(sort):
        param = known[name]
        nullable = name not in _NEVER_MISSING
        expression: ColumnElement  # type: ignore[type-arg]
        if position == 0 and rows.first_key is not None:
            # The rows are this parameter's sort keys: every one has a value.
            expression, nullable = rows.first_key, False
        elif name == "_id":
            expression = rows.res_id
        elif name == "_lastUpdated":
            expression = rows.last_updated
        elif param.type is ParamType.STRING:
            keys = sort_index.alias(f"sort_key_{position}")
            statement = statement.outerjoin(keys, and_(keys.c.res_pk == rows.pk, keys.c.param == name))
            expression = keys.c.value
        else:
            expression = _extreme_value(param, rows.pk, descending)
        if nullable:
            order.append(expression.is_(None))
        order.append(expression.desc() if descending else expression.asc())
    if "_id" not in (name for name, _ in sort):
        order.append(rows.res_id)
    return statement.order_by(*order)


def _extreme_value(param: SearchParam, pk: ColumnElement[int], descending: bool) -> ColumnElement:  # type: ignore[type-arg]
    """A token, date, number or quantity parameter's smallest value (its largest, to sort
    descending)."""
    table, column = {
        ParamType.TOKEN: (token_index, token_index.c.code),
        ParamType.DATE: (date_index, date_index.c.low),
        ParamType.NUMBER: (quantity_index, quantity_index.c.low),
        ParamType.QUANTITY: (quantity_index, quantity_index.c.low),
    }[param.type]
    aggregate = func.max if descending else func.min
    return select(aggregate(column)).where(table.c.res_pk == pk, table.c.param == param.name).scalar_subquery()
