"""Synthetic FHIR data: BC and ON immunization records, the demo dataset, and an idempotent
uploader with retries (`python -m generators --help`)."""
