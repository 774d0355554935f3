"""The heading and key facts of a summary, read deterministically from the record: the
structured data as it is, and the notes' text by name (`mappers.clinical_terms`).

- diagnoses: Conditions (as an EHR or a loader wrote them), interactions' ailments (with
  their ICD-10-CM code), and the diseases named on the lines of notes that state diagnoses
  (assessment, impression, diagnosis, past medical history, problem list, and SOAP's `A:`);
- medications: MedicationRequests, and the drugs any note or interaction names, each with
  the dose written after it where there is one (`metformin 1000 mg BID`); the newest
  mention with a dose wins;
- allergies: AllergyIntolerance records, else "no known drug allergies" when a note says so;
- immunizations: every Immunization, newest first;
- observations: the newest value of each vital sign, and the newest interaction's other
  metrics and health status.

Each fact names the record it came from; a fact found in several is given once, from the
newest.
"""

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime

from fhir_gateway.patient_summary.models import Fact, Heading, KeyFacts, Source
from fhir_gateway.patient_summary.record import PatientRecord
from mappers import clinical_terms, icd10cm
from mappers.clinical_terms import Term
from mappers.concepts import first_code, in_words
from mappers.interaction import Interaction
from mappers.note import Note
from mappers.patient import to_domain as patient_to_domain
from mappers.primitives import element, elements, instant, text
from mappers.vitals import VITAL_SIGNS, from_observations

# A line that states diagnoses: its heading, then what it says.
_DIAGNOSIS_LINE = re.compile(
    r"^\s*(?:A|A/P|Assessment(?: and plan)?|Impression|(?:Admitting |Discharge |Secondary )?diagnos[ie]s"
    r"|Secondary|PMH|Past medical history|Problem list|History)\s*:(?P<said>.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_DOSE = re.compile(
    r"\s*(?P<dose>\d+(?:[.,/]\d+)*\s*(?:mg|mcg|µg|g|mL|units?|IU)\b"
    r"(?:\s+(?:PO|IV|IM|SC|SQ|SL|PR|INH))?"
    r"(?:\s+(?:once daily|twice daily|daily|once|BID|TID|QID|QHS|q\d+h|PRN|weekly|nightly|at bedtime))?)",
    re.IGNORECASE,
)
# Conditions their record says are not so.
_NOT_SO = ("refuted", "entered-in-error")
# A line stating allergies, and what it says.
_ALLERGY_LINE = re.compile(r"^\s*(?:drug )?allerg(?:y|ies)\s*:(?P<said>.*)$", re.IGNORECASE | re.MULTILINE)
# Words before a drug that make it the allergen, not a medication.
_ALLERGY_CONTEXT = re.compile(r"\ballerg(?:y|ies|ic)\b", re.IGNORECASE)
_NO_KNOWN_ALLERGIES = re.compile(r"\b(?:NKDA|no known (?:drug )?allergies)\b", re.IGNORECASE)
_BLOOD_PRESSURE = ("bp_systolic", "bp_diastolic")
_SIGN_NAMES = {
    "heart_rate": "Heart rate",
    "respiratory_rate": "Respiratory rate",
    "temperature_c": "Temperature",
    "spo2": "Oxygen saturation",
    "weight_kg": "Weight",
    "height_cm": "Height",
}


def heading(record: PatientRecord, *, system_base: str, today: date) -> Heading:
    patient = patient_to_domain(record.patient, system_base=system_base)
    name = " ".join(part for part in (patient.given_name, patient.family_name) if part) or None
    return Heading(
        name=name,
        age=age_on(patient.birth_date, today) if patient.birth_date else None,
        mrn=patient.mrn,
        birth_date=patient.birth_date,
        gender=patient.gender,
    )


