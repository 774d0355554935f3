"""`/health` (liveness, no dependencies), `/health/live` and `/health/ready`."""

from fastapi import APIRouter, Response, status

from fhir_gateway.dependencies import EmbeddedStoreDep, FhirClientDep
from fhir_gateway.features.health.schemas import Liveness, Readiness
from fhir_gateway.features.health.service import check_readiness

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=Liveness, status_code=status.HTTP_200_OK, summary="Liveness")
async def health() -> Liveness:
    """The gateway process answers; touches no dependency."""
    return Liveness()


@router.get("/live", response_model=Liveness, status_code=status.HTTP_200_OK, summary="Liveness")
async def live() -> Liveness:
    """The same as `/health`, under the name probes conventionally use."""
    return Liveness()


@router.get(
    "/ready",
    response_model=Readiness,
    status_code=status.HTTP_200_OK,
    summary="Readiness",
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": Readiness,
            "description": "A dependency failed; its check names the reason.",
        }
    },
)
async def ready(client: FhirClientDep, store: EmbeddedStoreDep, response: Response) -> Readiness:
    """Ready when the FHIR server answers `metadata` and, with the embedded store, its database answers."""
    readiness = await check_readiness(client=client, store=store)
    if readiness.status != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return readiness
