"""Clinical records in each output format (`generators.clinical.formats`), made shard by
shard: as files in a directory (the command line, in parallel) or as one stream (the REST
API).

A shard is made by a module-level function from a picklable `Job` and span, so workers can
make shards while this process writes them, in order: the files are byte for byte the
same whatever the number of workers.
"""

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import orjson

from generators.bundles import BUNDLE_HEAD, BUNDLE_TAIL, bundle_bytes, entry_bytes
from generators.clinical import fhir, tables
from generators.clinical.formats import X12_FILES, Format
from generators.clinical.model import ClinicalRecord
from generators.clinical.records import ClinicalGenerator
from generators.clinical.x12 import (
    Transaction,
    X12Options,
    X12Totals,
    interchange_header,
    interchange_trailer,
    transaction_sets,
)
from generators.records import DEFAULT_SYSTEM_BASE
from generators.shards import Span, in_order, spans
from generators.spill import append, spill

DEFAULT_BATCH_SIZE = 10
# Large writes: output is written at tens of megabytes a second.
_WRITE_BUFFER = 1 << 20


@dataclass(frozen=True)
class Job:
    """What to make: the records of one province and seed, in one format."""

    format: Format
    province: str
    seed: int
    reference_date: date
    system_base: str = DEFAULT_SYSTEM_BASE
    batch_size: int = DEFAULT_BATCH_SIZE
    x12: X12Options | None = None
    # Streams only: one Bundle for all patients (fhir), one table (csv), one type (ndjson).
    single_bundle: bool = False
    table: str | None = None
    resource_type: str | None = None
    # Where workers leave what they made (`generators.spill`).
    spill: Path | None = None

    @property
    def name(self) -> str:
        return f"clinical-{self.province}-seed{self.seed}"


@dataclass
class ShardOutput:
    """What one shard made: (file name, its bytes or the spilled file holding them) in
    writing order, and what they hold."""

    parts: list[tuple[str, bytes | Path]]
    counts: Counter[str]
    records: int


@cache
def _generator(province: str, seed: int, reference_date: date, system_base: str) -> ClinicalGenerator:
    # One per process and run: a worker makes many shards of the same run.
    return ClinicalGenerator(province, seed, reference_date, system_base=system_base)


def shard_output(task: tuple[Job, Span]) -> ShardOutput:
    """The output of one span of records in the job's format."""
    job, span = task
    generator = _generator(job.province, job.seed, job.reference_date, job.system_base)
    # Each format makes only the parts of a record it writes: FHIR all of them.
    as_fhir = job.format in (Format.FHIR, Format.NDJSON)
    records = generator.records(
        span.count,
        span.start,
        care=job.format is not Format.X12_834,
        fhir=as_fhir,
        vitals=job.format is not Format.X12_837,
        results=as_fhir,
    )
    output = _MAKERS[job.format](job, span, records)
    if job.spill is not None:
        for number, (name, body) in enumerate(output.parts):
            assert isinstance(body, bytes)
            output.parts[number] = (name, spill(job.spill, f"{span.shard:07d}-{number:05d}.part", body))
    return output


def _fhir(job: Job, span: Span, records: Iterator[ClinicalRecord]) -> ShardOutput:
    counts: Counter[str] = Counter()
    parts = []
    made = 0
    while batch := list(islice(records, job.batch_size)):
        resources = [resource for record in batch for resource in fhir.resources(record)]
        counts.update(resource["resourceType"] for resource in resources)
        # PUTs to the resources' own ids: sending a Bundle again creates no second copy.
        entries = [entry_bytes(resource, orjson.dumps(resource)) for resource in resources]
        if job.single_bundle:
            parts.append(("", (b"," if made or span.start else b"") + b",".join(entries)))
        else:
            parts.append((f"bundles/{job.name}-{span.start + made + 1:07d}.json", bundle_bytes(entries)))
        made += len(batch)
    return ShardOutput(parts, counts, made)


def _ndjson(job: Job, span: Span, records: Iterator[ClinicalRecord]) -> ShardOutput:
    lines: dict[str, list[bytes]] = {}
    made = 0
    for record in records:
        made += 1
        for resource in fhir.resources(record):
            resource_type = resource["resourceType"]
            if job.resource_type is None or resource_type == job.resource_type:
                lines.setdefault(resource_type, []).append(orjson.dumps(resource, option=orjson.OPT_APPEND_NEWLINE))
    counts = Counter({resource_type: len(made_lines) for resource_type, made_lines in lines.items()})
    parts = [(f"{resource_type}.ndjson", b"".join(made_lines)) for resource_type, made_lines in lines.items()]
    return ShardOutput(parts, counts, made)


