"""The FHIR-native gateway: a simplified REST API and a FHIR R4 face over one FHIR server."""
