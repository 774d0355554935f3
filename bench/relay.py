"""Relay benchmark: what the gateway's FHIR face (`/fhir`) adds to a FHIR request.

Loads the demo dataset (generators/demo.py, what `make run` loads on first start) into a
fresh SQLite file, then serves that one file three ways, each on a free loopback port:

- direct:   the embedded store alone, `python -m fhir_gateway fhir` (`make fhir`), one
            worker, at http://127.0.0.1:FHIR_PORT/fhir;
- embedded: the gateway on its in-process embedded store, `python -m fhir_gateway serve`
            (`make run`), at http://127.0.0.1:PORT/fhir;
- relay:    the gateway relaying over HTTP to the `make fhir` server above, as it relays
            to HAPI FHIR: `FHIR_BASE_URL=http://127.0.0.1:FHIR_PORT/fhir python -m
            fhir_gateway serve`, at http://127.0.0.1:PORT2/fhir.

The data is written before any server starts and all of them only read afterwards, so they
share the file safely. Three workloads, each sent to all three:

  read     GET Patient/{id}                                  the demo patients, shuffled
  search   GET Patient?family=<a demo family>&_count=20      every demo family
  paging   GET Observation?subject=Patient/{id}&_count=20    the patients with more than 20
                                                             Observations: full pages that
                                                             link to a next one

First every workload's answers are compared across the three (the same resources, and
where the next page's link points). Then one client, CONCURRENCY requests in flight, sends
each workload to each server a warm-up and a fixed number of requests, taking turns round
after round; each one's best round counts. For every workload it prints req/s, p50 and p95,
the CPU each server process spent per request (from /proc: on a small machine client,
gateway and store share the cores, and CPU per request hardly changes when other programs
load it) and, for the gateway on the embedded store and the relay separately, the added p50
(through - direct) and the throughput ratio (through / direct) against the targets: added
p50 <= 1 ms, ratio >= 0.80.

The client is bare HTTP/1.1 on asyncio streams (bench/gateway.py's RawClient) unless
`--client httpx`: httpx would spend about as much CPU per request as the store does to
answer it, and set the pace of the fastest server.

`--profile` then serves a workload (`--profile-workload`, the read by default) to the gateway
in-process (httpx.ASGITransport, pyinstrument), first on the embedded store (its calls run
inline, so that they are sampled), then relaying over HTTP to the running store, and prints
where the gateway's time goes: by zone and layer, its functions by self time, and by the
gateway time under them.

A p50 at more than one request in flight includes waiting for a core (client, gateway and
store share them); `--concurrency 1` shows the added latency alone.

    .venv/bin/python bench/relay.py [--requests N] [--rounds R] [--concurrency C]
                                    [--warmup W] [--client raw|httpx] [--profile]
"""

import argparse
import asyncio
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlencode

import httpx
from pyinstrument import Profiler

if TYPE_CHECKING:
    from pyinstrument.frame import Frame

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import fhir_gateway.embedded.http as store_http  # noqa: E402
from bench.gateway import (  # noqa: E402
    CpuClock,
    Get,
    RawClient,
    free_port,
    layer_times,
    process_cpu,
    quiet_access_log,
    seed,
    served,
    server_env,
)
from bench.timing import measure, percentile  # noqa: E402
from fhir_gateway.app import create_app  # noqa: E402
from fhir_gateway.settings import EMBEDDED, Settings  # noqa: E402

CONCURRENCY = 4
PAGE_SIZE = 20
# The relay's targets.
ADDED_P50_TARGET = 0.001
RATIO_TARGET = 0.80
# With --profile, functions with more of the gateway's time under them than this are left
# out of the list by time under them: the middleware every request passes through.
WRAPPER_SHARE = 0.80


# -- what is measured -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    # The FHIR base URL requests go to.
    base: str


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    # Relative to a FHIR base URL: `Patient/123`, `Patient?family=Lopez&_count=20`.
    paths: list[str]


@dataclass(frozen=True)
class Measurement:
    rate: float
    latencies: list[float]
    # CPU seconds each server process used meanwhile, when known.
    server_cpu: dict[str, float | None]
    # CPU seconds this process (the client) used meanwhile.
    client_cpu: float

    def p(self, share: float) -> float:
        return percentile(self.latencies, share)

    def cpu_per_request(self, process: str) -> float | None:
        used = self.server_cpu.get(process)
        return None if used is None else used / len(self.latencies)

    def total_cpu_per_request(self) -> float | None:
        used = list(self.server_cpu.values())
        return None if None in used else sum(u for u in used if u is not None) / len(self.latencies)


