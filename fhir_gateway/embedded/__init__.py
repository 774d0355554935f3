"""An embedded FHIR R4 store with HAPI FHIR JPA's REST semantics, on SQLAlchemy.

It imports nothing else of the gateway: the gateway reaches it over HTTP semantics only,
through `httpx.ASGITransport(store.app)`, exactly as it would reach HAPI FHIR. Its validation of
a resource's content (`check_content`), its OperationOutcomes and the specification's
required codes are the FHIR face's too.
"""

from .outcomes import FhirStoreError, Issue
from .server import DEFAULT_MAX_BODY_BYTES, EmbeddedStore
from .validation import check_content, required_codes

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "EmbeddedStore",
    "FhirStoreError",
    "Issue",
    "check_content",
    "required_codes",
]
