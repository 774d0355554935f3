"""Generator benchmark: records/s generating each format on one worker and on two, the peak
memory of a long run, the wall time of a whole dry-run command, and resources/s uploading.

Generation writes N records of each format of `FORMATS` (for the immunization generator:
BC records, a Patient, one or two Immunizations and an AllergyIntolerance each, as
NDJSON; for the clinical generator, `--patients` patients' records in each of its
formats, counted in the format's own records: resources, rows, members, claims), with one
worker and with two from the same seed, checks that both wrote the same bytes, and prints
the one-worker target beside the rate. The peak memory is the RSS high-water mark of the process tree (the process
and its largest worker) of a run of `--memory-records` records, made in a fresh process
so earlier passes do not count. `--profile` adds where one worker's time goes (cProfile,
by cumulative time).

Uploading sends the same transaction Bundles to the FHIR store `make fhir` runs (started
here on a fresh SQLite file for each pass, unless `--fhir-url` names a running server),
once through the generator's uploader and once through a plain httpx loop that POSTs the
same bytes with the same concurrency and no retries: their ratio is what the uploader's
accounting and retry machinery cost. (With `--fhir-url`, every pass after the first finds
the records already stored, so only the first pass measures creates.)

    .venv/bin/python bench/generator.py [--records 100000] [--patients 20000]
        [--memory-records 1000000] [--memory-patients 100000] [--format NAME] [--repeat 3]
        [--upload-records 1000] [--profile] [--skip-upload]
"""

import argparse
import asyncio
import cProfile
import hashlib
import io
import os
import pstats
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generators.bundles import DEFAULT_BATCH_SIZE, OutputWriter  # noqa: E402
from generators.clinical.formats import Format as ClinicalFormat  # noqa: E402
from generators.clinical.output import Job, write  # noqa: E402
from generators.clinical.x12 import X12Options  # noqa: E402
from generators.pipeline import ImmunizationRun, RunReport, outgoing_bundles, shard_outputs  # noqa: E402
from generators.records import DEFAULT_SYSTEM_BASE, RecordGenerator  # noqa: E402
from generators.uploader import BundleUploader, Outgoing, UploadPolicy  # noqa: E402

TODAY = date(2026, 11, 1)
STARTUP_SECONDS = 60
DRY_RUN_RECORDS = 20_000


def immunization_ndjson(records: int, workers: int, out: Path) -> int:
    """BC immunization records of seed 1 as NDJSON, one file per resource type."""
    run = ImmunizationRun("BC", 1, TODAY, DEFAULT_SYSTEM_BASE, records)
    with OutputWriter(out, bundles=False) as writer:
        shards = shard_outputs(
            run, batch_size=DEFAULT_BATCH_SIZE, bundles=False, ndjson=True, workers=workers, spill_to=out
        )
        for shard in shards:
            writer.write_lines(shard.lines)
    return records


def clinical(output: ClinicalFormat) -> "Format":
    """BC clinical records of seed 1 in `output`, as `python -m generators clinical` writes them."""

    def make(patients: int, workers: int, out: Path) -> int:
        x12 = X12Options(sender_id="BENCH", receiver_id="PAYER", created=datetime(2026, 11, 1, 12))
        written = write(Job(output, "BC", 1, TODAY, x12=x12), patients, out, workers=workers)
        return sum(number for what, number in written.counts.items() if what != "sets")

    return make


# What each format is made by: (records or patients, workers, directory) -> how many
# records of the format's own kind it wrote into the directory.
Format = Callable[[int, int, Path], int]


@dataclass(frozen=True)
class Measured:
    make: Format
    # What a record of the format is, and the records/s one worker must reach: 20x the
    # comparable generator's figure for the format (1,667 JSON, 2,000 CSV, 833 EDI
    # records/s), and 25,000 for the immunization generator.
    unit: str
    target: float


FORMATS: dict[str, Measured] = {
    "immunizations NDJSON": Measured(immunization_ndjson, "record", 25_000),
    "clinical fhir": Measured(clinical(ClinicalFormat.FHIR), "resource", 20 * 1_667),
    "clinical ndjson": Measured(clinical(ClinicalFormat.NDJSON), "resource", 20 * 1_667),
    "clinical csv": Measured(clinical(ClinicalFormat.CSV), "row", 20 * 2_000),
    "clinical x12-834": Measured(clinical(ClinicalFormat.X12_834), "member", 20 * 833),
    "clinical x12-837": Measured(clinical(ClinicalFormat.X12_837), "claim", 20 * 833),
}


