"""The FHIR-native gateway: a simplified REST API and a FHIR R4 face over one FHIR server."""

# The gateway's version, as its OpenAPI schema and its CapabilityStatement give it.
API_VERSION = "0.1.0"
