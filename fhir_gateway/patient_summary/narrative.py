"""A summary's narrative: the prompt a language model is given, the offline narrative
written from the key facts alone, and the check that a model's narrative names only
medications and diagnoses the record holds."""

from fhir_gateway.llm.prompts import AUDIENCE_INSTRUCTIONS, LENGTH_INSTRUCTIONS, LENGTH_WORDS, SUMMARY
from fhir_gateway.patient_summary.facts import interaction_text, source_text
from fhir_gateway.patient_summary.models import Audience, Fact, Heading, KeyFacts, Length
from fhir_gateway.patient_summary.record import PatientRecord
from mappers import clinical_terms

# The notes a prompt carries, newest and most informative first: about 3,000 tokens (four
# characters a token), and at most this much of any one note.
NOTES_BUDGET_CHARACTERS = 12_000
NOTE_CHARACTERS = 3_000
# How many of each kind of fact a narrative of each length mentions.
_MENTIONS = {"brief": 3, "standard": 6, "detailed": 50}
_PRONOUNS = {"female": ("She", "Her", "takes or has taken"), "male": ("He", "His", "takes or has taken")}
_GENDER_WORDS = {"female": "female", "male": "male", "other": "of another gender"}


def prompt_messages(
    record: PatientRecord, heading: Heading, facts: KeyFacts, audience: Audience, length: Length
) -> list[dict[str, str]]:
    """The chat messages asking for the narrative: the heading without identifiers (no MRN,
    no health number, no birth date: the age says enough), the key facts, and the notes."""
    person = ", ".join(
        part
        for part in (heading.name, f"{heading.age} years old" if heading.age is not None else None, heading.gender)
        if part
    )
    return SUMMARY.messages(
        audience_instructions=AUDIENCE_INSTRUCTIONS[audience],
        length_instructions=LENGTH_INSTRUCTIONS[length],
        heading=person or "unknown",
        key_facts=_fact_lines(facts),
        notes=_note_excerpts(record) or "(none)",
    )


def answer_tokens(length: Length) -> int:
    """The most tokens a narrative of `length` may take."""
    return LENGTH_WORDS[length] * 2


def offline_narrative(heading: Heading, facts: KeyFacts, audience: Audience, length: Length) -> str:
    """A narrative written from the key facts alone: the same facts give the same words."""
    most = _MENTIONS[length]
    subject, possessive, verb = _PRONOUNS.get(heading.gender or "", ("They", "Their", "take or have taken"))
    clinician = audience == "clinician"
    sentences: list[str] = []
    if clinician:
        described = " ".join(
            part
            for part in (
                f"{heading.age}-year-old" if heading.age is not None else None,
                _GENDER_WORDS.get(heading.gender or ""),
            )
            if part
        )
        sentences.append(", ".join(part for part in (heading.name or "The patient", described) if part) + ".")
    elif heading.age is not None:
        first = heading.name.split()[0] if heading.name else "The patient"
        sentences.append(f"{first} is {heading.age} years old.")
    if facts.diagnoses:
        named = _listed([_words(fact, clinician) for fact in facts.diagnoses[:most]])
        sentences.append(f"Diagnoses: {named}." if clinician else f"{possessive} health problems include {named}.")
    if facts.medications:
        named = _listed([fact.text if clinician else fact.name.lower() for fact in facts.medications[:most]])
        sentences.append(f"Medications: {named}." if clinician else f"{subject} {verb} {named}.")
    if length != "brief":
        if facts.allergies:
            named = _listed([fact.text for fact in facts.allergies[:most]])
            sentences.append(f"Allergies: {named}." if clinician else f"Allergies on record: {named.lower()}.")
        if facts.observations:
            named = _listed([fact.text for fact in facts.observations[:most]])
            sentences.append(f"Latest measurements: {named}.")
        if facts.immunizations:
            named = _listed([fact.text for fact in facts.immunizations[:most]])
            sentences.append(f"Immunizations: {named}.")
    if len(sentences) <= 1:
        sentences.append("The record holds no diagnoses, medications or measurements yet.")
    return " ".join(sentences)


def ungrounded(narrative: str, record: PatientRecord, facts: KeyFacts) -> list[str]:
    """The medications and diagnoses `narrative` names that no source of the summary holds."""
    said = "\n".join(
        [source_text(note) for note in record.notes]
        + [interaction_text(visit) for visit in record.interactions]
        + [allergy.substance or "" for allergy in record.allergies]
        + [shot.vaccine or "" for shot in record.immunizations]
        + [fact.text for fact in facts.diagnoses]
        + [fact.text for fact in facts.medications if fact.source.type == "medication"]
    )
    drugs = {part for term in clinical_terms.medications(said) for part in (term.name, *term.name.split("-"))}
    # What the record denies ("no hypoglycemia") it does not hold.
    diseases = {term.name for term in clinical_terms.conditions(said) if not clinical_terms.denied(said, term)}
    diseases |= {fact.name for fact in facts.diagnoses}
    # One warning per thing named, however often and in whatever case it is written.
    invented: dict[str, str] = {}
    for term in clinical_terms.medications(narrative):
        if term.name not in drugs and not all(part in drugs for part in term.name.split("-")):
            invented.setdefault(
                term.name,
                f"The narrative names the medication {term.written!r}, which no source of this summary holds.",
            )
    for term in clinical_terms.conditions(narrative, diagnoses_only=True):
        if term.name not in diseases:
            invented.setdefault(
                term.name, f"The narrative names the diagnosis {term.written!r}, which no source of this summary holds."
            )
    return list(invented.values())


def _fact_lines(facts: KeyFacts) -> str:
    lines = []
    for kind, found in facts:
        lines += [f"- {kind}: {fact.text}" + (f" ({fact.date[:10]})" if fact.date else "") for fact in found]
    return "\n".join(lines) or "(none)"


def _note_excerpts(record: PatientRecord) -> str:
    """Notes newest first, those naming more drugs and diseases before those naming none,
    within the budget."""

    def weight(note_text: str) -> int:
        return len(clinical_terms.medications(note_text)) + len(clinical_terms.conditions(note_text))

    notes = sorted(record.notes, key=lambda note: note.taken_at, reverse=True)
    ordered = sorted(notes, key=lambda note: weight(source_text(note)) == 0)
    excerpts: list[str] = []
    left = NOTES_BUDGET_CHARACTERS
    for note in ordered:
        text = source_text(note).strip()
        if not text or left <= 0:
            continue
        excerpt = text[: min(NOTE_CHARACTERS, left)]
        excerpts.append(f"[{note.taken_at.date().isoformat()}, {note.note_type}]\n{excerpt}")
        left -= len(excerpt)
    return "\n\n".join(excerpts)


def _words(fact: Fact, clinician: bool) -> str:
    words = fact.text
    if clinician and fact.code:
        words = f"{words} ({fact.code})"
    return words if clinician else words.lower()


def _listed(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    if len(unique) <= 2:
        return " and ".join(unique)
    return ", ".join(unique[:-1]) + f" and {unique[-1]}"
