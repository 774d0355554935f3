"""`python -m fhir_gateway serve` and `... fhir` start real servers on the configured ports."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
# A bound, not an expectation: a server that fails exits and is reported at once, while
# loading the demo data on a loaded 2-core machine was seen to take 40 s.
STARTUP_SECONDS = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(command: str, tmp_path: Path, **env: str) -> Iterator[subprocess.Popen[str]]:
    """Run `python -m fhir_gateway COMMAND` from an empty folder (so no `.env` applies)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fhir_gateway", command],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "HOST": "127.0.0.1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"nothing answered at {url} within {STARTUP_SECONDS}s")


def test_serve_runs_the_gateway_on_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "data" / "fhir.db"
    env = {
        "PORT": str(port),
        "FHIR_BASE_URL": "embedded",
        "EMBEDDED_DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "INFO",
    }
    with running("serve", tmp_path, **env) as process:
        health = wait_for(f"http://127.0.0.1:{port}/health", process)
        ready = httpx.get(f"http://127.0.0.1:{port}/health/ready?probe=secret-value", timeout=10)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            # A lone surrogate, escaped as a client's JSON carries it, then a valid request on
            # the same keep-alive connection.
            refused = client.post(
                "/patients",
                content=b'{"given_name": "Secretname\\ud800", "family_name": "B", "birth_date": "1980-12-10"}',
                headers={"Content-Type": "application/json"},
            )
            accepted = client.post(
                "/patients", json={"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1980-12-10"}
            )
        process.terminate()
        stdout, stderr = process.communicate(timeout=15)

    assert health.json() == {"status": "ok"}
    assert (refused.status_code, refused.json()["errors"][0]["loc"]) == (422, ["body", "given_name"])
    assert accepted.status_code == 201
    assert ready.json() == {"status": "ok", "checks": {"fhir": "ok", "database": "ok"}}
    assert database.is_file()
    # The access log is one bare JSON document per line, without the query string.
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert {"method": "GET", "path": "/health/ready", "status": 200} in [
        {key: line[key] for key in ("method", "path", "status")} for line in lines
    ]
    assert "secret-value" not in stdout
    assert "Secretname" not in stdout
    # The suite runs it as `make run` does: open, and it says so.
    assert "serving WITHOUT authentication" in stderr


def test_serve_refuses_to_start_without_authentication(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "IS_LOCAL_DEV": "false", "API_KEYS": ""}
    result = subprocess.run(
        [sys.executable, "-m", "fhir_gateway", "serve"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "will not start: no authentication is configured" in result.stderr
    assert "IS_LOCAL_DEV=true" in result.stderr


def test_serve_with_an_api_key_made_by_the_cli(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "fhir_gateway", "api-key", "front-desk", "--scope", "system/Patient.rs"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.split("it is not kept anywhere): ", 1)[1].split()[0]
    entry = made.stdout.split("API_KEYS entry: ", 1)[1].strip()
    assert key not in entry
    port = free_port()
    env = {
        "PORT": str(port),
        "EMBEDDED_DATABASE_URL": f"sqlite:///{tmp_path / 'fhir.db'}",
        "IS_LOCAL_DEV": "false",
        "API_KEYS": entry,
    }
    with running("serve", tmp_path, **env) as process:
        wait_for(f"http://127.0.0.1:{port}/health", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            anonymous = client.get("/patients")
            allowed = client.get("/patients", headers={"Authorization": f"Bearer {key}"})
            refused = client.post("/patients", json={}, headers={"Authorization": f"Bearer {key}"})
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert anonymous.status_code == 401
    assert allowed.status_code == 200
    assert refused.status_code == 403
    # No banner names the server software.
    assert "server" not in anonymous.headers
    assert key not in stderr


def test_fhir_runs_the_embedded_store_alone_on_the_fhir_port(tmp_path: Path) -> None:
    port = free_port()
    env = {"FHIR_PORT": str(port), "EMBEDDED_DATABASE_URL": f"sqlite:///{tmp_path / 'fhir.db'}"}
    with running("fhir", tmp_path, **env) as process:
        metadata = wait_for(f"http://127.0.0.1:{port}/fhir/metadata", process)

    assert metadata.status_code == 200
    assert metadata.json()["resourceType"] == "CapabilityStatement"
