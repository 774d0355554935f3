"""A generation request as a job of the clinical generator, and the name of its download."""

import secrets
from datetime import UTC, date, datetime

from fhir_gateway.features.generate.schemas import GenerateRequest, x12_options
from generators.clinical.formats import EXTENSIONS, Format
from generators.clinical.output import Job


def job(output: Format, request: GenerateRequest, *, system_base: str) -> Job:
    """The job that makes what `request` asks for, in `output`."""
    options = request.options
    seed = request.seed if request.seed is not None else secrets.randbelow(2**31)
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
