""".env.example: every setting and every compose variable, documented, at its default."""

import pytest
from dotenv import dotenv_values

from fhir_gateway.settings import Settings
from tests.deploy import ENV_EXAMPLE, compose_variables, settings_env_names


def _entries() -> dict[str, str]:
    """Each variable the file assigns, with the comment line right above it."""
    entries: dict[str, str] = {}
    previous = ""
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name = line.split("=", 1)[0]
            assert name not in entries, f"{name} is assigned twice"
            entries[name] = previous.removeprefix("#").strip() if previous.startswith("#") else ""
        previous = line
    return entries


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the process environment first: keep it from masking the file."""
    for name in settings_env_names():
        monkeypatch.delenv(name, raising=False)


def test_lists_exactly_the_settings_and_the_compose_variables() -> None:
    assert set(_entries()) == set(settings_env_names()) | set(compose_variables())


def test_every_variable_has_a_one_line_comment() -> None:
    undocumented = [name for name, comment in _entries().items() if not comment]
    assert not undocumented


def test_settings_are_documented_by_their_description() -> None:
    entries = _entries()
    for env_name, name in settings_env_names().items():
        assert entries[env_name] == Settings.model_fields[name].description, env_name


def test_compose_variables_show_the_compose_defaults() -> None:
    listed = dotenv_values(ENV_EXAMPLE)
    for name, default in compose_variables().items():
        assert listed[name] == default, name


@pytest.mark.usefixtures("clean_environment")
def test_values_parse_and_are_the_settings_defaults() -> None:
    from_file = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    listed = dotenv_values(ENV_EXAMPLE)
    for env_name, name in settings_env_names().items():
        field = Settings.model_fields[name]
        if field.default is None and field.default_factory is None:
            # An unset optional setting can only be shown empty.
            assert listed[env_name] == "", env_name
            assert not getattr(from_file, name), env_name
        else:
            assert getattr(from_file, name) == getattr(defaults, name), env_name
