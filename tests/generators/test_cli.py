"""`python -m generators`: the original script's variables, the summary, kept failures and resending them."""

import socket
from pathlib import Path

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient
from generators.cli import app
from tests.generators.conftest import BASE, TODAY


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'fhir.db'}"
    monkeypatch.setenv("EMBEDDED_DATABASE_URL", url)
    return url


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def stored(database_url: str, resource_type: str) -> list[dict]:
    store = EmbeddedStore(database_url)
    try:

        async def search() -> list[dict]:
            async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
                return [resource async for resource in client.search_all(resource_type, {"_count": 100})]

        return anyio.run(search)
    finally:
        store.dispose()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/fhir"


def test_without_options_it_reads_fhir_url_num_records_and_pt(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FHIR_URL", "embedded")
    monkeypatch.setenv("NUM_RECORDS", "3")
    monkeypatch.setenv("PT", "ON")

    code, output = invoke("immunizations")

    assert code == 0, output
    patients = stored(database_url, "Patient")
    assert len(patients) == 3
    assert {patient["address"][0]["state"] for patient in patients} == {"ON"}
    assert stored(database_url, "AllergyIntolerance") == []


def test_the_summary_counts_records_resources_bundles_and_failures(database_url: str) -> None:
    code, output = invoke(
        "immunizations", "--fhir-url", "embedded", "--count", "7", "--batch-size", "3", "--seed", "4",
        "--reference-date", TODAY.isoformat(),
    )  # fmt: skip

    assert code == 0, output
    for line in ("seed", "records", "bundles", "retries", "failures", "elapsed", "rate"):
        assert line in output
    assert "│ records " in output and " 7 │" in output
    assert "resources: AllergyIntolerance" in output
    assert len(stored(database_url, "Patient")) == 7


def test_a_dry_run_sends_nothing(database_url: str, tmp_path: Path) -> None:
    code, output = invoke("immunizations", "--dry-run", "--fhir-url", "embedded", "--count", "5", "--seed", "1")

    assert code == 0, output
    assert stored(database_url, "Patient") == []


def test_bundles_that_cannot_be_stored_are_kept_and_resent_later(database_url: str, tmp_path: Path) -> None:
    failed = tmp_path / "failed"
    arguments = ["--count", "5", "--batch-size", "2", "--seed", "8", "--retries", "0", "--failed-dir", str(failed)]

    code, output = invoke("immunizations", "--fhir-url", closed_port_url(), *arguments)

    assert code == 1
    assert "python -m generators resend" in output
    kept = sorted(path.name for path in failed.glob("*.json"))
    assert kept == ["bc-seed8-000001.json", "bc-seed8-000002.json", "bc-seed8-000003.json"]
    assert len((failed / "failures.ndjson").read_bytes().splitlines()) == 3

    code, output = invoke("resend", str(failed), "--fhir-url", "embedded")

    assert code == 0, output
    assert list(failed.glob("*.json")) == []
    assert not (failed / "failures.ndjson").exists()
    assert len(stored(database_url, "Patient")) == 5
