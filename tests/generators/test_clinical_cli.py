"""`python -m generators clinical`: every format written where asked, the summary, the
seed's bytes whatever the workers, options checked before anything is made, and the
Bundles loaded by `resend`."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from generators.cli import app
from generators.clinical.formats import X12_FILES, Format
from generators.clinical.tables import TABLES
from tests.generators.conftest import TODAY
from tests.generators.test_cli import stored


@pytest.fixture(autouse=True)
def environment(generator_environment: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    return generator_environment


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["clinical", *args], catch_exceptions=False)
    return result.exit_code, result.output


def run(output: str, out: Path, *more: str) -> str:
    code, text = invoke(
        "--format", output, "--out", str(out), "--seed", "5", "--reference-date", TODAY.isoformat(), *more
    )
    assert code == 0, text
    return text


@pytest.mark.parametrize(
    ("output", "files"),
    [
        ("ndjson", {"Patient.ndjson", "Condition.ndjson", "Encounter.ndjson", "Observation.ndjson"}),
        ("csv", {f"{table}.csv" for table in TABLES}),
        ("x12-834", {X12_FILES[Format.X12_834]}),
        ("x12-837", {X12_FILES[Format.X12_837]}),
    ],
)
def test_each_format_is_written_and_summarized(tmp_path: Path, output: str, files: set[str]) -> None:
    text = run(output, tmp_path, "--count", "30")

    assert files <= {path.name for path in tmp_path.iterdir()}
    assert "seed" in text and "30" in text and "patients/s" in text


def test_fhir_bundles_hold_batch_size_patients(tmp_path: Path) -> None:
    run("fhir", tmp_path, "--count", "25", "--batch-size", "10")

    assert len(list((tmp_path / "bundles").glob("*.json"))) == 3


def test_resend_loads_the_bundles_into_a_fhir_server(tmp_path: Path, environment: pytest.MonkeyPatch) -> None:
    database_url = f"sqlite:///{tmp_path / 'fhir.db'}"
    environment.setenv("EMBEDDED_DATABASE_URL", database_url)
    run("fhir", tmp_path / "out", "--count", "12", "--batch-size", "5")
    bundles = tmp_path / "out" / "bundles"

    result = CliRunner().invoke(app, ["resend", str(bundles), "--fhir-url", "embedded"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert not list(bundles.glob("*.json"))
    assert len(stored(database_url, "Patient")) == 12
    encounters = stored(database_url, "Encounter")
    assert encounters and all(e["subject"]["reference"].startswith("Patient/") for e in encounters)


def test_the_same_seed_gives_the_same_files_whatever_the_workers(tmp_path: Path) -> None:
    run("ndjson", tmp_path / "one", "--count", "1100", "--workers", "1")
    run("ndjson", tmp_path / "two", "--count", "1100", "--workers", "2")

    names = sorted(path.name for path in (tmp_path / "one").iterdir())
    assert names == sorted(path.name for path in (tmp_path / "two").iterdir())
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (("--element-separator", "~"), "separators must be distinct"),
        (("--sender-id", "x"), "sender_id"),
        (("--usage", "Q"), "usage must be T or P"),
    ],
)
def test_bad_x12_options_stop_before_anything_is_made(tmp_path: Path, option: tuple[str, str], words: str) -> None:
    code, text = invoke("--format", "x12-837", "--out", str(tmp_path / "out"), *option)

    assert code == 2
    assert words in text
    assert not (tmp_path / "out").exists()


def test_an_unknown_format_is_refused_with_the_formats(tmp_path: Path) -> None:
    code, text = invoke("--format", "hl7", "--out", str(tmp_path))

    assert code == 2
    assert "x12-837" in text
