"""Synthea load benchmark: resources/s loading one Synthea-shaped export into the embedded store
and into HAPI FHIR JPA 8.8, through HTTP on loopback.

The export (tests/synthea/shapes.py) is a Synthea 3.x one: a hospital and a practitioner batch
bundle of conditional creates, then `--patients` patient transactions of about two hundred
entries whose references to organisations, locations and practitioners are conditional
(`--style 2.x`: the patient transactions only, each with its own copies of those). The same
bundles go, posted by the same client, to

  (a) the embedded store, `python -m fhir_gateway fhir` (what `make fhir` runs) on a fresh
      SQLite file in a temporary folder;
  (b) HAPI FHIR, started here from hapi/target/hapi-fhir-server.jar (`make hapi` builds it) on
      a free port with hapi/application.yaml and an in-memory H2 database, or the running
      server `--hapi-url` names.

Each server first loads a warm-up export of other patients, hospitals and clinicians, not
counted (HAPI's JIT compiles the paths a load takes; the embedded store fills its caches),
then `--rounds` exports, each of its own patients, hospitals and clinicians but of one size.
In each, the two batches go first, one after the other, since the patients refer to what
they create; the patient transactions follow, `--concurrency` in flight. Any answer that is
not 200, or any entry of it that is not 2xx, stops the benchmark with the server's outcome.
The exports depend on `--seed` and `--salt` only: a running server that `--hapi-url` names
and that was loaded with the same salt before matches those hospitals and clinicians instead
of creating them, so give it another salt.

It prints, per server and for its best round: entries posted, seconds, resources/s (entries
per second), the p50/p95 of one patient transaction, and the CPU the server used per resource
(from /proc, for a server started here); then the embedded store's resources/s and server CPU
per resource as shares of HAPI's.

    .venv/bin/python bench/synthea.py [--patients 20] [--encounters 12] [--rounds 3] [--warmup-patients 40]
    (`--warmup-patients 0 --rounds 1`: an export loaded into freshly started servers)
                                      [--concurrency 1] [--only embedded|hapi] [--hapi-url URL]
                                      [--style 3.x|2.x] [--seed 2026] [--salt bench]
"""

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.gateway import CpuClock, free_port, process_cpu, served, server_env, stop  # noqa: E402
from tests.synthea.shapes import DEFAULT_ENCOUNTERS, Style, SyntheaSet, synthea_set  # noqa: E402

HAPI_JAR = REPO / "hapi" / "target" / "hapi-fhir-server.jar"
HAPI_READY_SECONDS = 300
HAPI_STOP_SECONDS = 30
FHIR_JSON = "application/fhir+json"
# A patient transaction takes HAPI seconds when cold; far more than that means it is stuck.
REQUEST_SECONDS = 600


@dataclass(frozen=True)
class Server:
    label: str
    base: str
    # The server's CPU seconds so far, when it runs here.
    cpu: CpuClock | None


@dataclass(frozen=True)
class Load:
    seconds: float
    entries: int
    # One per patient transaction.
    latencies: list[float]
    # CPU seconds the server used meanwhile, when known.
    server_cpu: float | None

    @property
    def rate(self) -> float:
        return self.entries / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# -- servers ----------------------------------------------------------------------------------


@contextmanager
def embedded_store(folder: Path) -> Iterator[Server]:
    """`python -m fhir_gateway fhir` on a fresh SQLite file in `folder`."""
    port = free_port()
    env = server_env(f"sqlite:///{folder}/fhir.db", port=free_port(), fhir_port=port, log_level="WARNING")
    base = f"http://127.0.0.1:{port}/fhir"
    with served("fhir", env, folder, f"{base}/metadata") as pid:
        yield Server("embedded store (SQLite)", base, process_cpu(pid))


