"""The embedded store: a database, the interactions over it, and its HTTP face."""

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from . import bundles
from .database import create_store_engine, ping, writer
from .http import create_http_app
from .interactions import WRITE_METHODS, dispatch
from .outcomes import bad_request
from .repository import Repository
from .requests import FhirRequest, FhirResponse
from .schema import resources
from .upgrade import upgrade

DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024
# Two writers racing to create the same id: the loser's unique-key violation is retried,
# and the retry finds the winner's row and updates it instead.
_WRITE_ATTEMPTS = 3

T = TypeVar("T")
logger = logging.getLogger(__name__)


class EmbeddedStore:
    """A FHIR R4 server on SQLAlchemy; `app` serves it over HTTP under `/fhir`."""

    def __init__(self, database_url: str, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.engine = create_store_engine(database_url)
        upgrade(self.engine)
        self._writer = writer(self.engine)
        self.max_body_bytes = max_body_bytes
        self.app = create_http_app(self)

    def handle(self, request: FhirRequest, base: str, *, representation: bool = True) -> FhirResponse:
        """Run one request to completion (blocking: call it from a worker thread)."""
        try:
            return self._handle(request, base, representation)
        except DataError as error:
            # Validation should leave nothing the database refuses; if something slips
            # through, it is still the request's fault, not the server's.
            logger.warning("database refused a value: %s", error.orig)
            raise bad_request(f"A value in the request cannot be stored: {error.orig}") from None

    def _handle(self, request: FhirRequest, base: str, representation: bool) -> FhirResponse:
        if request.is_bundle:
            kind = bundles.bundle_type(request.body)
            if kind == "transaction":
                body = self.write(
                    lambda repo: bundles.transaction(repo, request.body, base, representation=representation)
                )
            else:
                body = bundles.batch(self.write, request.body, base, representation=representation)
            return FhirResponse(200, body)
        if request.method in WRITE_METHODS:
            return self.write(lambda repo: _verified(repo, request, base))
        with self.engine.connect() as conn:
            return dispatch(Repository(conn), request, base)

    def write(self, work: Callable[[Repository], T]) -> T:
        """Run `work` in one write transaction, committed when it returns."""
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self._writer.begin() as conn:
                    return work(Repository(conn))
            except (IntegrityError, OperationalError) as error:
                if attempt == _WRITE_ATTEMPTS or not _is_transient(error):
                    raise
                logger.info("write conflict, retrying (attempt %d)", attempt)
        raise AssertionError("unreachable")

    def ping(self) -> None:
        """Raise if the database does not answer."""
        ping(self.engine)

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(resources.c.pk).limit(1)).first() is None

    def dispose(self) -> None:
        self.engine.dispose()


def _verified(repo: Repository, request: FhirRequest, base: str) -> FhirResponse:
    response = dispatch(repo, request, base)
    repo.verify()
    return response


def _is_transient(error: IntegrityError | OperationalError) -> bool:
    if isinstance(error, IntegrityError):
        return True
    # PostgreSQL serialization failures and deadlocks; SQLite "database is locked".
    code = getattr(error.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "locked" in str(error.orig)
