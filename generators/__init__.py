"""Synthetic FHIR data: BC/ON immunization bundles, demo data and their uploader."""
