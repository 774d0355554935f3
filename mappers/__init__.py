"""Pure, lossless mapping between the simplified domain models and FHIR R4 resources."""
