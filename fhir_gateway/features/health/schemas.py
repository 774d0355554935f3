"""What the probes answer."""

from typing import Literal

from pydantic import BaseModel, Field


class Liveness(BaseModel):
    """The process is up and serving HTTP."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether the gateway can do its work, and the result of each check behind that."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(
        description='One entry per dependency: "ok", or "unavailable: <reason>".',
        examples=[{"fhir": "ok", "database": "ok"}],
    )
