"""The repository on SQLAlchemy: one connection, whose transaction the caller owns."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select, text, tuple_, update

from . import history as history_queries
from .indexing import IndexRows, index_rows
from .outcomes import FhirStoreError, bad_request
from .reads import CURRENT_VERSION, load_current
from .repository import Stored
from .schema import (
    INDEX_TABLES,
    composite_index,
    date_index,
    links,
    quantity_index,
    reference_index,
    resources,
    sort_index,
    string_index,
    token_index,
    uri_index,
    versions,
)
from .search import (
    DEFAULT_PAGE_LIFETIME,
    SearchPage,
    SearchQuery,
    StoredList,
    matching_ids,
    paging,
    run_search,
    stored_page,
)
from .search.query import Condition
from .values import instant, now


@dataclass(frozen=True)
class _Current:
    pk: int
    version: int
    deleted: bool


# Built once: constructing Core statements per call costs more than SQLite's insert itself.
_READ = (
    select(resources.c.version, resources.c.last_updated, resources.c.deleted, versions.c.content)
    .join(versions, CURRENT_VERSION)
    .where(resources.c.res_type == bindparam("res_type"), resources.c.res_id == bindparam("res_id"))
)
_CURRENT = (
    select(resources.c.pk, resources.c.version, resources.c.deleted)
    .where(resources.c.res_type == bindparam("res_type"), resources.c.res_id == bindparam("res_id"))
    .with_for_update()
)
_INSERT_RESOURCE = insert(resources)
_INSERT_VERSION = insert(versions)
_UPDATE_RESOURCE = update(resources).where(resources.c.pk == bindparam("pk_"))
_INDEX_INSERTS = {table.name: insert(table) for table in INDEX_TABLES}
_INDEX_DELETES = [delete(table).where(table.c.res_pk == bindparam("pk_")) for table in INDEX_TABLES]
# Resources are reindexed this many at a time: memory stays bounded on any database size.
_REINDEX_BATCH = 500


def new_id() -> str:
    return str(uuid.uuid4())


# Saves a stored result list in a transaction of its own (a read connection cannot write).
SaveElsewhere = Callable[[StoredList], None]


class SqlRepository:
    """`repository.Repository` on one SQLAlchemy connection.

    `save_elsewhere` saves the result lists of searches read on a read-only connection; without
    it they are saved in this connection's own (write) transaction.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        save_elsewhere: SaveElsewhere | None = None,
        page_lifetime: timedelta = DEFAULT_PAGE_LIFETIME,
    ) -> None:
        self.conn = conn
        self._save_elsewhere = save_elsewhere
        self._page_lifetime = page_lifetime
        self._is_postgres = conn.dialect.name == "postgresql"
        self.resolved_references: dict[str, str] = {}
        self._references: dict[tuple[str, str], str] = {}
        # Index rows of this transaction's writes, inserted together before anything reads
        # the index tables: one statement per table instead of several per resource.
        self._pending_rows: list[IndexRows] = []
        self._deleted: list[tuple[str, str]] = []

    # -- reads ---------------------------------------------------------------------------

    def read(self, res_type: str, res_id: str) -> Stored | None:
        """The current version (a deletion's `content` is None), or None if never stored."""
        row = self.conn.execute(_READ, {"res_type": res_type, "res_id": res_id}).first()
        if row is None:
            return None
        content = None if row.deleted else orjson.loads(row.content)
        return Stored(res_type, res_id, row.version, row.last_updated, content)

    def vread(self, res_type: str, res_id: str, version: int) -> Stored | None:
        row = self.conn.execute(
            select(versions.c.last_updated, versions.c.content, versions.c.method)
            .join(resources, versions.c.res_pk == resources.c.pk)
            .where(
                resources.c.res_type == res_type,
                resources.c.res_id == res_id,
                versions.c.version == version,
            )
        ).first()
        if row is None:
            return None
        content = orjson.loads(row.content) if row.content is not None else None
        return Stored(res_type, res_id, version, row.last_updated, content, row.method)

    def load(self, pks: list[int]) -> list[Stored]:
        """Current versions of the given rows, in the order given (deleted ones left out)."""
        return load_current(self.conn, pks)

    def match(self, res_type: str, conditions: list[Condition], limit: int = 2) -> list[str]:
        self.flush()
        return matching_ids(self.conn, res_type, conditions, limit)

    def search(self, query: SearchQuery, raw_query: list[tuple[str, str]]) -> SearchPage:
        self.flush()
        return run_search(self.conn, query, raw_query, self._save_list)

    def page(self, search_id: str, offset: int, count: int) -> SearchPage:
        self.flush()
        stored = paging.load(self.conn, search_id, now())
        return stored_page(self.conn, stored, offset, count, self._save_list)

    def history(
        self, *, res_type: str | None, res_id: str | None, since: datetime | None, offset: int, count: int
    ) -> tuple[list[Stored], bool, int]:
        return history_queries.history_page(
            self.conn, res_type=res_type, res_id=res_id, since=since, offset=offset, count=count
        )

    def save_list(self, stored: StoredList) -> None:
        """Save a search's result list in this connection's transaction."""
        paging.save(self.conn, stored, now(), self._page_lifetime)

    def _save_list(self, stored: StoredList) -> None:
        if self._save_elsewhere is not None:
            self._save_elsewhere(stored)
        else:
            self.save_list(stored)

    # -- writes --------------------------------------------------------------------------

    def create(self, resource: dict[str, Any], res_id: str | None = None) -> Stored:
        res_id = res_id or new_id()
        moment = now()
        content = _stamped(resource, res_id, 1, moment)
        pk = self.conn.execute(
            _INSERT_RESOURCE,
            {
                "res_type": content["resourceType"],
                "res_id": res_id,
                "version": 1,
                "last_updated": moment,
                "deleted": False,
            },
        ).inserted_primary_key[0]
        self._write_version(pk, 1, moment, content, "POST")
        self._index(pk, content)
        return Stored(content["resourceType"], res_id, 1, moment, content, "POST")

    def update(
        self, resource: dict[str, Any], res_id: str, *, if_match: int | None = None, method: str = "PUT"
    ) -> tuple[Stored, bool]:
        """Store `resource` as the next version; returns (stored, created).

        Content equal to the current version (ignoring meta's version and time) writes
        nothing and returns the current version.
        """
        res_type = resource["resourceType"]
        current = self._current(res_type, res_id)
        _check_version(res_type, res_id, current, if_match)
        if current is None:
            return self.create(resource, res_id), True
        previous = None if current.deleted else self.read(res_type, res_id)
        if previous is not None:
            resource = _with_merged_tags(resource, previous.content or {})
            if _same_content(resource, previous.content or {}):
                return previous, False
        version = current.version + 1
        moment = now()
        content = _stamped(resource, res_id, version, moment)
        self.conn.execute(
            _UPDATE_RESOURCE, {"pk_": current.pk, "version": version, "last_updated": moment, "deleted": False}
        )
        self._write_version(current.pk, version, moment, content, method)
        self._unindex(current.pk)
        self._index(current.pk, content)
        return Stored(res_type, res_id, version, moment, content, method), current.deleted

    def delete(self, res_type: str, res_id: str, *, if_match: int | None = None) -> Stored | None:
        """Mark the resource deleted (a new version); None when there was nothing to delete."""
        current = self._current(res_type, res_id)
        if current is None or current.deleted:
            if if_match is not None and current is None:
                _check_version(res_type, res_id, current, if_match)
            return None
        _check_version(res_type, res_id, current, if_match)
        version = current.version + 1
        moment = now()
        self.conn.execute(
            _UPDATE_RESOURCE, {"pk_": current.pk, "version": version, "last_updated": moment, "deleted": True}
        )
        self.conn.execute(
            _INSERT_VERSION,
            {"res_pk": current.pk, "version": version, "last_updated": moment, "method": "DELETE", "content": None},
        )
        self._unindex(current.pk)
        self._deleted.append((res_type, res_id))
        return Stored(res_type, res_id, version, moment, None, "DELETE")

    def lock(self, key: str) -> None:
        """Serialise transactions that share `key` (conditional creates on one criterion).

        SQLite writers are already serialised by BEGIN IMMEDIATE; PostgreSQL takes a
        transaction-scoped advisory lock.
        """
        if self._is_postgres:
            self.conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})

    def reindex(self) -> int:
        """Rebuild every index row from the current versions; returns how many resources.

        For a database whose index rows an earlier version of the store made. References are
        not checked again: they were checked when the resources were written.
        """
        for table in INDEX_TABLES:
            self.conn.execute(delete(table))
        current = (
            select(resources.c.pk, versions.c.content)
            .join(versions, CURRENT_VERSION)
            .where(resources.c.deleted.is_(False), resources.c.pk > bindparam("after"))
            .order_by(resources.c.pk)
            .limit(_REINDEX_BATCH)
        )
        count, after = 0, 0
        while batch := self.conn.execute(current, {"after": after}).all():
            rows = [index_rows(orjson.loads(row.content), row.pk) for row in batch]
            self._insert_index_rows(rows)
            count += len(batch)
            after = batch[-1].pk
        return count

    def verify(self) -> None:
        """Refuse the transaction if a reference dangles or a deletion left a referrer."""
        self.flush()
        self._verify_references()
        self._verify_deletions()
        self._references.clear()
        self._deleted.clear()

    # -- internals -----------------------------------------------------------------------

    def _current(self, res_type: str, res_id: str) -> _Current | None:
        row = self.conn.execute(_CURRENT, {"res_type": res_type, "res_id": res_id}).first()
        return _Current(row.pk, row.version, row.deleted) if row else None

    def _write_version(self, pk: int, version: int, moment: datetime, content: dict[str, Any], method: str) -> None:
        self.conn.execute(
            _INSERT_VERSION,
            {
                "res_pk": pk,
                "version": version,
                "last_updated": moment,
                "method": method,
                "content": orjson.dumps(content).decode(),
            },
        )

    def _index(self, pk: int, content: dict[str, Any]) -> None:
        rows = index_rows(content, pk)
        self._pending_rows.append(rows)
        for link in rows.links:
            self._references.setdefault((link["target_type"], link["target_id"]), link["path"])

    def _insert_index_rows(self, rows: list[IndexRows]) -> None:
        for table, values in (
            (string_index, [row for each in rows for row in each.strings]),
            (sort_index, [row for each in rows for row in each.sorts]),
            (token_index, [row for each in rows for row in each.tokens]),
            (date_index, [row for each in rows for row in each.dates]),
            (reference_index, [row for each in rows for row in each.references]),
            (quantity_index, [row for each in rows for row in each.quantities]),
            (uri_index, [row for each in rows for row in each.uris]),
            (composite_index, [row for each in rows for row in each.composites]),
            (links, [row for each in rows for row in each.links]),
        ):
            if values:
                self.conn.execute(_INDEX_INSERTS[table.name], values)

    def flush(self) -> None:
        """Insert the index rows of the writes so far (before the transaction commits)."""
        if self._pending_rows:
            self._insert_index_rows(self._pending_rows)
            self._pending_rows = []

    def _unindex(self, pk: int) -> None:
        self.flush()
        for statement in _INDEX_DELETES:
            self.conn.execute(statement, {"pk_": pk})

    def _verify_references(self) -> None:
        if not self._references:
            return
        wanted = list(self._references)
        found: set[tuple[str, str]] = set()
        # Chunked to stay under the databases' bound-parameter limits.
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            query = select(resources.c.res_type, resources.c.res_id).where(
                tuple_(resources.c.res_type, resources.c.res_id).in_(chunk), resources.c.deleted.is_(False)
            )
            if self._is_postgres:
                # Holds the targets until commit, so a concurrent delete cannot orphan them.
                query = query.with_for_update(read=True)
            found.update((row.res_type, row.res_id) for row in self.conn.execute(query))
        missing = [key for key in wanted if key not in found]
        if missing:
            res_type, res_id = missing[0]
            raise bad_request(
                f"Resource {res_type}/{res_id} not found, specified in path: {self._references[missing[0]]}",
                expression=self._references[missing[0]],
            )

    def _verify_deletions(self) -> None:
        for res_type, res_id in self._deleted:
            referrer = self.conn.execute(
                select(resources.c.res_type, resources.c.res_id, links.c.path)
                .join(links, links.c.res_pk == resources.c.pk)
                .where(links.c.target_type == res_type, links.c.target_id == res_id)
                .limit(1)
            ).first()
            if referrer is not None:
                raise FhirStoreError.of(
                    409,
                    f"Unable to delete {res_type}/{res_id} because at least one resource has a reference "
                    f"to this resource. First reference found was resource "
                    f"{referrer.res_type}/{referrer.res_id} in path {referrer.path}",
                )


