"""Session-wide fixtures: the databases the embedded FHIR store runs on in tests.

SQLite always runs. PostgreSQL runs when `TEST_POSTGRES_URL` names a server (`.ci/run`
starts one); without it those tests skip, and the run ends with a warning that says so.
OCR tests take the `tesseract` fixture: without Tesseract (`.ci/run` installs Debian's
`tesseract-ocr`) they skip, with a warning of their own at the end. So do the web console's
browser tests without Chromium (tests/ui/conftest.py records them in `browser_skips`).

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
from sqlalchemy import create_engine, text

from tests.x12_reading import Read, maps_loaded_once

# The suite serves the gateway as `make run` does, without authentication, in this process and
# in the ones it starts; a test of authentication configures it explicitly.
os.environ["IS_LOCAL_DEV"] = "true"

settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

POSTGRES_URL_VAR = "TEST_POSTGRES_URL"
_postgres_skips: list[str] = []
_ocr_skips: list[str] = []
browser_skips: list[str] = []


def _reset_postgres(url: str) -> None:
    """Start every run on an empty schema, so no earlier run's rows leak into this one."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('store') / 'fhir.db'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        _postgres_skips.append("postgres")
        pytest.skip(f"{POSTGRES_URL_VAR} is not set: PostgreSQL tests skipped (run .ci/run to get one)")
    _reset_postgres(url)
    yield url


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each store test runs once per database."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def tesseract() -> str:
    """The Tesseract program OCR runs; tests that read scans skip without it."""
    program = shutil.which("tesseract")
    if program is None:
        _ocr_skips.append("tesseract")
        pytest.skip("Tesseract is not installed: OCR tests skipped (.ci/run installs tesseract-ocr)")
    return program


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres_skips:
        terminalreporter.write_sep(
            "!",
            f"PostgreSQL NOT TESTED: {POSTGRES_URL_VAR} unset, every PostgreSQL test was skipped",
            red=True,
            bold=True,
        )
    if _ocr_skips:
        terminalreporter.write_sep(
            "!", "OCR NOT TESTED: Tesseract is not installed, every OCR test was skipped", red=True, bold=True
        )
    if browser_skips:
        terminalreporter.write_sep(
            "!",
            "BROWSER NOT TESTED: Chromium is not installed, every browser test of the web console was skipped",
            red=True,
            bold=True,
        )


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`pytest.mark.anyio`) run on asyncio, the loop uvicorn serves on."""
    return "asyncio"


@pytest.fixture(scope="session")
def read_x12() -> Iterator[Callable[[bytes], Read]]:
    """pyx12's reading of an interchange, its maps loaded once for the whole run."""
    with maps_loaded_once() as read:
        yield read