def _csv(job: Job, span: Span, records: Iterator[ClinicalRecord]) -> ShardOutput:
    made = tables.rows((job.table,) if job.table is not None else tuple(tables.TABLES), records)
    parts: list[tuple[str, bytes | Path]] = [(f"{table}.csv", body) for table, (body, _) in made.items()]
    counts = Counter({f"{table}.csv": rows for table, (_, rows) in made.items()})
    return ShardOutput(parts, counts, span.count)


def _x12(job: Job, span: Span, records: Iterator[ClinicalRecord]) -> ShardOutput:
    # A shard is one transaction set: its patients' claims fit one (records.MAX_VISITS),
    # so sets are numbered by shard, whichever process makes them.
    assert job.x12 is not None
    totals = X12Totals()
    transaction = _TRANSACTIONS[job.format]
    body = transaction_sets(transaction, records, job.x12, first_set=span.shard + 1, totals=totals)
    if totals.transactions > 1:
        raise RuntimeError("a shard outgrew its transaction set; max_per_transaction is below a shard's loops")
    loops = totals.members if job.format is Format.X12_834 else totals.claims
    counts = Counter({"members" if job.format is Format.X12_834 else "claims": loops, "sets": totals.transactions})
    return ShardOutput([(X12_FILES[job.format], body)], counts, totals.records)


_TRANSACTIONS: dict[Format, Transaction] = {Format.X12_834: "834", Format.X12_837: "837"}
_MAKERS: dict[Format, Callable[[Job, Span, Iterator[ClinicalRecord]], ShardOutput]] = {
    Format.FHIR: _fhir,
    Format.NDJSON: _ndjson,
    Format.CSV: _csv,
    Format.X12_834: _x12,
    Format.X12_837: _x12,
}


@dataclass
class Written:
    """What a run wrote."""

    records: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    files: set[str] = field(default_factory=set)


def write(
    job: Job,
    count: int,
    directory: Path,
    *,
    workers: int = 1,
    on_shard: Callable[[int], None] | None = None,
) -> Written:
    """Write `count` records of `job` as files under `directory`; `on_shard` is told how
    many records each shard made, as it is written."""
    directory.mkdir(parents=True, exist_ok=True)
    streams: dict[str, BinaryIO] = {}
    written = Written()

    def stream(name: str) -> BinaryIO:
        opened = streams.get(name)
        if opened is None:
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            opened = streams[name] = path.open("wb", buffering=_WRITE_BUFFER)
            written.files.add(name)
            if job.format is Format.CSV:
                opened.write(tables.header(name.removesuffix(".csv")))
        return opened

    spilled = directory / ".shards" if workers > 1 else None
    if spilled is not None:
        spilled.mkdir(exist_ok=True)
        job = replace(job, spill=spilled)
    try:
        if job.format in X12_FILES:
            assert job.x12 is not None
            stream(X12_FILES[job.format]).write(interchange_header(_TRANSACTIONS[job.format], job.x12))
        for output in in_order(shard_output, ((job, span) for span in spans(count)), workers):
            for name, body in output.parts:
                if job.format is Format.FHIR:
                    target = directory / name
                    target.parent.mkdir(exist_ok=True)
                    if isinstance(body, Path):
                        body.replace(target)
                    else:
                        target.write_bytes(body)
                    written.files.add(name)
                elif isinstance(body, Path):
                    append(stream(name), body)
                else:
                    stream(name).write(body)
            written.records += output.records
            written.counts.update(output.counts)
            if on_shard is not None:
                on_shard(output.records)
        if job.format in X12_FILES:
            assert job.x12 is not None
            trailer = interchange_trailer(_TRANSACTIONS[job.format], job.x12, written.counts["sets"])
            stream(X12_FILES[job.format]).write(trailer)
    finally:
        for opened in streams.values():
            opened.close()
        if spilled is not None:
            shutil.rmtree(spilled, ignore_errors=True)
    return written


def stream(job: Job, count: int) -> Iterator[bytes]:
    """`count` records of `job` as one stream, made in this process a shard at a time."""
    sets = 0
    if job.format in X12_FILES:
        assert job.x12 is not None
        yield interchange_header(_TRANSACTIONS[job.format], job.x12)
    if job.format is Format.FHIR:
        yield BUNDLE_HEAD
    if job.format is Format.CSV:
        yield tables.header(job.table or "patients")
    for span in spans(count):
        output = shard_output((job, span))
        sets += output.counts["sets"]
        for _, body in output.parts:
            yield body
    if job.format is Format.FHIR:
        yield BUNDLE_TAIL
    if job.format in X12_FILES:
        assert job.x12 is not None
        yield interchange_trailer(_TRANSACTIONS[job.format], job.x12, sets)
