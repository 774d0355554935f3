"""Patients: CRUD over FHIR `Patient`, fuzzy name search, cascading delete."""
