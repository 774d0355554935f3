"""FHIR search: parsing a query (`parse`), turning it into SQL (`sql`, `sorting`), running it
and paging its result (`execute`, `paging`)."""

from .execute import SearchPage, matching_ids, run_search, stored_page
from .paging import DEFAULT_PAGE_LIFETIME, StoredList
from .parse import non_negative_int, parse_criteria, parse_query
from .query import DEFAULT_COUNT, MAX_COUNT, SearchQuery

__all__ = [
    "DEFAULT_COUNT",
    "DEFAULT_PAGE_LIFETIME",
    "MAX_COUNT",
    "SearchPage",
    "SearchQuery",
    "StoredList",
    "matching_ids",
    "non_negative_int",
    "parse_criteria",
    "parse_query",
    "run_search",
    "stored_page",
]
