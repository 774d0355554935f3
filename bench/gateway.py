"""Gateway benchmark: what the gateway adds to a read of the FHIR store, and fuzzy search.

Loads the demo dataset (generators/demo.py, what `make run` loads on first start) into a
fresh SQLite file, then starts on free loopback ports, both on that one file:

- the gateway, `python -m fhir_gateway serve` (what `make run` runs: uvicorn, the
  embedded store in-process), which finds the store filled and loads nothing;
- the embedded store alone, `python -m fhir_gateway fhir` (what `make fhir` runs).

The data is written before either server starts and both only read afterwards, so they
share the file safely. One client, CONCURRENCY requests in flight, sends each
measurement a warm-up and then a fixed number of requests, the measurements taking
turns round after round:

  (a) gateway read   GET /patients/{id}
  (b) store read     GET /fhir/Patient/{id}
  (c) fuzzy search   GET /patients?q=<a demo patient's name with one typo>

It prints req/s and p50/p95 latency of each measurement's best round, the CPU the server
and the client spent per request (from /proc), and (a)/(b) both by req/s and by server CPU.
The client runs on the same cores as the servers: httpx spends about as much CPU per
request as the store does to answer, so with `--client httpx` (the default) the store
alone is limited by the client and (a)/(b) by req/s looks better than the servers are;
`--client raw` (bare HTTP/1.1 on asyncio streams) is cheap enough not to be.

`--profile` then serves the same requests to the gateway in-process (httpx.ASGITransport,
pyinstrument) and prints where its time goes, layer by layer and by function, and how
many FHIR requests each gateway request makes.

    .venv/bin/python bench/gateway.py [--requests 2000] [--warmup 200] [--rounds 2]
                                      [--client httpx|raw] [--profile]
"""

import argparse
import asyncio
import logging.config
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import httpx
from pyinstrument import Profiler

if TYPE_CHECKING:
    from pyinstrument.frame import Frame

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import fhir_gateway.embedded.http as store_http  # noqa: E402
from fhir_gateway.app import EMBEDDED_BASE_URL, create_app  # noqa: E402
from fhir_gateway.embedded import EmbeddedStore  # noqa: E402
from fhir_gateway.fhir_client import FhirClient  # noqa: E402
from fhir_gateway.observability import ACCESS_LOGGER, logging_config  # noqa: E402
from fhir_gateway.settings import Settings  # noqa: E402
from generators.bundles import DEFAULT_BATCH_SIZE  # noqa: E402
from generators.demo import demo_records  # noqa: E402
from generators.pipeline import RunReport, outgoing_bundles  # noqa: E402
from mappers.patient import full_name  # noqa: E402

# A fixed day makes the same demo records (ages, vaccination dates) on every run.
TODAY = date(2026, 11, 1)
CONCURRENCY = 8
STARTUP_SECONDS = 60
STOP_SECONDS = 15
LETTERS = "abcdefghijklmnopqrstuvwxyz"
FHIR_JSON = "application/fhir+json"


# -- data -------------------------------------------------------------------------------------


async def seed(database_url: str) -> None:
    """The demo dataset, stored the way `python -m generators demo` stores it: its transaction
    Bundles posted to the embedded store on `database_url`."""
    store = EmbeddedStore(database_url)
    try:
        transport = httpx.ASGITransport(store.app)
        async with httpx.AsyncClient(transport=transport, base_url=EMBEDDED_BASE_URL) as client:
            bundles = outgoing_bundles(
                demo_records(TODAY), batch_size=DEFAULT_BATCH_SIZE, name_prefix="demo", report=RunReport()
            )
            for bundle in bundles:
                response = await client.post("", content=bundle.body, headers={"Content-Type": FHIR_JSON})
                response.raise_for_status()
    finally:
        store.dispose()


def typo(word: str, rng: random.Random) -> str:
    """`word` with one slip of the keyboard: a letter changed, dropped, added, or two swapped."""
    while True:
        position = rng.randrange(len(word))
        kind = rng.choice(["substitute", "delete", "insert", "transpose"])
        if kind == "substitute":
            slipped = word[:position] + rng.choice(LETTERS.replace(word[position].lower(), "")) + word[position + 1 :]
        elif kind == "delete":
            slipped = word[:position] + word[position + 1 :]
        elif kind == "insert":
            slipped = word[:position] + rng.choice(LETTERS) + word[position:]
        else:
            position = min(position, len(word) - 2)
            slipped = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
        # Swapping two equal letters changes nothing; that is no typo.
        if slipped.lower() != word.lower():
            return slipped


