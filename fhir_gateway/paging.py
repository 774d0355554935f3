"""Page-numbered lists: the `page`/`size` query parameters, the `Page[T]` body, its links.

Every list of the simplified API answers
`{"items": [...], "total": N, "page": 1, "size": 20, "next": url|null, "prev": url|null}`;
`next` and `prev` are absolute URLs of the same request with only `page` changed.
"""

from collections.abc import Sequence
from math import ceil
from typing import Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel, Field

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Far beyond any real list; it keeps offsets within what every FHIR server accepts.
MAX_PAGE = 1_000_000

T = TypeVar("T")


class PageQuery(BaseModel):
    """The paging query parameters; a list endpoint's query model extends it."""

    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    size: int = Field(
        DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"Items per page (at most {MAX_PAGE_SIZE})."
    )

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.page - 1) * self.size


class Page(BaseModel, Generic[T]):
    """One page of a list, with links to its neighbours."""

    items: list[T]
    total: int = Field(description="Items in the whole list.")
    page: int
    size: int
    next: str | None = Field(description="URL of the next page, null on the last.")
    prev: str | None = Field(description="URL of the previous page, null on the first.")


def build_page(request: Request, query: PageQuery, items: Sequence[T], total: int) -> Page[T]:
    """The page `items` make up, linked to its neighbours by `request`'s own URL.

    A page past the end links back to the last page that has items.
    """
    last_page = max(1, ceil(total / query.size))
    following = query.page + 1 if query.page < last_page else None
    previous = min(query.page - 1, last_page) if query.page > 1 else None
    return Page[T](
        items=list(items),
        total=total,
        page=query.page,
        size=query.size,
        next=_page_url(request, following),
        prev=_page_url(request, previous),
    )


def _page_url(request: Request, page: int | None) -> str | None:
    return None if page is None else str(request.url.include_query_params(page=page))
