"""The web console (`/ui`) in a real browser: Debian's Chromium, driven by Playwright's sync
API, on the gateway served over HTTP on loopback on a fresh embedded SQLite store.

Without Chromium (`.ci/run` installs Debian's `chromium`) every browser test skips, and the
run ends with a red `BROWSER NOT TESTED` banner. The gateway and the browser start once for
the package; each test opens a browser context of its own and seeds its own data through
the public REST API, under names and health numbers no other test uses.

A page fails its test when the browser logged an error (a failed request included) or a
script raised: `page` collects both and checks, after the test, that nothing but what the
test allowed (`console.allow`, for an error answer the test provokes) was seen.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, expect

from fhir_gateway.security import new_api_key
from tests.conftest import BROWSER_SKIPPED
from tests.ui.browser import DESKTOP, Api, find_chromium, open_browser, served_gateway

# A loaded 2-core machine: generous waits, never sleeps.
expect.set_options(timeout=15_000)


@dataclass
class ConsoleLog:
    """The errors a page's browser logged, and those the test expects."""

    seen: list[str] = field(default_factory=list)
    allowed: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    allowed_seen: list[str] = field(default_factory=list)

    def allow(self, text: str, url_part: str) -> None:
        """Let the browser log an error whose text matches `text`, about a URL containing `url_part`."""
        self.allowed.append((re.compile(text), url_part))

    def message(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        entry = f"console error {message.text!r} ({url})"
        if any(pattern.search(message.text) and part in url for pattern, part in self.allowed):
            self.allowed_seen.append(entry)
        else:
            self.seen.append(entry)

    def page_error(self, error: Error) -> None:
        self.seen.append(f"uncaught {error.name}: {error.message}\n{error.stack or ''}".rstrip())


@pytest.fixture(scope="session")
def chromium() -> str:
    program = find_chromium()
    if program is None:
        pytest.skip(BROWSER_SKIPPED)
    return program


@pytest.fixture(scope="package")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The root URL of the gateway, served by uvicorn in a thread."""
    with served_gateway(tmp_path_factory.mktemp("ui") / "fhir.db") as root:
        yield root


@pytest.fixture(scope="package")
def api(gateway: str) -> Iterator[Api]:
    client = Api(gateway)
    yield client
    client.close()


@pytest.fixture(scope="package")
def browser(chromium: str) -> Iterator[Browser]:
    # Package scope: the sync API's event loop is gone before the rest of the suite runs.
    with open_browser(chromium) as browser:
        yield browser


@pytest.fixture
def viewport() -> dict[str, int]:
    """The window size of `page`; a test parametrizes it to change it."""
    return DESKTOP


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@contextmanager
def watched_page(browser: Browser, root: str, viewport: dict[str, int], console: ConsoleLog) -> Iterator[Page]:
    """A page in a fresh browser context on `root`; afterwards, no error was logged but those allowed."""
    context = browser.new_context(base_url=root, viewport=viewport, accept_downloads=True)
    context.set_default_timeout(20_000)
    context.set_default_navigation_timeout(30_000)
    page = context.new_page()
    page.on("console", console.message)
    page.on("pageerror", console.page_error)
    yield page
    context.close()
    assert not console.seen, "the browser reported errors:\n" + "\n".join(console.seen)


@pytest.fixture
def page(browser: Browser, gateway: str, viewport: dict[str, int], console: ConsoleLog) -> Iterator[Page]:
    with watched_page(browser, gateway, viewport, console) as page:
        yield page


@dataclass
class GuardedGateway:
    """A gateway that serves only callers with its API key."""

    root: str
    key: str


@pytest.fixture(scope="package")
def guarded_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardedGateway]:
    key, configured = new_api_key("console-user", ["system/*.*"])
    database = tmp_path_factory.mktemp("ui-guarded") / "fhir.db"
    with served_gateway(database, is_local_dev=False, api_keys=[configured.entry()]) as root:
        yield GuardedGateway(root, key)


@pytest.fixture
def guarded_page(browser: Browser, guarded_gateway: GuardedGateway, console: ConsoleLog) -> Iterator[Page]:
    with watched_page(browser, guarded_gateway.root, DESKTOP, console) as page:
        yield page
