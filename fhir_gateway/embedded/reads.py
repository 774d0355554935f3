"""Reads of current versions by row, shared by the repository and search."""

import orjson
from sqlalchemy import Connection, select

from .repository import Stored
from .schema import resources, versions

CURRENT_VERSION = (versions.c.res_pk == resources.c.pk) & (versions.c.version == resources.c.version)


def load_current(conn: Connection, pks: list[int]) -> list[Stored]:
    """Current versions of the given rows, in the order given; deleted ones are left out."""
    if not pks:
        return []
    by_pk: dict[int, Stored] = {}
    # Chunked to stay under the databases' bound-parameter limits.
    for start in range(0, len(pks), 500):
        rows = conn.execute(
            select(
                resources.c.pk,
                resources.c.res_type,
                resources.c.res_id,
                resources.c.version,
                resources.c.last_updated,
                versions.c.content,
            )
            .join(versions, CURRENT_VERSION)
            .where(resources.c.pk.in_(pks[start : start + 500]), resources.c.deleted.is_(False))
        ).all()
        for row in rows:
            by_pk[row.pk] = Stored(row.res_type, row.res_id, row.version, row.last_updated, orjson.loads(row.content))
    return [by_pk[pk] for pk in pks if pk in by_pk]
