"""Opening a database that an earlier version of the store indexed.

The tables are created when missing (`database.create_store_engine`); index rows made under
another `indexing.INDEX_VERSION` (other parameters, other folding, no sort keys) are rebuilt
from the stored resources, once, when the store opens the database.
"""

import logging
import time

from sqlalchemy import Connection, Engine, delete, insert, select

from .database import writer
from .indexing import INDEX_VERSION
from .schema import store_info
from .storage import SqlRepository

logger = logging.getLogger(__name__)

_INDEX_VERSION = "index_version"


def upgrade(engine: Engine) -> None:
    """Reindex the database unless its index rows are of this store's index version."""
    with engine.connect() as conn:
        if index_version(conn) == INDEX_VERSION:
            return
    with writer(engine).begin() as conn:
        repository = SqlRepository(conn)
        # Another process opening the same database may have reindexed it meanwhile.
        repository.lock(_INDEX_VERSION)
        found = index_version(conn)
        if found == INDEX_VERSION:
            return
        logger.info("index rows of version %s, this store's are %d: reindexing", found, INDEX_VERSION)
        started = time.perf_counter()
        count = repository.reindex()
        conn.execute(delete(store_info).where(store_info.c.name == _INDEX_VERSION))
        conn.execute(insert(store_info), {"name": _INDEX_VERSION, "value": str(INDEX_VERSION)})
        logger.info("reindexed %d resources in %.1f s", count, time.perf_counter() - started)


def index_version(conn: Connection) -> int | None:
    """The index version the database's index rows were made under; None if it never said."""
    value = conn.execute(select(store_info.c.value).where(store_info.c.name == _INDEX_VERSION)).scalar()
    return int(value) if value is not None else None
