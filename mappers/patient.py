"""Patient <-> FHIR R4 `Patient`, losslessly: `to_domain(to_fhir(p), ...) == p`.

| field | FHIR |
|---|---|
| id, version, updated_at | `id`, `meta.versionId`, `meta.lastUpdated` |
| mrn | `identifier`: system `{base}/mrn`, type v2-0203 `MR` |
| insurance_no, no province | `identifier`: system `{base}/insurance-no`, type v2-0203 `MB` |
| insurance_no + province | `identifier`: the province's Canada Health Infoway naming system, type `JHN` |
| Ontario version code | that identifier's CA Baseline extension `ext-identifierversion` |
| given_name, family_name | `name[use=official]`: `given` (the given names split on spaces), `family` |
| birth_date, gender | `birthDate`, `gender` |
| phone, email | `telecom` (`system` phone / email) |
| address | `address[0]`: `line`, `city`, `state` (province), `postalCode`, `country` |
| (derived) | `meta.tag`: the name's typo-tolerant search keys, system `{base}/CodeSystem/patient-name-key` |

Reading is forgiving: content this mapping does not know (extensions, other identifiers,
a partial birth date, contact, ...) is ignored, never an error. Writing over a stored
resource (`onto`) replaces only the elements above and keeps everything else.
"""

from datetime import date
from typing import Any, Literal, TypeVar, get_args

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from mappers.name_keys import name_keys
from mappers.primitives import elements, instant, text

Gender = Literal["male", "female", "other", "unknown"]
Province = Literal["AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"]

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
IDENTIFIER_VERSION_EXTENSION = "http://hl7.org/fhir/ca/baseline/StructureDefinition/ext-identifierversion"
_INFOWAY = "https://fhir.infoway-inforoute.ca/NamingSystem"
# Canada Health Infoway's registered naming systems of the provincial health numbers.
PROVINCE_HEALTH_NUMBER_SYSTEMS: dict[str, str] = {
    province: f"{_INFOWAY}/ca-{province.lower()}-patient-healthcare-id" for province in get_args(Province)
} | {"ON": f"{_INFOWAY}/ca-on-patient-hcn"}
_PROVINCE_BY_SYSTEM = {system: province for province, system in PROVINCE_HEALTH_NUMBER_SYSTEMS.items()}
_GENDERS = frozenset(get_args(Gender))


def mrn_system(system_base: str) -> str:
    """The identifier system of the gateway's medical record numbers."""
    return f"{system_base}/mrn"


def insurance_system(system_base: str, province: str | None) -> str:
    """The identifier system of an insurance number of `province` (or of none)."""
    return PROVINCE_HEALTH_NUMBER_SYSTEMS[province] if province else f"{system_base}/insurance-no"


def insurance_systems(system_base: str) -> list[str]:
    """Every system an insurance number may be stored under."""
    return [insurance_system(system_base, None), *PROVINCE_HEALTH_NUMBER_SYSTEMS.values()]


def name_key_system(system_base: str) -> str:
    """The `meta.tag` system of the name search keys."""
    return f"{system_base}/CodeSystem/patient-name-key"


def _tidy(value: str | None) -> str | None:
    """Whitespace runs collapsed to one space; blank text is no text."""
    if value is None:
        return None
    collapsed = " ".join(value.split())
    return collapsed or None


class Address(BaseModel):
    """A postal address; `province` is a province or state code."""

    line: list[str] = Field(default_factory=list, examples=[["123 Fake St"]])
    city: str | None = Field(None, examples=["Vancouver"])
    province: str | None = Field(None, examples=["BC"])
    postal_code: str | None = Field(None, examples=["V5K 0A1"])
    country: str | None = Field(None, examples=["CA"])

    @field_validator("line", mode="after")
    @classmethod
    def _tidy_lines(cls, lines: list[str]) -> list[str]:
        return [tidy for line in lines if (tidy := _tidy(line))]

    @field_validator("city", "province", "postal_code", "country", mode="after")
    @classmethod
    def _tidy_text(cls, value: str | None) -> str | None:
        return _tidy(value)

    def is_empty(self) -> bool:
        return not self.line and not any((self.city, self.province, self.postal_code, self.country))


class PatientFields(BaseModel):
    """What a client says about a patient. Text is tidied (trimmed, inner whitespace runs
    collapsed, blank -> None) so that every value survives the trip through FHIR."""

    mrn: str | None = Field(None, description="Medical record number.", examples=["MRN-00012345"])
    # Before insurance_no: the number's check depends on the province.
    province: Province | None = Field(
        None, description="Province or territory that issued `insurance_no`.", examples=["BC"]
    )
    insurance_no: str | None = Field(None, description="Provincial health number.", examples=["9698658215"])
    given_name: str | None = Field(None, description="Given names, separated by spaces.", examples=["Ada Marie"])
    family_name: str | None = Field(None, examples=["Lovelace"])
    birth_date: date | None = Field(None, examples=["1980-12-10"])
    gender: Gender | None = Field(None, examples=["female"])
    phone: str | None = Field(None, examples=["+1 604 555 0100"])
    email: str | None = Field(None, examples=["ada@example.org"])
    address: Address | None = None

    @field_validator("mrn", "insurance_no", "given_name", "family_name", "phone", "email", mode="after")
    @classmethod
    def _tidy_text(cls, value: str | None) -> str | None:
        return _tidy(value)

    @field_validator("address", mode="after")
    @classmethod
    def _no_empty_address(cls, address: Address | None) -> Address | None:
        return None if address is None or address.is_empty() else address


