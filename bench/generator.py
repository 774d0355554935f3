"""Generator benchmark: records/s generating NDJSON on one core, and resources/s uploading.

Generation writes N BC records (a Patient, one or two Immunizations and an
AllergyIntolerance each) as NDJSON, timed on one core; `--profile` adds where that time
goes (cProfile, by cumulative time).

Uploading sends the same transaction Bundles to the FHIR store `make fhir` runs (started
here on a fresh SQLite file for each pass, unless `--fhir-url` names a running server),
once through the generator's uploader and once through a plain httpx loop that POSTs the
same bytes with the same concurrency and no retries: their ratio is what the uploader's
accounting and retry machinery cost. (With `--fhir-url`, every pass after the first finds
the records already stored, so only the first pass measures creates.)

    .venv/bin/python bench/generator.py [--records 50000] [--upload-records 1000] [--profile]
"""

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generators.bundles import OutputWriter  # noqa: E402
from generators.pipeline import RunReport, outgoing_bundles  # noqa: E402
from generators.records import RecordGenerator  # noqa: E402
from generators.uploader import BundleUploader, Outgoing, UploadPolicy  # noqa: E402

TODAY = date(2026, 11, 1)
STARTUP_SECONDS = 60


def generate(records: int, out: Path) -> float:
    """Seconds to generate `records` records and write them as NDJSON."""
    started = time.perf_counter()
    generator = RecordGenerator("BC", 1, TODAY)
    with OutputWriter(out, bundles=False) as writer:
        for record in generator.records(records):
            writer.write_resources(record)
    return time.perf_counter() - started


def profile(records: int, out: Path) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(generate, records, out)
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
    parser.add_argument("--records", type=int, default=50_000, help="records to generate")
    parser.add_argument("--upload-records", type=int, default=1_000, help="records to upload per pass")
    parser.add_argument("--concurrency", type=int, default=4, help="bundles in flight while uploading")
    parser.add_argument("--rounds", type=int, default=2, help="upload passes of each kind (the best counts)")
    parser.add_argument("--fhir-url", help="a running FHIR server (default: start the embedded store per pass)")
    parser.add_argument("--profile", action="store_true", help="show where generation time goes")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as out:
        generate(1_000, Path(out))  # warm-up: imports, pools, caches
        seconds = generate(arguments.records, Path(out))
        ndjson_bytes = sum(path.stat().st_size for path in Path(out).glob("*.ndjson"))
        rate = arguments.records / seconds
        print(
            f"generation: {arguments.records:,} records in {seconds:.2f} s = {rate:,.0f} records/s "
            f"({ndjson_bytes / seconds / 1e6:.0f} MB/s of NDJSON, one core)"
        )
        if arguments.profile:
            print(profile(min(arguments.records, 20_000), Path(out)))

    made = bundles(arguments.upload_records, seed=2)
    # A few Bundles of other records first, so that neither pass pays the server's warm-up.
    warm_up = bundles(100, seed=3)
    resources = sum(sum(bundle.resource_counts.values()) for bundle in made)
    best = {"uploader": float("inf"), "plain httpx": float("inf")}
    for _ in range(arguments.rounds):
        for name, upload in (("plain httpx", upload_plainly), ("uploader", upload_with_uploader)):
            with fhir_server(arguments.fhir_url) as base:
                asyncio.run(upload_plainly(base, warm_up, arguments.concurrency))
                best[name] = min(best[name], asyncio.run(upload(base, made, arguments.concurrency)))
    for name, seconds in best.items():
        print(f"upload ({name}): {resources:,} resources in {seconds:.2f} s = {resources / seconds:,.0f} resources/s")
    print(f"uploader / plain httpx: {best['plain httpx'] / best['uploader']:.0%}")


if __name__ == "__main__":
    main()
