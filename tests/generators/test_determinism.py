"""The same seed gives the same records, byte for byte, whatever the number of workers or the
first record asked for; another seed or province gives others."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from generators.cli import app
from generators.records import RecordGenerator
from generators.shards import SHARD_SIZE
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


@pytest.mark.parametrize("province", ["bc", "on"])
@pytest.mark.parametrize("batch_size", ["50", "300"])
def test_two_workers_write_what_one_writes_byte_for_byte(tmp_path: Path, province: str, batch_size: str) -> None:
    # 300 does not divide the shard size: some Bundles straddle two shards.
    arguments = ["--province", province, "--count", str(2 * SHARD_SIZE + 345), "--batch-size", batch_size]
    generate(tmp_path / "one", *arguments, "--seed", "5", "--workers", "1")
    generate(tmp_path / "two", *arguments, "--seed", "5", "--workers", "2")

    one = snapshot(tmp_path / "one")
    assert len([name for name in one if name.startswith("bundles/")]) == -(-(2 * SHARD_SIZE + 345) // int(batch_size))
    assert one == snapshot(tmp_path / "two")


def test_a_record_does_not_depend_on_how_many_follow_it() -> None:
    assert list(RecordGenerator("BC", 9, TODAY).records(10)) == list(RecordGenerator("BC", 9, TODAY).records(25))[:10]


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_records_from_a_start_are_that_slice_of_a_longer_run(province: str) -> None:
    whole = list(RecordGenerator(province, 9, TODAY).records(2 * SHARD_SIZE + 50))

    for start, count in ((0, 5), (7, 30), (SHARD_SIZE - 3, 10), (SHARD_SIZE, 1), (2 * SHARD_SIZE + 10, 40)):
        assert list(RecordGenerator(province, 9, TODAY).records(count, start)) == whole[start : start + count]


def test_record_after_record_is_the_run_in_order() -> None:
    generator = RecordGenerator("ON", 9, TODAY)
    assert [generator.record() for _ in range(12)] == list(RecordGenerator("ON", 9, TODAY).records(12))


def test_provinces_of_one_seed_share_no_ids() -> None:
    def ids(province: str) -> set[str]:
        return {resource["id"] for record in RecordGenerator(province, 9, TODAY).records(50) for resource in record}

    assert ids("BC").isdisjoint(ids("ON"))
