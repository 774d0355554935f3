"""`POST /api/generate/{format}`: synthetic clinical records, streamed as they are made;
`POST /api/generate/immunizations`: synthetic immunization records, stored as they are made."""

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from fhir_gateway.dependencies import FhirClientDep, SettingsDep
from fhir_gateway.features.generate import service
from fhir_gateway.features.generate.schemas import (
    MAX_COUNT,
    MAX_LOAD_COUNT,
    GenerateRequest,
    LoadDone,
    LoadFailed,
    LoadProgress,
    LoadRequest,
)
from fhir_gateway.fhir_client import FhirError
from fhir_gateway.http_rules import require_json_body
from fhir_gateway.problems import JSON_BODY_FAILURES, UPSTREAM_FAILURES, problem_responses
from fhir_gateway.security import requires
from generators.clinical.formats import MEDIA_TYPES, Format
from generators.clinical.output import stream

router = APIRouter(prefix="/api/generate", tags=["synthetic data"])

NDJSON = "application/x-ndjson"
_STORED_TYPES = ("Patient", "Immunization", "AllergyIntolerance")


# Before `/{format}`, which would take "immunizations" for a format and refuse it.
@router.post(
    "/immunizations",
    summary="Generate synthetic BC or ON immunization records into the FHIR store",
    description=(
        f"Makes `count` records (1 to {MAX_LOAD_COUNT}; more is the command line's work) of the immunization "
        "generator, each a Patient with one or two Immunizations (and, in BC, an AllergyIntolerance), and stores "
        "them in batches, each batch in one transaction. The answer reports progress as it goes, one JSON object "
        'a line: after each stored batch `{"loaded", "count", "patients": [{"id", "name"}]}`, then '
        '`{"done": true, "seed", "loaded"}`; when a later batch fails, a last line `{"error"}` says '
        "so, and the batches stored before it stay. Every resource is stored at an id the seed determines, so "
        "loading a seed again changes nothing. A failure of the first batch is an ordinary error answer."
    ),
    dependencies=[
        requires(*(f"{kind}.{action}" for kind in _STORED_TYPES for action in ("create", "update"))),
        Depends(require_json_body),
    ],
    response_class=StreamingResponse,
    responses={
        200: {"description": "Progress, one JSON object a line.", "content": {NDJSON: {}}},
        **problem_responses(*JSON_BODY_FAILURES, 422, *UPSTREAM_FAILURES),
    },
)
async def load_immunizations(body: LoadRequest, client: FhirClientDep, settings: SettingsDep) -> StreamingResponse:
    seed = service.chosen_seed(body.seed)
    batches = service.load_batches(body, seed, system_base=settings.identifier_system_base)
    first = next(batches)
    # Stored before answering: a store that is down is a 502/503 here, not a line in a 200.
    patients = await service.store(client, first)

    async def progress() -> AsyncIterator[bytes]:
        loaded = len(first)
        yield _line(LoadProgress(loaded=loaded, count=body.count, patients=patients))
        for batch in batches:
            try:
                stored = await service.store(client, batch)
            except FhirError:
                yield _line(LoadFailed(error=f"The FHIR store failed after {loaded} of {body.count} records."))
                return
            loaded += len(batch)
            yield _line(LoadProgress(loaded=loaded, count=body.count, patients=stored))
        yield _line(LoadDone(seed=seed, loaded=loaded))

    return StreamingResponse(progress(), media_type=NDJSON, headers={"X-Generator-Seed": str(seed)})


def _line(message: BaseModel) -> bytes:
    return message.model_dump_json().encode() + b"\n"


@router.post(
    "/{format}",
    summary="Generate synthetic clinical records as FHIR, NDJSON, CSV or EDI X12",
    description=(
        f"`count` patients' clinical records (1 to {MAX_COUNT}; more is the command line's work), each a "
        "patient with their diagnoses, visits, vital signs, labs, prescriptions, immunizations and claims, "
        "written as: `fhir`, one transaction Bundle; `ndjson`, every resource a line (or those of "
        "`options.resource_type`); `csv`, one table (`options.table`: patients, encounters or claim_lines) "
        "with a header; `x12-834`, an enrolment interchange of the patients as members; `x12-837`, a "
        "professional claims interchange of their visits. The same seed and options give the same bytes; "
        "the seed used is in `X-Generator-Seed`."
    ),
    # Synthetic records touch nothing stored: any authenticated client may make them.
    dependencies=[requires(), Depends(require_json_body)],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The records, as a download.",
            "content": {media_type: {} for media_type in sorted(set(MEDIA_TYPES.values()))},
        },
        **problem_responses(*JSON_BODY_FAILURES, 422),
    },
)
def generate(format: Format, body: GenerateRequest, settings: SettingsDep) -> StreamingResponse:
    job = service.job(format, body, system_base=settings.identifier_system_base)
    headers = {
        "Content-Disposition": f'attachment; filename="{service.file_name(job, body.count)}"',
        "X-Generator-Seed": str(job.seed),
    }
    return StreamingResponse(stream(job, body.count), media_type=MEDIA_TYPES[format], headers=headers)
