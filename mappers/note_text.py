"""What a clinical note's text says: its type, its SOAP sections, the vital signs written in it.

All three are transparent rules, so that a reader can see why a note got its answer:

- the type comes from the note's heading when it has one ("DISCHARGE SUMMARY",
  "Nursing note:", "Telephone encounter"), else from the phrases each kind of note uses
  ("hospital course", "reason for consult", "call bell", "requesting a refill"), the
  phrases of a history and physical counting for an admission note or a consult that has
  phrases of its own, and SOAP structure counting for a progress note; with neither it is
  `other`;
- SOAP sections are cut at `S:`/`O:`/`A:`/`P:` or spelled-out headings (any case) that
  start a line or a sentence, in S-O-A-P order; fewer than two such headings is no SOAP
  structure, and no sections are returned;
- vital signs are read where a label names them (BP 150/90, HR or pulse 96, T 38.6 C or
  101.2 F, SpO2 95%, RR 18, weight 78 kg or 172 lb, height 170 cm); the first value of each
  is taken, converted to the unit `mappers.vitals` keeps, and refused when implausible.
"""

import re
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, Field

from mappers.vitals import Measure, Vitals, implausible, rounded

NoteType = Literal["admission", "progress", "consult", "discharge", "nursing", "history-and-physical", "other"]
NOTE_TYPES: tuple[str, ...] = get_args(NoteType)

# Headings, tried in this order on the titles of the note's first lines: a nurse's
# "Nursing admission assessment" is a nursing note, a "Telephone follow-up" is no visit, and
# an "Admission H&P" is an admission note before it is a history and physical.
_HEADINGS: tuple[tuple[NoteType, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (
            "nursing",
            r"\bnursing\b(?!\s+(?:home|facility))|\bnurse(?:'s|s')?\s+note\b"
            r"|\b(?:rn|lpn|rpn)\s+(?:note|assessment)\b|\bshift\s+(?:note|assessment)\b",
        ),
        (
            "other",
            r"\b(?:tele)?phone\s+(?:encounter|note|call|contact|conversation)\b|\btelephone\b|^refills?\b"
            r"|\brefill\s+(?:request|only)\b|\b(?:medication|prescription|rx)\s+(?:refill|renewal)\b"
            r"|\bno[- ]show\b|\bprocedure\s+note\b|(?<!post-)(?<!post )\b(?:op|operative)\s+(?:note|report)\b"
            r"|\bsocial\s+work\b",
        ),
        ("discharge", r"\bdischarge\s+(?:summary|note|report)\b|\bd/c\s+summary\b"),
        # "Date of admission", "Admission date", "Day 3 of admission" are what a line says
        # about an admission, not the heading of an admission note.
        (
            "admission",
            r"(?<!\bof )(?<!\bfor )(?<!\bon )(?<!\bat )(?<!\bsince )(?<!\bpre-)(?<!\bpre )\badmission\b"
            r"(?!\s+(?:date|diagnos[ie]s|dx|weight|labs?|medications?|orders?)\b)|\badmit(?:ting)?\s+note\b",
        ),
        ("consult", r"\bconsult(?:ation)?\b"),
        (
            "history-and-physical",
            r"\bhistory\s+(?:and|&|\+)\s+physical\b|\bh\s*(?:&|\+)\s*p\b|\bh\s+and\s+p\b",
        ),
        ("progress", r"\bprogress\b|\bsoap\s+note\b|\bdaily\s+note\b|\bfollow[- ]?up\b|\bf/u\b"),
    )
)
# How many lines from the top a heading may be on, and how many words its title may have.
_HEADING_LINES = 3
_TITLE_WORDS = 8
# A line's title ends at a colon, a dash between spaces, a bracket, a comma or a full stop.
_TITLE_END = re.compile(r":| [-\u2013\u2014] |\(|,|\.(?:\s|$)")

