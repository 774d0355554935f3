"""Synthea-shaped bundles, built from a seed: what to POST to a FHIR base, and what it stores.

A Synthea 3.x export is a hospital batch bundle, a practitioner batch bundle, and one
transaction per patient whose references to hospitals, locations and practitioners are
conditional (`Organization?identifier=https://github.com/synthetichealth/synthea|<uuid>`).
A 2.x export has only the patient transactions, each carrying its own copies of them (see
`references`). `synthea_set` builds either; the same seed and salt give the same bundles,
and another salt gives other identifiers, so one server can hold several sets.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum

from tests.synthea import billing, clinical, treatment
from tests.synthea.directory import (
    Clinician,
    Hospital,
    address,
    hospital_bundle,
    make_clinicians,
    make_hospitals,
    practitioner_bundle,
    synthea_name,
)
from tests.synthea.elements import BundleBuilder, Json, concept, instant, new_uuid, us_core
from tests.synthea.references import Conditional, DirectoryReferences, Embedded
from tests.synthea.terminology import (
    ADMINISTERED,
    ALLERGENS,
    AMBULATORY,
    CARE_PLANS,
    CONDITIONS,
    DEVICES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    INPATIENT,
    MEDICATIONS,
    PROCEDURES,
    SUPPLIES,
    TERMINOLOGY,
    URGENT,
    VACCINES,
    WELLNESS,
    Code,
)
from tests.synthea.visit import Visit

# Wellness visits are the most common; the others bring the remaining resource types. Six
# encounters hold every type; the default twelve make a bundle of about two hundred entries.
SCHEDULE = (WELLNESS, AMBULATORY, WELLNESS, URGENT, WELLNESS, INPATIENT)
DEFAULT_ENCOUNTERS = 12
EASTERN = timezone(timedelta(hours=-5))
FIRST_VISIT = datetime(2012, 1, 9, 8, 30, tzinfo=EASTERN)


class Style(StrEnum):
    """Which Synthea wrote the export: 3.x (conditional references) or 2.x (embedded copies)."""

    V3 = "3.x"
    V2 = "2.x"


@dataclass(frozen=True)
class SyntheaSet:
    """The bundles to POST to the FHIR base, in order, and what the server then holds."""

    bundles: list[Json]
    hospitals: list[Hospital]
    clinicians: list[Clinician]

    @property
    def counts(self) -> Counter[str]:
        """Resources stored per type once every bundle is posted to a server that held none of
        them: each plain create stores one, conditional creates one per distinct criteria."""
        plain: Counter[str] = Counter()
        conditional: set[tuple[str, str]] = set()
        for bundle in self.bundles:
            for entry in bundle["entry"]:
                request = entry["request"]
                if "ifNoneExist" in request:
                    conditional.add((request["url"], request["ifNoneExist"]))
                else:
                    plain[request["url"]] += 1
        return plain + Counter(resource_type for resource_type, _ in conditional)

    @property
    def entries(self) -> int:
        return sum(len(bundle["entry"]) for bundle in self.bundles)

    @property
    def patient_bundles(self) -> list[Json]:
        return [bundle for bundle in self.bundles if bundle["type"] == "transaction"]


def synthea_set(
    seed: int,
    patients: int,
    *,
    salt: str,
    style: Style = Style.V3,
    encounters: int = DEFAULT_ENCOUNTERS,
    tag: Json | None = None,
) -> SyntheaSet:
    """`patients` patients of a few hospitals (one per five patients, at least two), two
    clinicians each; `tag` joins every resource's `meta.tag`."""
    rng = random.Random(f"{seed}:{salt}")
    hospitals = make_hospitals(rng, max(2, patients // 5))
    clinicians = make_clinicians(rng, hospitals, per_hospital=2)
    bundles = [
        patient_bundle(rng, hospitals, clinicians, encounters=encounters, style=style, tag=tag) for _ in range(patients)
    ]
    if style is Style.V3:
        bundles[:0] = [hospital_bundle(rng, hospitals, tag=tag), practitioner_bundle(rng, clinicians, tag=tag)]
    return SyntheaSet(bundles, hospitals, clinicians)


def patient_bundle(
    rng: random.Random,
    hospitals: list[Hospital],
    clinicians: list[Clinician],
    *,
    encounters: int = DEFAULT_ENCOUNTERS,
    style: Style = Style.V3,
    tag: Json | None = None,
) -> Json:
    """One patient's transaction: a Patient, `encounters` encounters with what each produced
    (observations, reports, notes, claims, ...) and a Provenance targeting every entry. Most
    visits are at the patient's own hospital; every encounter has a clinician of its hospital."""
    built = BundleBuilder(rng, "transaction", tag)
    refs: DirectoryReferences = Conditional() if style is Style.V3 else Embedded(built)
    gender = rng.choice(["male", "female"])
    given, family = synthea_name(rng, GIVEN_NAMES), synthea_name(rng, FAMILY_NAMES)
    birth_date = date(rng.randrange(1940, 1995), rng.randrange(1, 13), rng.randrange(1, 29))
    patient_url = clinical.patient(
        built, given=given, family=family, gender=gender, birth_date=birth_date, home=address(rng)
    )
    patient_ref = {"reference": patient_url, "display": f"{given} {family}"}
    home = rng.choice(hospitals)
    start = FIRST_VISIT + timedelta(days=rng.randrange(0, 60))
    last_clinician = clinicians[0]
    for index in range(encounters):
        kind = SCHEDULE[index % len(SCHEDULE)]
        hospital = home if kind is WELLNESS or rng.random() < 0.7 else rng.choice(hospitals)
        last_clinician = rng.choice([clinician for clinician in clinicians if clinician.hospital == hospital])
        length = timedelta(days=rng.randrange(1, 4)) if kind is INPATIENT else timedelta(minutes=rng.randrange(15, 60))
        encounter_id = new_uuid(rng)
        visit = Visit(
            built, refs, patient_ref, f"urn:uuid:{encounter_id}", kind, start, start + length, hospital, last_clinician
        )
        _encounter(visit, encounter_id, first=index == 0, last=index == encounters - 1)
        start += timedelta(days=rng.randrange(120, 240), minutes=rng.randrange(-90, 90))
    _provenance(built, refs, last_clinician, home, recorded=start)
    return built.bundle()


def _encounter(visit: Visit, encounter_id: str, *, first: bool, last: bool) -> None:
    """The Encounter and what a visit of its kind produces, then its note, Claim and EOB."""
    rng = visit.rng
    reason = None if visit.kind is WELLNESS else rng.choice(CONDITIONS)
    clinical.encounter(visit, encounter_id, reason)
    charges = billing.Charges()
    if reason is not None:
        diagnosis = clinical.condition(visit, reason, resolved=visit.kind is not AMBULATORY)
        charges.diagnoses.append((diagnosis, reason))
    if first:
        allergen, category = rng.choice(ALLERGENS)
        clinical.allergy(visit, allergen, category)
    _by_kind(visit, charges)
    clinical.clinical_note(visit, _note_text(visit, reason), current=last)
    claim_url = billing.encounter_claim(visit, charges)
    billing.explanation_of_benefit(visit, claim_url, claim_url.removeprefix("urn:uuid:"), charges)


def _by_kind(visit: Visit, charges: billing.Charges) -> None:
    rng = visit.rng
    kind = visit.kind
    diagnosis = charges.diagnoses[0] if charges.diagnoses else None
    if kind is WELLNESS:
        clinical.vital_signs(visit)
        clinical.metabolic_panel(visit)
        vaccine = rng.choice(VACCINES)
        charges.immunizations.append((treatment.immunization(visit, vaccine), vaccine))
        assessment = PROCEDURES[1]
        charges.procedures.append((treatment.procedure(visit, assessment), assessment))
    elif kind is AMBULATORY:
        assert diagnosis is not None
        code = rng.choice(PROCEDURES)
        charges.procedures.append((treatment.procedure(visit, code, diagnosis), code))
        prescription = treatment.medication_request(visit, rng.choice(MEDICATIONS), diagnosis[0], as_resource=False)
        billing.medication_claim(visit, prescription)
        treatment.care_plan(visit, *rng.choice(CARE_PLANS), reason=diagnosis)
    elif kind is URGENT:
        assert diagnosis is not None
        drug = rng.choice(ADMINISTERED)
        prescription = treatment.medication_request(visit, drug, diagnosis[0], as_resource=True)
        billing.medication_claim(visit, prescription)
        treatment.medication_administration(visit, drug, diagnosis[0])
        treatment.supply_delivery(visit, rng.choice(SUPPLIES))
    else:
        assert diagnosis is not None
        code = rng.choice(PROCEDURES)
        charges.procedures.append((treatment.procedure(visit, code, diagnosis), code))
        treatment.imaging_study(visit)
        treatment.device(visit, rng.choice(DEVICES))


def _note_text(visit: Visit, reason: Code | None) -> str:
    complaint = "No complaints." if reason is None else f"Patient is presenting with {reason.display}."
    return (
        f"\n{visit.start.date().isoformat()}\n\n# Chief Complaint\n{complaint}\n\n# History of Present Illness\n"
        f"{visit.patient['display']} is seen at {visit.hospital.name}.\n\n# Assessment and Plan\n\n## Plan\n\n"
    )


def _provenance(
    built: BundleBuilder, refs: DirectoryReferences, clinician: Clinician, home: Hospital, recorded: datetime
) -> None:
    """The Provenance Synthea ends a patient's bundle with: it targets every entry before it."""
    # First, since a 2.x bundle gets its copies of the two on first reference: they are targets too.
    who, on_behalf_of = refs.practitioner(clinician), refs.organization(home)
    targets = [{"reference": entry["fullUrl"]} for entry in built.entries]

    def agent(system: str, code: str, display: str) -> Json:
        return {"type": concept(system, code, display), "who": who, "onBehalfOf": on_behalf_of}

    resource: Json = {
        "resourceType": "Provenance",
        "target": targets,
        "recorded": instant(recorded),
        "agent": [
            agent(f"{TERMINOLOGY}provenance-participant-type", "author", "Author"),
            agent(
                "http://hl7.org/fhir/us/core/CodeSystem/us-core-provenance-participant-type",
                "transmitter",
                "Transmitter",
            ),
        ],
    }
    built.add(resource, profiles=(us_core("provenance"),))
