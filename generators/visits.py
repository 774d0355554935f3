"""Doctor-patient interactions for the demo patients: a few clinic visits each, written
through the gateway's own interaction mapping, so they read back through the API as any
interaction recorded there. The first visit also has its synthetic record (the offline
one `POST /api/generate/records` writes for the visit's ICD-10-CM code and CPT 99213),
kept as a note, as that endpoint keeps it.

Each visit is one of a few common reasons to see a family doctor, with its ICD-10-CM
code, the symptoms it brings, the measurements taken and what comes next.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone

from generators.bundles import Resource, urn
from generators.demo_parts import DemoPatient
from mappers import icd10cm
from mappers import patient as patient_mapper
from mappers.interaction import InteractionDraft, encounter, observations
from mappers.note import new_note, to_fhir
from mappers.synthetic_record import AUTHOR, offline_record

# Clinic hours in the province's standard time.
_OFFSETS = {"BC": timezone(timedelta(hours=-8)), "ON": timezone(timedelta(hours=-5))}
_CLINIC_HOURS = (8, 17)
# Visits fall within the last two years, and never before the patient's first birthday.
_LOOKBACK_DAYS = 730
_VISITS_PER_PATIENT = (1, 3)
# The CPT code of an office visit of an established patient, the records' procedure.
_VISIT_CPT = "99213"


@dataclass(frozen=True)
class VisitKind:
    ailment: str
    ailment_code: str
    symptoms: tuple[str, ...]
    labels: tuple[str, ...]
    next_steps: tuple[str, ...]
    question: tuple[str, str]
    extra_metric: tuple[str, float, float] | None = None


VISITS: tuple[VisitKind, ...] = (
    VisitKind(
        "Allergic rhinitis",
        "J30.1",
        ("sneezing", "itchy eyes", "runny nose"),
        ("allergy", "follow-up"),
        ("Start fexofenadine", "Follow up in 2 weeks"),
        ("Any fever?", "No"),
        ("peak_flow_l_min", 380, 520),
    ),
    VisitKind(
        "Acute upper respiratory infection",
        "J06.9",
        ("cough", "sore throat", "nasal congestion"),
        ("respiratory",),
        ("Rest and fluids", "Return if fever lasts over 3 days"),
        ("How long have you had the cough?", "Four days"),
    ),
    VisitKind(
        "Essential hypertension",
        "I10",
        ("headache",),
        ("chronic", "hypertension", "follow-up"),
        ("Continue amlodipine 5 mg daily", "Home blood pressure log", "Follow up in 3 months"),
        ("Are you taking your medication daily?", "Most days"),
    ),
    VisitKind(
        "Type 2 diabetes mellitus without complications",
        "E11.9",
        ("fatigue", "increased thirst"),
        ("chronic", "diabetes"),
        ("Order HbA1c", "Continue metformin 500 mg twice daily"),
        ("Any numbness in the feet?", "No"),
        ("glucose_mmol_l", 5.5, 11.0),
    ),
    VisitKind(
        "Asthma, unspecified, uncomplicated",
        "J45.909",
        ("wheezing", "shortness of breath"),
        ("respiratory", "chronic"),
        ("Review inhaler technique", "Salbutamol as needed"),
        ("Night-time symptoms this week?", "Twice"),
        ("peak_flow_l_min", 250, 420),
    ),
    VisitKind(
        "Low back pain, unspecified",
        "M54.50",
        ("lower back pain",),
        ("musculoskeletal",),
        ("Stay active; heat as needed", "Physiotherapy referral"),
        ("Any numbness or weakness in the legs?", "No"),
        ("pain_score", 3, 7),
    ),
)


def demo_interactions(subject: DemoPatient) -> list[Resource]:
    """A few clinic visits of the patient: each an Encounter and its Observations."""
    rng = subject.rng
    patient = patient_mapper.to_domain(subject.patient, system_base=subject.system_base)
    count = rng.randint(*_VISITS_PER_PATIENT)
    earliest = max(subject.today - timedelta(days=_LOOKBACK_DAYS), subject.birth_date + timedelta(days=366))
    span = (subject.today - timedelta(days=1) - earliest).days
    if span < 1:
        return []
    offset = _OFFSETS.get(subject.province, UTC)
    resources: list[Resource] = []
    for number in range(count):
        kind = VISITS[rng.randrange(len(VISITS))]
        day = earliest + timedelta(days=rng.randrange(span))
        at = datetime.combine(day, time(rng.randrange(*_CLINIC_HOURS), rng.choice((0, 15, 30, 45))), offset)
        metrics: dict[str, bool | int | float | str] = {
            "heart_rate": rng.randint(58, 96),
            "bp_systolic": rng.randint(108, 148),
            "bp_diastolic": rng.randint(64, 92),
            "temperature_c": round(rng.uniform(36.3, 37.6), 1),
            "spo2": rng.randint(95, 100),
        }
        if kind.extra_metric:
            name, low, high = kind.extra_metric
            metrics[name] = (
                rng.randint(int(low), int(high)) if float(low).is_integer() else round(rng.uniform(low, high), 1)
            )
        draft = InteractionDraft(
            patient_id=subject.patient["id"],
            insurance_no=patient.insurance_no,
            insurance_system=patient_mapper.insurance_system(subject.system_base, patient.province),
            interaction_date=at,
            ailment=kind.ailment,
            ailment_code=kind.ailment_code,
            symptoms=list(kind.symptoms[: rng.randint(1, len(kind.symptoms))]),
            metrics=metrics,
            health_status=rng.randint(5, 9),
            qa=[{"question": kind.question[0], "answer": kind.question[1]}],
            next_steps=list(kind.next_steps),
            labels=list(kind.labels),
        )
        visit = encounter(draft, system_base=subject.system_base, subject=subject.reference["reference"])
        visit["id"] = subject.new_id()
        resources.append(visit)
        for observation in observations(
            draft, urn(visit["id"]), system_base=subject.system_base, subject=subject.reference["reference"]
        ):
            resources.append({"id": subject.new_id(), **observation})
        if number == 0:
            resources += _record_note(subject, kind, at)
    return resources


def _record_note(subject: DemoPatient, kind: VisitKind, at: datetime) -> list[Resource]:
    """The synthetic record of a visit, as the note the records endpoint keeps."""
    text = offline_record(
        [(kind.ailment_code, icd10cm.description(kind.ailment_code) or kind.ailment_code)], [(_VISIT_CPT, "I")]
    )
    written = at + timedelta(minutes=30)
    draft = new_note(
        patient_id=subject.patient["id"],
        taken_at=written,
        content=text.encode("utf-8"),
        content_type="text/plain",
        text=text,
        text_source="typed",
        author=AUTHOR,
    )
    document = to_fhir(
        draft, system_base=subject.system_base, stored_at=written, subject=subject.reference["reference"]
    )
    return [{"id": subject.new_id(), **document}]