# Phrases each kind of note uses, and what one is worth: the phrases of a history and
# physical (HPI, PMH, ROS) are in admission notes and consults too, so they weigh least.
_VOCABULARY: dict[NoteType, tuple[int, tuple[str, ...]]] = {
    "discharge": (
        3,
        (
            r"hospital course",
            r"discharge (?:diagnos[ie]s|medications?|instructions|condition|disposition)",
            r"(?:condition|medications?) (?:at|on) discharge",
            r"discharged (?:home|to)",
            r"date of discharge|discharge date",
            r"length of stay",
        ),
    ),
    "admission": (
        3,
        (
            r"\badmit(?:ting)? (?:to|under)\b|\bwill admit\b|\b(?:being|will be) admitted\b",
            r"present(?:s|ed|ing)? (?:to|at) (?:the )?(?:ed|er|emergency)",
            r"admitting diagnosis|admission diagnosis|reason for admission",
            r"brought in by",
        ),
    ),
    "consult": (
        3,
        (
            r"reason for (?:consult(?:ation)?|referral)",
            r"\brec(?:ommendation)?s?\s*:",
            r"thank you for (?:this|the) (?:consult|referral)|thank you for (?:referring|involving|asking)",
            r"consulted (?:for|by|regarding|to)",
            r"asked to (?:see|evaluate)",
            r"referring (?:physician|provider|doctor)",
        ),
    ),
    "nursing": (
        2,
        (
            r"call (?:bell|light)",
            r"\bambulated\b",
            r"bed alarm|bed (?:in )?low (?:position|and locked)",
            r"no falls|fall precautions",
            r"turned (?:and|&) repositioned",
            r"tolerated (?:well|diet|fluids)",
            r"\bvoided\b",
            r"\bate \d+ ?%",
            r"given per (?:sliding scale|order|protocol)",
            r"(?:patient|family|husband|wife|daughter|son) (?:and \w+ )?updated",
            r"\b(?:day|night|evening) shift\b",
            r"intake and output|\bi ?& ?o\b",
            r"will continue to monitor",
            r"verbali[sz]ed understanding",
            r"\b(?:md|physician|resident|provider|on[- ]call|hospitalist) (?:notified|paged|made aware)\b",
        ),
    ),
    "history-and-physical": (
        1,
        (
            r"chief complaint",
            r"history of present illness|\bhpi\b",
            r"past (?:medical|surgical) history|\bpmh\b",
            r"social history",
            r"family history",
            r"review of systems|\bros\b",
            r"physical exam(?:ination)?",
        ),
    ),
    "progress": (
        2,
        (
            r"\b(?:hospital|icu) day\b|\bday \d+ of\b|\bhd ?#?\d",
            r"post[- ]?op(?:erative)? day|\bpod ?#?\d",
            r"interval history",
            r"overnight",
            r"\bimprov(?:ing|ed)\b",
            r"\bcontinue\b(?! to monitor)",
            r"follow[- ]?up visit",
            r"\bsince (?:the |her |his )?last (?:visit|appointment|review)\b|\brtc\b"
            r"|\b(?:recheck|review|reassess|return|see(?: him| her| them| again)?) in \d+ (?:days?|weeks?|months?)\b",
        ),
    ),
    # A telephone call, a prescription renewed, an appointment missed, a form filled in.
    "other": (
        3,
        (
            r"\b(?:tele)?phone (?:call|encounter|contact|conversation)\b|\bby (?:tele)?phone\b|\bover the phone\b",
            r"\b(?:pt|patient|caller) called\b|\bcalled (?:the )?(?:clinic|office)\b",
            r"\brefill (?:request|sent|faxed|authori[sz]ed|approved)|\brequesting (?:a )?refill",
            r"\bvoice ?mail\b|\bleft (?:a )?message\b",
            r"\bno[- ]show\b|\bdid not (?:attend|show)\b",
            r"\bforms? (?:completed|filled)|\bfaxed\b",
        ),
    ),
}
# An admission note and a consult are histories and physicals too: once a note has a phrase
# of its own kind, the phrases of a history and physical count for that kind as well.
_TAKES_HISTORY_AND_PHYSICAL: tuple[NoteType, ...] = ("admission", "consult")
_COMPILED_VOCABULARY = {
    kind: (weight, tuple(re.compile(phrase, re.IGNORECASE) for phrase in phrases))
    for kind, (weight, phrases) in _VOCABULARY.items()
}
# Ties go to the kind listed first.
_PRIORITY: tuple[NoteType, ...] = (
    "discharge",
    "admission",
    "consult",
    "history-and-physical",
    "nursing",
    "progress",
    "other",
)
# SOAP structure is what a progress note looks like: it counts as much as two of its phrases.
_SOAP_WEIGHT = 4