def one_typo_query(name: str, rng: random.Random) -> str:
    """`name` with one typo in one of its words of three letters or more."""
    words = name.split()
    index = rng.choice([i for i, word in enumerate(words) if len(word) >= 3])
    words[index] = typo(words[index], rng)
    return " ".join(words)


@dataclass(frozen=True)
class Workload:
    """The patients read, and the fuzzy queries made from their names (with the id each is
    made from)."""

    ids: list[str]
    queries: list[tuple[str, str]]


def workload(patients: list[dict[str, Any]], seed_value: int) -> Workload:
    rng = random.Random(seed_value)
    named = [(patient["id"], full_name(patient)) for patient in patients if full_name(patient)]
    return Workload(
        ids=[patient["id"] for patient in patients],
        queries=[(patient_id, one_typo_query(name, rng)) for patient_id, name in named],
    )


# -- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, *, port: int, fhir_port: int, log_level: str) -> dict[str, str]:
    """This process's environment without any gateway setting, then the benchmark's own: a
    FHIR_BASE_URL or MAX_REQUEST_BYTES exported in the shell must not change what is measured."""
    settings_names = {name.upper() for name in Settings.model_fields}
    inherited = {name: value for name, value in os.environ.items() if name.upper() not in settings_names}
    return {
        **inherited,
        "PYTHONPATH": str(REPO),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "FHIR_PORT": str(fhir_port),
        "FHIR_BASE_URL": "embedded",
        "EMBEDDED_DATABASE_URL": database_url,
        "LOG_LEVEL": log_level,
    }


@contextmanager
def served(command: str, env: dict[str, str], folder: Path, probe_url: str) -> Iterator[int]:
    """`python -m fhir_gateway <command>` running until the block ends, however it ends; the
    block gets its process id.

    It runs in `folder`, where no `.env` is. Its stdout (the gateway's access log, one line
    per request) is thrown away but still written; stderr is kept for a failed start.
    """
    errors = folder / f"{command}.stderr"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "fhir_gateway", command],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            _wait_until_up(command, probe_url, process, errors)
            yield process.pid
        finally:
            stop(process, STOP_SECONDS)