def age_on(birth_date: date, today: date) -> int:
    """Whole years lived on `today` (one more from the birthday itself)."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def key_facts(record: PatientRecord) -> KeyFacts:
    notes = sorted(record.notes, key=lambda note: note.taken_at, reverse=True)
    interactions = sorted(record.interactions, key=lambda visit: visit.interaction_date, reverse=True)
    return KeyFacts(
        diagnoses=_once([*_conditions(record), *_diagnoses(notes, interactions)]),
        medications=_medications(notes, interactions, record),
        allergies=_allergies(record, notes),
        immunizations=[
            Fact(
                text=f"{shot.vaccine or 'Vaccine'}"
                + (f" ({shot.occurred[:10]})" if shot.occurred else "")
                + (f", not given: {shot.status_reason}" if shot.status == "not-done" and shot.status_reason else ""),
                name=shot.vaccine or "Vaccine",
                code=next((code.code for code in shot.vaccine_codes if code.code), None),
                date=shot.occurred,
                source=Source(type="immunization", id=shot.id),
            )
            for shot in sorted(record.immunizations, key=lambda shot: shot.occurred or "", reverse=True)
        ],
        observations=_observations(record, interactions),
    )


def source_text(note: Note) -> str:
    return note.text or ""


def interaction_text(visit: Interaction) -> str:
    """Everything an interaction says in words."""
    parts = [visit.ailment or "", *visit.symptoms, visit.remarks or "", *visit.next_steps]
    parts += [f"{pair.question} {pair.answer}" for pair in visit.qa]
    return "\n".join(part for part in parts if part)


def _diagnoses(notes: list[Note], interactions: list[Interaction]) -> Iterator[Fact]:
    for visit in interactions:
        if visit.ailment or visit.ailment_code:
            # A code another client wrote may be no code of the release: then it stands as written.
            words = visit.ailment or icd10cm.description(visit.ailment_code or "") or visit.ailment_code or ""
            found = clinical_terms.conditions(words, diagnoses_only=True)
            yield Fact(
                text=words,
                name=found[0].name if found else words,
                code=visit.ailment_code,
                date=_when(visit.interaction_date),
                source=Source(type="interaction", id=visit.id),
            )
    for note in notes:
        for line in _DIAGNOSIS_LINE.finditer(source_text(note)):
            for term in clinical_terms.conditions(line["said"], diagnoses_only=True):
                if clinical_terms.denied(line["said"], term):
                    continue
                yield Fact(
                    text=_plain(term),
                    name=term.name,
                    date=_when(note.taken_at),
                    source=Source(type="note", id=note.id),
                )


def _conditions(record: PatientRecord) -> Iterator[Fact]:
    for resource in record.conditions:
        if _status(resource.get("verificationStatus")) in _NOT_SO:
            continue
        concept = element(resource.get("code"))
        words = in_words(concept)
        if not words:
            continue
        found = clinical_terms.conditions(words, diagnoses_only=True)
        resolved = _status(resource.get("clinicalStatus")) in ("resolved", "inactive", "remission")
        yield Fact(
            text=words + (" (resolved)" if resolved else ""),
            name=found[0].name if found else words,
            code=first_code(concept),
            date=_fhir_when(resource.get("onsetDateTime") or resource.get("recordedDate")),
            source=Source(type="condition", id=str(resource.get("id"))),
        )


def _requested(record: PatientRecord) -> Iterator[tuple[Fact, bool]]:
    for resource in record.medication_requests:
        if resource.get("status") in ("entered-in-error", "cancelled"):
            continue
        concept = element(resource.get("medicationCodeableConcept"))
        words = in_words(concept) or text(element(resource.get("medicationReference")).get("display"))
        if not words:
            continue
        dosage = next(iter(elements(resource.get("dosageInstruction"))), {})
        said = " ".join(part for part in (words, text(dosage.get("text"))) if part)
        found = clinical_terms.medications(words)
        if resource.get("status") in ("stopped", "completed"):
            said += f" ({resource['status']})"
        fact = Fact(
            text=said,
            name=found[0].name if found else words,
            code=first_code(concept),
            date=_fhir_when(resource.get("authoredOn")),
            source=Source(type="medication", id=str(resource.get("id"))),
        )
        yield fact, bool(_DOSE.search(said))


def _medications(notes: list[Note], interactions: list[Interaction], record: PatientRecord) -> list[Fact]:
    written: list[tuple[Fact, bool]] = list(_requested(record))
    for visit in interactions:
        said = interaction_text(visit)
        written += [
            _medication(said, term, _when(visit.interaction_date), Source(type="interaction", id=visit.id))
            for term in clinical_terms.medications(said)
            if _taken(said, term)
        ]
    for note in notes:
        said = source_text(note)
        written += [
            _medication(said, term, _when(note.taken_at), Source(type="note", id=note.id))
            for term in clinical_terms.medications(said)
            if _taken(said, term)
        ]
    newest_first = sorted(written, key=lambda item: item[0].date or "", reverse=True)
    chosen: dict[str, Fact] = {}
    for fact, dosed in newest_first:
        held = chosen.get(fact.name)
        if held is None or (dosed and not _DOSE.search(held.text)):
            chosen[fact.name] = fact
    # In the order first chosen: newest first.
    order = list(dict.fromkeys(fact.name for fact, _ in newest_first))
    return [chosen[name] for name in order]


def _taken(text: str, term: Term) -> bool:
    """Whether a drug the text names is one the patient takes or took: not one it denies
    ("not on aspirin"), nor what the patient is allergic to."""
    line_start = text.rfind("\n", 0, term.start) + 1
    return not clinical_terms.denied(text, term) and not _ALLERGY_CONTEXT.search(text[line_start : term.start])


def _medication(text: str, term: Term, when: str, source: Source) -> tuple[Fact, bool]:
    dose = _DOSE.match(text, term.end)
    said = f"{term.written} {dose['dose'].strip()}" if dose else term.written
    return Fact(text=said, name=term.name, date=when, source=source), dose is not None


def _allergies(record: PatientRecord, notes: list[Note]) -> list[Fact]:
    facts = [
        Fact(
            text=(allergy.substance or "Allergy")
            + (f" ({allergy.criticality} criticality)" if allergy.criticality else "")
            + (f" ({allergy.clinical_status})" if allergy.clinical_status in ("inactive", "resolved") else ""),
            name=allergy.substance or "Allergy",
            code=next((code.code for code in allergy.codes if code.code), None),
            date=allergy.recorded or allergy.onset,
            source=Source(type="allergy", id=allergy.id),
        )
        for allergy in record.allergies
        if allergy.verification_status not in _NOT_SO
    ]
    if facts:
        return facts
    # The newest note that says anything of allergies says what is known of them.
    for note in notes:
        stated = [line["said"].strip() for line in _ALLERGY_LINE.finditer(source_text(note))]
        if not stated:
            continue
        source, when = Source(type="note", id=note.id), _when(note.taken_at)
        if all(_NO_KNOWN_ALLERGIES.search(said) for said in stated):
            return [Fact(text="No known drug allergies", name="No known drug allergies", date=when, source=source)]
        facts = []
        for said in stated:
            if _NO_KNOWN_ALLERGIES.search(said) or said.lower() in ("not recorded", "unknown"):
                continue
            allergen = next(iter(clinical_terms.medications(said)), None)
            facts.append(Fact(text=said, name=allergen.name if allergen else said, date=when, source=source))
        return facts
    return []


def _observations(record: PatientRecord, interactions: list[Interaction]) -> list[Fact]:
    latest: dict[str, tuple[float | int, str | None, Source]] = {}
    for observation in record.vital_signs:
        moment = instant(observation.get("effectiveDateTime"))
        when = _when(moment) if moment else None
        source = _observation_source(observation)
        for sign, value in from_observations([observation]).present().items():
            held = latest.get(sign)
            if held is None or (when is not None and (held[1] or "") < when):
                latest[sign] = (value, when, source)
    facts: list[Fact] = []
    if all(sign in latest for sign in _BLOOD_PRESSURE):
        (systolic, when, source), (diastolic, _, _) = latest.pop("bp_systolic"), latest.pop("bp_diastolic")
        facts.append(
            Fact(
                text=f"Blood pressure {systolic}/{diastolic} mmHg",
                name="Blood pressure",
                code="85354-9",
                date=when,
                source=source,
            )
        )
    # In the table's order, whatever order the server returned them in.
    for sign, (value, when, source) in sorted(latest.items(), key=lambda item: list(VITAL_SIGNS).index(item[0])):
        unit = VITAL_SIGNS[sign].unit.replace("Cel", "°C").replace("mm[Hg]", "mmHg")
        facts.append(
            Fact(
                text=f"{_SIGN_NAMES.get(sign, sign)} {value} {unit}".replace(" %", "%"),
                name=_SIGN_NAMES.get(sign, sign),
                code=VITAL_SIGNS[sign].code,
                date=when,
                source=source,
            )
        )
    if interactions:
        newest = interactions[0]
        source = Source(type="interaction", id=newest.id)
        when = _when(newest.interaction_date)
        facts += [
            Fact(text=f"{name} {value}", name=name, date=when, source=source)
            for name, value in newest.metrics.items()
            if name not in VITAL_SIGNS
        ]
        if newest.health_status is not None:
            facts.append(
                Fact(text=f"Health status {newest.health_status}/10", name="Health status", date=when, source=source)
            )
    return facts


def _observation_source(observation: dict[str, object]) -> Source:
    for derived in observation.get("derivedFrom") or []:  # type: ignore[attr-defined]
        reference = str((derived or {}).get("reference") or "")
        if reference.startswith("DocumentReference/"):
            return Source(type="note", id=reference.removeprefix("DocumentReference/"))
    encounter = str((observation.get("encounter") or {}).get("reference") or "")  # type: ignore[union-attr]
    if encounter.startswith("Encounter/"):
        return Source(type="interaction", id=encounter.removeprefix("Encounter/"))
    return Source(type="observation", id=str(observation.get("id")))


def _plain(term: Term) -> str:
    """A condition as the text says it, an abbreviation spelled out."""
    return clinical_terms.ABBREVIATIONS.get(term.written, term.written)


def _once(facts: Iterable[Fact]) -> list[Fact]:
    """Each named thing once, from the newest record that gives it, newest first; a name
    another names more precisely goes ("pneumonia" beside "community-acquired pneumonia")."""
    chosen: dict[str, Fact] = {}
    for fact in sorted(facts, key=lambda fact: fact.date or "", reverse=True):
        chosen.setdefault(fact.name.lower(), fact)
    return [
        fact
        for name, fact in chosen.items()
        if not any(other != name and re.search(rf"\b{re.escape(name)}$", other) for other in chosen)
    ]


def _status(concept: object) -> str | None:
    return first_code(element(concept))


def _fhir_when(value: object) -> str | None:
    """A FHIR dateTime as facts give it: an instant in UTC, a date as it is."""
    moment = instant(value)
    if moment is not None:
        return _when(moment)
    return value[:10] if isinstance(value, str) and len(value) >= 10 else None


def _when(moment: datetime) -> str:
    """A moment as facts give it: in UTC, so that their dates sort as they happened."""
    return moment.astimezone(UTC).isoformat()
