"""The output formats of clinical records, what each is sent as, and where each is written.

| format | files | a "record" of the counts |
|---|---|---|
| `fhir` | `bundles/<name>.json`, transaction Bundles of `batch_size` patients | a resource |
| `ndjson` | `<ResourceType>.ndjson`, Bulk Data style | a resource |
| `csv` | `patients.csv`, `encounters.csv`, `claim_lines.csv`, with a header | a row |
| `x12-834` | `enrollment-834.x12`, one interchange | a member (INS loop) |
| `x12-837` | `claims-837p.x12`, one interchange | a claim (CLM loop) |
"""

from enum import StrEnum


class Format(StrEnum):
    FHIR = "fhir"
    NDJSON = "ndjson"
    CSV = "csv"
    X12_834 = "x12-834"
    X12_837 = "x12-837"


MEDIA_TYPES = {
    Format.FHIR: "application/fhir+json",
    Format.NDJSON: "application/fhir+ndjson",
    Format.CSV: "text/csv",
    Format.X12_834: "application/edi-x12",
    Format.X12_837: "application/edi-x12",
}
EXTENSIONS = {
    Format.FHIR: "json",
    Format.NDJSON: "ndjson",
    Format.CSV: "csv",
    Format.X12_834: "x12",
    Format.X12_837: "x12",
}
X12_FILES = {Format.X12_834: "enrollment-834.x12", Format.X12_837: "claims-837p.x12"}
# What a clinical record is made of, in the order its resources come out.
RESOURCE_TYPES = (
    "Patient",
    "Condition",
    "Encounter",
    "Observation",
    "DiagnosticReport",
    "MedicationRequest",
    "Immunization",
    "AllergyIntolerance",
)