@contextmanager
def hapi(folder: Path, hapi_url: str | None) -> Iterator[Server]:
    """HAPI FHIR at `hapi_url`, or started from its jar as hapi/run.sh starts it, on in-memory H2."""
    if hapi_url is not None:
        yield Server(f"HAPI FHIR at {hapi_url}", hapi_url.rstrip("/"), None)
        return
    if not HAPI_JAR.is_file():
        raise SystemExit(f"{HAPI_JAR.relative_to(REPO)} is missing: build it with `make hapi`, or pass --hapi-url")
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    # Without SPRING_DATASOURCE_URL the server runs on in-memory H2, whatever the shell exports.
    env = {name: value for name, value in os.environ.items() if not name.startswith("SPRING_DATASOURCE_")}
    env |= {"HAPI_PORT": str(port), "SPRING_CONFIG_ADDITIONAL_LOCATION": f"file:{REPO}/hapi/application.yaml"}
    java_options = os.environ.get("HAPI_JAVA_OPTS", "-Xmx2g").split()
    log = folder / "hapi.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["java", *java_options, "-jar", str(HAPI_JAR)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            started = time.monotonic()
            _wait_for_hapi(base, process, log)
            print(f"HAPI FHIR answered {base}/metadata after {time.monotonic() - started:.0f} s", flush=True)
            yield Server("HAPI FHIR 8.8 (H2 in memory)", base, process_cpu(process.pid))
        finally:
            stop(process, HAPI_STOP_SECONDS)