def classify(text: str) -> NoteType:
    """The kind of note `text` is (see the module's docstring for the rules)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()][:_HEADING_LINES]
    for line in lines:
        title = _TITLE_END.split(line, maxsplit=1)[0]
        if len(title.split()) > _TITLE_WORDS:
            continue
        for kind, heading in _HEADINGS:
            if heading.search(title):
                return kind
    scores = {
        kind: weight * sum(1 for phrase in phrases if phrase.search(text))
        for kind, (weight, phrases) in _COMPILED_VOCABULARY.items()
    }
    for kind in _TAKES_HISTORY_AND_PHYSICAL:
        if scores[kind]:
            scores[kind] += scores["history-and-physical"]
    if soap_sections(text) is not None:
        scores["progress"] += _SOAP_WEIGHT
    best = max(_PRIORITY, key=lambda kind: scores[kind])
    return best if scores[best] > 0 else "other"


# Characters a FHIR string cannot hold: every control but tab and the line breaks, and
# noncharacters and lone surrogates.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def plain_text(text: str) -> str:
    """`text` as a FHIR string can hold it: a form feed (a page break) becomes a line break,
    other control characters go."""
    return _UNSTORABLE.sub("", text.replace("\f", "\n"))


class SoapSections(BaseModel):
    """The four parts of a SOAP note; a part the note lacks is null."""

    subjective: str | None = Field(None, examples=["Feels slightly better, cough persists."])
    objective: str | None = Field(None, examples=["T 37.9 C, HR 96, BP 132/80."])
    assessment: str | None = Field(None, examples=["CAP improving slowly."])
    plan: str | None = Field(None, examples=["Continue ceftriaxone and azithromycin."])


_SOAP_PARTS = ("subjective", "objective", "assessment", "plan")
# "A/P:" or "Assessment and plan:" heads one section that is both the assessment and the plan.
_HEADING_WORDS = {
    "s": ("subjective",),
    "subjective": ("subjective",),
    "o": ("objective",),
    "objective": ("objective",),
    "a": ("assessment",),
    "assessment": ("assessment",),
    "p": ("plan",),
    "plan": ("plan",),
    "a/p": ("assessment", "plan"),
    "a&p": ("assessment", "plan"),
    "assessmentandplan": ("assessment", "plan"),
    "assessment&plan": ("assessment", "plan"),
    "assessment/plan": ("assessment", "plan"),
}
_SOAP_HEADING = re.compile(
    r"(?:^|(?<=[.;!?])[ \t]+)[ \t]*(?:[-*•][ \t]*)?"
    r"(?P<word>assessment\s*(?:and|&|/)\s*plan|a\s*[/&]\s*p|subjective|objective|assessment|plan|[soap])"
    r"[ \t]*:[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)


def soap_sections(text: str) -> SoapSections | None:
    """The SOAP sections of `text`, or None when it has no SOAP structure."""
    headings: list[tuple[tuple[str, ...], int, int]] = []
    last_part = -1
    for match in _SOAP_HEADING.finditer(text):
        parts = _HEADING_WORDS.get(re.sub(r"\s+", "", match.group("word").lower()))
        if parts is None:
            continue
        order = _SOAP_PARTS.index(parts[0])
        # Headings come in S-O-A-P order; an "a:" out of order is text, not a heading.
        if order <= last_part:
            continue
        last_part = _SOAP_PARTS.index(parts[-1])
        headings.append((parts, match.start(), match.end()))
    if len(headings) < 2:
        return None
    found: dict[str, str | None] = {}
    for index, (parts, _, body_start) in enumerate(headings):
        body_end = headings[index + 1][1] if index + 1 < len(headings) else len(text)
        body = text[body_start:body_end].strip() or None
        for part in parts:
            found[part] = body
    return SoapSections(**found)


class SkippedVital(BaseModel):
    """A vital sign written in the note that was not kept, and why."""

    name: str = Field(description="The vital sign.", examples=["heart_rate"])
    value: str = Field(description="What the note says, as written.", examples=["300"])
    reason: str = Field(examples=["outside 20-250 /min"])


@dataclass(frozen=True)
class FoundVitals:
    """The vital signs a note's text gives: those kept, and those skipped with the reason."""

    vitals: Vitals
    skipped: list[SkippedVital]


