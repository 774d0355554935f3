"""Records to Bundles to files and the FHIR server: the one path every command takes.

Records are made lazily, as the uploader asks for the next Bundle, so memory stays flat
however many records a run makes. Immunization runs are made a shard at a time
(`generators.shards`), in this process or in worker processes: a worker serializes its
shard's resources once, into NDJSON lines and Bundle entries, and hands back bytes; this
process only writes them, in shard order, and uploads. So the files of a run are the same
byte for byte whatever the number of workers.

Bundles hold `batch_size` consecutive records and are numbered across the run, as if no
shard existed. With a batch size that divides the shard size (the default does), every
Bundle lies inside one shard; otherwise a Bundle that straddles two shards is assembled
here from the entries both shards serialized: the Bundles are the same either way.
"""

import shutil
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import orjson

from generators.bundles import OutputWriter, Record, batched, bundle_bytes, entry_bytes
from generators.records import RecordGenerator
from generators.shards import Span, in_order, spans
from generators.spill import spill
from generators.uploader import Outgoing, UploadReport


@dataclass
class RunReport:
    """What a run made and what became of it."""

    records: int = 0
    bundles: int = 0
    resources: Counter[str] = field(default_factory=Counter)
    upload: UploadReport | None = None
    elapsed: float = 0.0

    @property
    def failed(self) -> bool:
        return self.upload is not None and bool(self.upload.failures)


@dataclass(frozen=True)
class ImmunizationRun:
    """What a `RecordGenerator` is made from; records [0, count) of it are the run."""

    province: str
    seed: int
    reference_date: date
    system_base: str
    count: int

    def name_prefix(self) -> str:
        return f"{self.province.lower()}-seed{self.seed}"


@dataclass(frozen=True)
class ShardJob:
    """Serialize records `span` of `run`: as Bundle entries cut into batches of
    `batch_size` (when `bundles`), and as NDJSON lines (when `ndjson`)."""

    run: ImmunizationRun
    span: Span
    batch_size: int
    bundles: bool
    ndjson: bool
    # Where the shard's NDJSON is left for the writing process (`generators.spill`), if anywhere.
    spill: Path | None = None


@dataclass(frozen=True)
class BatchPiece:
    """The consecutive records of one batch that one shard holds, serialized."""

    batch: int  # the batch's place in the run, from 0
    entries: bytes  # their Bundle entries, comma-separated
    resources: dict[str, int]
    records: int
    ends_batch: bool


@dataclass(frozen=True)
class ShardOutput:
    pieces: list[BatchPiece]
    # Per resource type, its resources' NDJSON lines (newlines included), in chunks, or
    # the file they were spilled to.
    lines: dict[str, list[bytes] | Path]
    records: int


@cache
def _generator(run: ImmunizationRun) -> RecordGenerator:
    # One per process and run: workers forked after the first call inherit it, built.
    return RecordGenerator(run.province, run.seed, run.reference_date, system_base=run.system_base)


