"""What the store's interactions take and give, apart from HTTP (bundle entries use them too)."""

from dataclasses import dataclass, field
from typing import Any

from .repository import Stored


@dataclass(frozen=True)
class FhirRequest:
    method: str
    # Relative to the FHIR base, without leading slash: "Patient/1/_history/2".
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None
    if_match: str | None = None
    if_none_exist: str | None = None
    # The id a transaction reserved for a POST entry whose fullUrl others reference.
    assigned_id: str | None = None
    # The body passed `validation.check_content` before the write transaction began.
    content_checked: bool = False

    @property
    def segments(self) -> list[str]:
        return [segment for segment in self.path.split("/") if segment]

    @property
    def is_bundle(self) -> bool:
        return self.method == "POST" and not self.segments


@dataclass
class FhirResponse:
    status: int
    body: dict[str, Any] | None = None
    # Relative to the FHIR base, e.g. "Patient/1/_history/1".
    location: str | None = None
    stored: Stored | None = None

    @staticmethod
    def of(status: int, stored: Stored) -> "FhirResponse":
        return FhirResponse(
            status,
            stored.content,
            f"{stored.res_type}/{stored.res_id}/_history/{stored.version}",
            stored,
        )
