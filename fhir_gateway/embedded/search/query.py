"""A FHIR search as the store understands it, once parsed: what to match, and how to shape
the result."""

from dataclasses import dataclass, field

from ..search_parameters import ParamType, SearchParam

DEFAULT_COUNT = 20
MAX_COUNT = 1000


@dataclass(frozen=True)
class Criterion:
    """`param[:modifier]=value1,value2` on `resource_type`: any of the values."""

    resource_type: str
    param: SearchParam
    modifier: str | None
    values: tuple[str, ...]


@dataclass(frozen=True)
class Chained:
    """`subject:Patient.family=X`: the reference `reference` points at a resource, of one of
    the types in `inner`, that matches that type's criterion (or, a chain further on,
    `subject.organization.name=X`, that type's own chain)."""

    resource_type: str
    reference: SearchParam
    inner: "tuple[Criterion | Chained, ...]"


@dataclass(frozen=True)
class Reverse:
    """`_has:Observation:patient:code=X`: some `source_type` resource whose `reference`
    points at the one searched matches `inner`."""

    resource_type: str
    source_type: str
    reference: SearchParam
    inner: Criterion


@dataclass(frozen=True)
class Composite:
    """`component-code-value-quantity=http://loinc.org|8480-6$gt100`: a token and a token or
    quantity that match in one element (one component); any of `pairs`."""

    resource_type: str
    param: SearchParam
    second_type: ParamType
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AllOf:
    """A composite over the resource itself (`code-value-date`): for any of `alternatives`,
    every criterion of it (one per component) holds."""

    resource_type: str
    alternatives: tuple[tuple[Criterion, ...], ...]


Condition = Criterion | Chained | Reverse | Composite | AllOf


@dataclass(frozen=True)
class Include:
    source_type: str
    param: SearchParam
    target_type: str | None
    # `:iterate`: applied again to what the includes found, until they find nothing new.
    iterate: bool = False


@dataclass
class SearchQuery:
    resource_type: str
    conditions: list[Condition] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    # None unless the client asked for `_offset`: then pages are cut by offset, as asked,
    # instead of from a stored list of matches.
    offset: int | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)
    total: bool = False
    summary_count: bool = False
    includes: list[Include] = field(default_factory=list)
    revincludes: list[Include] = field(default_factory=list)
    elements: list[str] = field(default_factory=list)
