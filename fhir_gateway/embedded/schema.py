"""Tables of the embedded store: resources with full version history, and search indexes.

Every resource type shares these tables. Index rows exist only for current, non-deleted
versions, so a search never has to filter out stale or deleted content.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid); PostgreSQL wants 64 bits.
_Pk = BigInteger().with_variant(Integer(), "sqlite")
# String search compares prefixes as ranges; PostgreSQL does that byte-wise only under "C".
_IndexedText = String(200).with_variant(String(200, collation="C"), "postgresql")

INDEXED_TEXT_LENGTH = 200

resources = Table(
    "resource",
    metadata,
    Column("pk", _Pk, primary_key=True, autoincrement=True),
    Column("res_type", String(64), nullable=False),
    Column("res_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_updated", DateTime, nullable=False),
    Column("deleted", Boolean, nullable=False),
    UniqueConstraint("res_type", "res_id", name="uq_resource_type_id"),
    Index("ix_resource_type_updated", "res_type", "last_updated"),
)

versions = Table(
    "resource_version",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("last_updated", DateTime, nullable=False),
    Column("method", String(8), nullable=False),
    # NULL for the version a DELETE wrote.
    Column("content", Text, nullable=True),
    Index("ix_resource_version_updated", "last_updated"),
)

string_index = Table(
    "idx_string",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), nullable=False, index=True),
    Column("res_type", String(64), nullable=False),
    Column("param", String(64), nullable=False),
    # Case-folded, accent-stripped, truncated: what prefix and :contains searches compare.
    Column("value", _IndexedText, nullable=False),
    # As written, for :exact.
    Column("exact", Text, nullable=False),
    # res_pk last makes the index covering: a lookup never visits the table rows.
    Index("ix_idx_string_lookup", "res_type", "param", "value", "res_pk"),
)

token_index = Table(
    "idx_token",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), nullable=False, index=True),
    Column("res_type", String(64), nullable=False),
    Column("param", String(64), nullable=False),
    Column("system", Text, nullable=True),
    Column("code", _IndexedText, nullable=True),
    Index("ix_idx_token_lookup", "res_type", "param", "code", "res_pk"),
)

# One row per current resource and string parameter it has a value for: the value it sorts
# by (its shown values in document order, folded; see `indexing.index_rows`), so that a sorted
# search reads one row per resource, or walks this index in order, instead of aggregating the
# resource's string rows.
sort_index = Table(
    "idx_sort",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), primary_key=True),
    Column("param", String(64), primary_key=True),
    Column("res_type", String(64), nullable=False),
    # The resource's id, so that ties are broken by id in index order.
    Column("res_id", String(64), nullable=False),
    Column("value", _IndexedText, nullable=False),
    Index("ix_idx_sort_order", "res_type", "param", "value", "res_id", "res_pk"),
)

date_index = Table(
    "idx_date",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), nullable=False, index=True),
    Column("res_type", String(64), nullable=False),
    Column("param", String(64), nullable=False),
    # The instant range the value covers, in UTC: "1980-12" spans the whole month.
    Column("low", DateTime, nullable=False),
    Column("high", DateTime, nullable=False),
    Index("ix_idx_date_low", "res_type", "param", "low"),
    Index("ix_idx_date_high", "res_type", "param", "high"),
)

# Every literal reference a current resource holds, wherever it sits: referential
# integrity, reference search, _include and _revinclude all read this one table.
links = Table(
    "resource_link",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), nullable=False, index=True),
    Column("res_type", String(64), nullable=False),
    # Text: nested extensions make paths of any length.
    Column("path", Text, nullable=False),
    Column("target_type", String(64), nullable=False),
    Column("target_id", String(64), nullable=False),
    Index("ix_resource_link_target", "target_type", "target_id", "res_pk"),
)

# What each reference parameter points at (`Observation.patient`: the subject, if a Patient).
reference_index = Table(
    "idx_reference",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), nullable=False, index=True),
    Column("res_type", String(64), nullable=False),
    Column("param", String(64), nullable=False),
    Column("target_type", String(64), nullable=False),
    Column("target_id", String(64), nullable=False),
    Index("ix_idx_reference_lookup", "res_type", "param", "target_id", "target_type", "res_pk"),
)

# Quantity and number parameters: the range a value covers (a Quantity: its value; a Range:
# low to high), with its unit for quantities.
quantity_index = Table(
    "idx_quantity",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), nullable=False, index=True),
    Column("res_type", String(64), nullable=False),
    Column("param", String(64), nullable=False),
    Column("system", Text, nullable=True),
    Column("code", _IndexedText, nullable=True),
    Column("unit", _IndexedText, nullable=True),
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    Index("ix_idx_quantity_low", "res_type", "param", "low"),
    Index("ix_idx_quantity_high", "res_type", "param", "high"),
)

uri_index = Table(
    "idx_uri",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), nullable=False, index=True),
    Column("res_type", String(64), nullable=False),
    Column("param", String(64), nullable=False),
    Column("value", Text, nullable=False),
    Index("ix_idx_uri_lookup", "res_type", "param", "value"),
)

# token$token and token$quantity composites: per element the composite's expression selects
# (an Observation, each of its components), one row per pair of the values its parts hold
# there, so that both parts of a search match in the same element.
composite_index = Table(
    "idx_composite",
    metadata,
    Column("res_pk", _Pk, ForeignKey("resource.pk"), nullable=False, index=True),
    Column("res_type", String(64), nullable=False),
    Column("param", String(64), nullable=False),
    Column("system", Text, nullable=True),
    Column("code", _IndexedText, nullable=True),
    Column("value_system", Text, nullable=True),
    Column("value_code", _IndexedText, nullable=True),
    Column("unit", _IndexedText, nullable=True),
    Column("low", Float, nullable=True),
    Column("high", Float, nullable=True),
    Index("ix_idx_composite_lookup", "res_type", "param", "code"),
)

INDEX_TABLES = (
    string_index,
    sort_index,
    token_index,
    date_index,
    reference_index,
    quantity_index,
    uri_index,
    composite_index,
    links,
)

# The ordered matches of a search that has more than one page, so that its page links cut
# pages from one list while data changes (HAPI FHIR's `_getpages`). `pks` packs resource pks
# as 64-bit integers; `complete` says whether they are all of the matches or the first ones.
search_results = Table(
    "search_result",
    metadata,
    Column("search_id", String(64), primary_key=True),
    Column("res_type", String(64), nullable=False),
    # The search as asked (JSON), to run its includes on each page and to extend `pks`.
    Column("query", Text, nullable=False),
    Column("pks", LargeBinary, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("total", Integer, nullable=True),
    Column("created", DateTime, nullable=False),
    Column("expires", DateTime, nullable=False, index=True),
)

# Facts about the database itself, such as the version of the index rows it holds.
store_info = Table(
    "store_info",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
