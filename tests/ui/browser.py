"""What the console's browser tests and `make screenshots` share: Debian's Chromium launched
by Playwright, the gateway on a fresh embedded store served over loopback, and data seeded
through the public REST API.

Playwright never downloads a browser here: it launches the system's Chromium by path, with
the flags a closed network and a root user need (no sandbox, no GPU, nothing fetched by the
browser on its own account).
"""

import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

from fhir_gateway.app import create_app
from fhir_gateway.settings import EMBEDDED, Settings
from mappers.health_numbers import bc_phn_check_digit
from tests.serving import served_on_loopback

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def find_chromium() -> str | None:
    """The Chromium program on this machine, or None."""
    found = shutil.which("chromium")
    if found is not None:
        return found
    return str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.is_file() else None


@contextmanager
def open_browser(chromium: str) -> Iterator[Browser]:
    """The Chromium program at `chromium`, headless, driven by Playwright's sync API."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def record_errors(page: Page, errors: list[str]) -> None:
    """Add to `errors` each error the browser logs on `page` and each exception its scripts raise."""

    def logged(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text} ({message.location.get('url', '')})")

    def raised(error: Error) -> None:
        errors.append(f"{page.url}: uncaught {error.name}: {error.message}")

    page.on("console", logged)
    page.on("pageerror", raised)


def gateway_settings(database: Path, **overrides: Any) -> Settings:
    """The gateway as `make run` serves it (no authentication), on an embedded store of its own.

    Every knob is explicit, so neither a `.env` nor the environment changes what the browser
    sees: no rate limit (a page makes many requests), no language model (summaries are
    written offline), no audit trail (its background writes are tested on their own).
    `overrides` change any of them, authentication for one."""
    settings: dict[str, Any] = {
        "is_local_dev": True,
        "fhir_base_url": EMBEDDED,
        "embedded_database_url": f"sqlite:///{database}",
        "home_url": None,
        "rate_limit": "",
        "audit_enabled": False,
        "openai_api_key": None,
    }
    return Settings(_env_file=None, **(settings | overrides))


@contextmanager
def served_gateway(database: Path, **overrides: Any) -> Iterator[str]:
    """The gateway served over HTTP on a free loopback port; yields its root URL."""
    with served_on_loopback(create_app(gateway_settings(database, **overrides))) as root:
        yield root


def _bc_phns() -> Iterator[str]:
    """Valid British Columbia PHNs, each once."""
    for serial in itertools.count(10_000_000):
        first_nine = f"9{serial:08d}"
        check = bc_phn_check_digit(first_nine)
        if check is not None:
            yield f"{first_nine}{check}"


class Api:
    """The gateway's public REST API, as a script or another client uses it."""

    def __init__(self, root: str, key: str | None = None) -> None:
        self.root = root
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(base_url=root, headers=headers, timeout=120)
        self._phns = _bc_phns()

    def close(self) -> None:
        self.http.close()

    def _answer(self, response: httpx.Response, expected: int) -> Any:
        assert response.status_code == expected, f"{response.request.method} {response.request.url}: {response.text}"
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._answer(self.http.get(path, params=params), 200)

    def patient(self, given: str, family: str, **fields: Any) -> dict[str, Any]:
        """A new BC patient with a health number of its own."""
        body = {
            "given_name": given,
            "family_name": family,
            "birth_date": "1961-04-12",
            "gender": "female",
            "insurance_no": next(self._phns),
            "province": "BC",
        }
        return self._answer(self.http.post("/patients", json=body | fields), 201)

    def note(self, patient_id: str, content: str, taken_at: str, **fields: Any) -> dict[str, Any]:
        body = {"taken_at": taken_at, "content": content, **fields}
        return self._answer(self.http.post(f"/patients/{patient_id}/notes", json=body), 201)

    def interaction(self, insurance_no: str, interaction_date: str, **fields: Any) -> dict[str, Any]:
        body = {"insurance_no": insurance_no, "interaction_date": interaction_date, **fields}
        return self._answer(self.http.post("/interactions", json=body), 201)


def console_pages(patient_id: str, note_id: str) -> dict[str, str]:
    """Every page of the console, by a short name, for a patient who has a note."""
    return {
        "patients": "/ui",
        "patient": f"/ui/patients/{patient_id}",
        "note": f"/ui/patients/{patient_id}/notes/{note_id}",
        "new-note": f"/ui/patients/{patient_id}/notes/new",
        "new-interaction": f"/ui/patients/{patient_id}/interactions/new",
        "new-interaction-blank": "/ui/interactions/new",
        "summary": f"/ui/patients/{patient_id}/summary",
        "generate": "/ui/generate",
    }
