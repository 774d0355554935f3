"""Embedded store benchmark, through FhirClient exactly as the gateway calls it.

Prints: single create latency (p50/p95), the time of one 1,000-entry transaction,
`Patient?name=` search latency (p50/p95) with N patients loaded (100,000 by default), and
the latency of a page of the patient list in its default order (first and random pages).

    .venv/bin/python bench/store.py [--patients 100000] [--database-url sqlite:///…]
"""

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fhir_gateway.embedded import EmbeddedStore  # noqa: E402
from fhir_gateway.fhir_client import FhirClient  # noqa: E402

_SYLLABLES = "an ba ce di el fa go hu in jo ka le mi no or pa qu ri sa to ul va we xi yo za".split()


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _patient(rng: random.Random) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:bench", "value": f"{rng.getrandbits(64):016x}"}],
        "name": [{"use": "official", "family": _name(rng, 3), "given": [_name(rng, 2)]}],
        "gender": rng.choice(["male", "female", "other", "unknown"]),
        "birthDate": f"{rng.randint(1920, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }


def _transaction(patients: list[dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": p, "request": {"method": "POST", "url": "Patient"}} for p in patients],
    }


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main(patients: int, database_url: str) -> None:
    store = EmbeddedStore(database_url)
    rng = random.Random(20261122)
    client = FhirClient("http://embedded/fhir", transport=httpx.ASGITransport(store.app))
    async with client:
        for _ in range(50):  # warm-up: connection pool, statement cache
            await client.create(_patient(rng))
        latencies = []
        for _ in range(1000):
            body = _patient(rng)
            started = time.perf_counter()
            await client.create(body)
            latencies.append(time.perf_counter() - started)
        print(
            f"create (single Patient):     p50 {_percentile(latencies, 0.5) * 1e3:6.2f} ms"
            f"   p95 {_percentile(latencies, 0.95) * 1e3:6.2f} ms   (n=1000)"
        )

        timings = []
        for _ in range(3):
            bundle = _transaction([_patient(rng) for _ in range(1000)])
            started = time.perf_counter()
            await client.transaction(bundle)
            timings.append(time.perf_counter() - started)
        print(
            f"transaction (1,000 entries): median {statistics.median(timings) * 1e3:6.0f} ms"
            f"   best {min(timings) * 1e3:6.0f} ms   (n=3)"
        )

        loaded = 1050 + 3000
        families = []
        started = time.perf_counter()
        while loaded < patients:
            batch = [_patient(rng) for _ in range(min(1000, patients - loaded))]
            families += [p["name"][0]["family"] for p in batch[:20]]
            await client.transaction(_transaction(batch))
            loaded += len(batch)
        print(f"loaded {loaded:,} patients in {time.perf_counter() - started:.0f} s")

        queries = [rng.choice(families)[: rng.choice([3, 4, 6])] for _ in range(300)]
        latencies, matched = [], 0
        for query in queries:
            started = time.perf_counter()
            bundle = await client.search("Patient", {"name": query})
            latencies.append(time.perf_counter() - started)
            matched += len(bundle.get("entry", []))
        print(
            f"search Patient?name=<prefix>: p50 {_percentile(latencies, 0.5) * 1e3:6.2f} ms"
            f"   p95 {_percentile(latencies, 0.95) * 1e3:6.2f} ms   (n={len(queries)},"
            f" {matched / len(queries):.1f} entries/page on average)"
        )

        # The patient list's default order, as the gateway asks for it: the first page, and
        # pages anywhere in the list.
        for label, offsets in (("first page", [0] * 100), ("random page", [rng.randrange(loaded) for _ in range(100)])):
            latencies = []
            for offset in offsets:
                started = time.perf_counter()
                await client.search("Patient", {"_sort": "family,given,_id", "_count": "20", "_offset": str(offset)})
                latencies.append(time.perf_counter() - started)
            print(
                f"Patient?_sort=family,given,_id {label:11s}: p50 {_percentile(latencies, 0.5) * 1e3:6.2f} ms"
                f"   p95 {_percentile(latencies, 0.95) * 1e3:6.2f} ms   (n={len(offsets)})"
            )
    store.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite:///{folder}/bench.db"
        asyncio.run(main(arguments.patients, url))
