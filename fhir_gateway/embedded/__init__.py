"""An embedded FHIR R4 store with HAPI FHIR JPA's REST semantics, on SQLAlchemy.

It imports nothing else of the gateway: the gateway reaches it over HTTP semantics only,
through `httpx.ASGITransport(store.app)`, exactly as it would reach HAPI FHIR.
"""

from .server import DEFAULT_MAX_BODY_BYTES, EmbeddedStore

__all__ = ["DEFAULT_MAX_BODY_BYTES", "EmbeddedStore"]
