"""The embedded store's HTTP app as one worker process of `python -m fhir_gateway fhir` builds it."""

from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.settings import Settings


def create() -> Starlette:
    """The app of a store on the configured database (uvicorn calls this in each worker)."""
    settings = Settings()
    return EmbeddedStore(settings.embedded_database_url, max_body_bytes=settings.fhir_max_body_bytes).app


def in_memory(database_url: str) -> bool:
    """Whether the database lives in one process's memory, which other workers cannot share."""
    url = make_url(database_url)
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
