"""Session-wide fixtures: the databases the embedded FHIR store runs on in tests.

SQLite always runs. PostgreSQL runs when `TEST_POSTGRES_URL` names a server (`.ci/run`
starts one); without it those tests skip, and the run ends with a warning that says so.
OCR tests take the `tesseract` fixture: without Tesseract (`.ci/run` installs Debian's
`tesseract-ocr`) they skip, with a warning of their own at the end. So do the web console's
browser tests without Chromium (tests/ui/conftest.py). The warnings are read from the skips'
reasons, which reach the end of the run from every process `make test` runs tests in.

`make test` runs the suite in one process per core (pytest-xdist).
On PostgreSQL, each process has a schema of its own, so none empties another's tables.

Property tests run without Hypothesis' per-example deadline, a timing assumption: on a busy
machine an example that takes a few milliseconds was measured at 350 ms, and the deadline
failed a correct run. Without a deadline the too_slow health check tolerates 30 s of drawing
instead of 1 s, so the strategies are kept cheap to draw on their own account.

Authentication is off (`IS_LOCAL_DEV=true`, as `make run` sets it) unless a test turns it on.
"""

import os
import shutil
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, make_url, text

from tests.x12_reading import Read, maps_loaded_once

# The suite serves the gateway as `make run` does, without authentication, in this process and
# in the ones it starts; a test of authentication configures it explicitly.
os.environ["IS_LOCAL_DEV"] = "true"

settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

POSTGRES_URL_VAR = "TEST_POSTGRES_URL"
POSTGRES_SKIPPED = f"{POSTGRES_URL_VAR} is not set: PostgreSQL tests skipped (run .ci/run to get one)"
OCR_SKIPPED = "Tesseract is not installed: OCR tests skipped (.ci/run installs tesseract-ocr)"
BROWSER_SKIPPED = "Chromium is not installed: browser tests skipped (.ci/run installs Debian's chromium)"
# What the end of a run says when tests skipped for one of these reasons.
_WARNINGS = {
    POSTGRES_SKIPPED: f"PostgreSQL NOT TESTED: {POSTGRES_URL_VAR} unset, every PostgreSQL test was skipped",
    OCR_SKIPPED: "OCR NOT TESTED: Tesseract is not installed, every OCR test was skipped",
    BROWSER_SKIPPED: "BROWSER NOT TESTED: Chromium is not installed, every browser test of the web console was skipped",
}


def _own_schema(url: str) -> str:
    """`url` on an empty schema of this process's own (`public` without pytest-xdist), so no
    earlier run's rows, nor another process's, meet this one's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    schema = f"suite_{worker}" if worker else "public"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return url if worker is None else on_schema(url, schema)


def on_schema(url: str, schema: str) -> str:
    """The PostgreSQL `url` with `schema` first on its search path: where tables are made and found."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'fhir.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        pytest.skip(POSTGRES_SKIPPED)
    yield _own_schema(url)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each store test runs once per database."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def tesseract() -> str:
    """The Tesseract program OCR runs; tests that read scans skip without it."""
    program = shutil.which("tesseract")
    if program is None:
        pytest.skip(OCR_SKIPPED)
    return program


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reasons = " ".join(str(report.longrepr) for report in terminalreporter.stats.get("skipped", []))
    for reason, warning in _WARNINGS.items():
        if reason in reasons:
            terminalreporter.write_sep("!", warning, red=True, bold=True)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`pytest.mark.anyio`) run on asyncio, the loop uvicorn serves on."""
    return "asyncio"


@pytest.fixture(scope="session")
def read_x12() -> Iterator[Callable[[bytes], Read]]:
    """pyx12's reading of an interchange, its maps loaded once for the whole run."""
    with maps_loaded_once() as read:
        yield read