def _wait_for_hapi(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + HAPI_READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"HAPI FHIR exited with status {process.returncode}; the end of its log:\n{tail}")
        try:
            if httpx.get(f"{base}/metadata", headers={"Accept": FHIR_JSON}, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise RuntimeError(f"HAPI FHIR did not answer {base}/metadata within {HAPI_READY_SECONDS} s; see {log}")


# -- loading ----------------------------------------------------------------------------------


def _failure(index: int, response: httpx.Response) -> str | None:
    """Why the answer to bundle `index` is not a full success, or None when it is."""
    if response.status_code != 200:
        return f"bundle {index} answered {response.status_code}: {response.text[:2000]}"
    for position, entry in enumerate(response.json()["entry"]):
        answered = entry["response"]
        if not answered["status"].startswith("2"):
            outcome = orjson.dumps(answered.get("outcome")).decode()[:2000]
            return f"bundle {index} entry {position} answered {answered['status']}: {outcome}"
    return None


async def load(server: Server, made: SyntheaSet, concurrency: int) -> Load:
    """Post every bundle of `made`: the batches in turn, then the transactions `concurrency` at once."""
    bodies = [orjson.dumps(bundle) for bundle in made.bundles]
    batches = [index for index, bundle in enumerate(made.bundles) if bundle["type"] == "batch"]
    transactions = iter(index for index, bundle in enumerate(made.bundles) if bundle["type"] == "transaction")
    latencies: list[float] = []
    headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(timeout=REQUEST_SECONDS, limits=limits, headers=headers) as client:

        async def post(index: int) -> float:
            began = time.perf_counter()
            response = await client.post(server.base, content=bodies[index])
            took = time.perf_counter() - began
            if (failure := _failure(index, response)) is not None:
                raise RuntimeError(f"{server.label}: {failure}")
            return took

        async def worker() -> None:
            # One iterator shared by every worker: each transaction is posted exactly once.
            for index in transactions:
                latencies.append(await post(index))

        cpu_before = server.cpu() if server.cpu else None
        started = time.perf_counter()
        for index in batches:
            await post(index)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu_after = server.cpu() if server.cpu else None
    used = cpu_after - cpu_before if cpu_after is not None and cpu_before is not None else None
    return Load(seconds, made.entries, latencies, used)


async def measure(server: Server, warm_up: SyntheaSet | None, rounds: list[SyntheaSet], concurrency: int) -> list[Load]:
    if warm_up is not None:
        print(f"{server.label}: warming up with {warm_up.entries:,} entries…", flush=True)
        await load(server, warm_up, concurrency)
    loads = []
    for number, made in enumerate(rounds, start=1):
        print(f"{server.label}: round {number}, {made.entries:,} entries…", flush=True)
        loads.append(await load(server, made, concurrency))
    return loads


def report(label: str, loads: list[Load]) -> Load:
    """Print the best of `loads`, with every round's rate; answer it."""
    best = max(loads, key=lambda measured: measured.rate)
    cpu = "" if best.server_cpu is None else f"   server CPU {best.server_cpu / best.entries * 1e3:.2f} ms/resource"
    every = ", ".join(f"{measured.rate:.0f}" for measured in loads)
    print(
        f"{label:<30} {best.entries:,} entries in {best.seconds:6.1f} s = {best.rate:5.0f} resources/s"
        f"   patient transaction p50 {best.percentile(0.5):5.2f} s p95 {best.percentile(0.95):5.2f} s{cpu}"
        f"   (rounds: {every} resources/s)"
    )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=20, help="patient transactions measured")
    parser.add_argument("--encounters", type=int, default=DEFAULT_ENCOUNTERS, help="encounters per patient")
    parser.add_argument("--warmup-patients", type=int, default=40, help="patients of the warm-up export, not counted")
    parser.add_argument("--rounds", type=int, default=3, help="exports loaded after the warm-up (the best counts)")
    parser.add_argument("--concurrency", type=int, default=1, help="patient transactions in flight")
    parser.add_argument("--style", type=Style, choices=list(Style), default=Style.V3, help="Synthea export style")
    parser.add_argument("--only", choices=["embedded", "hapi"], help="measure one server only")
    parser.add_argument("--hapi-url", help="a running HAPI FHIR base URL, instead of starting one")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the export")
    parser.add_argument(
        "--salt", default="bench", help="salt of the export's identifiers: another one loads other hospitals"
    )
    arguments = parser.parse_args()
    if min(arguments.patients, arguments.encounters, arguments.rounds) < 1 or arguments.warmup_patients < 0:
        parser.error("--patients, --encounters and --rounds must be at least 1, --warmup-patients at least 0")
    if arguments.concurrency < 1:
        parser.error("--concurrency must be at least 1")

    def stop(signum: int, _frame: object) -> NoReturn:
        # SystemExit unwinds through the `finally` blocks that stop the servers.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)

    def export(patients: int, salt: str) -> SyntheaSet:
        return synthea_set(arguments.seed, patients, salt=salt, encounters=arguments.encounters, style=arguments.style)

    # Each round loads other hospitals, clinicians and patients, of the same shape and size.
    rounds = [export(arguments.patients, f"{arguments.salt}-{number}") for number in range(1, arguments.rounds + 1)]
    made = rounds[0]
    # No warm-up measures what a user loading an export into a freshly started server sees.
    warm_up = export(arguments.warmup_patients, f"{arguments.salt}-warm-up") if arguments.warmup_patients else None
    warmed = f"after a warm-up of {warm_up.entries:,} entries" if warm_up else "on freshly started servers"
    print(
        f"Synthea {arguments.style} export: {len(made.bundles)} bundles ({arguments.patients} patients,"
        f" {arguments.encounters} encounters each), {made.entries:,} entries, {arguments.rounds} rounds (the best"
        f" counts) {warmed}; {arguments.concurrency} transaction(s) in flight"
    )
    measured: dict[str, list[Load]] = {}
    with tempfile.TemporaryDirectory() as folder:
        if arguments.only != "hapi":
            with embedded_store(Path(folder)) as server:
                measured[server.label] = asyncio.run(measure(server, warm_up, rounds, arguments.concurrency))
        if arguments.only != "embedded":
            with hapi(Path(folder), arguments.hapi_url) as server:
                measured[server.label] = asyncio.run(measure(server, warm_up, rounds, arguments.concurrency))
    best = [report(label, loads) for label, loads in measured.items()]
    if len(best) == 2:
        embedded, hapi_load = best
        print(f"embedded store / HAPI FHIR: {embedded.rate / hapi_load.rate:.0%} of HAPI's resources/s", end="")
        # On a machine other programs load, CPU per resource moves far less than resources/s.
        if embedded.server_cpu and hapi_load.server_cpu:
            share = (embedded.server_cpu / embedded.entries) / (hapi_load.server_cpu / hapi_load.entries)
            print(f"; its server CPU per resource is {share:.0%} of HAPI's", end="")
        print()


if __name__ == "__main__":
    main()
