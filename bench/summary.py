"""Summary benchmark: the offline summary of a patient with 50 notes and 20 interactions.

The gateway runs in-process on a fresh SQLite file of the embedded store, its FHIR client
counting the requests it sends. The patient's notes are the eight sample notes over and
over (each written again at another time), the interactions the contract's example with
other dates. Every request changes the record's versions by nothing, so the summary cache
is turned off (`SUMMARY_CACHE_SIZE=0`): each request gathers, extracts and writes anew.
Then the same with the cache on, to show what an unchanged record costs.

    .venv/bin/python bench/summary.py [--requests 200] [--notes 50] [--interactions 20]
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.timing import percentile  # noqa: E402
from fhir_gateway.app import EMBEDDED_BASE_URL, create_app  # noqa: E402
from fhir_gateway.embedded import EmbeddedStore  # noqa: E402
from fhir_gateway.fhir_client import FhirClient, RetryPolicy  # noqa: E402
from fhir_gateway.settings import Settings  # noqa: E402

SAMPLE = json.loads((REPO / "generators" / "data" / "soap_notes.json").read_text())
BC_PHN = "9698658215"


class Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)


async def measure(arguments: argparse.Namespace, directory: str, cache_size: int) -> None:
    store = EmbeddedStore(f"sqlite:///{directory}/fhir-{cache_size}.db")
    counting = Counting(httpx.ASGITransport(store.app))
    fhir = FhirClient(EMBEDDED_BASE_URL, transport=counting, retry=RetryPolicy(attempts=1))
    settings = Settings(_env_file=None, summary_cache_size=cache_size, openai_api_key=None)
    app = create_app(settings, fhir_client=fhir)
    try:
        gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway")
        async with app.router.lifespan_context(app), gateway as client:
            patient = (await client.post("/patients", json=SAMPLE["patient"])).json()
            start = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
            for index in range(arguments.notes):
                note = SAMPLE["notes"][index % len(SAMPLE["notes"])]
                taken_at = (start + timedelta(days=7 * index)).isoformat()
                answer = await client.post(
                    f"/patients/{patient['id']}/notes", json={"taken_at": taken_at, "content": note["content"]}
                )
                assert answer.status_code == 201, answer.text
            for index in range(arguments.interactions):
                body = {
                    "insurance_no": BC_PHN,
                    "interaction_date": (start + timedelta(days=11 * index, hours=2)).isoformat(),
                    "ailment": "Allergic rhinitis",
                    "ailment_code": "J30.1",
                    "symptoms": ["sneezing", "itchy eyes"],
                    "metrics": {"heart_rate": 72, "bp_systolic": 120, "bp_diastolic": 78, "peak_flow_l_min": 420},
                    "health_status": 7,
                    "next_steps": ["Start fexofenadine 180 mg daily"],
                    "labels": ["allergy"],
                }
                answer = await client.post("/interactions", json=body)
                assert answer.status_code == 201, answer.text
            url = f"/patients/{patient['id']}/summary"
            await client.get(url)
            latencies: list[float] = []
            trips: list[int] = []
            for index in range(arguments.requests):
                audience = ("clinician", "family")[index % 2]
                counting.requests = 0
                started = time.perf_counter()
                answer = await client.get(url, params={"audience": audience})
                latencies.append(time.perf_counter() - started)
                trips.append(counting.requests)
                assert answer.status_code == 200, answer.text
            summary = answer.json()
    finally:
        await fhir.aclose()
        store.dispose()
    kind = "cache off (every summary made anew)" if cache_size == 0 else "cache on (an unchanged record)"
    p50, p95 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.95) * 1e3
    print(f"{kind:38} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   FHIR round trips {min(trips)}-{max(trips)}")
    if cache_size == 0:
        facts = {kind: len(found) for kind, found in summary["key_facts"].items()}
        print(f"  {arguments.notes} notes, {arguments.interactions} interactions; key facts {facts}")


async def run(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as directory:
        print(f"offline summary, {arguments.requests} requests, one at a time")
        await measure(arguments, directory, cache_size=0)
        await measure(arguments, directory, cache_size=256)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--notes", type=int, default=50)
    parser.add_argument("--interactions", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
