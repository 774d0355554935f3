"""How a patient's record points at its hospitals and clinicians: the two Synthea styles.

Synthea 3.x writes conditional references (`Practitioner?identifier=http://hl7.org/fhir/sid/
us-npi|9999963991`) that the server resolves, in the transaction, to the resources the hospital
and practitioner bundles stored. Synthea 2.x put the Organization, Location, Practitioner and
PractitionerRole into each patient's own transaction, as plain creates referenced by
`urn:uuid:` fullUrl, so every patient of a hospital stores that hospital once more.
"""

from dataclasses import dataclass, field
from typing import Protocol

from tests.synthea.directory import Clinician, Hospital, location, organization, practitioner, practitioner_role
from tests.synthea.elements import BundleBuilder, Json, us_core


class DirectoryReferences(Protocol):
    def organization(self, hospital: Hospital) -> Json: ...

    def location(self, hospital: Hospital) -> Json: ...

    def practitioner(self, clinician: Clinician) -> Json: ...


class Conditional:
    """Synthea 3.x: search URLs on the identifiers the hospital and practitioner bundles carry."""

    def organization(self, hospital: Hospital) -> Json:
        return {"reference": hospital.organization_url, "display": hospital.name}

    def location(self, hospital: Hospital) -> Json:
        return {"reference": hospital.location_url, "display": hospital.name}

    def practitioner(self, clinician: Clinician) -> Json:
        return {"reference": clinician.practitioner_url, "display": clinician.display}


@dataclass
class Embedded:
    """Synthea 2.x: the first reference to a hospital or clinician adds its entries to `built`."""

    built: BundleBuilder
    _organizations: dict[str, str] = field(default_factory=dict)
    _locations: dict[str, str] = field(default_factory=dict)
    _practitioners: dict[str, str] = field(default_factory=dict)

    def organization(self, hospital: Hospital) -> Json:
        return {"reference": self._organization_url(hospital), "display": hospital.name}

    def location(self, hospital: Hospital) -> Json:
        url = self._locations.get(hospital.location_id)
        if url is None:
            managed_by = self.organization(hospital)
            url = self.built.add(location(hospital, managed_by, identified=False), profiles=(us_core("location"),))
            self._locations[hospital.location_id] = url
        return {"reference": url, "display": hospital.name}

    def practitioner(self, clinician: Clinician) -> Json:
        url = self._practitioners.get(clinician.npi)
        if url is None:
            url = self.built.add(practitioner(self.built.rng, clinician), profiles=(us_core("practitioner"),))
            self._practitioners[clinician.npi] = url
            role = practitioner_role(
                clinician,
                {"reference": url, "display": clinician.display},
                self.organization(clinician.hospital),
                self.location(clinician.hospital),
                identified=False,
            )
            self.built.add(role, profiles=(us_core("practitionerrole"),))
        return {"reference": url, "display": clinician.display}

    def _organization_url(self, hospital: Hospital) -> str:
        url = self._organizations.get(hospital.organization_id)
        if url is None:
            url = self.built.add(
                organization(self.built.rng, hospital),
                profiles=(us_core("organization"),),
                resource_id=hospital.organization_id,
            )
            self._organizations[hospital.organization_id] = url
        return url
