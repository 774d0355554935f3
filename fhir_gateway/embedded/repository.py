"""What the interactions ask of storage: the repository protocol, and a stored version.

Handlers see only this protocol; `storage.SqlRepository` implements it on one database
transaction, with search and history behind it.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .search import SearchPage, SearchQuery
    from .search.query import Condition


@dataclass(frozen=True)
class Stored:
    """One version of a resource as stored; `content` is None for a deletion."""

    res_type: str
    res_id: str
    version: int
    last_updated: datetime
    content: dict[str, Any] | None
    method: str = "GET"

    @property
    def deleted(self) -> bool:
        return self.content is None

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'


class Repository(Protocol):
    """Versioned resources inside one transaction, which the caller owns.

    Writes record what they must check (references to resolve, deletions that must leave no
    referrer) and `verify()` checks it all at the end, so a transaction bundle may create,
    reference and delete resources in any entry order.
    """

    # What each conditional reference (`Practitioner?identifier=...`) resolved to in this
    # transaction: a Synthea patient bundle names the same clinician in hundreds of entries.
    resolved_references: dict[str, str]

    def read(self, res_type: str, res_id: str) -> Stored | None:
        """The current version (a deletion's `content` is None), or None if never stored."""

    def vread(self, res_type: str, res_id: str, version: int) -> Stored | None: ...

    def create(self, resource: dict[str, Any], res_id: str | None = None) -> Stored: ...

    def update(
        self, resource: dict[str, Any], res_id: str, *, if_match: int | None = None, method: str = "PUT"
    ) -> tuple[Stored, bool]:
        """Store `resource` as the next version; returns (stored, created)."""

    def delete(self, res_type: str, res_id: str, *, if_match: int | None = None) -> Stored | None:
        """Mark the resource deleted; None when there was nothing to delete."""

    def lock(self, key: str) -> None:
        """Serialise transactions that share `key` (conditional creates on one criterion)."""

    def match(self, res_type: str, conditions: "list[Condition]", limit: int = 2) -> list[str]:
        """Ids of current resources matching `conditions` (at most `limit`)."""

    def search(self, query: "SearchQuery", raw_query: list[tuple[str, str]]) -> "SearchPage": ...

    def page(self, search_id: str, offset: int, count: int) -> "SearchPage":
        """A page of a stored result list; 410 once it expired."""

    def history(
        self, *, res_type: str | None, res_id: str | None, since: datetime | None, offset: int, count: int
    ) -> tuple[list[Stored], bool, int]:
        """Newest first: (versions on this page, whether more follow, total versions)."""

    def verify(self) -> None:
        """Refuse the transaction if a reference dangles or a deletion left a referrer."""
