"""One encounter as the resources it produces see it: who, where, when, and in which bundle."""

import random
from dataclasses import dataclass
from datetime import datetime

from tests.synthea.directory import Clinician, Hospital
from tests.synthea.elements import BundleBuilder, Json, date_time
from tests.synthea.references import DirectoryReferences
from tests.synthea.terminology import EncounterKind


@dataclass(frozen=True)
class Visit:
    """One encounter, as the resources it holds refer to it."""

    built: BundleBuilder
    refs: DirectoryReferences
    patient: Json
    encounter: str
    kind: EncounterKind
    start: datetime
    end: datetime
    hospital: Hospital
    clinician: Clinician

    @property
    def rng(self) -> random.Random:
        return self.built.rng

    @property
    def period(self) -> Json:
        return {"start": date_time(self.start), "end": date_time(self.end)}

    @property
    def encounter_ref(self) -> Json:
        return {"reference": self.encounter}

    @property
    def subject(self) -> Json:
        """The reference to the patient, as a resource's subject or patient holds it."""
        return {"reference": self.patient["reference"]}
