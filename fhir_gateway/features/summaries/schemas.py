"""What the summary endpoint takes (it answers a `patient_summary.models.Summary`)."""

from pydantic import BaseModel, ConfigDict, Field

from fhir_gateway.patient_summary.models import Audience, Length


class SummaryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audience: Audience = Field("clinician", description="Who reads it: a clinician, or the patient's family.")
    length: Length = Field("standard", description="How long the narrative is.")
