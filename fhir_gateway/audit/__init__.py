"""The audit trail: every read and write of patient data, on either face, recorded as a FHIR
AuditEvent in the FHIR server (who, which records, which interaction, when, the outcome,
the request id), written in batches off the requests' path."""

from fhir_gateway.audit.middleware import AuditMiddleware
from fhir_gateway.audit.trail import AuditTrail

__all__ = ["AuditMiddleware", "AuditTrail"]
