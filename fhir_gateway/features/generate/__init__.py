"""Synthetic clinical data to download: FHIR, NDJSON, CSV and EDI X12, made on request
and streamed, never stored."""
