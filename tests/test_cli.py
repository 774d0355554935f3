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
        stdout, _ = process.communicate(timeout=15)

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


def test_fhir_runs_the_embedded_store_alone_on_the_fhir_port(tmp_path: Path) -> None:
    port = free_port()
    env = {"FHIR_PORT": str(port), "EMBEDDED_DATABASE_URL": f"sqlite:///{tmp_path / 'fhir.db'}"}
    with running("fhir", tmp_path, **env) as process:
        metadata = wait_for(f"http://127.0.0.1:{port}/fhir/metadata", process)

    assert metadata.status_code == 200
    assert metadata.json()["resourceType"] == "CapabilityStatement"