def timed(make: Format, records: int, workers: int, out: Path) -> tuple[float, int]:
    """Seconds to make `records` records with `workers` workers into `out`, and the records of its kind made."""
    started = time.perf_counter()
    made = make(records, workers, out)
    return time.perf_counter() - started, made


def digest(directory: Path) -> dict[str, str]:
    digests = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            with path.open("rb") as file:
                digests[str(path.relative_to(directory))] = hashlib.file_digest(file, "sha256").hexdigest()
    return digests


def generation(name: str, measured: Measured, records: int, repeat: int) -> None:
    """Rates on one worker and on two, each the best of `repeat` runs: on a shared machine,
    the slower runs measure the neighbours."""
    with tempfile.TemporaryDirectory() as scratch:
        measured.make(1_000, 1, Path(scratch, "warm-up"))  # imports, pools, caches
        rates = {}
        outputs = {}
        for workers in (1, 2):
            out = Path(scratch, f"workers-{workers}")
            runs = []
            for _ in range(repeat):
                shutil.rmtree(out, ignore_errors=True)
                runs.append(timed(measured.make, records, workers, out))
            seconds, made = min(runs)
            size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
            rates[workers] = made / seconds
            outputs[workers] = digest(out)
            print(
                f"{name}, {workers} worker(s): {records:,} in {seconds:.2f} s: {made:,} {measured.unit}s = "
                f"{rates[workers]:,.0f} {measured.unit}s/s ({size / seconds / 1e6:.0f} MB/s)"
                + (f", target {measured.target:,.0f}" if workers == 1 else "")
            )
        if outputs[1] != outputs[2]:
            raise AssertionError(f"{name}: two workers wrote other bytes than one")
        print(f"{name}: 2 workers / 1 worker = {rates[2] / rates[1]:.2f}x, outputs identical")


def peak_memory(name: str, records: int, workers: int) -> None:
    """The RSS high-water marks of a fresh process making `records` records, and of its largest worker."""
    command = [sys.executable, __file__, "--memory-child", name, str(records), str(workers)]
    started = time.perf_counter()
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    parent, worker = (int(value) for value in result.stdout.split())
    print(
        f"{name}: peak memory for {records:,} records with {workers} worker(s): process {parent / 1024:.0f} MB, "
        f"largest worker {worker / 1024:.0f} MB ({seconds:.0f} s)"
    )


