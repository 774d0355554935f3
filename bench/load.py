"""Load benchmark: many concurrent clients on the gateway, served as in production.

The gateway runs as `make run` runs it, `python -m fhir_gateway serve` (uvicorn, one
worker, the embedded store in-process, the demo dataset loaded on first start), in a
process of its own on a free loopback port, on a fresh embedded store: a SQLite file in a
temporary folder, then a schema of its own on the PostgreSQL server `--postgres-url` (or
TEST_POSTGRES_URL) names, dropped afterwards; without either, PostgreSQL is skipped, and
said so. Authentication is on (one API key, made for the run) unless `--auth local-dev`
(IS_LOCAL_DEV=true); the audit trail is on; the per-client rate limit is off, since every
client shares the one key.

SEED_PATIENTS patients are created through the API (with a note and an interaction each,
so that summaries have records to summarise) and every operation is sent once, then CLIENTS clients run for DURATION
seconds on one shared httpx.AsyncClient, each a closed loop: pick an operation of the mix,
send it, wait for the answer, think (a seeded uniform pause, 2-4 s by default: a clinic
user or an integration acting every few seconds; `--think 0` saturates the server
instead), repeat. Each client starts within its first think time, not all at once.

The mix (MIX, by weight): list patients, fuzzy name search with a typo, read a patient,
read a summary, list notes, list interactions, create a patient, add a note, record an
interaction, and through the FHIR face a read and a search. Per backend it prints the
requests, req/s, p50/p95/p99 overall and per operation, the CPU the server and the load
generator spent per request (from /proc), the machine's load average, and every error (a
non-2xx answer or a transport failure) by operation and status; next to them the targets,
0 errors and p99 <= 250 ms with SQLite. Exit status 1 when any request failed.

    .venv/bin/python bench/load.py [--clients 100] [--duration 60] [--think 2-4]
                                   [--backend all|sqlite|postgresql] [--postgres-url URL]
                                   [--auth api-key|local-dev] [--audit on|off] [--seed 1]

Bounded: at most MAX_CLIENTS clients and MAX_DURATION seconds, servers on loopback only.
"""

import argparse
import asyncio
import os
import random
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.gateway import CpuClock, free_port, one_typo_query, process_cpu, served, server_env  # noqa: E402
from bench.timing import percentile  # noqa: E402
from fhir_gateway.features.patients.schemas import PatientIn  # noqa: E402
from fhir_gateway.security import new_api_key  # noqa: E402
from generators.records import RecordGenerator  # noqa: E402
from mappers.patient import to_domain  # noqa: E402

MAX_CLIENTS = 500
MAX_DURATION = 600.0
SEED_PATIENTS = 200
SEED_CONCURRENCY = 8
REQUEST_TIMEOUT = 30.0
P99_TARGET = 0.250
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SYSTEM_BASE = "https://fhir-gateway.dev"
# What a client may write; the MRN is left for the gateway to assign.
WRITABLE = frozenset(PatientIn.model_fields) - {"mrn"}
NOTES = (
    "PROGRESS NOTE\nS: Cough for three days, no fever.\nO: T 37.4 C, HR 84, BP 128/78, SpO2 97%.\n"
    "A: Viral upper respiratory infection.\nP: Fluids, rest, return if worse.",
    "Seen for follow-up of hypertension. Home readings 130s/80s. BP 134/82, HR 72 today. "
    "Tolerating amlodipine. Continue, recheck in three months.",
    "NURSING NOTE\nPatient resting comfortably. T 36.8 C, HR 68, RR 14, BP 118/74. Pain 2/10. Ambulating.",
)
AILMENTS = (
    ("Allergic rhinitis", "J30.1", ["sneezing", "itchy eyes"], ["allergy", "follow-up"]),
    ("Acute upper respiratory infection", "J06.9", ["cough", "sore throat"], ["respiratory"]),
    ("Essential hypertension", "I10", ["headache"], ["chronic", "follow-up"]),
    ("Type 2 diabetes mellitus", "E11.9", ["fatigue", "thirst"], ["chronic"]),
)


# -- the world the clients see ----------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """A stored patient as the clients know it."""

    id: str
    insurance_no: str
    name: str


