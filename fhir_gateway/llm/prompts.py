"""The prompts the gateway sends, each a versioned template: a change of wording is a new
version, and the version is part of what a summary says it was generated with (and of the
cache key), so answers of one prompt are never taken for another's."""

from dataclasses import dataclass
from string import Template


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: Template

    @property
    def label(self) -> str:
        return f"{self.name}/{self.version}"

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The chat messages of the prompt with `values` filled in (every placeholder is required)."""
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user.substitute(values)}]


SUMMARY = Prompt(
    name="patient-summary",
    version="1",
    system=(
        "You write summaries of a patient's record for the reader named below. Use only the facts given: "
        "never name a diagnosis, medication, allergy or result that they do not contain, and say so when "
        "something is unknown. Write plain prose without headings or lists."
    ),
    user=Template(
        "Reader: $audience_instructions\n"
        "Length: $length_instructions\n\n"
        "Patient: $heading\n\n"
        "Key facts (each from the record):\n$key_facts\n\n"
        "Notes, newest first:\n$notes\n\n"
        "Write the summary."
    ),
)

AUDIENCE_INSTRUCTIONS = {
    "clinician": "a clinician; clinical terms, abbreviations and doses are welcome.",
    "family": "the patient's family; plain everyday words, no medical jargon or abbreviations, explain what "
    "each condition and medicine is for in a few words.",
}
LENGTH_INSTRUCTIONS = {
    "brief": "two or three sentences.",
    "standard": "one paragraph of five to eight sentences.",
    "detailed": "two to four paragraphs covering the conditions, medicines, allergies, immunizations and recent "
    "results.",
}
# Most words a narrative of each length needs (the answer's token cap is about 1.5 per word).
LENGTH_WORDS = {"brief": 80, "standard": 220, "detailed": 500}

RECORD = Prompt(
    name="synthetic-record",
    version="1",
    system=(
        "You write synthetic medical records for testing software: realistic, internally consistent, about a "
        "fictional patient, with no real person's name or identifiers. Use the diagnoses and procedures given, "
        "and keep to the layout asked for."
    ),
    user=Template(
        "Diagnoses (ICD-10-CM):\n$diagnoses\n\n"
        "Procedures (CPT codes; their descriptions are not given):\n$procedures\n\n"
        "Write the record with these sections, each headed by its title on its own line: Visit Summary "
        "(admitting and discharge diagnosis, presentation, exam with vital signs, condition at discharge), "
        "History and Physical (examination, allergies, medications, social history, review of systems), "
        "Assessment & Plan, Prescriptions, Follow-Up."
    ),
)