def make_shard(job: ShardJob) -> ShardOutput:
    """The serialized records of one shard job (what a worker process runs)."""
    run, span, size = job.run, job.span, job.batch_size
    dumps = orjson.dumps
    # Joined a batch at a time: a few hundred kilobytes, still in cache, rather than one
    # growing buffer copied over as it grows, or a whole shard of small objects.
    lines: dict[str, list[bytes]] = {}
    typed_lines: dict[str, list[bytes]] = {}
    pieces: list[BatchPiece] = []
    entries: list[bytes] = []
    resources: Counter[str] = Counter()
    piece_records = 0
    index = span.start
    for record in _generator(run).records(span.count, span.start):
        for resource in record:
            resource_type = resource["resourceType"]
            body = dumps(resource)
            if job.ndjson:
                typed = typed_lines.get(resource_type)
                if typed is None:
                    typed = typed_lines[resource_type] = []
                typed.append(body)
            if job.bundles:
                entries.append(entry_bytes(resource, body))
                resources[resource_type] += 1
        index += 1
        piece_records += 1
        ends_batch = index % size == 0 or index == run.count
        if ends_batch or index == span.stop:
            if job.bundles:
                piece = BatchPiece((index - 1) // size, b",".join(entries), dict(resources), piece_records, ends_batch)
                pieces.append(piece)
            for resource_type, typed in typed_lines.items():
                lines.setdefault(resource_type, []).append(b"\n".join(typed) + b"\n")
            entries, resources, piece_records, typed_lines = [], Counter(), 0, {}
    if job.spill is None:
        return ShardOutput(pieces, lines, span.count)
    spilled = {
        resource_type: spill(job.spill, f"{span.shard:07d}-{resource_type}.part", b"".join(chunks))
        for resource_type, chunks in lines.items()
    }
    return ShardOutput(pieces, spilled, span.count)


def shard_outputs(
    run: ImmunizationRun,
    *,
    batch_size: int,
    bundles: bool,
    ndjson: bool,
    workers: int = 1,
    spill_to: Path | None = None,
) -> Generator[ShardOutput, None, None]:
    """The serialized shards of `run`, in order, made by `workers` processes; closing it
    stops them. With several workers and `spill_to` (a directory on the file system the
    NDJSON goes to), the shards' NDJSON comes as files there, for `OutputWriter.write_lines`."""
    if batch_size < 1:
        raise ValueError("a batch holds at least one record")
    _generator(run)  # built before any worker is forked
    spilled = spill_to / ".shards" if spill_to is not None and ndjson and workers > 1 else None
    if spilled is not None:
        spilled.mkdir(exist_ok=True)
    jobs = (ShardJob(run, span, batch_size, bundles, ndjson, spilled) for span in spans(run.count))
    try:
        yield from in_order(make_shard, jobs, workers)
    finally:
        if spilled is not None:
            shutil.rmtree(spilled, ignore_errors=True)


def immunization_bundles(
    run: ImmunizationRun,
    *,
    batch_size: int,
    report: RunReport,
    writer: OutputWriter | None = None,
    workers: int = 1,
) -> Generator[Outgoing, None, None]:
    """The run's transaction Bundles of `batch_size` records each, named `<province>-seed<seed>-000001`, ...

    Each Bundle, and each shard's NDJSON, is written to `writer` (when given) as it is
    made, and counted in `report`.
    """
    ndjson = writer is not None and writer.ndjson
    outputs = shard_outputs(
        run,
        batch_size=batch_size,
        bundles=True,
        ndjson=ndjson,
        workers=workers,
        spill_to=writer.directory if writer is not None else None,
    )
    prefix = run.name_prefix()
    entries: list[bytes] = []
    resources: Counter[str] = Counter()
    records = 0
    try:
        for output in outputs:
            if writer is not None:
                writer.write_lines(output.lines)
            for piece in output.pieces:
                entries.append(piece.entries)
                resources.update(piece.resources)
                records += piece.records
                if not piece.ends_batch:
                    continue
                bundle = Outgoing(f"{prefix}-{piece.batch + 1:06d}", bundle_bytes(entries), dict(resources))
                _made(bundle, records, report, writer)
                entries, resources, records = [], Counter(), 0
                yield bundle
    finally:
        # Stops the workers, also when the consumer stops early.
        outputs.close()


def outgoing_bundles(
    records: Iterable[Record],
    *,
    batch_size: int,
    name_prefix: str,
    report: RunReport,
    writer: OutputWriter | None = None,
) -> Iterator[Outgoing]:
    """Serialized transaction Bundles of `batch_size` records each, named `<prefix>-000001`, ...

    Each is written to `writer` (when given) as it is made, and counted in `report`.
    """
    for index, batch in enumerate(batched(records, batch_size), start=1):
        entries: list[bytes] = []
        resources: Counter[str] = Counter()
        for record in batch:
            for resource in record:
                entries.append(entry_bytes(resource, orjson.dumps(resource)))
                resources[resource["resourceType"]] += 1
        bundle = Outgoing(f"{name_prefix}-{index:06d}", bundle_bytes(entries), dict(resources))
        if writer is not None:
            writer.write_resources(resource for record in batch for resource in record)
        _made(bundle, len(batch), report, writer)
        yield bundle


def _made(bundle: Outgoing, records: int, report: RunReport, writer: OutputWriter | None) -> None:
    if writer is not None:
        writer.write_bundle(bundle.name, bundle.body)
    report.records += records
    report.bundles += 1
    report.resources.update(bundle.resource_counts)
