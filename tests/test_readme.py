"""The README documents what a user needs: both commands and every setting."""

from pathlib import Path

import pytest

from fhir_gateway.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(field.upper() for field in Settings.model_fields))
def test_every_setting_is_in_the_configuration_table(name: str) -> None:
    assert f"| `{name}` |" in README


@pytest.mark.parametrize("command", ["make run", "make test", "make fhir"])
def test_the_commands_are_shown(command: str) -> None:
    assert command in README
