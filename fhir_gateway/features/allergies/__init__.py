"""A patient's allergies and intolerances (FHIR `AllergyIntolerance`), read-only: the generators and
FHIR clients write them."""