def stop(process: subprocess.Popen[bytes], seconds: float) -> None:
    """Ask `process` to stop; after `seconds`, make it."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_up(command: str, probe_url: str, process: subprocess.Popen[bytes], errors: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = errors.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"`{command}` exited with status {process.returncode}:\n{tail}")
        try:
            if httpx.get(probe_url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"`{command}` did not answer {probe_url} within {STARTUP_SECONDS}s")


CpuClock = Callable[[], float | None]


def process_cpu(pid: int) -> CpuClock:
    """The CPU seconds process `pid` and its children (uvicorn's workers) have used so far,
    every thread of them (None without /proc).

    Unlike req/s, CPU per request hardly changes when other programs load the machine.
    """
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def stat(path: Path) -> list[str] | None:
        try:
            # After the command name (in parentheses, which may hold spaces): ppid is the 2nd
            # field, utime and stime the 12th and 13th.
            return path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None

    def used() -> float | None:
        own = stat(Path(f"/proc/{pid}/stat"))
        if own is None:
            return None
        total = int(own[11]) + int(own[12])
        for path in Path("/proc").glob("[0-9]*/stat"):
            fields = stat(path)
            if fields is not None and int(fields[1]) == pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    return used


async def same_patients(client: httpx.AsyncClient, gateway: str, store: str) -> list[dict[str, Any]]:
    """The stored Patients, once it is sure both servers see every one of them."""
    bundle = (await client.get(f"{store}/Patient", params={"_count": "1000", "_sort": "_id"})).raise_for_status()
    patients = [entry["resource"] for entry in bundle.json().get("entry") or []]
    # 100 is the gateway's largest page; the demo holds fewer patients.
    page = (await client.get(f"{gateway}/patients", params={"size": "100"})).raise_for_status().json()
    through_gateway = {item["id"] for item in page["items"]}
    if not patients or page["total"] != len(patients) or through_gateway != {p["id"] for p in patients}:
        raise RuntimeError(
            f"the servers disagree: the store holds {len(patients)} patients, the gateway {page['total']}"
        )
    return patients


# -- measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    seconds: float
    latencies: list[float]
    # CPU seconds this process (the client) used meanwhile.
    client_cpu: float
    # CPU seconds the server used meanwhile, when known.
    server_cpu: float | None = None

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Answer(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...


Get = Callable[[str], Awaitable[Answer]]


@dataclass(frozen=True)
class RawAnswer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


class RawClient:
    """GETs as bare HTTP/1.1 on keep-alive connections, one request at a time on each.

    httpx spends about as much CPU on a request as the store alone does to answer it; on
    two cores shared with the servers, the client would set the pace of the fastest server
    and flatter the ratio. This client costs a small fraction of that. It understands only
    what uvicorn answers these GETs with: a Content-Length body.
    """

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._targets: dict[str, tuple[tuple[str, int], bytes]] = {}

    async def get(self, url: str) -> RawAnswer:
        origin, request = self._target(url)
        idle = self._idle.setdefault(origin, [])
        reused = bool(idle)
        reader, writer = idle.pop() if idle else await asyncio.open_connection(*origin)
        try:
            answer = await self._exchange(reader, writer, request)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()
            if not reused:
                raise
            # The server closed the connection while it was idle (uvicorn keeps one 5 s):
            # a GET is sent again on a new one.
            reader, writer = await asyncio.open_connection(*origin)
            answer = await self._exchange(reader, writer, request)
        idle.append((reader, writer))
        return answer

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()

    def _target(self, url: str) -> tuple[tuple[str, int], bytes]:
        known = self._targets.get(url)
        if known is None:
            parsed = httpx.URL(url)
            target = parsed.raw_path.decode("ascii")
            host = parsed.host
            port = parsed.port or 80
            request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n"
            known = self._targets[url] = ((host, port), request.encode("ascii"))
        return known

    @staticmethod
    async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> RawAnswer:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = next(
            (int(line.split(b":", 1)[1]) for line in lines[1:] if line.lower().startswith(b"content-length:")), 0
        )
        return RawAnswer(status, await reader.readexactly(length))


async def measure(
    get: Get, urls: list[str], requests: int, concurrency: int, server_cpu: CpuClock | None = None
) -> Measurement:
    """`requests` GETs of `urls` in turn, `concurrency` in flight; any answer but 200 fails it."""
    pending = iter(range(requests))
    latencies: list[float] = []

    async def worker() -> None:
        # One iterator shared by every worker: each request is sent exactly once.
        for index in pending:
            url = urls[index % len(urls)]
            began = time.perf_counter()
            response = await get(url)
            latencies.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text[:300]}")

    cpu_before = server_cpu() if server_cpu else None
    client_before = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - client_before
    cpu_after = server_cpu() if server_cpu else None
    used = cpu_after - cpu_before if cpu_after is not None and cpu_before is not None else None
    return Measurement(seconds, latencies, client_cpu, used)


@dataclass(frozen=True)
class Case:
    label: str
    urls: list[str]
    server_cpu: CpuClock


def cases(gateway: str, store: str, work: Workload, gateway_cpu: CpuClock, store_cpu: CpuClock) -> dict[str, Case]:
    return {
        "a": Case("(a) gateway GET /patients/{id}", [f"{gateway}/patients/{i}" for i in work.ids], gateway_cpu),
        "b": Case("(b) store   GET /fhir/Patient/{id}", [f"{store}/Patient/{i}" for i in work.ids], store_cpu),
        "c": Case(
            "(c) gateway GET /patients?q=<1 typo>",
            [str(httpx.URL(f"{gateway}/patients", params={"q": q, "size": "10"})) for _, q in work.queries],
            gateway_cpu,
        ),
    }


async def recall(client: httpx.AsyncClient, gateway: str, work: Workload) -> tuple[int, int]:
    """How many fuzzy queries find the patient they were made from: among their results, and first."""
    found = first = 0
    for target, text in work.queries:
        items = (await client.get(f"{gateway}/patients", params={"q": text, "size": "10"})).json()["items"]
        ids = [item["id"] for item in items]
        found += target in ids
        first += ids[:1] == [target]
    return found, first


def _cpu_per_request(seconds: float | None, requests: int) -> str:
    return "  n/a" if seconds is None else f"{seconds / requests * 1e3:5.2f}"


async def benchmark(arguments: argparse.Namespace, folder: Path) -> tuple[str, Workload]:
    """Seed, serve, measure, report; the database URL and the workload, for profiling after."""
    database_url = f"sqlite:///{folder}/fhir.db"
    await seed(database_url)
    port, fhir_port = free_port(), free_port()
    gateway, store = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{fhir_port}/fhir"
    env = server_env(database_url, port=port, fhir_port=fhir_port, log_level=arguments.log_level)
    # One process each, the gateway and the store alone: the comparison is of the layers a
    # request crosses, not of how many cores serve it.
    env["FHIR_WORKERS"] = "1"
    with ExitStack() as servers:
        # The gateway first: were the data missing, `serve` would load it before answering.
        gateway_pid = servers.enter_context(served("serve", env, folder, f"{gateway}/health"))
        store_pid = servers.enter_context(served("fhir", env, folder, f"{store}/metadata"))
        work, made = await prepare(arguments, gateway, store, gateway_pid, store_pid)
        rounds = await measure_rounds(arguments, made)
    best = {key: max(measured, key=lambda m: m.rate) for key, measured in rounds.items()}
    for key, case in made.items():
        chosen = best[key]
        every = ", ".join(f"{m.rate:.0f}" for m in rounds[key])
        print(
            f"{case.label:<38} {chosen.rate:6.0f} req/s   p50 {chosen.percentile(0.5) * 1e3:6.2f} ms"
            f"   p95 {chosen.percentile(0.95) * 1e3:6.2f} ms   CPU ms/req: server"
            f" {_cpu_per_request(chosen.server_cpu, len(chosen.latencies))}"
            f" client {_cpu_per_request(chosen.client_cpu, len(chosen.latencies))}"
            f"   (rounds: {every} req/s)"
        )
    print(f"gateway read / store read (a)/(b): {best['a'].rate / best['b'].rate:.0%} of the req/s", end="")
    cpu_a, cpu_b = best["a"].server_cpu, best["b"].server_cpu
    print(f", {cpu_b / cpu_a:.0%} by server CPU per request" if cpu_a and cpu_b else "")
    return database_url, work


async def prepare(
    arguments: argparse.Namespace, gateway: str, store: str, gateway_pid: int, store_pid: int
) -> tuple[Workload, dict[str, Case]]:
    """The workload, once both servers are seen to hold the same patients, and the cases."""
    async with httpx.AsyncClient(timeout=60) as client:
        patients = await same_patients(client, gateway, store)
        work = workload(patients, arguments.seed)
        found, first = await recall(client, gateway, work)
    print(
        f"demo data: {len(patients)} patients; {len(work.queries)} one-typo queries, {found} find"
        f" their patient ({first} first); {arguments.requests:,} requests per measurement after"
        f" {arguments.warmup:,} warm-up, {arguments.concurrency} in flight, {arguments.rounds} rounds"
        f" (the best counts); client {arguments.client}; gateway log level {arguments.log_level}"
    )
    return work, cases(gateway, store, work, process_cpu(gateway_pid), process_cpu(store_pid))


async def measure_rounds(arguments: argparse.Namespace, made: dict[str, Case]) -> dict[str, list[Measurement]]:
    """Every case measured once per round, in turn, with the one client `--client` names."""
    rounds: dict[str, list[Measurement]] = {key: [] for key in made}
    # Room for both servers' connections, so that none is closed and opened again in between.
    pool = 2 * arguments.concurrency
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    raw = RawClient()
    try:
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            get: Get = raw.get if arguments.client == "raw" else client.get
            for _ in range(arguments.rounds):
                for key, case in made.items():
                    await measure(get, case.urls, arguments.warmup, arguments.concurrency)
                    measured = await measure(get, case.urls, arguments.requests, arguments.concurrency, case.server_cpu)
                    rounds[key].append(measured)
    finally:
        await raw.aclose()
    return rounds


# -- profiling --------------------------------------------------------------------------------


def count_requests(client: FhirClient) -> Counter[str]:
    """Counts, by method, the requests `client` sends from now on (every typed method sends
    through `send`); the transport stays the one the app chose."""
    sent: Counter[str] = Counter()
    send = client.send

    async def counted(method: str, url: str, **kwargs: Any) -> httpx.Response:
        sent[method.upper()] += 1
        return await send(method, url, **kwargs)

    client.send = counted  # type: ignore[method-assign]
    return sent


async def _inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


Matcher = Callable[["Frame"], bool]


def _files(*parts: str) -> Matcher:
    return lambda frame: any(part in (frame.file_path or "") for part in parts)


def _functions(*names: str) -> Matcher:
    return lambda frame: frame.function in names


# Where a frame runs: outside the gateway (event loop, the benchmark's client), in the
# gateway, in the hop to the store (FhirClient and the httpx client under it), or in the
# store. httpx and Starlette appear in several zones, so the zone decides what they are.
# Within a zone, a sample's time goes to the innermost layer on its stack (of several
# that match one frame, the later in the list).
_LAYERS: dict[str, list[tuple[str, Matcher]]] = {
    "outside": [("benchmark client (httpx into the gateway)", _files("/httpx/", "bench/gateway.py"))],
    "gateway": [
        ("Starlette/FastAPI: routing, request, exception wrapping", _files("/starlette/", "/fastapi/")),
        ("route, service, paging, http_rules", _files("fhir_gateway/")),
        (
            "middleware: request id, telemetry + metrics + access log, CORS, body cap",
            _files("fhir_gateway/observability.py", "/starlette/middleware/", "/prometheus_client/", "/logging/"),
        ),
        ("FastAPI dependency solving + query/path validation", _files("/fastapi/dependencies/")),
        ("FastAPI response-model validation + serialisation", _functions("serialize_response")),
        ("JSON encoding of the answer (JSONResponse.render)", _functions("render")),
        ("mapper to_domain + PatientPublic validation", _functions("to_domain")),
        (
            "fuzzy: passes, ranking, name keys",
            _files("features/patients/fuzzy.py", "mappers/name_keys.py", "mappers/text.py", "/rapidfuzz/"),
        ),
        ("fuzzy: full_name of candidates", _functions("full_name")),
    ],
    "hop": [
        ("FhirClient: request build, tenacity retry, orjson parse", _files("fhir_gateway/fhir_client/", "/tenacity/")),
        ("httpx client + ASGITransport (the in-process hop)", _files("/httpx/")),
    ],
    "store": [
        ("store: interactions, search, repository", _files("fhir_gateway/embedded/")),
        ("store HTTP face: Starlette app, request parse, orjson dumps", _files("/starlette/", "embedded/http.py")),
        ("store: SQLAlchemy + sqlite3", _files("/sqlalchemy/")),
    ],
}


def _zone(frame: "Frame", zone: str) -> str:
    if _files("fhir_gateway/embedded/")(frame) or (zone == "hop" and _files("/starlette/")(frame)):
        return "store"
    if zone != "store" and _files("fhir_gateway/fhir_client/")(frame):
        return "hop"
    # Tasks the gateway starts (the fuzzy searches) begin with a gateway frame of their own.
    if zone == "outside" and _files("fhir_gateway/", "/fastapi/", "/starlette/")(frame):
        return "gateway"
    return zone


def layer_times(root: "Frame") -> Counter[str]:
    """Self time of every frame, summed by layer."""
    times: Counter[str] = Counter()

    def walk(frame: "Frame", zone: str, layer: str) -> None:
        entered = _zone(frame, zone)
        if entered != zone:
            zone, layer = entered, f"{entered}: other"
        for name, matches in _LAYERS[zone]:
            if matches(frame):
                layer = name
        times[layer] += frame.time - sum(child.time for child in frame.children)
        for child in frame.children:
            walk(child, zone, layer)

    walk(root, "outside", "event loop: asyncio scheduling, idle")
    return times


def function_times(root: "Frame") -> Counter[str]:
    """Self time by function, wherever it is called from."""
    times: Counter[str] = Counter()
    pending = [root]
    while pending:
        frame = pending.pop()
        own = frame.time - sum(child.time for child in frame.children)
        # "[self]" and "[await]" frames stand for time their parent spent itself.
        named = frame.parent if frame.is_synthetic and frame.parent is not None else frame
        times[f"{named.function}  {named.file_path_short or ''}:{named.line_no}"] += own
        pending.extend(frame.children)
    return times


@dataclass(frozen=True)
class Profiled:
    rate: float
    # CPU of this whole process per request: the gateway, its store and the client.
    cpu_per_request: float
    fhir_requests: float
    layers: Counter[str]
    functions: Counter[str]
    tree: str


async def profile_case(
    database_url: str, paths: list[str], requests: int, concurrency: int, profiled: bool
) -> Profiled:
    """The gateway in-process on `database_url`, built as `serve` builds it (its lifespan
    opens the embedded store), answering `requests` GETs of `paths`; under pyinstrument
    when `profiled`. Also how many FHIR requests each answer took."""
    app = create_app(Settings(_env_file=None, embedded_database_url=database_url, fhir_base_url="embedded"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client,
    ):
        sent = count_requests(app.state.fhir_client)
        await measure(client.get, paths, min(requests, 200), concurrency)
        sent.clear()
        profiler = Profiler(interval=0.0005, async_mode="disabled") if profiled else None
        if profiler is not None:
            profiler.start()
        measured = await measure(client.get, paths, requests, concurrency)
        if profiler is not None:
            profiler.stop()
    root = profiler.last_session.root_frame() if profiler is not None and profiler.last_session else None
    layers = layer_times(root) if root is not None else Counter()
    functions = function_times(root) if root is not None else Counter()
    tree = profiler.output_text(color=False, unicode=False) if profiler is not None else ""
    cpu = measured.client_cpu / requests
    return Profiled(measured.rate, cpu, sum(sent.values()) / requests, layers, functions, tree)


def quiet_access_log(level: str) -> None:
    """Logging as `serve` configures it, the access log written to /dev/null: the line is
    still made and written, as when served, but not shown."""
    logging.config.dictConfig(logging_config(level))
    devnull = open(os.devnull, "w")  # noqa: SIM115 - open for the life of the process
    for handler in logging.getLogger(ACCESS_LOGGER).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)


async def profile(arguments: argparse.Namespace, database_url: str, work: Workload) -> None:
    quiet_access_log(arguments.log_level)
    requests = min(arguments.requests, 1000)
    made = {
        "a": ("(a) GET /patients/{id}", [f"/patients/{i}" for i in work.ids]),
        "c": (
            "(c) GET /patients?q=<1 typo>",
            [str(httpx.URL("/patients", params={"q": q, "size": "10"})) for _, q in work.queries],
        ),
    }
    print(
        "\nin-process gateway (httpx.ASGITransport, no uvicorn, no sockets), without a profiler,"
        " store calls in its thread pool as served:"
    )
    for label, paths in made.values():
        plain = await profile_case(database_url, paths, requests, arguments.concurrency, profiled=False)
        print(
            f"  {label:<32} {plain.rate:7.0f} req/s   CPU {plain.cpu_per_request * 1e3:.2f} ms/req (gateway, store"
            f" and client)   {plain.fhir_requests:.2f} FHIR requests each"
        )
    # pyinstrument samples only the thread it runs in: the blocking calls the store's HTTP face
    # hands to the thread pool run inline here, so that their time shows up too (the thread
    # hop itself is then missing; FastAPI's hops for sync dependencies stay).
    store_http.run_in_threadpool = _inline
    for label, paths in made.values():
        result = await profile_case(database_url, paths, requests, arguments.concurrency, profiled=True)
        total = sum(result.layers.values())
        print(f"\nprofile {label}: {total / requests * 1e3:.3f} ms per request (profiled, store inline)")
        for name, seconds in result.layers.most_common():
            if seconds / total >= 0.005:
                print(f"  {seconds / total:6.1%}  {seconds / requests * 1e6:7.0f} us  {name}")
        print("  functions by self time:")
        for name, seconds in result.functions.most_common(arguments.top):
            print(f"  {seconds / total:6.1%}  {seconds / requests * 1e6:7.0f} us  {name}")
        if arguments.tree:
            print(result.tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=200, help="requests before each measurement, not counted")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the three measurements (the best counts)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="requests in flight")
    parser.add_argument(
        "--client",
        choices=["httpx", "raw"],
        default="httpx",
        help="httpx.AsyncClient, or bare HTTP/1.1 on asyncio streams (far less CPU per request)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the typos")
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of the servers (INFO: as `make run`)")
    parser.add_argument("--profile", action="store_true", help="then profile the gateway in-process")
    parser.add_argument("--top", type=int, default=15, help="with --profile, functions listed by self time")
    parser.add_argument("--tree", action="store_true", help="with --profile, print pyinstrument's call trees")
    arguments = parser.parse_args()
    if min(arguments.requests, arguments.rounds, arguments.concurrency) < 1 or arguments.warmup < 0:
        parser.error("--requests, --rounds and --concurrency must be at least 1, --warmup at least 0")

    def stop(signum: int, _frame: object) -> NoReturn:
        # SystemExit unwinds through the `finally` blocks that stop the servers.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    with tempfile.TemporaryDirectory() as folder:
        database_url, work = asyncio.run(benchmark(arguments, Path(folder)))
        if arguments.profile:
            asyncio.run(profile(arguments, database_url, work))


if __name__ == "__main__":
    main()
