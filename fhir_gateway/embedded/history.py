"""Version history queries: one resource's, one type's, or the whole store's."""

from datetime import datetime

import orjson
from sqlalchemy import Connection, func, select

from .repository import Stored
from .schema import resources, versions


def history_page(
    conn: Connection,
    *,
    res_type: str | None,
    res_id: str | None,
    since: datetime | None,
    offset: int,
    count: int,
) -> tuple[list[Stored], bool, int]:
    """Newest first: (versions on this page, whether more follow, total versions)."""
    conditions = []
    if res_type:
        conditions.append(resources.c.res_type == res_type)
    if res_id:
        conditions.append(resources.c.res_id == res_id)
    if since:
        conditions.append(versions.c.last_updated >= since)
    joined = versions.join(resources, versions.c.res_pk == resources.c.pk)
    rows = conn.execute(
        select(
            resources.c.res_type,
            resources.c.res_id,
            versions.c.version,
            versions.c.last_updated,
            versions.c.method,
            versions.c.content,
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(versions.c.last_updated.desc(), versions.c.res_pk.desc(), versions.c.version.desc())
        .limit(count + 1)
        .offset(offset)
    ).all()
    total = conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    page = [
        Stored(
            row.res_type,
            row.res_id,
            row.version,
            row.last_updated,
            orjson.loads(row.content) if row.content is not None else None,
            row.method,
        )
        for row in rows[:count]
    ]
    return page, len(rows) > count, total
