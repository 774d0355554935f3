"""An embedded FHIR R4 store with HAPI FHIR JPA's REST semantics, on SQLAlchemy.

It imports nothing else of the gateway: the gateway reaches it over HTTP semantics only,
through `httpx.ASGITransport(store.app)`, exactly as it would reach HAPI FHIR. Its validation of
a resource's content (`check_content`) is the one the FHIR face applies before any server.
"""

from .outcomes import FhirStoreError
from .server import DEFAULT_MAX_BODY_BYTES, EmbeddedStore
from .validation import check_content

__all__ = ["DEFAULT_MAX_BODY_BYTES", "EmbeddedStore", "FhirStoreError", "check_content"]
