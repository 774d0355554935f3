"""The FHIR face: `/fhir` relays standard FHIR R4 REST to the FHIR server for EHR clients,
validates what they send, and adds JSON Patch, `Patient/$summary` and its own
CapabilityStatement. Its errors are OperationOutcomes."""
