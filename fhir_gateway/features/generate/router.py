"""`POST /api/generate/{format}`: synthetic clinical records, streamed as they are made."""

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from fhir_gateway.dependencies import SettingsDep
from fhir_gateway.features.generate import service
from fhir_gateway.features.generate.schemas import MAX_COUNT, GenerateRequest
from fhir_gateway.http_rules import require_json_body
from fhir_gateway.problems import JSON_BODY_FAILURES, problem_responses
from fhir_gateway.security import requires
from generators.clinical.formats import MEDIA_TYPES, Format
from generators.clinical.output import stream

router = APIRouter(prefix="/api/generate", tags=["synthetic data"])


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
