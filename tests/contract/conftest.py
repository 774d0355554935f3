"""Fixtures of the FHIR store contract suite: `fhir`, a client of the FHIR base under test.

Without `FHIR_CONTRACT_URL` every test runs against the embedded store, once on SQLite and once
on PostgreSQL; with it, only against the server at that base URL. Tests marked `embedded_only`
specify behaviour only the embedded store can be set up for (or is held to), and skip otherwise.
"""

import warnings
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from fhir_gateway.embedded import EmbeddedStore
from tests.contract.factories import Tag
from tests.contract.interactions import FHIR_JSON
from tests.contract.target import CONTRACT_URL, CONTRACT_URL_VAR

with warnings.catch_warnings():
    # Newer Starlette prefers `httpx2`; the pinned dependencies ship `httpx`, which it still drives.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

REMOTE_BACKEND = "remote"
BACKENDS = [REMOTE_BACKEND] if CONTRACT_URL else ["sqlite", "postgres"]
# Small enough that a test body exceeds it, large enough for any ordinary request.
SMALL_BODY_LIMIT = 4096


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "embedded_only(reason): behaviour checked on the embedded store only; skipped with "
        f"{CONTRACT_URL_VAR}, for the given reason",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("embedded_only")
    if marker is not None and CONTRACT_URL:
        reason = marker.kwargs.get("reason") or " ".join(marker.args)
        pytest.skip(f"embedded store only: {reason}")


def _label_json_as_fhir(request: httpx.Request) -> None:
    """httpx labels `json=` bodies `application/json`; FHIR's own media type is the one to send."""
    if request.headers.get("content-type") == "application/json":
        request.headers["Content-Type"] = FHIR_JSON


def _embedded_client(store: EmbeddedStore) -> TestClient:
    client = TestClient(store.app, base_url="http://testserver/fhir/", headers={"Accept": FHIR_JSON})
    client.event_hooks = {"request": [_label_json_as_fhir], "response": []}
    return client


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which server this run of a test talks to: `sqlite`, `postgres` or `remote`."""
    return request.param


@pytest.fixture(scope="session")
def embedded_database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The database of the embedded store under test (skips when a remote server is tested)."""
    if backend == REMOTE_BACKEND:
        pytest.skip(f"needs the embedded store; {CONTRACT_URL_VAR} names a remote server")
    return request.getfixturevalue(f"{backend}_url")


@pytest.fixture(scope="session")
def fhir(backend: str, request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """A client whose base URL is the FHIR base (ends in `/fhir/`): `fhir.get("Patient/1")`."""
    if backend == REMOTE_BACKEND:
        assert CONTRACT_URL is not None
        with httpx.Client(
            base_url=CONTRACT_URL.rstrip("/") + "/",
            timeout=60,
            headers={"Accept": FHIR_JSON},
            event_hooks={"request": [_label_json_as_fhir]},
        ) as client:
            yield client
        return
    store = EmbeddedStore(request.getfixturevalue("embedded_database_url"))
    try:
        with _embedded_client(store) as client:
            yield client
    finally:
        store.dispose()


@pytest.fixture
def small_body_fhir(embedded_database_url: str) -> Iterator[httpx.Client]:
    """A second embedded store on the same database that accepts only small request bodies."""
    store = EmbeddedStore(embedded_database_url, max_body_bytes=SMALL_BODY_LIMIT)
    try:
        with _embedded_client(store) as client:
            yield client
    finally:
        store.dispose()


@pytest.fixture
def tag() -> Tag:
    """A tag unique to this test: every resource it writes carries it, every search filters on it."""
    return Tag.new()


@pytest.fixture
def short_lived_pages_fhir(embedded_database_url: str) -> Iterator[httpx.Client]:
    """A second embedded store on the same database whose page links expire as they are made."""
    store = EmbeddedStore(embedded_database_url, page_lifetime=timedelta(0))
    try:
        with _embedded_client(store) as client:
            yield client
    finally:
        store.dispose()
