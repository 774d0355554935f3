"""Index rows for one resource: what each of its search parameters holds, and its references."""

from .references import (
    Link,
    find_links,
    parse_conditional_reference,
    parse_reference,
    references,
    rewrite_references,
    unresolvable_references,
)
from .rows import INDEX_VERSION, IndexRows, index_rows

__all__ = [
    "INDEX_VERSION",
    "IndexRows",
    "Link",
    "find_links",
    "index_rows",
    "parse_conditional_reference",
    "parse_reference",
    "references",
    "rewrite_references",
    "unresolvable_references",
]
