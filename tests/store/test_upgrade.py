"""Opening a SQLite file an earlier version of the store wrote: it is reindexed once.

The earlier format had no sort keys and no index version, and folded text without the table
of letters Unicode does not decompose ("Søren" indexed as "søren"). Such a file is made here
from a current one, by removing what the earlier version did not have.
"""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.indexing import INDEX_VERSION
from fhir_gateway.embedded.requests import FhirRequest
from fhir_gateway.embedded.upgrade import index_version

BASE = "http://store.test/fhir"
GIVEN_NAMES = [["Zachary", "Alexander"], ["Søren"], ["Christian", "Adrian"], ["Bob"]]


def _search(store: EmbeddedStore, params: list[tuple[str, str]]) -> list[list[str]]:
    response = store.handle(FhirRequest("GET", "Patient", params), BASE)
    assert response.status == 200 and response.body is not None, response.body
    entries: list[dict[str, Any]] = response.body.get("entry", [])
    return [entry["resource"]["name"][0]["given"] for entry in entries]


def _sql(database: Path, *statements: str) -> list[Any]:
    """The rows the last of `statements` returns, all run in one transaction on `database`."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        for statement in statements:
            result = conn.execute(text(statement))
        rows = list(result.all()) if result.returns_rows else []
    engine.dispose()
    return rows


@pytest.fixture
def earlier_file(tmp_path: Path) -> Path:
    """A SQLite file as the earlier version of the store left it, holding four patients."""
    database = tmp_path / "fhir.db"
    store = EmbeddedStore(f"sqlite:///{database}")
    for given in GIVEN_NAMES:
        patient = {"resourceType": "Patient", "name": [{"use": "official", "family": "Lund", "given": given}]}
        assert store.handle(FhirRequest("POST", "Patient", body=patient), BASE).status == 201
    store.dispose()
    _sql(
        database,
        "DROP TABLE idx_sort",
        "DROP TABLE store_info",
        "UPDATE idx_string SET value = 'søren' WHERE value = 'soren'",
    )
    return database


def test_an_earlier_file_is_reindexed_when_opened(earlier_file: Path) -> None:
    store = EmbeddedStore(f"sqlite:///{earlier_file}")

    found = _search(store, [("given", "soren")])
    ascending = _search(store, [("_sort", "given")])
    descending = _search(store, [("_sort", "-given"), ("family", "lund")])
    with store.engine.connect() as conn:
        version = index_version(conn)
    store.dispose()

    assert found == [["Søren"]]
    assert ascending == [["Bob"], ["Christian", "Adrian"], ["Søren"], ["Zachary", "Alexander"]]
    assert descending == list(reversed(ascending))
    assert version == INDEX_VERSION


def test_a_file_of_another_index_version_is_reindexed(earlier_file: Path) -> None:
    EmbeddedStore(f"sqlite:///{earlier_file}").dispose()
    _sql(
        earlier_file,
        "UPDATE idx_string SET value = 'søren' WHERE value = 'soren'",
        f"UPDATE store_info SET value = '{INDEX_VERSION - 1}' WHERE name = 'index_version'",
    )

    store = EmbeddedStore(f"sqlite:///{earlier_file}")
    found = _search(store, [("given", "soren")])
    store.dispose()

    assert found == [["Søren"]]


def test_a_current_file_is_not_reindexed_again(earlier_file: Path) -> None:
    EmbeddedStore(f"sqlite:///{earlier_file}").dispose()
    # A row no reindex would leave: it shows whether the next opening rebuilt the index.
    _sql(earlier_file, "UPDATE idx_string SET value = 'marker' WHERE param = 'given' AND value = 'bob'")

    store = EmbeddedStore(f"sqlite:///{earlier_file}")
    found = _search(store, [("given", "marker")])
    store.dispose()

    assert found == [["Bob"]]


def test_reindexing_keeps_deleted_resources_out_of_the_index(earlier_file: Path) -> None:
    bob_of = "SELECT res_id FROM resource JOIN idx_string ON res_pk = pk WHERE param = 'given' AND value = 'bob'"
    (bob,) = _sql(earlier_file, bob_of)
    store = EmbeddedStore(f"sqlite:///{earlier_file}")
    assert store.handle(FhirRequest("DELETE", f"Patient/{bob.res_id}"), BASE).status in (200, 204)
    store.dispose()
    _sql(earlier_file, "DELETE FROM store_info")

    store = EmbeddedStore(f"sqlite:///{earlier_file}")
    ascending = _search(store, [("_sort", "given")])
    store.dispose()

    assert ascending == [["Christian", "Adrian"], ["Søren"], ["Zachary", "Alexander"]]
    assert _sql(earlier_file, "SELECT count(*) FROM idx_sort WHERE param = 'given'") == [(3,)]
