"""A patient's immunizations and allergies, read-only (written by the generators or FHIR clients)."""
