"""The same seed gives the same records, byte for byte; another seed or province gives others."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from generators.cli import app
from generators.records import RecordGenerator
from tests.generators.conftest import TODAY


def generate(out: Path, *args: str) -> None:
    result = CliRunner().invoke(
        app,
        ["immunizations", "--dry-run", "--out", str(out), "--reference-date", TODAY.isoformat(), *args],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


@pytest.mark.parametrize("province", ["bc", "on"])
def test_the_same_seed_writes_byte_identical_bundles_and_ndjson(tmp_path: Path, province: str) -> None:
    arguments = ["--province", province, "--count", "230", "--batch-size", "50", "--seed", "42"]
    generate(tmp_path / "first", *arguments)
    generate(tmp_path / "second", *arguments)

    first = snapshot(tmp_path / "first")
    assert len([name for name in first if name.startswith("bundles/")]) == 5
    assert first == snapshot(tmp_path / "second")


def test_another_seed_writes_other_records(tmp_path: Path) -> None:
    generate(tmp_path / "first", "--count", "20", "--seed", "1")
    generate(tmp_path / "second", "--count", "20", "--seed", "2")

    first, second = snapshot(tmp_path / "first"), snapshot(tmp_path / "second")
    assert first.keys() - {"bundles/bc-seed1-000001.json"} == second.keys() - {"bundles/bc-seed2-000001.json"}
    assert first["Patient.ndjson"] != second["Patient.ndjson"]


def test_a_record_does_not_depend_on_how_many_follow_it() -> None:
    assert list(RecordGenerator("BC", 9, TODAY).records(10)) == list(RecordGenerator("BC", 9, TODAY).records(25))[:10]


def test_provinces_of_one_seed_share_no_ids() -> None:
    def ids(province: str) -> set[str]:
        return {resource["id"] for record in RecordGenerator(province, 9, TODAY).records(50) for resource in record}

    assert ids("BC").isdisjoint(ids("ON"))