def targets(store: str, gateway: str, relay: str) -> list[Target]:
    return [
        Target("direct", "direct: store alone (make fhir)", store),
        Target("embedded", "gateway on the embedded store (make run)", f"{gateway}/fhir"),
        Target("relay", "gateway relaying over HTTP to make fhir", f"{relay}/fhir"),
    ]


async def fetch(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    return (await client.get(url)).raise_for_status().json()


def next_link(bundle: dict[str, Any]) -> str | None:
    return next((link["url"] for link in bundle.get("link") or [] if link.get("relation") == "next"), None)


def query(resource_type: str, **parameters: str) -> str:
    return f"{resource_type}?{urlencode(parameters, safe='/')}"


async def workloads(client: httpx.AsyncClient, store: str, seed_value: int) -> list[Workload]:
    """The three workloads, from what the store alone holds."""
    bundle = await fetch(client, f"{store}/{query('Patient', _count='1000', _sort='_id')}")
    patients = [entry["resource"] for entry in bundle.get("entry") or []]
    if not patients:
        raise RuntimeError("the store holds no patients")
    ids = [patient["id"] for patient in patients]
    families = sorted({name["family"] for p in patients for name in p.get("name") or [] if name.get("family")})
    paged = []
    for patient_id in ids:
        path = query("Observation", subject=f"Patient/{patient_id}", _count=str(PAGE_SIZE))
        if next_link(await fetch(client, f"{store}/{path}")) is not None:
            paged.append(path)
    if not families or not paged:
        raise RuntimeError(f"the demo data has {len(families)} families, {len(paged)} patients with paged Observations")
    rng = random.Random(seed_value)
    reads = [f"Patient/{patient_id}" for patient_id in ids]
    searches = [query("Patient", family=family, _count=str(PAGE_SIZE)) for family in families]
    for paths in (reads, searches, paged):
        rng.shuffle(paths)
    return [
        Workload("read", f"read     GET Patient/{{id}}  ({len(reads)} patients)", reads),
        Workload("search", f"search   GET Patient?family=<family>&_count=20  ({len(searches)} families)", searches),
        Workload(
            "paging",
            f"paging   GET Observation?subject=Patient/{{id}}&_count=20  ({len(paged)} patients, full pages)",
            paged,
        ),
    ]


def gist(answer: dict[str, Any]) -> tuple[Any, ...]:
    """What two answers to the same request must share: the resources, in order."""
    if answer.get("resourceType") == "Bundle":
        entries = [entry.get("resource") or {} for entry in answer.get("entry") or []]
        resources = [(r.get("resourceType"), r.get("id"), (r.get("meta") or {}).get("versionId")) for r in entries]
        return ("Bundle", answer.get("type"), tuple(resources), next_link(answer) is not None)
    return (answer.get("resourceType"), answer.get("id"), (answer.get("meta") or {}).get("versionId"))


async def compare(
    client: httpx.AsyncClient, direct: Target, through: list[Target], made: list[Workload]
) -> tuple[dict[str, str], list[str]]:
    """Every workload's answers, through each gateway and direct: the targets that answer
    differently (with why), and notes on where their next links point."""
    refused: dict[str, str] = {}
    notes: list[str] = []
    for workload in made:
        for path in workload.paths:
            expected = await fetch(client, f"{direct.base}/{path}")
            for target in through:
                if target.key in refused:
                    continue
                answer = await client.get(f"{target.base}/{path}")
                if answer.status_code != 200:
                    refused[target.key] = f"GET {target.base}/{path} answered {answer.status_code}: {answer.text[:200]}"
                    continue
                body = answer.json()
                if gist(body) != gist(expected):
                    refused[target.key] = f"GET {target.base}/{path} differs from the store's answer"
                    continue
                link = next_link(body)
                if link is not None and not link.startswith(target.base):
                    where = link.split("?")[0]
                    note = f"{target.key}: the next link of {workload.key} points at {where}, not {target.base}"
                    if note not in notes:
                        notes.append(note)
    return refused, notes


# -- measuring --------------------------------------------------------------------------------


async def measure_once(
    get: Get, urls: list[str], count: int, concurrency: int, clocks: dict[str, CpuClock]
) -> Measurement:
    """`count` GETs of `urls` in turn, `concurrency` in flight; any answer but 200 fails it."""

    async def send(index: int) -> None:
        url = urls[index % len(urls)]
        answer = await get(url)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {url} answered {answer.status_code}: {answer.text[:300]}")

    before = {name: clock() for name, clock in clocks.items()}
    client_before = time.process_time()
    rate, latencies = await measure(send, count, concurrency)
    client_cpu = time.process_time() - client_before
    after = {name: clock() for name, clock in clocks.items()}
    used = {name: _elapsed(before[name], after[name]) for name in clocks}
    return Measurement(rate, latencies, used, client_cpu)


def _elapsed(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


Rounds = dict[tuple[str, str], list[Measurement]]


async def measure_rounds(
    arguments: argparse.Namespace, served_targets: list[Target], made: list[Workload], clocks: dict[str, CpuClock]
) -> Rounds:
    """Every workload on every target once per round, in turn; each round starts the turns
    one target later, so that none is always measured first."""
    rounds: Rounds = {(w.key, t.key): [] for w in made for t in served_targets}
    raw = RawClient()
    # Room for every server's connections, so that none is closed and opened again in between.
    pool = len(served_targets) * arguments.concurrency
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    try:
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            get: Get = raw.get if arguments.client == "raw" else client.get
            for number in range(arguments.rounds):
                shift = number % len(served_targets)
                turns = served_targets[shift:] + served_targets[:shift]
                for workload in made:
                    for target in turns:
                        urls = [f"{target.base}/{path}" for path in workload.paths]
                        if arguments.warmup:
                            await measure_once(get, urls, arguments.warmup, arguments.concurrency, {})
                        measured = await measure_once(get, urls, arguments.requests, arguments.concurrency, clocks)
                        rounds[(workload.key, target.key)].append(measured)
    finally:
        await raw.aclose()
    return rounds


# -- reporting --------------------------------------------------------------------------------


def _ms(seconds: float | None, width: int = 6) -> str:
    return f"{'n/a':>{width}}" if seconds is None else f"{seconds * 1e3:{width}.2f}"


@dataclass(frozen=True)
class Verdict:
    added_p50: float
    ratio: float
    cpu_ratio: float | None

    @property
    def passed(self) -> bool:
        return self.added_p50 <= ADDED_P50_TARGET and self.ratio >= RATIO_TARGET

    def __str__(self) -> str:
        failed = []
        if self.added_p50 > ADDED_P50_TARGET:
            failed.append(f"added p50 > {ADDED_P50_TARGET * 1e3:g} ms")
        if self.ratio < RATIO_TARGET:
            failed.append(f"ratio < {RATIO_TARGET:.2f}")
        cpu = "" if self.cpu_ratio is None else f", {self.cpu_ratio:.2f} by server CPU/req"
        outcome = "PASS" if not failed else f"FAIL ({', '.join(failed)})"
        return f"added p50 {self.added_p50 * 1e3:+6.2f} ms, ratio {self.ratio:.2f}{cpu}   {outcome}"


def verdict(direct: Measurement, through: Measurement) -> Verdict:
    direct_cpu, through_cpu = direct.total_cpu_per_request(), through.total_cpu_per_request()
    cpu_ratio = direct_cpu / through_cpu if direct_cpu and through_cpu else None
    return Verdict(through.p(0.5) - direct.p(0.5), through.rate / direct.rate, cpu_ratio)


def report(
    all_targets: list[Target], made: list[Workload], rounds: Rounds, processes: list[str], refused: dict[str, str]
) -> dict[tuple[str, str], Verdict]:
    verdicts: dict[tuple[str, str], Verdict] = {}
    width = max(len(t.label) for t in all_targets)
    cpu_heads = " ".join(f"{name:>8}" for name in [*processes, "client"])
    for workload in made:
        print(f"\n{workload.label}")
        print(f"  {'':<{width}}  {'req/s':>6}  {'p50 ms':>6}  {'p95 ms':>6}   CPU ms/req: {cpu_heads}   rounds req/s")
        best: dict[str, Measurement] = {}
        for target in all_targets:
            measured = rounds.get((workload.key, target.key))
            if not measured:
                print(f"  {target.label:<{width}}  not measured")
                continue
            chosen = best[target.key] = max(measured, key=lambda m: m.rate)
            cpu = " ".join(_ms(chosen.cpu_per_request(name), 8) for name in processes)
            every = ", ".join(f"{m.rate:.0f}" for m in measured)
            print(
                f"  {target.label:<{width}}  {chosen.rate:6.0f}  {_ms(chosen.p(0.5))}  {_ms(chosen.p(0.95))}"
                f"               {cpu} {_ms(chosen.client_cpu / len(chosen.latencies), 8)}   {every}"
            )
        for target in all_targets[1:]:
            if target.key in best and "direct" in best:
                verdicts[(workload.key, target.key)] = found = verdict(best["direct"], best[target.key])
                print(f"  {target.key:<9} vs direct: {found}")
            else:
                print(f"  {target.key:<9} vs direct: n/a ({refused.get(target.key, 'not measured')})")
    return verdicts


def summary(made: list[Workload], through: list[Target], verdicts: dict[tuple[str, str], Verdict]) -> None:
    print(
        f"\ntargets: added p50 <= {ADDED_P50_TARGET * 1e3:g} ms and req/s >= {RATIO_TARGET:.0%} of direct (best rounds)"
    )
    print(f"  {'':<8}" + "".join(f"  {target.key:<26}" for target in through))
    for workload in made:
        cells = []
        for target in through:
            found = verdicts.get((workload.key, target.key))
            cell = (
                "n/a"
                if found is None
                else f"{'PASS' if found.passed else 'FAIL'} {found.added_p50 * 1e3:+.2f} ms {found.ratio:.2f}"
            )
            cells.append(f"  {cell:<26}")
        print(f"  {workload.key:<8}" + "".join(cells))


# -- profiling --------------------------------------------------------------------------------


def _path_has(frame: "Frame", *parts: str) -> bool:
    return any(part in (frame.file_path or "") for part in parts)


ZONES = {
    "gateway": "gateway: middleware, routing, dependencies, the relay",
    "hop": "hop: FhirClient and httpx (to the in-process store, or over HTTP)",
    "store": "store: its Starlette app, search, SQLite (in-process only)",
    "outside": "event loop, the benchmark's client, waiting on sockets",
}


def _zone(frame: "Frame", zone: str) -> str:
    """Where `frame` runs, given the zone of its caller: outside the gateway (the event loop,
    the benchmark's client), in the gateway, in its hop to the FHIR server, or in the
    in-process store."""
    if zone == "store" or _path_has(frame, "fhir_gateway/embedded/"):
        return "store"
    if zone == "outside" and _path_has(frame, "fhir_gateway/", "/fastapi/", "/starlette/"):
        # Also the tasks the gateway starts, which begin with a gateway frame of their own.
        return "gateway"
    if zone == "gateway" and _path_has(frame, "fhir_gateway/fhir_client/", "/httpx/", "/httpcore/"):
        return "hop"
    if zone == "hop" and _path_has(frame, "/starlette/"):
        # httpx.ASGITransport calling the store's app.
        return "store"
    return zone


@dataclass(frozen=True)
class Times:
    # Self time by zone.
    zones: Counter[str]
    # In the gateway and the hop, by function: self time, and the self time of the gateway and
    # hop frames under it, itself included (once however often it is on the stack).
    own: Counter[str]
    inclusive: Counter[str]


def _name(frame: "Frame") -> str:
    return f"{frame.function}  {frame.file_path_short or ''}:{frame.line_no}"


def zone_times(root: "Frame") -> Times:
    times = Times(Counter(), Counter(), Counter())

    def walk(frame: "Frame", caller_zone: str, on_stack: frozenset[str]) -> None:
        zone = _zone(frame, caller_zone)
        own = frame.time - sum(child.time for child in frame.children)
        times.zones[zone] += own
        if zone in ("gateway", "hop"):
            # "[self]" and "[await]" frames stand for time their parent spent itself.
            named = frame.parent if frame.is_synthetic and frame.parent is not None else frame
            times.own[_name(named)] += own
            if not frame.is_synthetic:
                on_stack |= {_name(frame)}
            for name in on_stack:
                times.inclusive[name] += own
        for child in frame.children:
            walk(child, zone, on_stack)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    walk(root, "outside", frozenset())
    return times


@dataclass(frozen=True)
class Profiled:
    requests: int
    # Unprofiled: req/s, and CPU of this whole process (gateway, in-process store, client) per request.
    rate: float
    cpu_per_request: float
    profiled_rate: float
    times: Times
    layers: Counter[str]


async def profile_gateway(settings: Settings, paths: list[str], requests: int, concurrency: int) -> Profiled:
    """The gateway in-process, built as `serve` builds it, answering `requests` GETs of
    `paths`: after a warm-up, once as it is and once under pyinstrument."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client,
    ):

        async def send(index: int) -> None:
            path = paths[index % len(paths)]
            answer = await client.get(path)
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path} answered {answer.status_code}: {answer.text[:300]}")

        await measure(send, min(requests, 200), concurrency)
        cpu_before = time.process_time()
        rate, _ = await measure(send, requests, concurrency)
        cpu_per_request = (time.process_time() - cpu_before) / requests
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
        try:
            profiled_rate, _ = await measure(send, requests, concurrency)
        finally:
            recorded = profiler.stop()
    root = recorded.root_frame()
    if root is None:
        raise RuntimeError("pyinstrument recorded nothing")
    return Profiled(requests, rate, cpu_per_request, profiled_rate, zone_times(root), layer_times(root))


async def _inline(func: Any, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def print_profile(title: str, result: Profiled, top: int) -> None:
    """Shares, the time sampled per request, and that time scaled to the unprofiled gateway
    (pyinstrument slows every call down; the scaling takes it to slow all code alike)."""
    times = result.times
    total = sum(times.zones.values())
    per_request = 1e6 / result.requests
    scale = result.profiled_rate / result.rate

    def row(seconds: float, whole: float, name: str) -> str:
        sampled = seconds * per_request
        return f"  {seconds / whole:6.1%}  {sampled:7.1f} us  ~{sampled * scale:6.1f} us  {name}"

    print(
        f"\nprofile: {title}\n  unprofiled {result.rate:.0f} req/s, CPU {result.cpu_per_request * 1e3:.2f} ms/req"
        f" (gateway, in-process store, client); profiled {result.profiled_rate:.0f} req/s,"
        f" {total * per_request:.0f} us sampled per request, ~{total * per_request * scale:.0f} us unprofiled"
    )
    print(f"  {'share':>6}  {'sampled':>10}  {'~unprofiled':>10}")
    for zone, label in ZONES.items():
        if times.zones[zone]:
            print(row(times.zones[zone], total, label))
    print("  by layer (bench/gateway.py's layers):")
    for name, seconds in result.layers.most_common():
        if seconds / total >= 0.005:
            print(row(seconds, total, name))
    gateway = times.zones["gateway"] + times.zones["hop"]
    print(f"  gateway and hop, functions by self time (share of the gateway and hop's {gateway * per_request:.0f} us):")
    for name, seconds in times.own.most_common(top):
        print(row(seconds, gateway, name))
    # The middleware and the routing every request passes through would fill the list.
    shared = WRAPPER_SHARE * gateway
    under = [(name, seconds) for name, seconds in times.inclusive.most_common() if seconds < shared]
    print(
        f"  gateway and hop, functions by the gateway and hop time under them (below {WRAPPER_SHARE:.0%};"
        " the store's not counted):"
    )
    for name, seconds in under[:top]:
        print(row(seconds, gateway, name))


async def profile(arguments: argparse.Namespace, database_url: str, store: str, made: list[Workload]) -> None:
    quiet_access_log(arguments.log_level)
    workload = next(w for w in made if w.key == arguments.profile_workload)
    paths = [f"/fhir/{path}" for path in workload.paths]
    requests = arguments.profile_requests
    # pyinstrument samples only the thread it runs in: the blocking calls the store's HTTP face
    # hands to the thread pool run inline here, so that their time shows up too.
    store_http.run_in_threadpool = _inline
    embedded = Settings(_env_file=None, embedded_database_url=database_url, fhir_base_url=EMBEDDED)
    result = await profile_gateway(embedded, paths, requests, arguments.concurrency)
    print_profile(f"in-process gateway on the embedded store (store inline), {workload.label}", result, arguments.top)
    relaying = Settings(_env_file=None, fhir_base_url=store)
    result = await profile_gateway(relaying, paths, requests, arguments.concurrency)
    print_profile(f"in-process gateway relaying over HTTP to {store}, {workload.label}", result, arguments.top)


# -- running ----------------------------------------------------------------------------------


async def benchmark(arguments: argparse.Namespace, folder: Path) -> int:
    """Seed, serve, compare, measure, report (and profile); 1 when a target served nothing."""
    database_url = f"sqlite:///{folder}/fhir.db"
    await seed(database_url)
    port, relay_port, fhir_port = free_port(), free_port(), free_port()
    gateway, relay, store = (
        f"http://127.0.0.1:{port}",
        f"http://127.0.0.1:{relay_port}",
        f"http://127.0.0.1:{fhir_port}/fhir",
    )
    env = server_env(database_url, port=port, fhir_port=fhir_port, log_level=arguments.log_level)
    # One process each: the comparison is of the layers a request crosses, not of how many
    # cores serve it.
    env["FHIR_WORKERS"] = "1"
    relay_env = {**env, "PORT": str(relay_port), "FHIR_BASE_URL": store}
    all_targets = targets(store, gateway, relay)
    direct, through = all_targets[0], all_targets[1:]
    with ExitStack() as servers:
        places = {name: folder / name for name in ("store", "gateway", "relay")}
        for place in places.values():
            place.mkdir()
        pids = {
            # The gateway first: were the data missing, `serve` would load it before answering.
            "gateway": servers.enter_context(served("serve", env, places["gateway"], f"{gateway}/health")),
            "store": servers.enter_context(served("fhir", env, places["store"], f"{store}/metadata")),
            "relay": servers.enter_context(served("serve", relay_env, places["relay"], f"{relay}/health")),
        }
        clocks = {name: process_cpu(pid) for name, pid in pids.items()}
        async with httpx.AsyncClient(timeout=60) as client:
            made = await workloads(client, store, arguments.seed)
            refused, notes = await compare(client, direct, through, made)
        print(
            f"demo data: {len(made[0].paths)} patients; {arguments.requests:,} requests per measurement after"
            f" {arguments.warmup:,} warm-up, {arguments.concurrency} in flight, {arguments.rounds} rounds"
            f" (the best counts); client {arguments.client}; server log level {arguments.log_level}"
        )
        print("CPU ms/req of each server process: store = make fhir, gateway = make run, relay = the relaying gateway")
        for key, reason in refused.items():
            print(f"not measured, {key}: {reason}")
        for note in notes:
            print(f"note: {note}")
        measured = [target for target in all_targets if target.key not in refused]
        rounds = await measure_rounds(arguments, measured, made, clocks)
        verdicts = report(all_targets, made, rounds, ["store", "gateway", "relay"], refused)
        summary(made, through, verdicts)
        if arguments.profile:
            await profile(arguments, database_url, store, made)
    return 1 if refused else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=200, help="requests before each measurement, not counted")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every measurement (the best counts)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="requests in flight")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="bare HTTP/1.1 on asyncio streams (cheap), or httpx.AsyncClient",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the order requests are sent in")
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of the servers (INFO: as `make run`)")
    parser.add_argument("--profile", action="store_true", help="then profile the gateway in-process")
    parser.add_argument(
        "--profile-workload", choices=["read", "search", "paging"], default="read", help="with --profile, what is sent"
    )
    parser.add_argument("--profile-requests", type=int, default=1000, help="with --profile, requests profiled")
    parser.add_argument("--top", type=int, default=25, help="with --profile, functions in each list")
    arguments = parser.parse_args()
    if min(arguments.requests, arguments.rounds, arguments.concurrency, arguments.profile_requests) < 1:
        parser.error("--requests, --rounds, --concurrency and --profile-requests must be at least 1")
    if arguments.warmup < 0:
        parser.error("--warmup must be at least 0")

    def stop(signum: int, _frame: object) -> NoReturn:
        # SystemExit unwinds through the `finally` blocks that stop the servers.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    try:
        with tempfile.TemporaryDirectory() as folder:
            status = asyncio.run(benchmark(arguments, Path(folder)))
    except KeyboardInterrupt:
        # The servers and the folder are gone by now.
        status = 128 + signal.SIGINT
    sys.exit(status)


if __name__ == "__main__":
    main()
