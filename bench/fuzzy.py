"""Fuzzy patient search at scale: recall@10 on typo'd queries, and latency.

Loads N generated patients (100,000 by default) into an embedded store on a temporary
SQLite file, each written by the gateway's own mapping (so it carries its name keys).
Then it sends generated queries to `GET /patients?q=` of the gateway, in-process, and
prints recall@10 (the patient a query was made from is among the first 10 results),
recall@1, latency percentiles and how many FHIR searches a query took.

A query is a stored patient's name as a person might type it: the first given name,
sometimes the middle one, the family name (hyphens kept, spaced or dropped), name order
swapped in 30% of queries, accents dropped in half, case changed, and one typo (70%) or
two (30%) in random words: a letter changed, dropped, added, or two neighbours swapped.

    .venv/bin/python bench/fuzzy.py [--patients 100000] [--queries 1000] [--seed 7]
"""

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from faker import Faker
from faker.providers.person.en_US import Provider as EnglishNames
from faker.providers.person.fr_CA import Provider as FrenchNames

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fhir_gateway.app import EMBEDDED_BASE_URL, create_app  # noqa: E402
from fhir_gateway.embedded import EmbeddedStore  # noqa: E402
from fhir_gateway.fhir_client import FhirClient  # noqa: E402
from fhir_gateway.settings import Settings  # noqa: E402
from mappers.patient import Patient, to_fhir  # noqa: E402
from mappers.text import fold  # noqa: E402

SYSTEM_BASE = "https://fhir-gateway.dev"
BATCH = 1000
LETTERS = "abcdefghijklmnopqrstuvwxyz"
GIVEN_NAMES = sorted(set(EnglishNames.first_names) | set(FrenchNames.first_names))


def population(rng: random.Random, size: int) -> list[dict[str, Any]]:
    """Names as Canadians have them: common family names common (Faker's weights), given
    names drawn evenly, a middle name for 30%."""
    english, french = Faker("en_CA"), Faker("fr_CA")
    english.seed_instance(rng.random())
    french.seed_instance(rng.random())
    people = []
    for number in range(size):
        given = rng.choice(GIVEN_NAMES)
        if rng.random() < 0.3:
            given += " " + rng.choice(GIVEN_NAMES)
        family = (french if rng.random() < 0.25 else english).last_name()
        people.append(
            {
                "mrn": f"MRN-{number:08d}",
                "given_name": given,
                "family_name": family,
                "birth_date": date.fromordinal(rng.randint(date(1920, 1, 1).toordinal(), date(2024, 1, 1).toordinal())),
                "gender": rng.choice(["male", "female", "other", "unknown"]),
            }
        )
    return people


def typo(word: str, rng: random.Random) -> str:
    """`word` with one slip of the keyboard."""
    if len(word) < 3:
        return word
    position = rng.randrange(len(word))
    kind = rng.choice(["substitute", "delete", "insert", "transpose"])
    if kind == "substitute":
        return word[:position] + rng.choice(LETTERS.replace(word[position].lower(), "")) + word[position + 1 :]
    if kind == "delete":
        return word[:position] + word[position + 1 :]
    if kind == "insert":
        return word[:position] + rng.choice(LETTERS) + word[position:]
    position = min(position, len(word) - 2)
    return word[:position] + word[position + 1] + word[position] + word[position + 2 :]


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def query_for(person: dict[str, Any], rng: random.Random) -> str:
    given = person["given_name"].split()
    words = given[:1] + (given[1:2] if rng.random() < 0.5 else [])
    family = person["family_name"]
    if "-" in family:
        family = family.replace("-", rng.choice(["-", " ", ""]))
    words.append(family)
    if rng.random() < 0.3:
        words = words[-1:] + words[:-1]
    for _ in range(1 if rng.random() < 0.7 else 2):
        index = rng.randrange(len(words))
        words[index] = typo(words[index], rng)
    text = " ".join(words)
    if rng.random() < 0.5:
        text = strip_accents(text)
    return rng.choice([str.lower, str.upper, str.title, str])(text)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts the FHIR searches a query makes."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.searches = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.searches += 1
        return await self.inner.handle_async_request(request)


async def main(patients: int, queries: int, seed: int, folder: str) -> None:
    rng = random.Random(seed)
    store = EmbeddedStore(f"sqlite:///{folder}/fuzzy.db")
    counting = CountingTransport(httpx.ASGITransport(store.app))
    fhir = FhirClient(EMBEDDED_BASE_URL, transport=counting)
    app = create_app(Settings(_env_file=None, identifier_system_base=SYSTEM_BASE), fhir_client=fhir)
    people = population(rng, patients)
    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        ids: list[str] = []
        for start in range(0, patients, BATCH):
            batch = people[start : start + BATCH]
            bundle = {
                "resourceType": "Bundle",
                "type": "transaction",
                "entry": [
                    {
                        "resource": to_fhir(Patient.model_validate(person), system_base=SYSTEM_BASE),
                        "request": {"method": "POST", "url": "Patient"},
                    }
                    for person in batch
                ],
            }
            response = await fhir.transaction(bundle)
            ids += [entry["response"]["location"].split("/")[1] for entry in response["entry"]]
        print(f"loaded {patients:,} patients in {time.perf_counter() - started:.0f} s")

        same_name = Counter(fold(f"{p['given_name']} {p['family_name']}") for p in people)
        sample = rng.sample(range(patients), queries)
        made = [(ids[index], query_for(people[index], rng)) for index in sample]
        crowded = sum(
            1
            for index in sample
            if same_name[fold(f"{people[index]['given_name']} {people[index]['family_name']}")] > 10
        )

        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for _, text in made[:20]:  # warm-up: caches, connections
                await client.get("/patients", params={"q": text, "size": 10})
            latencies: list[float] = []
            searches: list[int] = []
            found_at: list[int | None] = []
            for target, text in made:
                counting.searches = 0
                began = time.perf_counter()
                response = await client.get("/patients", params={"q": text, "size": 10})
                latencies.append(time.perf_counter() - began)
                searches.append(counting.searches)
                response.raise_for_status()
                result = [item["id"] for item in response.json()["items"]]
                found_at.append(result.index(target) if target in result else None)
    await fhir.aclose()
    store.dispose()

    hits = sum(1 for rank in found_at if rank is not None)
    print(
        f"queries: {queries:,} (one typo 70%, two 30%; order swapped 30%; accents dropped 50%; case changed);"
        f" {crowded} made from a name more than 10 patients share"
    )
    print(f"recall@10: {hits / queries:.3f} ({hits}/{queries})   recall@1: {found_at.count(0) / queries:.3f}")
    print(
        f"latency: p50 {percentile(latencies, 0.5) * 1e3:.1f} ms   p95 {percentile(latencies, 0.95) * 1e3:.1f} ms"
        f"   p99 {percentile(latencies, 0.99) * 1e3:.1f} ms   max {max(latencies) * 1e3:.1f} ms"
    )
    print(
        f"FHIR searches per query: mean {statistics.mean(searches):.2f}   p95 {percentile(searches, 0.95)}"
        f"   max {max(searches)}"
    )
    misses = [text for (_, text), rank in zip(made, found_at, strict=True) if rank is None]
    if misses:
        print("some misses:", ", ".join(repr(text) for text in misses[:10]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(main(arguments.patients, arguments.queries, arguments.seed, directory))