def memory_child(name: str, records: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as out:
        FORMATS[name].make(records, workers, Path(out))
    # Linux keeps ru_maxrss across exec, so this process's own would be the bench's; VmHWM
    # is this image's alone. Workers are forked from here: theirs is their own (kB both).
    status = Path("/proc/self/status").read_text()
    own = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(own, children)


def dry_run_wall_time(rounds: int = 3) -> None:
    """The best wall time of the whole `immunizations --dry-run --out` command, start-up included."""
    best = float("inf")
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as out:
            command = [sys.executable, "-m", "generators", "immunizations", "--count", str(DRY_RUN_RECORDS)]
            command += ["--out", out, "--dry-run", "--seed", "1", "--reference-date", TODAY.isoformat()]
            started = time.perf_counter()
            subprocess.run(command, check=True, cwd=REPO, capture_output=True)
            best = min(best, time.perf_counter() - started)
    print(f"whole process, immunizations --count {DRY_RUN_RECORDS:,} --dry-run --out: {best:.2f} s (best of {rounds})")


def profile(records: int) -> str:
    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory() as out:
        profiler.runcall(immunization_ndjson, records, 1, Path(out))
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(18)
    return text.getvalue()


def bundles(records: int, seed: int) -> list[Outgoing]:
    generator = RecordGenerator("BC", seed, TODAY)
    return list(outgoing_bundles(generator.records(records), batch_size=50, name_prefix="bench", report=RunReport()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def fhir_server(fhir_url: str | None) -> Iterator[str]:
    """A FHIR base URL: `fhir_url`, or `python -m fhir_gateway fhir` (what `make fhir` runs) on a fresh database."""
    if fhir_url is not None:
        yield fhir_url
        return
    with tempfile.TemporaryDirectory() as directory:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HOST": "127.0.0.1",
            "FHIR_PORT": str(port),
            "EMBEDDED_DATABASE_URL": f"sqlite:///{directory}/fhir.db",
            "LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "fhir_gateway", "fhir"], cwd=directory, env=env, stdout=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}/fhir"
        try:
            _wait_until_up(base, process)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the FHIR server exited with status {process.returncode}")
        try:
            httpx.get(f"{base}/metadata", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"no FHIR server answered at {base} within {STARTUP_SECONDS}s")


async def upload_with_uploader(base: str, made: list[Outgoing], concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as failed:
        uploader = BundleUploader(base, UploadPolicy(concurrency=concurrency, failed_dir=Path(failed)))
        started = time.perf_counter()
        report = await uploader.upload(made)
        elapsed = time.perf_counter() - started
        await uploader.aclose()
    if report.failures:
        raise RuntimeError(f"{len(report.failures)} bundles failed: {report.failures[0].reason}")
    return elapsed


async def upload_plainly(base: str, made: list[Outgoing], concurrency: int) -> float:
    """The baseline: POST each Bundle's bytes, `concurrency` at a time, nothing else."""
    pending = iter(made)
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    async with httpx.AsyncClient(timeout=120) as client:

        async def worker() -> None:
            for bundle in pending:
                response = await client.post(base, content=bundle.body, headers=headers)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="immunization records per pass")
    parser.add_argument("--patients", type=int, default=20_000, help="clinical records (patients) per pass")
    parser.add_argument("--memory-records", type=int, default=1_000_000, help="records of the peak-memory run")
    parser.add_argument("--memory-patients", type=int, default=100_000, help="patients of the peak-memory run")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each rate (the best counts)")
    parser.add_argument("--memory-workers", type=int, default=2, help="workers of the peak-memory run")
    parser.add_argument("--format", action="append", choices=sorted(FORMATS), help="formats to measure (all)")
    parser.add_argument("--upload-records", type=int, default=1_000, help="records to upload per pass")
    parser.add_argument("--concurrency", type=int, default=4, help="bundles in flight while uploading")
    parser.add_argument("--rounds", type=int, default=2, help="upload passes of each kind (the best counts)")
    parser.add_argument("--fhir-url", help="a running FHIR server (default: start the embedded store per pass)")
    parser.add_argument("--profile", action="store_true", help="show where generation time goes")
    parser.add_argument("--skip-upload", action="store_true", help="measure generation only")
    parser.add_argument("--memory-child", nargs=3, metavar=("FORMAT", "RECORDS", "WORKERS"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.memory_child:
        name, records, workers = arguments.memory_child
        memory_child(name, int(records), int(workers))
        return

    for name in arguments.format or FORMATS:
        immunizations = name.startswith("immunizations")
        generation(name, FORMATS[name], arguments.records if immunizations else arguments.patients, arguments.repeat)
        if immunizations or name == "clinical ndjson":
            memory = arguments.memory_records if immunizations else arguments.memory_patients
            peak_memory(name, memory, arguments.memory_workers)
    dry_run_wall_time()
    if arguments.profile:
        print(profile(min(arguments.records, 20_000)))
    if not arguments.skip_upload:
        upload(arguments)


def upload(arguments: argparse.Namespace) -> None:
    made = bundles(arguments.upload_records, seed=2)
    # A few Bundles of other records first, so that neither pass pays the server's warm-up.
    warm_up = bundles(100, seed=3)
    resources = sum(sum(bundle.resource_counts.values()) for bundle in made)
    best = {"uploader": float("inf"), "plain httpx": float("inf")}
    for _ in range(arguments.rounds):
        for name, send in (("plain httpx", upload_plainly), ("uploader", upload_with_uploader)):
            with fhir_server(arguments.fhir_url) as base:
                asyncio.run(upload_plainly(base, warm_up, arguments.concurrency))
                best[name] = min(best[name], asyncio.run(send(base, made, arguments.concurrency)))
    for name, seconds in best.items():
        print(f"upload ({name}): {resources:,} resources in {seconds:.2f} s = {resources / seconds:,.0f} resources/s")
    print(f"uploader / plain httpx: {best['plain httpx'] / best['uploader']:.0%}")


if __name__ == "__main__":
    main()