class Patient(PatientFields):
    """A patient as stored: the client's fields plus what the FHIR server assigned."""

    id: str | None = Field(None, description="The FHIR Patient id.")
    version: str | None = Field(None, description="The FHIR versionId; send it back in `If-Match`.")
    updated_at: AwareDatetime | None = Field(None, description="When this version was stored.")


StoredPatient = TypeVar("StoredPatient", bound=Patient)


# -- to FHIR ------------------------------------------------------------------------------------


def to_fhir(patient: PatientFields, *, system_base: str, onto: dict[str, Any] | None = None) -> dict[str, Any]:
    """The FHIR `Patient` for `patient`.

    With `onto` (a stored Patient), elements this mapping does not own are kept from it:
    extensions, other identifiers, other kinds of telecom, contacts, and so on, and its id
    unless `patient` has one.
    """
    resource: dict[str, Any] = {"resourceType": "Patient"}
    kept = _kept_from(onto or {}, system_base)
    resource_id = patient.id if isinstance(patient, Patient) and patient.id else text((onto or {}).get("id"))
    if resource_id:
        resource["id"] = resource_id
    meta = _meta(patient, kept.pop("meta", {}), system_base)
    if meta:
        resource["meta"] = meta
    resource.update({key: value for key, value in kept.items() if key not in ("identifier", "telecom")})

    identifiers = [*kept.get("identifier", []), *_identifiers(patient, system_base)]
    if identifiers:
        resource["identifier"] = identifiers
    if patient.given_name or patient.family_name:
        resource["name"] = [_human_name(patient)]
    telecom = [*_telecom(patient), *kept.get("telecom", [])]
    if telecom:
        resource["telecom"] = telecom
    if patient.gender:
        resource["gender"] = patient.gender
    if patient.birth_date:
        resource["birthDate"] = patient.birth_date.isoformat()
    if patient.address:
        resource["address"] = [_address(patient.address)]
    return resource


def _kept_from(stored: dict[str, Any], system_base: str) -> dict[str, Any]:
    """What of a stored Patient this mapping does not own."""
    owned_systems = {mrn_system(system_base), *insurance_systems(system_base)}
    kept = {
        key: value
        for key, value in stored.items()
        if key not in ("resourceType", "id", "name", "gender", "birthDate", "address", "identifier", "telecom")
    }
    identifiers = [
        item
        for item in elements(stored.get("identifier"))
        if not (isinstance(item.get("system"), str) and item["system"] in owned_systems)
    ]
    telecom = [item for item in elements(stored.get("telecom")) if item.get("system") not in ("phone", "email")]
    if identifiers:
        kept["identifier"] = identifiers
    if telecom:
        kept["telecom"] = telecom
    return kept


def _meta(patient: PatientFields, stored_meta: Any, system_base: str) -> dict[str, Any]:
    meta = {
        key: value
        for key, value in (stored_meta if isinstance(stored_meta, dict) else {}).items()
        if key not in ("versionId", "lastUpdated", "tag")
    }
    if isinstance(patient, Patient):
        if patient.version:
            meta["versionId"] = patient.version
        if patient.updated_at:
            meta["lastUpdated"] = patient.updated_at.isoformat()
    key_system = name_key_system(system_base)
    stored_tags = stored_meta.get("tag") if isinstance(stored_meta, dict) else None
    tags = [tag for tag in elements(stored_tags) if tag.get("system") != key_system]
    tags += [{"system": key_system, "code": key} for key in name_keys(patient.given_name, patient.family_name)]
    if tags:
        meta["tag"] = tags
    return meta


def _identifiers(patient: PatientFields, system_base: str) -> list[dict[str, Any]]:
    identifiers = []
    if patient.mrn:
        identifiers.append(
            {"type": _v2_type("MR", "Medical record number"), "system": mrn_system(system_base), "value": patient.mrn}
        )
    if patient.insurance_no:
        identifiers.append(_insurance_identifier(patient.insurance_no, patient.province, system_base))
    return identifiers


