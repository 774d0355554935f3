"""Shared pieces of the generator tests: a fixed "today", and an embedded store on a fresh SQLite file."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from fhir_gateway.embedded import EmbeddedStore

# Every test fixes the records' today, so that what they generate never depends on the calendar.
TODAY = date(2026, 11, 1)
BASE = "http://store.test/fhir"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(f"sqlite:///{tmp_path / 'fhir.db'}")
    yield store
    store.dispose()