class Newcomers:
    """Patients not stored yet, as the API takes them: generated records of both provinces
    (generators/records.py), none with a health number the store already holds."""

    def __init__(self, seed: int, taken: set[str]) -> None:
        today = datetime.now(UTC).date()
        self._sources = [RecordGenerator(province, seed, today, system_base=SYSTEM_BASE) for province in ("BC", "ON")]
        self._taken = taken
        self._turn = 0

    def __call__(self) -> dict[str, Any]:
        while True:
            self._turn += 1
            resource = self._sources[self._turn % 2].record()[0]
            patient = to_domain(resource, system_base=SYSTEM_BASE)
            body = patient.model_dump(mode="json", include=WRITABLE, exclude_none=True)
            if body["insurance_no"] not in self._taken:
                self._taken.add(body["insurance_no"])
                return body


@dataclass
class World:
    newcomers: Newcomers
    patients: list[Known] = field(default_factory=list)
    # Names a typo can be made in (a word of three letters or more), for fuzzy searches.
    names: list[str] = field(default_factory=list)
    # Family names of stored patients, for FHIR searches.
    families: list[str] = field(default_factory=list)

    def learn(self, stored: dict[str, Any]) -> Known:
        known = Known(stored["id"], stored["insurance_no"], f"{stored['given_name']} {stored['family_name']}")
        self.patients.append(known)
        if any(len(word) >= 3 for word in known.name.split()):
            self.names.append(known.name)
        self.families.append(stored["family_name"])
        return known


def past_instant(rng: random.Random, days: int) -> str:
    """A moment within the last `days` days, ISO 8601 with its offset."""
    moment = datetime.now(UTC) - timedelta(seconds=rng.uniform(3600, days * 86400))
    return moment.isoformat(timespec="seconds")


# -- the operations ---------------------------------------------------------------------------

Operation = Callable[[httpx.AsyncClient, random.Random, World], Awaitable[httpx.Response]]


