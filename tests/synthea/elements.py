"""FHIR datatypes and bundle entries in the JSON shapes Synthea writes them."""

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Json = dict[str, Any]

SYNTHEA = "https://github.com/synthetichealth/synthea"
SYNTHEA_EXTENSION = "http://synthetichealth.github.io/synthea/"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
NPI = "http://hl7.org/fhir/sid/us-npi"


def us_core(name: str) -> str:
    """The canonical URL of a US Core profile (`us_core("patient")`) or extension (`"race"`)."""
    return f"{US_CORE}us-core-{name}"


def new_uuid(rng: random.Random) -> str:
    """A random (version 4) UUID drawn from `rng`, so a seed always gives the same ones."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def date_time(moment: datetime) -> str:
    """A FHIR dateTime with its offset, to the second (`1985-07-25T22:05:30-05:00`)."""
    return moment.isoformat(timespec="seconds")


def instant(moment: datetime) -> str:
    """A FHIR instant to the millisecond, as Synthea writes `issued`."""
    return moment.isoformat(timespec="milliseconds")


def coding(system: str, code: str, display: str | None = None) -> Json:
    found: Json = {"system": system, "code": code}
    if display is not None:
        found["display"] = display
    return found


def concept(system: str, code: str, display: str) -> Json:
    """A CodeableConcept of one coding whose text repeats the display, as Synthea maps codes."""
    return {"coding": [coding(system, code, display)], "text": display}


def quantity(value: float, unit: str) -> Json:
    """A UCUM Quantity: Synthea writes the UCUM code as the unit too."""
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def money(value: float) -> Json:
    return {"value": round(value, 2), "currency": "USD"}


def by_identifier(system: str, value: str, display: str) -> Json:
    """A logical reference: an identifier, not a resource the server is asked to resolve."""
    return {"identifier": {"system": system, "value": value}, "display": display}


def search_url(resource_type: str, system: str, value: str) -> str:
    """A conditional reference or `ifNoneExist` target: `Type?identifier=system|value`."""
    return f"{resource_type}?identifier={system}|{value}"


@dataclass
class BundleBuilder:
    """Entries as Synthea adds them: a random UUID as id and `urn:uuid:` fullUrl, a POST each.

    `tag`, when given, joins every resource's `meta.tag`, so a test can find its own data.
    """

    rng: random.Random
    kind: str
    tag: Json | None = None
    entries: list[Json] = field(default_factory=list)

    def add(
        self,
        resource: Json,
        *,
        profiles: tuple[str, ...] = (),
        if_none_exist: str | None = None,
        resource_id: str | None = None,
    ) -> str:
        """Add `resource` (with `profiles` in meta) and answer its fullUrl."""
        resource_id = resource_id or new_uuid(self.rng)
        meta: Json = {}
        if profiles:
            meta["profile"] = list(profiles)
        if self.tag is not None:
            meta["tag"] = [self.tag]
        head: Json = {"resourceType": resource["resourceType"], "id": resource_id}
        if meta:
            head["meta"] = meta
        request: Json = {"method": "POST", "url": resource["resourceType"]}
        if if_none_exist is not None:
            request["ifNoneExist"] = if_none_exist
        full_url = f"urn:uuid:{resource_id}"
        self.entries.append({"fullUrl": full_url, "resource": head | resource, "request": request})
        return full_url

    def bundle(self) -> Json:
        return {"resourceType": "Bundle", "type": self.kind, "entry": self.entries}
