"""Shared pieces of the generator tests: a fixed "today", an embedded store on a fresh SQLite
file, and an environment without generator settings."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from fhir_gateway.embedded import EmbeddedStore
from generators.settings import GeneratorSettings

# Every test fixes the records' today, so that what they generate never depends on the calendar.
TODAY = date(2026, 11, 1)
BASE = "http://store.test/fhir"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(f"sqlite:///{tmp_path / 'fhir.db'}")
    yield store
    store.dispose()


@pytest.fixture
def generator_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No generator setting in the environment, and a working directory without `.env`:
    neither the shell nor a developer's `.env` can change what a test sees. Tests set
    variables through the returned monkeypatch."""
    for name in GeneratorSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch
