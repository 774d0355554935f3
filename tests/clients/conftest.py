"""The embedded store served over real HTTP on loopback, for FHIR client libraries that open
their own connections (fhirpy, fhirclient)."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from fhir_gateway.embedded import EmbeddedStore


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def fhir_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The FHIR base URL of an embedded store on a fresh SQLite file, served by uvicorn."""
    database = Path(tmp_path_factory.mktemp("clients")) / "fhir.db"
    store = EmbeddedStore(f"sqlite:///{database}")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(store.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped before it served")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}/fhir"
    server.should_exit = True
    thread.join()
    store.dispose()
