"""docker-compose.yml (production) and compose.dev.yaml (its development override): valid
Compose, and consistent with the gateway, its image and HAPI."""

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dockerfile
import pytest
import yaml
from dotenv import dotenv_values

from fhir_gateway.settings import Settings
from tests.deploy import (
    COMPOSE_DEV_FILE,
    COMPOSE_FILE,
    CONFIGURATIONS,
    DOCKERFILE,
    ENV_EXAMPLE,
    HAPI_CONFIG,
    REPO_ROOT,
    compose_json,
    compose_variables,
    run_compose,
    settings_env_names,
)

HAPI_CONFIG_TARGET = "/app/config/application.yaml"

# Settings the compose deployment deliberately does not hand to the gateway. A new setting
# must either be passed through in docker-compose.yml or be added here with its reason.
NOT_PASSED_TO_GATEWAY = {
    "HOST": "the image binds 0.0.0.0",
    "PORT": "the container port is fixed; PORT picks the published host port",
    "FHIR_PORT": "serves the embedded store alone, not used behind HAPI",
    "FHIR_WORKERS": "serves the embedded store alone, not used behind HAPI",
    "EMBEDDED_DATABASE_URL": "the embedded store is not used behind HAPI",
    "FHIR_MAX_BODY_BYTES": "a limit of the embedded store",
}

# Distinct values, so a variable wired to the wrong place cannot pass unnoticed.
OVERRIDES = {
    "PORT": "18000",
    "HAPI_PORT": "18080",
    "POSTGRES_DB": "db_name",
    "POSTGRES_USER": "db_user",
    "POSTGRES_PASSWORD": "db_password",
    "LOG_LEVEL": "DEBUG",
    "GATEWAY_TAG": "1.2.3",
}


@pytest.fixture(scope="module", params=["defaults", "overridden"])
def scenario(request: pytest.FixtureRequest) -> dict[str, str]:
    """The variables Compose interpolates with: none (the files' defaults), or OVERRIDES."""
    return {} if request.param == "defaults" else OVERRIDES


@pytest.fixture(scope="module", params=sorted(CONFIGURATIONS))
def configuration(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def model(scenario: dict[str, str], configuration: str) -> dict[str, Any]:
    """The project as Compose resolves and normalises it."""
    return compose_json(env=scenario, compose_files=CONFIGURATIONS[configuration])


def _expected(scenario: dict[str, str], variable: str) -> str:
    return scenario.get(variable, compose_variables()[variable])


def _environment(model: dict[str, Any], service: str) -> dict[str, str | None]:
    return model["services"][service].get("environment", {})


class _OverrideLoader(yaml.SafeLoader):
    """Reads Compose's merge tags (`!override`, `!reset`) as the plain values they tag."""


for _tag in ("!override", "!reset"):
    _OverrideLoader.add_constructor(
        _tag, lambda loader, node: loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else None
    )


def _exposed_port() -> int:
    [expose] = [command for command in dockerfile.parse_file(str(DOCKERFILE)) if command.cmd == "EXPOSE"]
    [port] = expose.value
    return int(port)


def test_parses_as_yaml_with_the_four_services() -> None:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert set(document["services"]) == {"hapi-db", "hapi", "gateway", "seed"}
    # The override only changes services the base defines.
    assert set(yaml.load(COMPOSE_DEV_FILE.read_text(), _OverrideLoader)["services"]) <= set(document["services"])


@pytest.mark.parametrize("env_file", [None, ENV_EXAMPLE], ids=["defaults", "env-example"])
@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_compose_validates_the_files_against_the_specification(env_file: Path | None, configuration: str) -> None:
    result = run_compose("config", "--quiet", env_file=env_file, compose_files=CONFIGURATIONS[configuration])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_compose_rejects_what_the_specification_forbids(tmp_path: Path) -> None:
    """The validator above really validates: a misspelt key is refused."""
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    document["services"]["hapi-db"]["healthcheck"]["intervall"] = "5s"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(document))
    result = run_compose("config", "--quiet", compose_files=(broken,))
    assert result.returncode != 0
    assert "intervall" in result.stderr


