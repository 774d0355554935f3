"""`make fuzz`: every schemathesis check over every operation of a served gateway.

The gateway runs in a child process on a free loopback port, on an embedded SQLite store in a
fresh temporary folder. uvicorn builds it with `create_app()` from the environment this script
sets, so, unlike `python -m fhir_gateway serve`, it loads no demo data into the empty store;
and as the folder is not the repository, no `.env` is read. `st run` then drives it with
tests/fuzz/schemathesis.toml through the examples, coverage, fuzzing and stateful phases, and
the summary at the end (cases run, failures by check) comes from its JSON report.

    FUZZ_CASES    the least number of cases to run (3000)
    FUZZ_SEED     the seed of the run; the same seed on the same code sends the same cases (1)
    FUZZ_WORKERS  concurrent workers (1)

Arguments are passed on to `st run`. The folder (store, gateway log, reports) is kept.
"""

import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from schemathesis.failure_codes import get_failure_class

from fhir_gateway.observability import logging_config
from tests.fuzz import API_KEY_VARIABLE, CONFIG_FILE, fuzzing_key

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
STARTUP_SECONDS = 60.0
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def main(st_arguments: list[str]) -> int:
    cases = int(os.environ.get("FUZZ_CASES", "3000"))
    seed = os.environ.get("FUZZ_SEED", "1")
    workers = os.environ.get("FUZZ_WORKERS", "1")
    folder = Path(tempfile.mkdtemp(prefix="fhir-gateway-fuzz-"))
    report = folder / "report.json"
    key, configured = fuzzing_key()
    with serving(folder, api_keys=configured) as base_url:
        operations = httpx.get(f"{base_url}/openapi.json", trust_env=False).raise_for_status().json()["paths"]
        # Operations without inputs have one case to give; the others share the budget.
        per_operation = math.ceil(cases / max(1, len(operations_with_inputs(operations))))
        command = [
            *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG_FILE), "run"),
            f"{base_url}/openapi.json",
            *("--checks", "all", "--max-examples", str(per_operation), "--seed", seed, "--workers", workers),
            *("--continue-on-failure", "--report", "json", "--report-json-path", str(report)),
            *st_arguments,
        ]
        # Run from the folder, where schemathesis keeps its crash cache and Hypothesis database;
        # the hooks module is found through PYTHONPATH.
        status = subprocess.run(
            command, cwd=folder, env=_environment(**{API_KEY_VARIABLE: key}), check=False
        ).returncode
    if report.exists():
        print_summary(json.loads(report.read_text()), cases=cases, per_operation=per_operation, folder=folder)
    return status


@contextmanager
def serving(folder: Path, *, api_keys: str) -> Iterator[str]:
    """A gateway on a fresh embedded store in `folder`, listening on a free loopback port,
    taking the API keys `api_keys` and no others (no per-client rate limit: the fuzzer is one
    client sending thousands of requests)."""
    port = _free_port()
    base_url = f"http://{HOST}:{port}"
    log_config = folder / "logging.json"
    log_config.write_text(json.dumps(logging_config("INFO")))
    environment = _environment(
        FHIR_BASE_URL="embedded",
        EMBEDDED_DATABASE_URL=f"sqlite:///{folder / 'fhir.db'}",
        IS_LOCAL_DEV="false",
        API_KEYS=api_keys,
        RATE_LIMIT="",
    )
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "fhir_gateway.app:create_app"),
        *("--host", HOST, "--port", str(port), "--log-config", str(log_config), "--no-access-log"),
    ]
    with (folder / "gateway.log").open("wb") as log:
        server = subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(server, base_url, log.name)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def operations_with_inputs(paths: Mapping[str, Any]) -> list[str]:
    """`METHOD /path` of every operation that takes parameters or a body."""
    return [
        f"{method.upper()} {path}"
        for path, item in paths.items()
        for method, operation in item.items()
        if method in HTTP_METHODS
        and (operation.get("parameters") or item.get("parameters") or operation.get("requestBody"))
    ]


def print_summary(report: Mapping[str, Any], *, cases: int, per_operation: int, folder: Path) -> None:
    """Cases run and failures by check, from `st run`'s JSON report."""
    test_cases = report["test_cases"]
    print(
        f"\n== make fuzz: {test_cases['generated']} cases over {report['operations']['tested']} operations"
        f" (FUZZ_CASES {cases}: fuzzing up to {per_operation} per operation; seed {report['seed']})"
    )
    if test_cases["generated"] < cases:
        print("   fewer cases than FUZZ_CASES: raise it")
    print(
        f"   {test_cases['unique_failures']} unique failures, {report['filtered']} dropped by tests/fuzz/hooks.py,"
        f" {len(report['errors'])} errors"
    )
    for failure in sorted(report["failures"], key=lambda failure: failure["code"]):
        print(f"   {_checks_reporting(failure['code'])}: {failure['count']} x {failure['code']} {failure['title']}")
        print(f"       in {', '.join(failure['operations'])}")
    print(f"   store, gateway log and report: {folder}")


def _checks_reporting(code: str) -> str:
    failure_class = get_failure_class(code)
    return ", ".join(failure_class.checks) if failure_class is not None and failure_class.checks else "custom check"


def _environment(**settings: str) -> dict[str, str]:
    # The repository on the path: for the gateway, and for the hooks the configuration names.
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    # Requests to the gateway never go through a proxy the environment names.
    no_proxy = ",".join(filter(None, [HOST, os.environ.get("NO_PROXY")]))
    return {**os.environ, "PYTHONPATH": path, "NO_PROXY": no_proxy, "no_proxy": no_proxy, **settings}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _wait_until_ready(server: subprocess.Popen[bytes], base_url: str, log: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the gateway exited with status {server.returncode} before it was ready; see {log}")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=5, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the gateway was not ready within {STARTUP_SECONDS:.0f}s; see {log}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
