"""The embedded store with its HTTP face, as the gateway and the tools run it."""

from datetime import timedelta

from .http import create_http_app
from .search import DEFAULT_PAGE_LIFETIME
from .store import FhirStore

DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024


class EmbeddedStore(FhirStore):
    """A FHIR R4 server on SQLAlchemy; `app` serves it over HTTP under `/fhir`."""

    def __init__(
        self,
        database_url: str,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        page_lifetime: timedelta = DEFAULT_PAGE_LIFETIME,
    ) -> None:
        super().__init__(database_url, page_lifetime=page_lifetime)
        self.max_body_bytes = max_body_bytes
        self.app = create_http_app(self.handle, max_body_bytes)
