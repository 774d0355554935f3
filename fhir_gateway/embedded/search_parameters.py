"""The search parameters the store indexes, per resource type (a subset of FHIR R4's).

Paths are dotted element names from the resource root; `[x]` choice elements are listed
as their concrete alternatives, and `telecom[system=phone]` keeps only matching items.
"""

from dataclasses import dataclass
from enum import StrEnum


class ParamType(StrEnum):
    STRING = "string"
    TOKEN = "token"
    DATE = "date"
    REFERENCE = "reference"
    SPECIAL = "special"


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: ParamType
    paths: tuple[str, ...] = ()
    # Resource types a reference parameter may point at; empty means any.
    targets: tuple[str, ...] = ()


def _string(name: str, *paths: str) -> SearchParam:
    return SearchParam(name, ParamType.STRING, paths)


def _token(name: str, *paths: str) -> SearchParam:
    return SearchParam(name, ParamType.TOKEN, paths)


def _date(name: str, *paths: str) -> SearchParam:
    return SearchParam(name, ParamType.DATE, paths)


def _reference(name: str, *paths: str, targets: tuple[str, ...] = ()) -> SearchParam:
    return SearchParam(name, ParamType.REFERENCE, paths, targets)


COMMON: tuple[SearchParam, ...] = (
    SearchParam("_id", ParamType.SPECIAL),
    SearchParam("_lastUpdated", ParamType.SPECIAL),
    _token("_tag", "meta.tag"),
    _token("_profile", "meta.profile"),
    _token("_security", "meta.security"),
)

_PATIENT = ("Patient",)
_PERIOD_OR_DATE = ("effectiveDateTime", "effectivePeriod", "effectiveInstant")

_BY_TYPE: dict[str, tuple[SearchParam, ...]] = {
    "Patient": (
        _token("identifier", "identifier"),
        _string("name", "name"),
        _string("family", "name.family"),
        _string("given", "name.given"),
        _date("birthdate", "birthDate"),
        _token("gender", "gender"),
        _token("active", "active"),
        _string("address", "address"),
        _string("address-city", "address.city"),
        _string("address-state", "address.state"),
        _string("address-postalcode", "address.postalCode"),
        _string("address-country", "address.country"),
        _token("telecom", "telecom.value"),
        _token("phone", "telecom[system=phone].value"),
        _token("email", "telecom[system=email].value"),
        _token("language", "communication.language"),
        _reference("general-practitioner", "generalPractitioner"),
        _reference("organization", "managingOrganization", targets=("Organization",)),
        _reference("link", "link.other"),
    ),
    "Practitioner": (
        _token("identifier", "identifier"),
        _string("name", "name"),
        _string("family", "name.family"),
        _string("given", "name.given"),
        _token("active", "active"),
    ),
    "Organization": (
        _token("identifier", "identifier"),
        _string("name", "name", "alias"),
        _token("active", "active"),
        _reference("partof", "partOf", targets=("Organization",)),
    ),
    "Observation": (
        _token("identifier", "identifier"),
        _token("status", "status"),
        _token("code", "code"),
        _token("category", "category"),
        _token("component-code", "component.code"),
        _token("value-concept", "valueCodeableConcept"),
        _date("date", *_PERIOD_OR_DATE),
        _reference("subject", "subject"),
        _reference("patient", "subject", targets=_PATIENT),
        _reference("encounter", "encounter", targets=("Encounter",)),
        _reference("performer", "performer"),
        _reference("has-member", "hasMember"),
        _reference("derived-from", "derivedFrom"),
    ),
    "Encounter": (
        _token("identifier", "identifier"),
        _token("status", "status"),
        _token("class", "class"),
        _token("type", "type"),
        _token("reason-code", "reasonCode"),
        _date("date", "period"),
        _reference("subject", "subject"),
        _reference("patient", "subject", targets=_PATIENT),
        _reference("participant", "participant.individual"),
        _reference("service-provider", "serviceProvider", targets=("Organization",)),
        _reference("part-of", "partOf", targets=("Encounter",)),
    ),
    "DocumentReference": (
        _token("identifier", "identifier"),
        _token("status", "status"),
        _token("type", "type"),
        _token("category", "category"),
        _token("contenttype", "content.attachment.contentType"),
        _date("date", "date"),
        _date("period", "context.period"),
        _reference("subject", "subject"),
        _reference("patient", "subject", targets=_PATIENT),
        _reference("encounter", "context.encounter"),
        _reference("author", "author"),
        _reference("relatesto", "relatesTo.target", targets=("DocumentReference",)),
    ),
    "Immunization": (
        _token("identifier", "identifier"),
        _token("status", "status"),
        _token("status-reason", "statusReason"),
        _token("vaccine-code", "vaccineCode"),
        _token("target-disease", "protocolApplied.targetDisease"),
        _string("lot-number", "lotNumber"),
        _date("date", "occurrenceDateTime"),
        _date("reaction-date", "reaction.date"),
        _reference("patient", "patient", targets=_PATIENT),
        _reference("performer", "performer.actor"),
        _reference("manufacturer", "manufacturer", targets=("Organization",)),
        _reference("location", "location", targets=("Location",)),
        _reference("reaction", "reaction.detail", targets=("Observation",)),
    ),
    "AllergyIntolerance": (
        _token("identifier", "identifier"),
        _token("clinical-status", "clinicalStatus"),
        _token("verification-status", "verificationStatus"),
        _token("type", "type"),
        _token("category", "category"),
        _token("criticality", "criticality"),
        _token("code", "code", "reaction.substance"),
        _date("date", "recordedDate"),
        _date("onset", "reaction.onset"),
        _reference("patient", "patient", targets=_PATIENT),
        _reference("recorder", "recorder"),
        _reference("asserter", "asserter"),
    ),
    "Condition": (
        _token("identifier", "identifier"),
        _token("code", "code"),
        _token("clinical-status", "clinicalStatus"),
        _token("category", "category"),
        _date("onset-date", "onsetDateTime", "onsetPeriod"),
        _reference("subject", "subject"),
        _reference("patient", "subject", targets=_PATIENT),
        _reference("encounter", "encounter", targets=("Encounter",)),
    ),
    "Composition": (
        _token("identifier", "identifier"),
        _token("status", "status"),
        _token("type", "type"),
        _date("date", "date"),
        _reference("subject", "subject"),
        _reference("patient", "subject", targets=_PATIENT),
        _reference("encounter", "encounter", targets=("Encounter",)),
    ),
}


def params_for(resource_type: str) -> dict[str, SearchParam]:
    """Every parameter a search on `resource_type` accepts, by name."""
    return _INDEX.get(resource_type) or {param.name: param for param in COMMON}


_INDEX: dict[str, dict[str, SearchParam]] = {
    resource_type: {param.name: param for param in (*COMMON, *params)} for resource_type, params in _BY_TYPE.items()
}
