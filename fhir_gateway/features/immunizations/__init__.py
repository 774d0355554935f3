"""A patient's immunizations (FHIR `Immunization`), read-only: the generators and FHIR clients write them."""
