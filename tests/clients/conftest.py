"""The embedded store served over real HTTP on loopback, for FHIR client libraries that open
their own connections (fhirpy, fhirclient)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from fhir_gateway.embedded import EmbeddedStore
from tests.serving import served_on_loopback


@pytest.fixture(scope="module")
def fhir_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The FHIR base URL of an embedded store on a fresh SQLite file, served by uvicorn."""
    database = Path(tmp_path_factory.mktemp("clients")) / "fhir.db"
    store = EmbeddedStore(f"sqlite:///{database}")
    try:
        with served_on_loopback(store.app) as root:
            yield f"{root}/fhir"
    finally:
        store.dispose()
