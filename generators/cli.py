"""`python -m generators`: synthetic immunization and clinical records, the demo dataset,
re-sending failures.

`immunizations` with no options reads the variables the original generator script read:
`FHIR_URL`, `NUM_RECORDS` and `PT`. Every variable, authentication included, is a field of
`GeneratorSettings`; an option given on the command line takes the place of its variable.
"""

import asyncio
import secrets
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from generators.auth import TokenError
from generators.bundles import DEFAULT_BATCH_SIZE, OutputWriter
from generators.clinical.formats import Format
from generators.pipeline import ImmunizationRun, RunReport, immunization_bundles, outgoing_bundles
from generators.settings import GeneratorSettings, Province
from generators.uploader import DEFAULT_FAILED_DIR, FAILURES_FILE, BundleUploader, Outgoing, UploadPolicy

# `generators.targets` (the embedded store: SQLAlchemy and the gateway) and `generators.demo`
# are imported by the commands that use them: together they take longer to import than a
# dry run of twenty thousand records takes to run.

app = typer.Typer(
    help="Synthetic FHIR data: BC/ON immunization records, the demo dataset, and their upload.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

T = TypeVar("T")


def _in_place_of(setting: str) -> str:
    """The help of an option that takes the place of a setting: the setting's description,
    its variable and its default."""
    field = GeneratorSettings.model_fields[setting]
    return f"{field.description} Default: ${setting.upper()}, else {field.default}."


Workers = Annotated[int, typer.Option(min=1, max=64, help="Processes making records; the records do not depend on it.")]
FhirUrl = Annotated[str | None, typer.Option(help=_in_place_of("fhir_url"))]
SystemBase = Annotated[str | None, typer.Option(help=_in_place_of("identifier_system_base"))]
Concurrency = Annotated[int, typer.Option(min=1, max=64, help="Bundles in flight at once.")]
Retries = Annotated[int, typer.Option(min=0, max=20, help="Retries of a failing Bundle before it is given up.")]
FailedDir = Annotated[Path, typer.Option(help="Where Bundles that could not be stored are kept.")]


def _parse_date(value: str) -> date:
    return datetime.strptime(value, "%Y-%m-%d").date()


ReferenceDate = Annotated[
    date | None,
    typer.Option(parser=_parse_date, metavar="YYYY-MM-DD", help="The records' today: nothing happens after it."),
]


@app.command()
def immunizations(
    province: Annotated[Province | None, typer.Option(case_sensitive=False, help=_in_place_of("pt"))] = None,
    count: Annotated[int | None, typer.Option(min=1, help=_in_place_of("num_records"))] = None,
    fhir_url: FhirUrl = None,
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Records per transaction Bundle.")] = (
        DEFAULT_BATCH_SIZE
    ),
    concurrency: Concurrency = 4,
    seed: Annotated[int | None, typer.Option(help="Same seed, same records, byte for byte. Default: random.")] = None,
    reference_date: ReferenceDate = None,
    out: Annotated[Path | None, typer.Option(help="Also write Bundles (JSON) and resources (NDJSON) here.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Make the records but send nothing.")] = False,
    retries: Retries = 5,
    failed_dir: FailedDir = DEFAULT_FAILED_DIR,
    system_base: SystemBase = None,
    workers: Workers = 1,
) -> None:
    """Make COUNT synthetic immunization records of a province and upload them as transaction Bundles.

    Each record is a Patient, one or two Immunizations and, in BC, an AllergyIntolerance.
    Uploads are idempotent: running the same seed again, or re-sending a Bundle, creates
    no duplicates.
    """
    settings = _settings(pt=province, num_records=count, fhir_url=fhir_url, identifier_system_base=system_base)
    if seed is None:
        seed = secrets.randbelow(2**31)
    run = ImmunizationRun(
        settings.pt.value,
        seed,
        reference_date or date.today(),
        settings.identifier_system_base,
        settings.num_records,
    )
    report = RunReport()
    writer = OutputWriter(out) if out is not None else None
    try:
        bundles = immunization_bundles(run, batch_size=batch_size, report=report, writer=writer, workers=workers)
        total_bundles = -(-settings.num_records // batch_size)
        policy = UploadPolicy(concurrency=concurrency, attempts=retries + 1, failed_dir=failed_dir)
        with closing(bundles):
            _run(bundles, total_bundles, None if dry_run else settings, policy, report)
    finally:
        if writer is not None:
            writer.close()
    _summarize(report, seed=seed, out=out)
    if report.failed:
        raise typer.Exit(code=1)


@app.command()
def clinical(
    output: Annotated[Format, typer.Option("--format", help="What to write (see the README's table).")],
    out: Annotated[Path, typer.Option(help="The directory written to.")],
    count: Annotated[int, typer.Option(min=1, help="Patients whose records to make.")] = 1000,
    province: Annotated[Province | None, typer.Option(case_sensitive=False, help=_in_place_of("pt"))] = None,
    seed: Annotated[int | None, typer.Option(help="Same seed, same records, byte for byte. Default: random.")] = None,
    reference_date: ReferenceDate = None,
    workers: Workers = 1,
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="fhir: patients per transaction Bundle.")] = 10,
    system_base: SystemBase = None,
    sender_id: Annotated[str, typer.Option(help="x12: ISA06 and GS02.")] = "FHIRGATEWAY",
    receiver_id: Annotated[str, typer.Option(help="x12: ISA08 and GS03.")] = "SYNTHPAYER",
    usage: Annotated[str, typer.Option(help="x12: ISA15, T (test) or P (production).")] = "T",
    control_number: Annotated[int, typer.Option(min=1, max=999_999_999, help="x12: ISA13.")] = 1,
    element_separator: Annotated[str, typer.Option(help="x12: between elements.")] = "*",
    segment_terminator: Annotated[str, typer.Option(help="x12: after each segment.")] = "~",
    component_separator: Annotated[str, typer.Option(help="x12: between components (ISA16).")] = ":",
    repetition_separator: Annotated[str, typer.Option(help="x12: between repetitions (ISA11).")] = "^",
    line_breaks: Annotated[bool, typer.Option(help="x12: a line break after each segment.")] = True,
) -> None:
    """Make COUNT patients' clinical records (diagnoses, visits, vital signs, labs,
    prescriptions, immunizations, claims) as FHIR Bundles, NDJSON, CSV or EDI X12 834/837P.

    WORKERS processes make shards of a thousand patients: the same seed gives the same bytes whatever WORKERS is.
    FHIR Bundles load into a FHIR server with `resend DIR/bundles` (which removes each Bundle it stored).
    """
    from generators.clinical.output import Job, write
    from generators.clinical.x12 import X12Options

    settings = _settings(pt=province, identifier_system_base=system_base)
    if seed is None:
        seed = secrets.randbelow(2**31)
    today = reference_date or date.today()
    x12 = None
    if output in (Format.X12_834, Format.X12_837):
        if usage not in ("T", "P"):
            _error("Invalid X12 option: usage must be T or P")
            raise typer.Exit(code=2)
        try:
            x12 = X12Options(
                sender_id=sender_id,
                receiver_id=receiver_id,
                # Dated by the records' today, so that a seed always gives the same bytes.
                created=datetime(today.year, today.month, today.day, 12),
                usage=usage,  # type: ignore[arg-type]
                element_separator=element_separator,
                segment_terminator=segment_terminator,
                component_separator=component_separator,
                repetition_separator=repetition_separator,
                line_break="\n" if line_breaks else "",
                control_number=control_number,
            )
        except ValueError as error:
            _error(f"Invalid X12 option: {error}")
            raise typer.Exit(code=2) from error
    job = Job(output, settings.pt.value, seed, today, settings.identifier_system_base, batch_size=batch_size, x12=x12)
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("patients", total=count)
        written = write(job, count, out, workers=workers, on_shard=lambda made: progress.advance(task, made))
    elapsed = time.perf_counter() - started
    table = Table(title="Summary", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("seed", str(seed))
    table.add_row("patients", f"{written.records:,}")
    for what, number in sorted(written.counts.items()):
        table.add_row(what, f"{number:,}")
    table.add_row("files", f"{len(written.files):,}")
    table.add_row("elapsed", f"{elapsed:.2f} s")
    if elapsed > 0:
        table.add_row("rate", f"{written.records / elapsed:,.0f} patients/s")
    table.add_row("written to", str(out))
    Console().print(table)


@app.command()
def demo(
    fhir_url: FhirUrl = None,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when the server holds any Patient.")] = False,
    reference_date: ReferenceDate = None,
    retries: Retries = 5,
    failed_dir: FailedDir = DEFAULT_FAILED_DIR,
    system_base: SystemBase = None,
) -> None:
    """Load the demo dataset: a few dozen patients with immunizations and allergies.

    `--fhir-url embedded` loads it into the embedded store at EMBEDDED_DATABASE_URL.
    """
    from generators.demo import DEMO_BATCH_SIZE, demo_records
    from generators.targets import is_empty

    settings = _settings(fhir_url=fhir_url, identifier_system_base=system_base)
    if if_empty and not _run_async(is_empty(settings.fhir_url, settings.fhir_auth())):
        console.print("The FHIR server already holds patients: no demo data loaded.")
        return
    report = RunReport()
    records = demo_records(reference_date or date.today(), system_base=settings.identifier_system_base)
    bundles = outgoing_bundles(records, batch_size=DEMO_BATCH_SIZE, name_prefix="demo", report=report)
    policy = UploadPolicy(concurrency=1, attempts=retries + 1, failed_dir=failed_dir)
    _run(bundles, None, settings, policy, report)
    _summarize(report)
    if report.failed:
        raise typer.Exit(code=1)


@app.command()
def resend(
    directory: Annotated[Path, typer.Argument(help="A directory of kept Bundles.")] = DEFAULT_FAILED_DIR,
    fhir_url: FhirUrl = None,
    concurrency: Concurrency = 4,
    retries: Retries = 5,
) -> None:
    """Send the Bundles a failed run kept again; each one stored is removed from DIRECTORY."""
    settings = _settings(fhir_url=fhir_url)
    paths = sorted(path for path in directory.glob("*.json"))
    if not paths:
        console.print(f"No Bundles to send in {directory}.")
        return
    # The failure log is written anew: afterwards it describes what is still left.
    (directory / FAILURES_FILE).unlink(missing_ok=True)
    report = RunReport()

    def kept() -> Iterator[Outgoing]:
        for path in paths:
            bundle = Outgoing.from_file(path)
            report.bundles += 1
            report.resources.update(bundle.resource_counts)
            yield bundle

    def forget(bundle: Outgoing, stored: bool) -> None:
        if stored:
            (directory / f"{bundle.name}.json").unlink()

    policy = UploadPolicy(concurrency=concurrency, attempts=retries + 1, failed_dir=directory)
    _run(kept(), len(paths), settings, policy, report, on_done=forget)
    _summarize(report)
    if report.failed:
        raise typer.Exit(code=1)


def _settings(**options: object) -> GeneratorSettings:
    """The settings, with each option given on the command line (not None) in place of its variable."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        return GeneratorSettings(**given)
    except ValidationError as error:
        for problem in error.errors(include_url=False, include_context=False, include_input=False):
            where = ".".join(str(part) for part in problem["loc"]).upper()
            reason = problem["msg"].removeprefix("Value error, ")
            _error(f"Invalid setting{' ' + where if where else ''}: {reason}")
        raise typer.Exit(code=2) from error


def _run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run `main`; when the FHIR server cannot be given an access token, the command ends there."""
    try:
        return asyncio.run(main)
    except TokenError as error:
        _error(f"No access token for the FHIR server: {error}")
        raise typer.Exit(code=1) from error


def _error(message: str) -> None:
    # Unwrapped, so URLs and variable names stay whole; never markup, since the text may
    # quote a server's answer.
    console.print(message, style="red", markup=False, soft_wrap=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _run(
    bundles: Iterator[Outgoing],
    total: int | None,
    target: GeneratorSettings | None,
    policy: UploadPolicy,
    report: RunReport,
    on_done: Callable[[Outgoing, bool], None] | None = None,
) -> None:
    """Make every Bundle and upload it to the FHIR server `target` configures (None: a dry
    run), with a progress bar."""
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("bundles (dry run)" if target is None else "bundles", total=total)

        def done(bundle: Outgoing, stored: bool) -> None:
            progress.advance(task)
            if on_done is not None:
                on_done(bundle, stored)

        if target is None:
            for bundle in bundles:
                done(bundle, True)
        else:
            _run_async(_upload(target, policy, bundles, report, done))
    report.elapsed = time.perf_counter() - started


async def _upload(
    settings: GeneratorSettings,
    policy: UploadPolicy,
    bundles: Iterator[Outgoing],
    report: RunReport,
    on_done: Callable[[Outgoing, bool], None],
) -> None:
    from generators.targets import fhir_target

    async with fhir_target(settings.fhir_url) as (base_url, transport):
        uploader = BundleUploader(base_url, policy, transport=transport, auth=settings.fhir_auth())
        try:
            report.upload = await uploader.upload(bundles, on_done)
        finally:
            await uploader.aclose()


def _summarize(report: RunReport, *, seed: int | None = None, out: Path | None = None) -> None:
    upload = report.upload
    table = Table(title="Summary", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    if seed is not None:
        table.add_row("seed", str(seed))
    if report.records:
        table.add_row("records", str(report.records))
    table.add_row("bundles", str(report.bundles))
    for resource_type, number in sorted(report.resources.items()):
        table.add_row(f"resources: {resource_type}", str(number))
    if upload is not None:
        stored = sum(upload.resources.values())
        table.add_row("bundles stored", str(upload.stored_bundles))
        table.add_row("resources stored", str(stored))
        for status, number in sorted(upload.outcomes.items()):
            table.add_row(f"  answered {status}", str(number))
        table.add_row("retries", str(upload.retries))
        table.add_row("failures", str(len(upload.failures)))
    made = sum(report.resources.values())
    table.add_row("elapsed", f"{report.elapsed:.2f} s")
    if report.elapsed > 0:
        table.add_row(
            "rate", f"{report.records / report.elapsed:,.0f} records/s, {made / report.elapsed:,.0f} resources/s"
        )
    if out is not None:
        table.add_row("written to", str(out))
    Console().print(table)
    if upload is not None and upload.failures:
        directory = upload.failures[0].path.parent
        console.print(
            f"[red]{len(upload.failures)} Bundle(s) not stored; kept in {directory} "
            f"(reasons in {FAILURES_FILE}). Send them again with: python -m generators resend {directory}"
        )
