"""Synthetic clinical records (diagnoses, visits, vital signs, labs, prescriptions, claims)
and their formats: FHIR Bundles, NDJSON, CSV, EDI X12 834 and 837P. Makes data and writes
it; sends nothing anywhere, so the gateway's generate slice may use it."""
