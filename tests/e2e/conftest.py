"""The whole gateway served over real HTTP on loopback, for unmodified FHIR client libraries
that open their own connections (fhirpy, fhirclient) and talk to its FHIR face at `/fhir`.

The FHIR server behind it is the embedded store on a fresh SQLite file, or the server at
`TEST_FHIR_BASE_URL` when that is set (`make hapi-test` sets it to a HAPI FHIR it starts).
The gateway runs with authentication on, as in production: the clients send the API key
`AUTHORIZATION` carries, as each library lets its users (fhirpy's `authorization`,
fhirclient's session headers).

That server is not emptied: every test writes data of its own, with names and identifiers
made unique by a uuid, so tests pass in any order on a server that already holds data.
"""

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fhir_gateway.app import EMBEDDED_BASE_URL, create_app
from fhir_gateway.security import new_api_key
from fhir_gateway.settings import EMBEDDED, Settings
from tests.serving import served_on_loopback

FHIR_BASE_URL: str | None = os.environ.get("TEST_FHIR_BASE_URL") or None

CheckUrls = Callable[[Any], None]

_KEY, _KEY_CONFIGURED = new_api_key("e2e-client", ["system/*.*"])
AUTHORIZATION = f"Bearer {_KEY}"


@pytest.fixture(scope="session")
def gateway_fhir_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The FHIR base URL of the gateway, served by uvicorn (lifespan included) in a thread."""
    database = tmp_path_factory.mktemp("e2e") / "fhir.db"
    settings = Settings(
        _env_file=None,
        fhir_base_url=FHIR_BASE_URL or EMBEDDED,
        embedded_database_url=f"sqlite:///{database}",
        cors_origins=["https://clinic.example"],
        home_url=None,
        is_local_dev=False,
        api_keys=[_KEY_CONFIGURED.entry()],
        rate_limit="",
    )
    with served_on_loopback(create_app(settings)) as root:
        yield f"{root}/fhir"


@pytest.fixture(scope="session")
def backend_base() -> str:
    """The base URL of the FHIR server behind the gateway, which clients must never see."""
    return (FHIR_BASE_URL or EMBEDDED_BASE_URL).rstrip("/")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _bundle_urls(bundle: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for link in bundle.get("link") or []:
        yield "link", link["url"]
    for entry in bundle.get("entry") or []:
        if "fullUrl" in entry:
            yield "fullUrl", entry["fullUrl"]
        location = (entry.get("response") or {}).get("location")
        if location is not None:
            yield "location", location
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Bundle":
            yield from _bundle_urls(resource)


def under(base: str, url: str) -> bool:
    """Whether `url` is `base` itself or an address below it."""
    return url == base or url.startswith((f"{base}/", f"{base}?"))


@pytest.fixture(scope="session")
def check_urls(gateway_fhir_base: str, backend_base: str) -> CheckUrls:
    """Assert that a FHIR document (a Bundle, a resource) names no address but the gateway's:
    every `link` and every `fullUrl` that is not a `urn:` is under the gateway base, so is
    every absolute `location` (a relative one is relative to it), and no string anywhere
    quotes the backend's base."""

    def check(document: Any) -> None:
        leaked = [text for text in _strings(dict(document)) if backend_base in text]
        assert not leaked, f"the backend's base {backend_base} shows through {len(leaked)} times: {leaked[:3]}"
        if document.get("resourceType") != "Bundle":
            return
        for kind, url in _bundle_urls(document):
            if (kind == "fullUrl" and url.startswith("urn:")) or (kind == "location" and "://" not in url):
                continue
            assert under(gateway_fhir_base, url), f"{kind} {url} is not under the gateway base {gateway_fhir_base}"

    return check
