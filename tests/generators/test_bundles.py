"""Records become transaction Bundles of PUTs whose references point at entries of the same Bundle."""

from pathlib import Path

import orjson
import pytest

from generators.bundles import OutputWriter, batched, bundle_bytes, bundle_of, entry_bytes, transaction
from generators.pipeline import ImmunizationRun, RunReport, immunization_bundles, outgoing_bundles
from generators.records import DEFAULT_SYSTEM_BASE, RecordGenerator
from generators.shards import SHARD_SIZE
from tests.generators.conftest import TODAY


def test_batches_hold_the_batch_size_and_the_last_the_rest() -> None:
    assert [len(batch) for batch in batched(range(7), 3)] == [3, 3, 1]
    with pytest.raises(ValueError):
        next(batched(range(3), 0))


def test_a_bundle_puts_every_resource_at_its_uuid_and_references_resolve_inside_it() -> None:
    batch = list(RecordGenerator("BC", 3, TODAY).records(5))

    bundle = bundle_of(batch)

    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    entries = bundle["entry"]
    assert [entry["resource"] for entry in entries] == [resource for record in batch for resource in record]
    for entry in entries:
        resource = entry["resource"]
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
        assert entry["request"] == {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
    full_urls = {entry["fullUrl"] for entry in entries}
    references = [
        entry["resource"]["patient"]["reference"] for entry in entries if entry["resource"]["resourceType"] != "Patient"
    ]
    assert references and set(references) <= full_urls


def test_the_writer_keeps_bundles_as_json_and_resources_as_ndjson_per_type(tmp_path: Path) -> None:
    batch = list(RecordGenerator("BC", 3, TODAY).records(4))
    body = orjson.dumps(bundle_of(batch))

    with OutputWriter(tmp_path) as writer:
        writer.write_bundle("first", body)
        writer.write_resources(resource for record in batch for resource in record)

    assert (tmp_path / "bundles" / "first.json").read_bytes() == body
    patients = [orjson.loads(line) for line in (tmp_path / "Patient.ndjson").read_bytes().splitlines()]
    allergies = (tmp_path / "AllergyIntolerance.ndjson").read_bytes().splitlines()
    assert patients == [record[0] for record in batch]
    assert len(allergies) == 4
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "AllergyIntolerance.ndjson",
        "Immunization.ndjson",
        "Patient.ndjson",
        "bundles",
    ]


def test_bundles_assembled_from_serialized_entries_are_the_serialized_bundles() -> None:
    resources = [resource for record in RecordGenerator("ON", 3, TODAY).records(20) for resource in record]
    resources.append({"resourceType": "Basic", "id": 'needs "escaping" \\'})

    entries = [entry_bytes(resource, orjson.dumps(resource)) for resource in resources]

    assert bundle_bytes(entries) == orjson.dumps(transaction(resources))
    assert bundle_bytes([]) == orjson.dumps(transaction([]))


@pytest.mark.parametrize("batch_size", [1, 50, 300, 999, 1000])
def test_a_run_is_cut_into_bundles_of_the_batch_size_straddling_shards_or_not(batch_size: int) -> None:
    count = SHARD_SIZE + 1001
    run = ImmunizationRun("BC", 3, TODAY, DEFAULT_SYSTEM_BASE, count)
    report = RunReport()

    made = list(immunization_bundles(run, batch_size=batch_size, report=report))

    records = list(RecordGenerator("BC", 3, TODAY).records(count))
    batches = list(batched(records, batch_size))
    assert [bundle.body for bundle in made] == [orjson.dumps(bundle_of(batch)) for batch in batches]
    assert [bundle.name for bundle in made] == [f"bc-seed3-{index:06d}" for index in range(1, len(batches) + 1)]
    assert made == list(outgoing_bundles(records, batch_size=batch_size, name_prefix="bc-seed3", report=RunReport()))
    assert (report.records, report.bundles) == (count, len(batches))
    assert report.resources == {t: sum(b.resource_counts.get(t, 0) for b in made) for t in report.resources}
