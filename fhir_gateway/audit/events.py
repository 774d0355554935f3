"""What an answered request did to patient data, and the FHIR AuditEvent recording it.

Only the request line, the principal and the answer's status and `Location` are read:
never a query value or a body, which may hold names and numbers. The records a request
touched are named by type and id in `entity`: with a logical reference (`what.identifier`,
system `{IDENTIFIER_SYSTEM_BASE}/fhir/{type}`) and `name` "Patient/123", which
`AuditEvent?entity-name:exact=Patient/123` finds. Not a literal reference: the trail must
outlive the patient, and a FHIR server enforcing referential integrity would refuse to
delete a patient whose audit events point at it, or to record a failed read of an
unknown id.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from fhir_gateway.patient_scope import FHIR_ID_PATTERN
from fhir_gateway.security.principal import Principal

Action = Literal["C", "R", "U", "D", "E"]

# restful-interaction codes, with the action each one is.
_ACTIONS: dict[str, Action] = {
    "read": "R",
    "vread": "R",
    "search-type": "R",
    "search-system": "R",
    "history-instance": "R",
    "history-type": "R",
    "history-system": "R",
    "create": "C",
    "update": "U",
    "patch": "U",
    "delete": "D",
    "operation": "E",
    "transaction": "E",
    "batch": "E",
}
# Query parameters naming the patient a FHIR search is about ("Patient/123" or "123").
_PATIENT_PARAMETERS = frozenset({"patient", "subject", "subject:Patient", "patient:Patient"})
_FHIR_ID = re.compile(FHIR_ID_PATTERN)
# What a request of each method does to what its URL names (a GET depends on the URL).
_WRITES = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"
_FHIR_TYPE = re.compile(r"[A-Z][A-Za-z]+")
_SIMPLIFIED_TYPES = {"notes": "DocumentReference", "interactions": "Encounter"}

AUDIT_EVENT_TYPE = {
    "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
    "code": "rest",
    "display": "RESTful Operation",
}
_SOURCE_TYPE = {
    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
    "code": "4",
    "display": "Application Server",
}
_PATIENT_ROLE = {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1", "display": "Patient"}
_DOMAIN_ROLE = {
    "system": "http://terminology.hl7.org/CodeSystem/object-role",
    "code": "4",
    "display": "Domain Resource",
}


@dataclass
class Access:
    """One request to patient data: its interaction and the records it named."""

    interaction: str
    resource_type: str | None = None
    records: list[tuple[str, str]] = field(default_factory=list)

    @property
    def action(self) -> Action:
        return _ACTIONS[self.interaction]


def simplified_access(method: str, path: str) -> Access | None:
    """The access a simplified-API request makes, or None for one that touches no patient data."""
    parts = [part for part in path.split("/") if part]
    if not parts or parts[0] not in ("patients", "interactions", "api"):
        return None
    if parts[0] == "api":
        return Access("create") if parts[1:] == ["generate", "records"] else None
    kind = "Patient" if parts[0] == "patients" else "Encounter"
    # /patients, /patients/1/notes and /patients/1/immunizations are collections; a
    # patient's summary is read like the patient.
    collection = len(parts) == 1 or (len(parts) == 3 and parts[2] != "summary")
    access = Access(_simplified_interaction(method, collection), kind)
    if len(parts) > 1 and _FHIR_ID.fullmatch(parts[1]):
        access.records.append((kind, parts[1]))
    if kind == "Patient" and len(parts) > 2:
        access.resource_type = _SIMPLIFIED_TYPES.get(parts[2], kind)
        if len(parts) > 3 and parts[2] in _SIMPLIFIED_TYPES and _FHIR_ID.fullmatch(parts[3]):
            access.records.append((access.resource_type, parts[3]))
    return access


def _simplified_interaction(method: str, collection: bool) -> str:
    if method == "GET":
        return "search-type" if collection else "read"
    return _WRITES.get(method, "operation")


def fhir_access(method: str, path: str, query: str) -> Access | None:
    """The access a FHIR-face request makes (`path` below `/fhir`), or None for the
    CapabilityStatement, which is no patient data."""
    parts = [part for part in path.split("/") if part]
    if parts == ["metadata"]:
        return None
    if parts and parts[-1].startswith("$"):
        access = Access("operation", parts[0] if len(parts) > 1 else None)
        if len(parts) == 3:
            access.records.append((parts[0], parts[1]))
    elif not parts or parts[0].startswith("_"):
        system = {"GET": "search-system", "POST": "transaction"}.get(method, "operation")
        access = Access("history-system" if parts == ["_history"] else system)
    else:
        access = _type_access(method, parts)
    if access.resource_type is not None and not _FHIR_TYPE.fullmatch(access.resource_type):
        return Access(access.interaction)
    access.records += _patients_searched(access, query)
    return access


def _type_access(method: str, parts: list[str]) -> Access:
    kind = parts[0]
    if len(parts) == 1:
        return Access(_WRITES.get(method, "search-type"), kind)
    if parts[1] in ("_search", "_history"):
        return Access("search-type" if parts[1] == "_search" else "history-type", kind)
    record = (kind, parts[1])
    if len(parts) == 2:
        interaction = "read" if method == "GET" else _WRITES.get(method, "operation")
    elif parts[2] == "_history":
        interaction = "vread" if len(parts) > 3 else "history-instance"
    else:
        # A compartment search: Patient/123/Observation.
        return Access("search-type", parts[2], [record])
    return Access(interaction, kind, [record])


def _patients_searched(access: Access, query: str) -> list[tuple[str, str]]:
    if not access.interaction.startswith("search"):
        return []
    found = []
    for name, value in parse_qsl(query):
        if name in _PATIENT_PARAMETERS or (name == "_id" and access.resource_type == "Patient"):
            for one in value.split(","):
                patient_id = one.removeprefix("Patient/")
                if _FHIR_ID.fullmatch(patient_id):
                    found.append(("Patient", patient_id))
    return found


def answered_patient(access: Access, patient_id: object) -> None:
    """Add the patient an answer names (`patient_id` of an interaction or a generated record)."""
    if isinstance(patient_id, str) and _FHIR_ID.fullmatch(patient_id):
        access.records.insert(0, ("Patient", patient_id))


def created_record(access: Access, location: str | None) -> None:
    """Add the record a create made, from the `Location` it answered with."""
    if access.interaction != "create" or not location:
        return
    parts = [part for part in location.split("?")[0].split("/") if part]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and _FHIR_ID.fullmatch(parts[-1]):
        kind, record_id = parts[-2], parts[-1]
        access.records.append((_SIMPLIFIED_TYPES.get(kind, "Patient" if kind == "patients" else kind), record_id))


def outcome_code(status: int) -> str:
    """AuditEvent.outcome: 0 success, 4 minor failure (the client's), 8 serious failure (ours)."""
    if status < 400:
        return "0"
    return "4" if status < 500 else "8"


def audit_event(
    access: Access,
    *,
    principal: Principal | None,
    address: str | None,
    status: int,
    request_id: str | None,
    recorded: datetime,
    system_base: str,
) -> dict[str, Any]:
    """The AuditEvent of one answered request."""
    who = principal.identity if principal is not None else "anonymous"
    agent: dict[str, Any] = {
        "who": {"identifier": {"system": f"{system_base}/principal", "value": who}},
        "name": principal.name if principal is not None else "anonymous",
        "requestor": True,
    }
    if address:
        agent["network"] = {"address": address, "type": "2"}
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": AUDIT_EVENT_TYPE,
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": access.interaction}],
        "action": access.action,
        "recorded": recorded.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "outcome": outcome_code(status),
        "outcomeDesc": f"HTTP {status}",
        "agent": [agent],
        "source": {"site": "fhir-gateway", "observer": {"display": "fhir-gateway"}, "type": [_SOURCE_TYPE]},
    }
    if request_id:
        event["extension"] = [{"url": f"{system_base}/StructureDefinition/request-id", "valueString": request_id}]
    entities = [_entity(kind, record_id, system_base) for kind, record_id in dict.fromkeys(access.records)]
    if not entities and access.resource_type is not None:
        entities = [{"type": {"system": _RESOURCE_TYPES, "code": access.resource_type}}]
    if entities:
        event["entity"] = entities
    return event


def _entity(kind: str, record_id: str, system_base: str) -> dict[str, Any]:
    return {
        "what": {"type": kind, "identifier": {"system": f"{system_base}/fhir/{kind}", "value": record_id}},
        "type": {"system": _RESOURCE_TYPES, "code": kind},
        "role": _PATIENT_ROLE if kind == "Patient" else _DOMAIN_ROLE,
        "name": f"{kind}/{record_id}",
    }
