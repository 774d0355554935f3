"""A generation request as a job of the clinical generator, and the name of its download;
a load request as batches of immunization records, each stored in one transaction."""

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime

from fhir_gateway.features.generate.schemas import GenerateRequest, LoadedPatient, LoadRequest, x12_options
from fhir_gateway.fhir_client import FhirClient
from generators.bundles import DEFAULT_BATCH_SIZE, Record, batched, bundle_of
from generators.clinical.formats import EXTENSIONS, Format
from generators.clinical.output import Job
from generators.records import RecordGenerator
from mappers.patient import full_name


def chosen_seed(seed: int | None) -> int:
    """The request's seed, or a random one when it names none."""
    return seed if seed is not None else secrets.randbelow(2**31)


def job(output: Format, request: GenerateRequest, *, system_base: str) -> Job:
    """The job that makes what `request` asks for, in `output`."""
    options = request.options
    seed = chosen_seed(request.seed)
    today = options.reference_date or date.today()
    # The interchange is dated by the records' today, so a seed always gives the same bytes.
    created = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    return Job(
        format=output,
        province=options.province,
        seed=seed,
        reference_date=today,
        system_base=system_base,
        x12=x12_options(options, created=created) if output in (Format.X12_834, Format.X12_837) else None,
        single_bundle=True,
        table=options.table if output is Format.CSV else None,
        resource_type=options.resource_type if output is Format.NDJSON else None,
    )


def file_name(job: Job, count: int) -> str:
    detail = job.table or job.resource_type or job.format.value
    return f"{job.name}-{count}-{detail}.{EXTENSIONS[job.format]}"


# Batches per load: enough answers for a progress bar to move smoothly, each Bundle still
# at most the uploader's usual size.
_PROGRESS_STEPS = 10
_MAX_BATCH = DEFAULT_BATCH_SIZE


def load_batches(request: LoadRequest, seed: int, *, system_base: str) -> Iterator[list[Record]]:
    """The records `request` asks for, in the batches they are stored in."""
    records = RecordGenerator(request.province, seed, date.today(), system_base=system_base).records(request.count)
    return batched(records, min(_MAX_BATCH, -(-request.count // _PROGRESS_STEPS)))


async def store(client: FhirClient, batch: list[Record]) -> list[LoadedPatient]:
    """Store one batch in one transaction: its records whole, or none of them."""
    await client.transaction(bundle_of(batch))
    return [LoadedPatient(id=record[0]["id"], name=full_name(record[0])) for record in batch]
