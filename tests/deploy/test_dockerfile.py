"""Dockerfile and .dockerignore: the gateway image, read with BuildKit's own parser."""

import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import PurePosixPath
from string import Template
from typing import NamedTuple

import dockerfile
import pytest

from fhir_gateway.settings import Settings
from tests.deploy import DOCKERFILE, REPO_ROOT, settings_env_names

GATEWAY_COMMAND = ("python", "-m", "fhir_gateway", "serve")


class Stage(NamedTuple):
    """One build stage: its base image, its `AS` name and its instructions."""

    image: str
    name: str | None
    commands: list[dockerfile.Command]

    def find(self, instruction: str) -> list[dockerfile.Command]:
        return [command for command in self.commands if command.cmd == instruction]

    def one(self, instruction: str) -> dockerfile.Command:
        [command] = self.find(instruction)
        return command

    def env(self) -> dict[str, str]:
        pairs = [command.value for command in self.find("ENV")]
        return {pair[i]: pair[i + 1] for pair in pairs for i in range(0, len(pair), 2)}

    def args(self) -> dict[str, str]:
        declared = [value.partition("=") for command in self.find("ARG") for value in command.value]
        return {name: default for name, _, default in declared}


def _stages() -> list[Stage]:
    """The build stages, their base images resolved with the global ARG defaults."""
    commands = dockerfile.parse_file(str(DOCKERFILE))
    first_from = next(i for i, command in enumerate(commands) if command.cmd == "FROM")
    global_args = Stage("", None, commands[:first_from]).args()
    stages: list[Stage] = []
    for command in commands[first_from:]:
        if command.cmd == "FROM":
            image, *alias = command.value
            name = alias[1] if alias and alias[0].upper() == "AS" else None
            stages.append(Stage(Template(image).substitute(global_args), name, []))
        else:
            stages[-1].commands.append(command)
    return stages


def _final() -> Stage:
    return _stages()[-1]


def _uv_sync() -> tuple[Stage, dockerfile.Command]:
    found = [
        (stage, command)
        for stage in _stages()
        for command in stage.find("RUN")
        if re.search(r"\buv sync\b", command.value[0])
    ]
    assert len(found) == 1, found
    return found[0]


def _dockerignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    # `!` re-includes are beyond the small reader below.
    assert not [pattern for pattern in patterns if pattern.startswith("!")]
    return patterns


def _ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the context) out of the build."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch(prefix, pattern) or fnmatch(prefix, pattern.removeprefix("**/"))
        for pattern in _dockerignore_patterns()
        for prefix in prefixes
    )


def test_base_image_is_slim_python_of_a_supported_version() -> None:
    requires = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    bound = re.fullmatch(r">=(\d+)\.(\d+)", requires)
    assert bound, requires
    minimum = (int(bound[1]), int(bound[2]))
    for stage in _stages():
        match = re.fullmatch(r"python:(\d+)\.(\d+)(\.\d+)?-slim(-\w+)?", stage.image)
        assert match, stage.image
        assert (int(match[1]), int(match[2])) >= minimum >= (3, 11)


def test_stages_share_one_interpreter() -> None:
    """The virtualenv is copied between stages and links to the interpreter it was built with."""
    assert len({stage.image for stage in _stages()}) == 1


def test_uv_is_the_version_the_makefile_pins() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    [pinned] = re.findall(r"^UV_VERSION\s*:?=\s*(\S+)", makefile, flags=re.MULTILINE)
    stage, _ = _uv_sync()
    assert stage.args()["UV_VERSION"] == pinned
    installs = [command.value[0] for command in stage.find("RUN") if "uv==${UV_VERSION}" in command.value[0]]
    assert installs


def test_dependencies_come_from_the_lock_file_frozen_without_dev() -> None:
    stage, sync = _uv_sync()
    assert {"--frozen", "--no-dev"} <= set(sync.value[0].split())
    copied_before = [
        source
        for command in stage.commands[: stage.commands.index(sync)]
        if command.cmd == "COPY"
        for source in command.value[:-1]
    ]
    assert {"pyproject.toml", "uv.lock"} <= set(copied_before)


def test_final_stage_runs_the_venv_built_from_the_lock() -> None:
    sync_stage, _ = _uv_sync()
    venv = sync_stage.env()["UV_PROJECT_ENVIRONMENT"]
    final = _final()
    copies = [command for command in final.find("COPY") if command.flags == (f"--from={sync_stage.name}",)]
    assert [command.value for command in copies] == [(venv, venv)]
    assert final.env()["PATH"].startswith(f"{venv}/bin:")


def test_runs_as_a_non_root_user_it_creates() -> None:
    final = _final()
    user = final.one("USER").value[0].split(":")[0]
    assert user not in {"root", "0"}
    assert any(re.search(rf"\buseradd\b.*\b{user}\b", command.value[0]) for command in final.find("RUN"))
    assert final.commands.index(final.one("USER")) < final.commands.index(final.one("CMD"))


def test_listens_on_all_interfaces_at_the_default_port() -> None:
    final = _final()
    default_port = Settings.model_fields[settings_env_names()["PORT"]].default
    assert final.env()["HOST"] == "0.0.0.0"
    assert final.env()["PORT"] == str(default_port)
    assert final.one("EXPOSE").value == (str(default_port),)


def test_command_serves_the_gateway() -> None:
    command = _final().one("CMD")
    assert command.json
    assert command.value == GATEWAY_COMMAND


def test_the_command_exists_in_the_gateway() -> None:
    _, *arguments = GATEWAY_COMMAND
    result = subprocess.run(
        [sys.executable, *arguments, "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


class _Probe(BaseHTTPRequestHandler):
    """Answers `status` on /health and 404 elsewhere, like the gateway's liveness route."""

    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_healthcheck_probes_health_with_the_standard_library(
    health_server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch, status: int, healthy: bool
) -> None:
    healthcheck = _final().one("HEALTHCHECK")
    assert healthcheck.json
    mode, program, *arguments = healthcheck.value
    assert (mode, program) == ("CMD", "python")
    monkeypatch.setattr(_Probe, "status", status)
    result = subprocess.run(
        [sys.executable, *arguments],
        env={"PORT": str(health_server.server_address[1])},
        capture_output=True,
        timeout=30,
    )
    assert (result.returncode == 0) is healthy


def test_copied_sources_exist_and_reach_the_build() -> None:
    sources = [
        source
        for stage in _stages()
        for command in stage.find("COPY")
        if not any(flag.startswith("--from=") for flag in command.flags)
        for source in command.value[:-1]
    ]
    assert sources
    for source in sources:
        path = REPO_ROOT / source
        assert path.exists(), source
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            assert not _ignored(file.relative_to(REPO_ROOT).as_posix()), file


@pytest.mark.parametrize("path", [".venv", ".tools", "data", ".git", ".env", "fhir_gateway/__pycache__"])
def test_dockerignore_keeps_local_state_out(path: str) -> None:
    assert _ignored(path)