def _insurance_identifier(number: str, province: str | None, system_base: str) -> dict[str, Any]:
    identifier: dict[str, Any] = {
        "type": _v2_type("JHN", "Jurisdictional health number (Canada)")
        if province
        else _v2_type("MB", "Member Number"),
        "system": insurance_system(system_base, province),
        "value": number,
    }
    digits, version = _split_version(number) if province == "ON" else (number, None)
    if version:
        identifier["value"] = digits
        identifier["extension"] = [{"url": IDENTIFIER_VERSION_EXTENSION, "valueString": version}]
    return identifier


def _split_version(number: str) -> tuple[str, str | None]:
    """An Ontario number's ten digits and its version code, when it has that shape."""
    if len(number) == 12 and number[:10].isdigit() and number[10:].isalpha():
        return number[:10], number[10:]
    return number, None


def _v2_type(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": V2_0203, "code": code, "display": display}]}


def _human_name(patient: PatientFields) -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official"}
    if patient.family_name:
        name["family"] = patient.family_name
    if patient.given_name:
        name["given"] = patient.given_name.split(" ")
    return name


def _telecom(patient: PatientFields) -> list[dict[str, Any]]:
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    return telecom


def _address(address: Address) -> dict[str, Any]:
    fhir_address: dict[str, Any] = {}
    if address.line:
        fhir_address["line"] = list(address.line)
    for field, element in (("city", "city"), ("province", "state"), ("postal_code", "postalCode")):
        value = getattr(address, field)
        if value:
            fhir_address[element] = value
    if address.country:
        fhir_address["country"] = address.country
    return fhir_address


# -- to the domain ------------------------------------------------------------------------------


def to_domain(resource: dict[str, Any], *, system_base: str, model: type[StoredPatient] = Patient) -> StoredPatient:
    """The Patient a FHIR `Patient` describes, as a `model` (a `Patient`, or a subclass that
    demands more of it); whatever this mapping does not know is ignored."""
    meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
    fields: dict[str, Any] = {
        "id": text(resource.get("id")),
        "version": text(meta.get("versionId")),
        "updated_at": instant(meta.get("lastUpdated")),
        "mrn": _identifier_value(resource, mrn_system(system_base)),
        "birth_date": _date(resource.get("birthDate")),
        "gender": text(resource.get("gender")) if text(resource.get("gender")) in _GENDERS else None,
        "phone": _telecom_value(resource, "phone"),
        "email": _telecom_value(resource, "email"),
        "address": _domain_address(resource),
    }
    fields |= _insurance(resource, system_base)
    fields |= _names(resource)
    return model.model_validate(fields)


def _identifier_value(resource: dict[str, Any], system: str) -> str | None:
    for identifier in elements(resource.get("identifier")):
        if identifier.get("system") == system and text(identifier.get("value")):
            return text(identifier.get("value"))
    return None


def _insurance(resource: dict[str, Any], system_base: str) -> dict[str, Any]:
    generic = insurance_system(system_base, None)
    for identifier in elements(resource.get("identifier")):
        system, value = identifier.get("system"), text(identifier.get("value"))
        if not value or not isinstance(system, str) or (system != generic and system not in _PROVINCE_BY_SYSTEM):
            continue
        version = next(
            (
                text(extension.get("valueString"))
                for extension in elements(identifier.get("extension"))
                if extension.get("url") == IDENTIFIER_VERSION_EXTENSION
            ),
            None,
        )
        return {"insurance_no": value + (version or ""), "province": _PROVINCE_BY_SYSTEM.get(system)}
    return {}


def full_name(resource: dict[str, Any]) -> str:
    """The given names and family name a FHIR Patient reads as ("" when it has none),
    without the cost of a whole `to_domain`."""
    names = _names(resource)
    return " ".join(" ".join(part.split()) for part in (names["given_name"], names["family_name"]) if part)


def _names(resource: dict[str, Any]) -> dict[str, Any]:
    names = elements(resource.get("name"))
    name = next((item for item in names if item.get("use") == "official"), names[0] if names else {})
    parts = name.get("given")
    given = [item for part in parts if (item := text(part))] if isinstance(parts, list) else []
    return {"given_name": " ".join(given) or None, "family_name": text(name.get("family"))}


def _telecom_value(resource: dict[str, Any], system: str) -> str | None:
    return next(
        (
            text(item.get("value"))
            for item in elements(resource.get("telecom"))
            if item.get("system") == system and text(item.get("value"))
        ),
        None,
    )


def _domain_address(resource: dict[str, Any]) -> dict[str, Any] | None:
    addresses = elements(resource.get("address"))
    if not addresses:
        return None
    address = addresses[0]
    lines = address.get("line")
    return {
        "line": [item for line in lines if (item := text(line))] if isinstance(lines, list) else [],
        "city": text(address.get("city")),
        "province": text(address.get("state")),
        "postal_code": text(address.get("postalCode")),
        "country": text(address.get("country")),
    }


def _date(value: Any) -> date | None:
    # A partial birth date ("1980", "1980-12") has no place in a date field; it is left out.
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
