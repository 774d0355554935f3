"""What every clinical record the API shows carries: its id, its patient, its version."""

from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from mappers.primitives import element, instant, text


class StoredRecord(BaseModel):
    """A stored FHIR resource about one patient."""

    id: str = Field(description="The FHIR resource id.")
    patient_id: str = Field(description="The id of the patient it is about.")
    version: str | None = Field(None, description="The FHIR versionId.")
    updated_at: AwareDatetime | None = Field(None, description="When this version was stored.")


def stored_fields(resource: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """The `StoredRecord` fields of a stored resource."""
    meta = element(resource.get("meta"))
    return {
        "id": resource["id"],
        "patient_id": patient_id,
        "version": text(meta.get("versionId")),
        "updated_at": instant(meta.get("lastUpdated")),
    }
