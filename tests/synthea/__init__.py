"""Synthea-shaped FHIR R4 data: the bundles a Synthea export holds, built from a seed.

`shapes.synthea_set` is the entry point; the other modules hold what it is made of.
"""
