"""The embedded store: a database and the FHIR interactions over it, apart from HTTP."""

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Connection, select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool

from . import bundles
from .database import create_store_engine, ping, writer, writer_queue
from .interactions import WRITE_METHODS, dispatch
from .outcomes import bad_request
from .requests import FhirRequest, FhirResponse
from .schema import resources
from .search import DEFAULT_PAGE_LIFETIME, StoredList
from .storage import SqlRepository
from .upgrade import upgrade
from .validation import content_passes

# Two writers racing to create the same id: the loser's unique-key violation is retried,
# and the retry finds the winner's row and updates it instead.
_WRITE_ATTEMPTS = 3

T = TypeVar("T")
logger = logging.getLogger(__name__)


class FhirStore:
    """A FHIR R4 server on SQLAlchemy: `handle` runs one request to completion.

    `page_lifetime` is how long the page links of a search keep answering.
    """

    def __init__(self, database_url: str, *, page_lifetime: timedelta = DEFAULT_PAGE_LIFETIME) -> None:
        self.engine = create_store_engine(database_url)
        upgrade(self.engine)
        self._writer = writer(self.engine)
        self._queue = writer_queue(self.engine)
        self._page_lifetime = page_lifetime
        # One shared connection (an in-memory database) cannot hold a second transaction:
        # a search's result list is then saved on the connection that read it.
        self._one_connection = isinstance(self.engine.pool, StaticPool)

    def handle(self, request: FhirRequest, base: str, *, representation: bool = True) -> FhirResponse:
        """Run one request to completion (blocking: call it from a worker thread)."""
        try:
            return self._handle(request, base, representation)
        except DataError as error:
            # Validation should leave nothing the database refuses; if something slips
            # through, it is still the request's fault, not the server's. Only the kind of
            # error is logged: the database's message may quote the values, which are PHI.
            logger.warning("database refused a value (%s)", type(error.orig).__name__)
            raise bad_request("A value in the request cannot be stored by this server") from None

    def _handle(self, request: FhirRequest, base: str, representation: bool) -> FhirResponse:
        if request.is_bundle:
            kind = bundles.bundle_type(request.body)
            if kind == "transaction":
                checked = bundles.checked_entries(request.body)
                body = self.write(
                    lambda repo: bundles.transaction(
                        repo, request.body, base, representation=representation, checked=checked
                    )
                )
            else:
                body = bundles.batch(self.write, request.body, base, representation=representation)
            return FhirResponse(200, body)
        if request.method in WRITE_METHODS:
            checked = _content_checked(request)
            return self.write(lambda repo: _verified(repo, checked, base))
        with self.engine.connect() as conn:
            response = dispatch(self._reader(conn), request, base)
            # Reads write nothing, except a search's result list on a one-connection database.
            conn.commit()
            return response

    def write(self, work: Callable[[SqlRepository], T]) -> T:
        """Run `work` in one write transaction, committed when it returns."""
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self._queue.turn(), self._writer.begin() as conn:
                    repository = SqlRepository(conn, page_lifetime=self._page_lifetime)
                    result = work(repository)
                    repository.flush()
                    return result
            except (IntegrityError, OperationalError) as error:
                if attempt == _WRITE_ATTEMPTS or not _is_transient(error):
                    raise
                logger.info("write conflict, retrying (attempt %d)", attempt)
        raise AssertionError("unreachable")

    def _reader(self, conn: Connection) -> SqlRepository:
        if self._one_connection:
            return SqlRepository(conn, page_lifetime=self._page_lifetime)
        return SqlRepository(conn, save_elsewhere=self._save_list, page_lifetime=self._page_lifetime)

    def _save_list(self, stored: StoredList) -> None:
        self.write(lambda repo: repo.save_list(stored))

    def ping(self) -> None:
        """Raise if the database does not answer."""
        ping(self.engine)

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(resources.c.pk).limit(1)).first() is None

    def dispose(self) -> None:
        self.engine.dispose()


def _content_checked(request: FhirRequest) -> FhirRequest:
    """`request`, marked if its body passes `check_content`: checked before the write lock is
    taken, so that validation runs beside other writers. A body that fails is left to fail in
    the interaction, in the order it checks things."""
    if request.method not in ("POST", "PUT") or not request.segments:
        return request
    if not content_passes(request.body, request.segments[0]):
        return request
    return replace(request, content_checked=True)


def _verified(repo: SqlRepository, request: FhirRequest, base: str) -> FhirResponse:
    response = dispatch(repo, request, base)
    repo.verify()
    return response


def _is_transient(error: IntegrityError | OperationalError) -> bool:
    if isinstance(error, IntegrityError):
        return True
    # PostgreSQL serialization failures and deadlocks; SQLite "database is locked".
    code = getattr(error.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "locked" in str(error.orig)
