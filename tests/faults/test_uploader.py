"""The generators' uploader × every fault of the FHIR server, in front of a real embedded store.

Its Bundles are transactions of PUTs at ids derived from the records, safe to send again
after any fault: a fault that passes leaves every record stored, once; one that lasts
keeps each Bundle (and the reason) for `resend`, and the store holds each Bundle whole or
not at all.
"""

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient
from generators.uploader import FAILURES_FILE, BundleUploader, UploadPolicy
from tests.faults.injection import FAULTS, Fault, FaultyStore, transactions
from tests.generators.conftest import BASE
from tests.generators.test_uploader import Waits, bundles

pytestmark = pytest.mark.anyio

RECORDS = 4
BATCH = 2
ATTEMPTS = 3


async def _stored(store: EmbeddedStore) -> Counter[str]:
    async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
        return Counter(
            {
                kind: (await client.search(kind, {"_summary": "count"}))["total"]
                for kind in ("Patient", "Immunization", "AllergyIntolerance")
            }
        )


def _resources_of(records: list[list[dict[str, Any]]]) -> Counter[str]:
    return Counter(resource["resourceType"] for record in records for resource in record)


def _uploader(faults: FaultyStore, failed: Path, waits: Waits) -> BundleUploader:
    policy = UploadPolicy(concurrency=1, attempts=ATTEMPTS, initial_wait=0, max_wait=10, jitter=0, failed_dir=failed)
    return BundleUploader(BASE, policy, transport=faults, sleep=waits)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
async def test_a_fault_that_passes_is_retried_and_every_record_stored_once(
    store: EmbeddedStore, tmp_path: Path, fault: Fault
) -> None:
    made, records = bundles(count=RECORDS, batch_size=BATCH)
    faults = FaultyStore(httpx.ASGITransport(store.app))
    faults.arm(fault, transactions, times=1)
    uploader = _uploader(faults, tmp_path / "failed", Waits())

    report = await uploader.upload(made)
    await uploader.aclose()

    assert report.failures == []
    assert (report.stored_bundles, report.retries) == (len(made), 1)
    assert faults.aimed == len(made) + 1
    expected = _resources_of(records)
    assert await _stored(store) == expected


@pytest.mark.parametrize("fault", FAULTS, ids=str)
async def test_a_lasting_fault_keeps_every_bundle_and_the_store_whole_or_untouched(
    store: EmbeddedStore, tmp_path: Path, fault: Fault
) -> None:
    made, records = bundles(count=RECORDS, batch_size=BATCH)
    faults = FaultyStore(httpx.ASGITransport(store.app))
    faults.arm(fault, transactions)
    failed = tmp_path / "failed"
    waits = Waits()
    uploader = _uploader(faults, failed, waits)

    report = await uploader.upload(made)
    await uploader.aclose()

    assert [failure.name for failure in report.failures] == [bundle.name for bundle in made]
    assert faults.aimed == len(made) * ATTEMPTS
    for bundle in made:
        assert (failed / f"{bundle.name}.json").read_bytes() == bundle.body
    assert len((failed / FAILURES_FILE).read_bytes().splitlines()) == len(made)
    # The waits are recorded, not slept: the server's Retry-After sets each one.
    waited = float(fault.retry_after) if fault.retry_after is not None else 0.0
    assert waits.seconds == [waited] * (len(made) * (ATTEMPTS - 1))
    expected = _resources_of(records)
    # Answers lost after commit leave every Bundle stored (and once: PUTs at fixed ids);
    # refused or unsent ones leave nothing.
    assert await _stored(store) == (expected if fault.forwards else Counter())