async def list_patients(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    params: dict[str, Any] = {"size": 20, "page": rng.randint(1, 5)}
    if rng.random() < 0.5:
        params["sort"] = rng.choice(["family_name,given_name", "-updated_at", "birth_date"])
    return await client.get("/patients", params=params)


async def fuzzy_search(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    query = one_typo_query(rng.choice(world.names), rng)
    return await client.get("/patients", params={"q": query, "size": 10})


async def read_patient(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    return await client.get(f"/patients/{rng.choice(world.patients).id}")


async def read_summary(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    params = {"audience": rng.choice(["clinician", "family"]), "length": rng.choice(["brief", "standard"])}
    return await client.get(f"/patients/{rng.choice(world.patients).id}/summary", params=params)


async def list_notes(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    return await client.get(f"/patients/{rng.choice(world.patients).id}/notes")


async def list_interactions(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    return await client.get(f"/patients/{rng.choice(world.patients).id}/interactions")


async def create_patient(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    answer = await client.post("/patients", json=world.newcomers())
    if answer.status_code == 201:
        world.learn(answer.json())
    return answer


async def add_note(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    return await client.post(f"/patients/{rng.choice(world.patients).id}/notes", json=note(rng, 30))


def note(rng: random.Random, days: int) -> dict[str, str]:
    return {"content": rng.choice(NOTES), "taken_at": past_instant(rng, days), "author": "Dr. Load"}


async def record_interaction(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    return await client.post("/interactions", json=interaction(rng, rng.choice(world.patients).insurance_no))


def interaction(rng: random.Random, insurance_no: str) -> dict[str, Any]:
    ailment, code, symptoms, labels = rng.choice(AILMENTS)
    return {
        "insurance_no": insurance_no,
        "interaction_date": past_instant(rng, 30),
        "ailment": ailment,
        "ailment_code": code,
        "symptoms": symptoms,
        "metrics": {
            "heart_rate": rng.randint(55, 100),
            "bp_systolic": rng.randint(105, 150),
            "bp_diastolic": rng.randint(65, 95),
            "temperature_c": round(rng.uniform(36.2, 38.0), 1),
        },
        "health_status": rng.randint(4, 9),
        "qa": [{"question": "Any fever?", "answer": rng.choice(["No", "Yes, mild"])}],
        "next_steps": ["Follow up in 2 weeks"],
        "labels": labels,
    }


async def fhir_read(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    return await client.get(f"/fhir/Patient/{rng.choice(world.patients).id}")


async def fhir_search(client: httpx.AsyncClient, rng: random.Random, world: World) -> httpx.Response:
    return await client.get("/fhir/Patient", params={"family": rng.choice(world.families), "_count": 20})


# Reads outweigh writes, as in a clinic: a record is looked up far more often than added to.
MIX: dict[str, tuple[Operation, int]] = {
    "list patients": (list_patients, 12),
    "fuzzy search": (fuzzy_search, 14),
    "read patient": (read_patient, 18),
    "read summary": (read_summary, 10),
    "list notes": (list_notes, 5),
    "list interactions": (list_interactions, 4),
    "create patient": (create_patient, 5),
    "add note": (add_note, 9),
    "record interaction": (record_interaction, 8),
    "FHIR read": (fhir_read, 8),
    "FHIR search": (fhir_search, 7),
}


# -- running the load -------------------------------------------------------------------------


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    seconds: float = 0.0
    server_cpu: float | None = None
    client_cpu: float = 0.0


async def client_loop(
    client: httpx.AsyncClient, rng: random.Random, world: World, think: tuple[float, float], until: float, out: Results
) -> None:
    names = list(MIX)
    operations = [MIX[name][0] for name in names]
    weights = [MIX[name][1] for name in names]
    # Clients arrive over the first think time, not in one burst.
    await asyncio.sleep(rng.uniform(0, think[1]))
    while time.monotonic() < until:
        index = rng.choices(range(len(names)), weights)[0]
        started = time.perf_counter()
        failure = None
        try:
            answer = await operations[index](client, rng, world)
            if not answer.is_success:
                failure = str(answer.status_code)
        except httpx.HTTPError as exc:
            failure = type(exc).__name__
        out.latencies[names[index]].append(time.perf_counter() - started)
        if failure is not None:
            out.errors[names[index], failure] += 1
        if think[1] > 0:
            await asyncio.sleep(rng.uniform(*think))


async def seed_store(client: httpx.AsyncClient, seed: int) -> World:
    """The clients' world: the patients stored already (the demo dataset), and SEED_PATIENTS
    more created with a note and an interaction each, a few at a time. Any failure stops
    the run before it is measured."""
    page, stored = 1, []
    while True:
        answer = (await client.get("/patients", params={"size": 100, "page": page})).raise_for_status().json()
        stored += answer["items"]
        if answer["next"] is None:
            break
        page += 1
    world = World(Newcomers(seed, {patient["insurance_no"] for patient in stored if patient.get("insurance_no")}))
    for patient in stored:
        if patient.get("insurance_no"):
            world.learn(patient)
    rng = random.Random(f"seed:{seed}")
    pending = iter(range(SEED_PATIENTS))

    async def worker() -> None:
        for _ in pending:
            answer = (await client.post("/patients", json=world.newcomers())).raise_for_status()
            created = world.learn(answer.json())
            (await client.post(f"/patients/{created.id}/notes", json=note(rng, 365))).raise_for_status()
            (await client.post("/interactions", json=interaction(rng, created.insurance_no))).raise_for_status()

    await asyncio.gather(*(worker() for _ in range(SEED_CONCURRENCY)))
    # Every operation once, one after the other: a broken one stops the run here, and what
    # a fresh process reads on first use is read once rather than by many clients at a time.
    for name, (operation, _weight) in MIX.items():
        answer = await operation(client, rng, world)
        if not answer.is_success:
            raise SystemExit(f"{name} answered {answer.status_code} before the load: {answer.text[:500]}")
    return world


async def run_load(
    base_url: str, headers: dict[str, str], arguments: argparse.Namespace, server_cpu: CpuClock
) -> tuple[Results, int]:
    """Seed the store, then run the clients; the results and how many patients the store held
    before the load."""
    async with _client(base_url, headers, SEED_CONCURRENCY) as seeder:
        world = await seed_store(seeder, arguments.seed)
    seeded = len(world.patients)
    out = Results()
    # A client of its own for each: one connection each, as separate users have. One pool
    # shared by all would cost the load generator twice the CPU per request (httpx looks
    # through the pool's connections on every request).
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(_client(base_url, headers, 1)) for _ in range(arguments.clients)]
        cpu_before, client_before = server_cpu(), time.process_time()
        started = time.monotonic()
        until = started + arguments.duration
        await asyncio.gather(
            *(
                client_loop(client, random.Random(f"client:{arguments.seed}:{n}"), world, arguments.think, until, out)
                for n, client in enumerate(clients)
            )
        )
        out.seconds = time.monotonic() - started
        cpu_after = server_cpu()
        out.client_cpu = time.process_time() - client_before
    if cpu_before is not None and cpu_after is not None:
        out.server_cpu = cpu_after - cpu_before
    return out, seeded


def _client(base_url: str, headers: dict[str, str], connections: int) -> httpx.AsyncClient:
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them: a
    # request sent on a connection the server is closing fails (ReadError) and is not retried.
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=4)
    return httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT)


# -- servers ----------------------------------------------------------------------------------


@contextmanager
def sqlite_store(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'fhir.db'}"


@contextmanager
def postgres_store(server_url: str) -> Iterator[str]:
    """A fresh schema of the run's own on the server, first on the store's search path;
    dropped afterwards with everything in it. The database's other schemas are not touched."""
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    if url.host not in LOOPBACK:
        raise SystemExit(f"the load benchmark runs on loopback only; the PostgreSQL host is {url.host!r}")
    schema = f"load_{secrets.token_hex(4)}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            own = url.update_query_dict({"options": f"-csearch_path={schema}"})
            yield own.render_as_string(hide_password=False)
        finally:
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        engine.dispose()


@contextmanager
def gateway(database_url: str, settings: dict[str, str], folder: Path) -> Iterator[tuple[str, int]]:
    """`python -m fhir_gateway serve` on `database_url`; its base URL and process id."""
    port = free_port()
    environment = server_env(database_url, port=port, fhir_port=free_port(), log_level="INFO")
    environment.update(settings, RATE_LIMIT="")
    base_url = f"http://127.0.0.1:{port}"
    with served("serve", environment, folder, f"{base_url}/health/ready") as pid:
        yield base_url, pid


def authentication(mode: str) -> tuple[dict[str, str], dict[str, str]]:
    """The gateway's settings and the clients' headers for `mode`."""
    if mode == "local-dev":
        return {"IS_LOCAL_DEV": "true"}, {}
    key, configured = new_api_key("load-bench", ["system/*.read", "system/*.write"])
    return {"IS_LOCAL_DEV": "false", "API_KEYS": configured.entry()}, {"Authorization": f"Bearer {key}"}


def check_authentication(base_url: str, mode: str) -> None:
    """With a key, an anonymous request must be refused, or the run would not measure
    authentication at all."""
    if mode == "api-key":
        status = httpx.get(f"{base_url}/patients", timeout=REQUEST_TIMEOUT).status_code
        if status != 401:
            raise SystemExit(f"an anonymous GET /patients answered {status}, not 401: authentication is not on")


# -- reporting --------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.1f}"


def report(backend: str, out: Results, seeded: int, loads: tuple[float, float], target: bool) -> bool:
    """Print the figures of one backend; whether every request succeeded."""
    every = [latency for latencies in out.latencies.values() for latency in latencies]
    total, errors = len(every), sum(out.errors.values())
    print(f"\n== {backend}: {seeded} patients stored before the load (the demo dataset and the seeded)")
    print(f"   load average (1 min) {loads[0]:.2f} before, {loads[1]:.2f} after")
    if not every:
        print("   no requests were made")
        return False
    server = "n/a" if out.server_cpu is None else f"{out.server_cpu / total * 1e3:.2f} ms"
    used = "" if out.server_cpu is None else f" ({out.server_cpu / out.seconds:.2f} cores)"
    print(
        f"   {total} requests in {out.seconds:.1f} s: {total / out.seconds:.1f} req/s;"
        f" CPU per request: server {server}{used}, load generator {out.client_cpu / total * 1e3:.2f} ms"
    )
    print(f"   {'operation':<20}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    failed = Counter[str]()
    for (operation, _status), count in out.errors.items():
        failed[operation] += count
    for operation, latencies in [("all", every), *sorted(out.latencies.items())]:
        count = errors if operation == "all" else failed[operation]
        print(
            f"   {operation:<20}{len(latencies):>7}{_ms(percentile(latencies, 0.50)):>9}"
            f"{_ms(percentile(latencies, 0.95)):>9}{_ms(percentile(latencies, 0.99)):>9}"
            f"{_ms(max(latencies)):>9}{count:>8}"
        )
    p99 = percentile(every, 0.99)
    verdict = ("met" if p99 <= P99_TARGET else "MISSED") if target else "no target"
    print(
        f"   errors {errors} (target 0: {'met' if errors == 0 else 'MISSED'});"
        f" p99 {p99 * 1e3:.1f} ms (target <= {P99_TARGET * 1e3:.0f} ms with SQLite: {verdict})"
    )
    for (operation, status), count in out.errors.most_common():
        print(f"     {count:>6} x {operation}: {status}")
    return errors == 0


# -- the command ------------------------------------------------------------------------------


def _think(value: str) -> tuple[float, float]:
    low, _, high = value.partition("-")
    try:
        bounds = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError("think time is LOW-HIGH seconds, or one number") from None
    if not 0 <= bounds[0] <= bounds[1] <= 60:
        raise argparse.ArgumentTypeError("think time is LOW-HIGH seconds, 0 <= LOW <= HIGH <= 60")
    return bounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100, help=f"concurrent clients (at most {MAX_CLIENTS})")
    parser.add_argument("--duration", type=float, default=60.0, help=f"seconds of load (at most {MAX_DURATION:.0f})")
    parser.add_argument(
        "--think", type=_think, default=(2.0, 4.0), help="seconds each client waits between requests: LOW-HIGH, or 0"
    )
    parser.add_argument("--backend", choices=["all", "sqlite", "postgresql"], default="all")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("TEST_POSTGRES_URL"),
        help="a loopback PostgreSQL server (default TEST_POSTGRES_URL); the run works in a schema of its own",
    )
    parser.add_argument(
        "--auth",
        choices=["api-key", "local-dev"],
        default="api-key",
        help="authenticate with an API key made for the run, or serve with IS_LOCAL_DEV=true",
    )
    parser.add_argument(
        "--audit", choices=["on", "off"], default="on", help="the audit trail (AUDIT_ENABLED), on as in production"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the clients' choices and think times")
    arguments = parser.parse_args()
    if not 1 <= arguments.clients <= MAX_CLIENTS or not 1 <= arguments.duration <= MAX_DURATION:
        parser.error(f"--clients must be 1-{MAX_CLIENTS}, --duration 1-{MAX_DURATION:.0f} s")

    def stop(signum: int, _frame: object) -> NoReturn:
        # SystemExit unwinds through the `finally` blocks that stop the server and drop its data.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    settings, headers = authentication(arguments.auth)
    settings["AUDIT_ENABLED"] = str(arguments.audit == "on").lower()
    low, high = arguments.think
    print(
        f"{arguments.clients} clients for {arguments.duration:.0f} s, think {low}-{high} s, auth {arguments.auth},"
        f" audit {arguments.audit},"
        f" seed {arguments.seed}, {os.cpu_count()} CPUs, {date.today()}"
    )
    backends: dict[str, Callable[[Path], Any]] = {}
    if arguments.backend in ("all", "sqlite"):
        backends["SQLite"] = sqlite_store
    if arguments.backend in ("all", "postgresql"):
        if arguments.postgres_url:
            backends["PostgreSQL"] = lambda _folder: postgres_store(arguments.postgres_url)
        else:
            print("\n== PostgreSQL: SKIPPED, NOT MEASURED: give --postgres-url or set TEST_POSTGRES_URL", flush=True)
    clean = True
    for backend, store in backends.items():
        with tempfile.TemporaryDirectory(prefix="fhir-gateway-load-") as folder, store(Path(folder)) as database:
            before = os.getloadavg()[0]
            with gateway(database, settings, Path(folder)) as (base_url, pid):
                print(f"\n{backend}: gateway process {pid} at {base_url}", flush=True)
                check_authentication(base_url, arguments.auth)
                out, seeded = asyncio.run(run_load(base_url, headers, arguments, process_cpu(pid)))
            clean = report(backend, out, seeded, (before, os.getloadavg()[0]), backend == "SQLite") and clean
    return 0 if clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