def test_hapi_db_is_pinned_healthchecked_and_keeps_its_data_in_a_named_volume(model: dict[str, Any]) -> None:
    database = model["services"]["hapi-db"]
    assert re.fullmatch(r"postgres:\d+(-[a-z0-9]+)?", database["image"])
    assert database["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "pg_isready" in database["healthcheck"]["test"][1]
    [volume] = database["volumes"]
    assert volume["type"] == "volume"
    assert volume["source"] in model["volumes"]
    assert volume["target"] == "/var/lib/postgresql/data"
    assert "ports" not in database


def test_hapi_is_a_pinned_8x_image_started_after_its_database_is_healthy(model: dict[str, Any]) -> None:
    hapi = model["services"]["hapi"]
    assert re.fullmatch(r"hapiproject/hapi:v8\.\d+\.\d+(-\d+)?", hapi["image"])
    assert hapi["depends_on"]["hapi-db"]["condition"] == "service_healthy"
    # Distroless: a healthcheck that shells out could never pass.
    assert "healthcheck" not in hapi


def test_hapi_reads_the_repository_config_read_only(model: dict[str, Any]) -> None:
    hapi = model["services"]["hapi"]
    [mount] = [volume for volume in hapi["volumes"] if volume["target"] == HAPI_CONFIG_TARGET]
    assert mount["type"] == "bind"
    assert Path(mount["source"]) == HAPI_CONFIG
    assert mount["read_only"] is True
    location = _environment(model, "hapi").get("SPRING_CONFIG_ADDITIONAL_LOCATION")
    assert location == f"file:{HAPI_CONFIG_TARGET}"


def test_hapi_datasource_is_the_hapi_db_service(model: dict[str, Any], scenario: dict[str, str]) -> None:
    hapi_env = _environment(model, "hapi")
    database_env = _environment(model, "hapi-db")
    url = hapi_env["SPRING_DATASOURCE_URL"]
    assert url is not None and url.startswith("jdbc:")
    parts = urlsplit(url.removeprefix("jdbc:"))
    assert parts.scheme == "postgresql"
    assert parts.hostname == "hapi-db" and parts.hostname in model["services"]
    assert parts.port == 5432
    assert parts.path.lstrip("/") == database_env["POSTGRES_DB"] == _expected(scenario, "POSTGRES_DB")
    assert hapi_env["SPRING_DATASOURCE_USERNAME"] == database_env["POSTGRES_USER"]
    assert hapi_env["SPRING_DATASOURCE_USERNAME"] == _expected(scenario, "POSTGRES_USER")
    assert hapi_env["SPRING_DATASOURCE_PASSWORD"] == database_env["POSTGRES_PASSWORD"]
    assert hapi_env["SPRING_DATASOURCE_PASSWORD"] == _expected(scenario, "POSTGRES_PASSWORD")


def test_published_ports(model: dict[str, Any], scenario: dict[str, str], configuration: str) -> None:
    [gateway_port] = model["services"]["gateway"]["ports"]
    default_port = Settings.model_fields[settings_env_names()["PORT"]].default
    assert gateway_port["target"] == default_port == _exposed_port()
    assert gateway_port["published"] == _expected(scenario, "PORT")
    hapi_ports = model["services"]["hapi"].get("ports", [])
    if configuration == "prod":
        # HAPI has no authentication: in production only the gateway reaches it.
        assert hapi_ports == []
        assert gateway_port.get("host_ip") in (None, "0.0.0.0")
    else:
        [hapi_port] = hapi_ports
        assert (hapi_port["target"], hapi_port["published"]) == (8080, _expected(scenario, "HAPI_PORT"))
        # An open gateway and HAPI are reachable from this machine only.
        assert gateway_port["host_ip"] == hapi_port["host_ip"] == "127.0.0.1"


def test_production_authenticates_and_development_is_open(model: dict[str, Any], configuration: str) -> None:
    assert _environment(model, "gateway")["IS_LOCAL_DEV"] == ("false" if configuration == "prod" else "true")


def test_gateway_is_built_here_and_talks_to_hapi(model: dict[str, Any], scenario: dict[str, str]) -> None:
    gateway = model["services"]["gateway"]
    assert Path(gateway["build"]["context"]) == REPO_ROOT
    assert (REPO_ROOT / gateway["build"]["dockerfile"]) == DOCKERFILE
    assert gateway["image"] == f"fhir-gateway:{_expected(scenario, 'GATEWAY_TAG')}"
    assert gateway["depends_on"]["hapi"]["condition"] == "service_started"
    base_url = urlsplit(_environment(model, "gateway")["FHIR_BASE_URL"] or "")
    assert base_url.hostname == "hapi"
    assert base_url.port == 8080
    assert str(base_url.port) in model["services"]["hapi"]["expose"]
    assert base_url.path == "/fhir"


def test_gateway_is_healthy_once_ready_so_the_seed_waits_for_hapi(model: dict[str, Any]) -> None:
    probe = " ".join(model["services"]["gateway"]["healthcheck"]["test"])
    assert f"127.0.0.1:{_exposed_port()}/health/ready" in probe
    seed = model["services"]["seed"]
    assert seed["depends_on"]["gateway"]["condition"] == "service_healthy"
    assert seed["image"] == model["services"]["gateway"]["image"]
    assert seed["command"][:4] == ["python", "-m", "generators", "demo"]
    assert "--if-empty" in seed["command"]
    assert seed["restart"] == "no"
    assert _environment(model, "seed")["FHIR_URL"] == _environment(model, "gateway")["FHIR_BASE_URL"]


def test_gateway_settings_pass_through_from_the_host(model: dict[str, Any], scenario: dict[str, str]) -> None:
    # Unset on the host, a passed-through variable stays unset (null) in the container.
    assert _environment(model, "gateway")["LOG_LEVEL"] == scenario.get("LOG_LEVEL")
    assert _environment(model, "gateway")["API_KEYS"] is None


def test_gateway_variables_are_settings_or_documented_compose_variables(model: dict[str, Any]) -> None:
    documented = set(compose_variables()) & set(dotenv_values(ENV_EXAMPLE))
    unknown = set(_environment(model, "gateway")) - set(settings_env_names()) - documented
    assert not unknown


def test_every_setting_is_passed_to_the_gateway_or_fixed_on_purpose(model: dict[str, Any]) -> None:
    not_passed = set(settings_env_names()) - set(_environment(model, "gateway"))
    assert not_passed == set(NOT_PASSED_TO_GATEWAY)