def _check_version(res_type: str, res_id: str, current: _Current | None, if_match: int | None) -> None:
    if if_match is None:
        return
    actual = None if current is None or current.deleted else current.version
    if actual != if_match:
        raise FhirStoreError.of(
            412,
            f"Version conflict: {res_type}/{res_id} is at version {actual or 'none'}, "
            f"If-Match expected version {if_match}",
        )


def _stamped(resource: dict[str, Any], res_id: str, version: int, moment: datetime) -> dict[str, Any]:
    meta = {**resource.get("meta", {}), "versionId": str(version), "lastUpdated": instant(moment)}
    content = {"resourceType": resource["resourceType"], "id": res_id, "meta": meta}
    content.update((key, value) for key, value in resource.items() if key not in content)
    return content


def _without_version_stamp(content: dict[str, Any]) -> dict[str, Any]:
    meta = {key: value for key, value in content.get("meta", {}).items() if key not in ("versionId", "lastUpdated")}
    stripped = {key: value for key, value in content.items() if key not in ("meta", "id")}
    if meta:
        stripped["meta"] = meta
    return stripped


def _same_content(new: dict[str, Any], old: dict[str, Any]) -> bool:
    return _without_version_stamp(new) == _without_version_stamp(old)


def _with_merged_tags(resource: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """Keep the previous version's tags, as HAPI FHIR does: an update adds tags, never drops them."""
    old_tags = previous.get("meta", {}).get("tag", [])
    if not old_tags:
        return resource
    new_tags = list(resource.get("meta", {}).get("tag", []))
    present = {(tag.get("system"), tag.get("code")) for tag in new_tags}
    merged = new_tags + [tag for tag in old_tags if (tag.get("system"), tag.get("code")) not in present]
    return {**resource, "meta": {**resource.get("meta", {}), "tag": merged}}