_NUMBER = r"(\d{1,3}(?:[.,]\d+)?)"
_LINK = r"[ \t]*(?:[:=#]|\bis\b|\bwas\b|\bof\b|\bat\b)?[ \t]*"
_VITAL_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "blood_pressure": rf"\b(?:BP|B/P|NIBP|blood[ \t]+pressure){_LINK}(\d{{2,3}})[ \t]*/[ \t]*(\d{{2,3}})",
        "heart_rate": rf"\b(?:HR|heart[ \t]+rate|pulse(?:[ \t]+rate)?){_LINK}{_NUMBER}(?![.,]?\d|[ \t]*%)",
        "respiratory_rate": rf"\b(?:RR|resp(?:iratory)?[ \t]+rate|resps?|respirations?){_LINK}{_NUMBER}(?![.,]?\d)",
        "spo2": rf"\b(?:SpO2|SaO2|O2[ \t]+sats?|O2[ \t]+saturation|sats?|oxygen[ \t]+saturation|pulse[ \t]+ox)"
        rf"{_LINK}{_NUMBER}[ \t]*%",
        "temperature": rf"\b(?:T|temp|temperature|Tmax|Tm|afebrile|febrile){_LINK}\.?[ \t]*{_NUMBER}"
        r"[ \t]*(?:°|º|deg(?:rees)?)?[ \t]*(C|F|celsius|fahrenheit)?\b(?![.,]?\d)",
        "weight": rf"\b(?:weight|wt|weighs|weighed){_LINK}\.?[ \t]*{_NUMBER}[ \t]*(kg|kgs|kilograms?|lbs?|pounds?)?\b",
        "height": rf"\b(?:height|ht){_LINK}\.?[ \t]*{_NUMBER}[ \t]*(cm|centimet(?:er|re)s?|in|inch(?:es)?|m)?\b",
    }.items()
}
_POUND = 0.45359237
_INCH_CM = 2.54
# A temperature without a unit is read as Fahrenheit from this value up.
_FAHRENHEIT_FROM = 80.0


def vital_signs(text: str) -> FoundVitals:
    """The vital signs written in `text` (see the module's docstring)."""
    values: dict[str, Measure] = {}
    written: dict[str, str] = {}
    skipped: list[SkippedVital] = []
    for kind, pattern in _VITAL_PATTERNS.items():
        match = pattern.search(text)
        if match is None:
            continue
        as_written = match.group(0)[match.start(1) - match.start(0) :].strip()
        converted = _converted(kind, match)
        if isinstance(converted, str):
            skipped.append(SkippedVital(name=_NAME_OF.get(kind, kind), value=as_written, reason=converted))
            continue
        for name, value in converted.items():
            values[name] = rounded(name, value)
            written[name] = as_written
    refused = implausible(values)
    for name, reason in refused.items():
        skipped.append(SkippedVital(name=name, value=written[name], reason=reason))
    kept = {name: value for name, value in values.items() if name not in refused}
    return FoundVitals(Vitals(**kept), skipped)


_NAME_OF = {"temperature": "temperature_c", "weight": "weight_kg", "height": "height_cm"}


def _converted(kind: str, match: re.Match[str]) -> dict[str, float] | str:
    """The values a match gives, by vital-sign name, or why it gives none."""
    if kind == "blood_pressure":
        return {"bp_systolic": float(match.group(1)), "bp_diastolic": float(match.group(2))}
    value = float(match.group(1).replace(",", "."))
    unit = (match.group(2) or "").lower() if match.re.groups >= 2 else ""
    if kind == "temperature":
        fahrenheit = unit.startswith("f") or (not unit and value >= _FAHRENHEIT_FROM)
        return {"temperature_c": (value - 32) * 5 / 9 if fahrenheit else value}
    if kind == "weight":
        if not unit:
            return "no unit (kg or lb)"
        return {"weight_kg": value if unit.startswith("k") else value * _POUND}
    if kind == "height":
        if not unit:
            return "no unit (cm or in)"
        factor = {"c": 1.0, "i": _INCH_CM, "m": 100.0}[unit[0]]
        return {"height_cm": value * factor}
    return {kind: value}
