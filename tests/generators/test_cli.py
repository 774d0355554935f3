"""`python -m generators`: the original script's variables and the options in their place,
authentication, the summary, kept failures and resending them."""

import base64
import socket
from pathlib import Path

import anyio
import httpx
import pytest
import respx
from typer.testing import CliRunner

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient
from generators.cli import app
from tests.generators.conftest import BASE, TODAY

TOKEN_URL = "https://auth.test/token"
FHIR = "https://fhir.test/fhir"


@pytest.fixture(autouse=True)
def environment(generator_environment: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return generator_environment


@pytest.fixture
def database_url(tmp_path: Path, environment: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'fhir.db'}"
    environment.setenv("EMBEDDED_DATABASE_URL", url)
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
    database_url: str, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("FHIR_URL", "embedded")
    environment.setenv("NUM_RECORDS", "3")
    environment.setenv("PT", "ON")

    code, output = invoke("immunizations")

    assert code == 0, output
    patients = stored(database_url, "Patient")
    assert len(patients) == 3
    assert {patient["address"][0]["state"] for patient in patients} == {"ON"}
    assert stored(database_url, "AllergyIntolerance") == []


def test_options_take_the_place_of_the_variables(database_url: str, environment: pytest.MonkeyPatch) -> None:
    environment.setenv("FHIR_URL", closed_port_url())
    environment.setenv("NUM_RECORDS", "9")
    environment.setenv("PT", "on")

    code, output = invoke("immunizations", "--fhir-url", "embedded", "--count", "2", "--province", "BC")

    assert code == 0, output
    patients = stored(database_url, "Patient")
    assert len(patients) == 2
    assert {patient["address"][0]["state"] for patient in patients} == {"BC"}


def test_settings_that_cannot_be_used_stop_the_command_before_anything_is_made(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment.setenv("FHIR_OAUTH_TOKEN_URL", TOKEN_URL)
    environment.setenv("FHIR_OAUTH_CLIENT_SECRET", "s3cret")

    code, output = invoke("immunizations", "--dry-run", "--out", str(tmp_path / "out"))

    assert code == 2
    assert "OAuth2 client credentials also need FHIR_OAUTH_CLIENT_ID" in output
    assert "s3cret" not in output
    assert not (tmp_path / "out").exists()


def client_credentials(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("FHIR_URL", FHIR)
    environment.setenv("FHIR_OAUTH_TOKEN_URL", TOKEN_URL)
    environment.setenv("FHIR_OAUTH_CLIENT_ID", "gen")
    environment.setenv("FHIR_OAUTH_CLIENT_SECRET", "s3cret")


def test_uploads_carry_the_token_granted_for_the_configured_client_credentials(
    environment: pytest.MonkeyPatch,
) -> None:
    client_credentials(environment)
    answer = {"resourceType": "Bundle", "type": "transaction-response", "entry": []}

    with respx.mock(assert_all_called=True) as network:
        grants = network.post(TOKEN_URL).respond(json={"access_token": "granted", "expires_in": 3600})
        uploads = network.post(FHIR).respond(json=answer)
        code, output = invoke("immunizations", "--count", "3", "--batch-size", "1", "--seed", "2")

    assert code == 0, output
    assert grants.call_count == 1
    basic = "Basic " + base64.b64encode(b"gen:s3cret").decode()
    assert grants.calls.last.request.headers["Authorization"] == basic
    assert [call.request.headers["Authorization"] for call in uploads.calls] == ["Bearer granted"] * 3


def test_a_token_endpoint_that_refuses_ends_the_run_with_its_reason(
    environment: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client_credentials(environment)
    failed = tmp_path / "failed"

    with respx.mock(assert_all_called=False) as network:
        network.post(TOKEN_URL).respond(401, json={"error": "invalid_client"})
        uploads = network.post(FHIR).respond(200)
        code, output = invoke("immunizations", "--count", "3", "--batch-size", "1", "--failed-dir", str(failed))

    assert code == 1
    assert f"No access token for the FHIR server: token endpoint {TOKEN_URL} answered 401: invalid_client" in output
    assert uploads.call_count == 0
    assert not failed.exists()


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
