"""Engines for the embedded store: SQLite (file or memory) and PostgreSQL through psycopg 3."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on Windows: writers then wait on SQLite's own retries
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from .schema import metadata

_WRITE = "fhir_store_write"


def create_store_engine(database_url: str) -> Engine:
    """An engine on `database_url` with the store's schema created if missing.

    Its errors and logs never show bind parameters: they hold names, identifiers and notes.
    """
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url.render_as_string(hide_password=False))
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)
    metadata.create_all(engine)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, whose transactions take SQLite's write lock up front.

    A deferred SQLite transaction that reads and then writes fails at once with
    SQLITE_BUSY when another connection wrote in between; BEGIN IMMEDIATE queues
    writers behind busy_timeout instead.
    """
    return engine.execution_options(**{_WRITE: True})


class WriterQueue:
    """Writers of one SQLite file, queued in turn across threads and processes.

    SQLite lets a writer that finds the database locked sleep and retry (1, 2, 5 … 100 ms),
    so writers from several worker processes idle between each other's transactions. Held
    from before BEGIN IMMEDIATE to after COMMIT, a thread lock and an exclusive `flock` on a
    file beside the database hand the turn over at once. PostgreSQL and in-memory databases
    need no queue.
    """

    def __init__(self, lock_file: Path | None) -> None:
        self._lock_file = lock_file
        self._threads = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        if self._lock_file is None:
            yield
            return
        with self._threads, self._lock_file.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def writer_queue(engine: Engine) -> WriterQueue:
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or fcntl is None:
        return WriterQueue(None)
    return WriterQueue(Path(f"{url.database}-writers.lock"))


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    in_memory = database in (None, "", ":memory:")
    if in_memory:
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, poolclass=StaticPool, hide_parameters=True
        )
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Hand transaction control to the "begin" hook below (the pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
