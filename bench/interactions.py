"""Interactions benchmark: recording, reading and listing interactions through the gateway,
side by side with the same FHIR requests sent straight to its FHIR server.

The gateway runs in-process (httpx.ASGITransport, its lifespan included), on a fresh SQLite
file of the embedded store, or with `--fhir-url` on that FHIR server (HAPI FHIR, say:
emptied first with `$expunge`). Each measurement takes turns with the others, round after
round:

  (a) gateway, record   POST /interactions: the contract's example (9 Observations)
  (b) direct, record    the same Encounter and Observations, one transaction
  (c) gateway, read     GET /interactions/{id}
  (d) direct, read      Encounter?_id=…&_revinclude=Observation:encounter
  (e) gateway, list     GET /interactions?insurance_no=…&label=…: a page of 20
  (f) direct, list      the patient search, then Encounter and Observation searches

What the gateway adds is (a) - (b), (c) - (d), (e) - (f).

    .venv/bin/python bench/interactions.py [--count 200] [--concurrency 4] [--rounds 2] [--fhir-url URL]
"""

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.timing import measure, percentile  # noqa: E402
from fhir_gateway.app import create_app  # noqa: E402
from fhir_gateway.fhir_client import create_entry, new_urn, transaction  # noqa: E402
from fhir_gateway.settings import EMBEDDED, Settings  # noqa: E402
from mappers.interaction import InteractionDraft, encounter, observations  # noqa: E402

SYSTEM_BASE = "https://fhir-gateway.dev"
BC_PHN = "9698658215"
EXAMPLE: dict[str, Any] = {
    "insurance_no": BC_PHN,
    "interaction_date": "2025-03-01T10:30:00-08:00",
    "ailment": "Allergic rhinitis",
    "ailment_code": "J30.1",
    "symptoms": ["sneezing", "itchy eyes"],
    "metrics": {
        "heart_rate": 72,
        "bp_systolic": 120,
        "bp_diastolic": 78,
        "temperature_c": 36.6,
        "spo2": 98,
        "respiratory_rate": 14,
        "weight_kg": 70.5,
        "peak_flow_l_min": 420,
    },
    "remarks": "Seasonal; worse outdoors.",
    "health_status": 7,
    "qa": [{"question": "Any fever?", "answer": "No"}],
    "next_steps": ["Start fexofenadine", "Follow up in 2 weeks"],
    "labels": ["allergy", "follow-up"],
}


def expunge(fhir_url: str) -> None:
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "expungeEverything", "valueBoolean": True}]}
    answer = httpx.post(
        f"{fhir_url}/$expunge", json=parameters, headers={"Content-Type": "application/fhir+json"}, timeout=120
    )
    if answer.is_error:
        raise SystemExit(
            f"{fhir_url} refused $expunge ({answer.status_code}): start it with "
            "--hapi.fhir.expunge_enabled=true --hapi.fhir.allow_multiple_delete=true"
        )


async def run(arguments: argparse.Namespace, directory: str) -> None:
    if arguments.fhir_url:
        expunge(arguments.fhir_url)
    settings = Settings(
        _env_file=None,
        fhir_base_url=arguments.fhir_url or EMBEDDED,
        embedded_database_url=f"sqlite:///{directory}/fhir.db",
        identifier_system_base=SYSTEM_BASE,
    )
    app = create_app(settings)
    rng = random.Random(11)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=120) as client:
            created = await client.post(
                "/patients",
                json={
                    "given_name": "Bench",
                    "family_name": "Mark",
                    "birth_date": "1970-01-01",
                    "province": "BC",
                    "insurance_no": BC_PHN,
                },
            )
            assert created.status_code == 201, created.text
            patient = created.json()
            fhir = app.state.fhir_client
            system = f"{SYSTEM_BASE}/CodeSystem/interaction-label"
            ids: list[str] = []

            def example(index: int) -> dict[str, Any]:
                # Days apart, so that lists page through distinct dates.
                day = 1 + index % 28
                return EXAMPLE | {"interaction_date": f"2025-03-{day:02d}T10:30:{index % 60:02d}-08:00"}

            async def gateway_record(index: int) -> None:
                answer = await client.post("/interactions", json=example(index))
                assert answer.status_code == 201, answer.text
                ids.append(answer.json()["id"])

            async def direct_record(index: int) -> None:
                await fhir.search("Patient", [("identifier", BC_PHN)])
                draft = InteractionDraft.model_validate(example(index) | {"patient_id": patient["id"]})
                urn = new_urn()
                entries = [create_entry(encounter(draft, system_base=SYSTEM_BASE), urn)]
                entries += [create_entry(o, new_urn()) for o in observations(draft, urn, system_base=SYSTEM_BASE)]
                await fhir.transaction(transaction(entries))

            async def gateway_read(index: int) -> None:
                answer = await client.get(f"/interactions/{rng.choice(ids)}")
                assert answer.status_code == 200, answer.text

            async def direct_read(index: int) -> None:
                await fhir.search("Encounter", [("_id", rng.choice(ids)), ("_revinclude", "Observation:encounter")])

            async def gateway_list(index: int) -> None:
                answer = await client.get(
                    "/interactions", params={"insurance_no": BC_PHN, "label": "follow-up", "page": 1 + index % 5}
                )
                assert answer.status_code == 200, answer.text

            async def direct_list(index: int) -> None:
                await fhir.search("Patient", [("identifier", BC_PHN)])
                page = await fhir.search_page(
                    "Encounter",
                    [("patient", f"Patient/{patient['id']}"), ("_tag", f"{system}|follow-up"), ("_sort", "-date,_id")],
                    count=20,
                    offset=20 * (index % 5),
                )
                references = ",".join(f"Encounter/{e['id']}" for e in page.matches)
                await fhir.search("Observation", [("encounter", references), ("_count", "500")])

            measurements = {
                "(a) gateway, record": gateway_record,
                "(b) direct, record": direct_record,
                "(c) gateway, read": gateway_read,
                "(d) direct, read": direct_read,
                "(e) gateway, list": gateway_list,
                "(f) direct, list": direct_list,
            }
            best: dict[str, tuple[float, list[float]]] = {}
            for _ in range(arguments.rounds):
                for name, send in measurements.items():
                    rate, latencies = await measure(send, arguments.count, arguments.concurrency)
                    if name not in best or rate > best[name][0]:
                        best[name] = (rate, latencies)
    backend = arguments.fhir_url or "the embedded store (SQLite)"
    print(f"{backend}; concurrency {arguments.concurrency}, {arguments.count} requests, best of {arguments.rounds}")
    for name, (rate, latencies) in best.items():
        p50, p95 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.95) * 1e3
        print(f"{name:22} {rate:8.1f} req/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
    for action, gateway, direct in (("record", "(a)", "(b)"), ("read", "(c)", "(d)"), ("list", "(e)", "(f)")):
        ratio = best[f"{gateway} gateway, {action}"][0] / best[f"{direct} direct, {action}"][0]
        print(f"gateway/direct throughput, {action}: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="requests per measurement")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fhir-url", help="a FHIR server to run on instead of the embedded store (emptied first)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run(arguments, directory))


if __name__ == "__main__":
    main()
