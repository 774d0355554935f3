"""A doctor-patient interaction <-> one FHIR `Encounter` and the `Observation`s made in it.

| field | FHIR |
|---|---|
| patient_id, insurance_no | `Encounter.subject`: the reference, and the health number as its `identifier` |
| interaction_date | `Encounter.period` (start and end: the moment); `status` finished, `class` AMB |
| ailment, ailment_code | `Encounter.reasonCode[0]`: `text`, and an ICD-10-CM coding |
| labels | `Encounter.meta.tag`, system `{base}/CodeSystem/interaction-label`; in order: `interaction-label-order` |
| remarks | extension `interaction-remarks` (string) |
| next_steps | extension `interaction-next-step` (string, one per step) |
| qa | extension `interaction-qa` (`question`, `answer`), one per pair |
| health_status | `Observation`, code `{base}/CodeSystem/interaction#health-status`, `valueInteger` |
| symptoms | one `Observation` each, LOINC 75325-1 "Symptom", `valueCodeableConcept.text` |
| metrics: vital signs | vital-signs `Observation`s (`mappers.vitals`: LOINC codes, UCUM units) |
| metrics: other | `Observation` coded `{base}/CodeSystem/interaction-metric#{name}`; a number as `valueQuantity` |

Every Observation has the patient as `subject`, the Encounter as `encounter`, the
interaction date as `effectiveDateTime` and `status` final. A metric that is not a number
is a `valueString` or `valueBoolean`. Symptoms and metrics also carry their place in the
list or object they were written in (extension `interaction-position`; each half of a
blood pressure too): a FHIR server returns an encounter's Observations in an order of its
own, and the interaction reads back as it was written. So do labels: HAPI FHIR returns
tags sorted, so their written order is kept beside them (a string per label); the tags
stay what labels are, and a tag added by another client reads as a label, after the others.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, StrictBool, StrictFloat, StrictInt, StrictStr, field_validator

from mappers import icd10cm, vitals
from mappers.primitives import element, elements, fhir_instant, instant, text
from mappers.records import StoredRecord, stored_fields
from mappers.vitals import LOINC, VITAL_SIGNS, Vitals, from_observations, sign_name

SYMPTOM = ("75325-1", "Symptom")
ENCOUNTER_CLASS = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "code": "AMB",
    "display": "ambulatory",
}
HEALTH_STATUS = ("health-status", "Health status")

# A metric as written: a number (an integer stays one), text, or yes/no.
MetricValue = StrictBool | StrictInt | StrictFloat | StrictStr


def label_system(system_base: str) -> str:
    return f"{system_base}/CodeSystem/interaction-label"


def interaction_system(system_base: str) -> str:
    """The code system of what the gateway records of an interaction (its health status)."""
    return f"{system_base}/CodeSystem/interaction"


def metric_system(system_base: str) -> str:
    """The code system naming metrics that are not vital signs: each its own name."""
    return f"{system_base}/CodeSystem/interaction-metric"


def _extension_url(system_base: str, name: str) -> str:
    return f"{system_base}/StructureDefinition/{name}"


class QuestionAnswer(BaseModel):
    """A question asked in the interaction and the answer given."""

    question: str = Field(examples=["Any fever?"])
    answer: str = Field(examples=["No"])


class InteractionFields(BaseModel):
    """What an interaction says, as it is written and read back."""

    insurance_no: str | None = Field(
        None, description="The patient's health number it was recorded under.", examples=["9698658215"]
    )
    interaction_date: AwareDatetime = Field(
        description="When it took place, with its offset.", examples=["2025-03-01T10:30:00-08:00"]
    )
    ailment: str | None = Field(None, examples=["Allergic rhinitis"])
    ailment_code: str | None = Field(None, description="ICD-10-CM code of the ailment.", examples=["J30.1"])
    symptoms: list[str] = Field(default_factory=list, examples=[["sneezing", "itchy eyes"]])
    metrics: dict[str, MetricValue] = Field(
        default_factory=dict,
        description="Vital signs by name (heart_rate, respiratory_rate, bp_systolic, bp_diastolic, "
        "temperature_c, spo2, weight_kg, height_cm) and any other named value.",
        examples=[{"heart_rate": 72, "bp_systolic": 120, "bp_diastolic": 78, "peak_flow_l_min": 420}],
    )
    remarks: str | None = None
    health_status: int | None = Field(None, description="1 (worst) to 10 (best).", examples=[7])
    qa: list[QuestionAnswer] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list, examples=[["Start fexofenadine", "Follow up in 2 weeks"]])
    labels: list[str] = Field(default_factory=list, examples=[["allergy", "follow-up"]])


class InteractionDraft(InteractionFields):
    """An interaction about to be written, about a stored patient.

    `interaction_date` is kept to the millisecond, the precision FHIR servers index
    dateTimes at: a time searched for then matches that moment.
    """

    patient_id: str
    insurance_system: str | None = Field(None, description="The identifier system of the patient's health number.")

    @field_validator("interaction_date")
    @classmethod
    def _to_the_millisecond(cls, value: datetime) -> datetime:
        return value.replace(microsecond=value.microsecond // 1000 * 1000)


class Interaction(InteractionFields, StoredRecord):
    """A stored interaction."""


def label_tag(label: str, system_base: str) -> dict[str, str]:
    return {"system": label_system(system_base), "code": label}


def encounter(draft: InteractionDraft, *, system_base: str, subject: str | None = None) -> dict[str, Any]:
    """The `Encounter` of an interaction (without an id: the server assigns one); `subject`
    replaces the reference to the patient (a `urn:uuid:` of a Bundle that writes it too)."""
    patient: dict[str, Any] = {"reference": subject or f"Patient/{draft.patient_id}"}
    if draft.insurance_no:
        system = {"system": draft.insurance_system} if draft.insurance_system else {}
        patient["identifier"] = system | {"value": draft.insurance_no}
    resource: dict[str, Any] = {"resourceType": "Encounter"}
    if draft.labels:
        resource["meta"] = {"tag": [label_tag(label, system_base) for label in draft.labels]}
    extensions = _extensions(draft, system_base)
    if extensions:
        resource["extension"] = extensions
    resource |= {
        "status": "finished",
        "class": ENCOUNTER_CLASS,
        "subject": patient,
        # A moment, not an open period (one without an end lasts on for date searches).
        "period": {"start": fhir_instant(draft.interaction_date), "end": fhir_instant(draft.interaction_date)},
    }
    if draft.ailment or draft.ailment_code:
        reason: dict[str, Any] = {}
        if draft.ailment_code:
            coding = {"system": icd10cm.SYSTEM, "code": draft.ailment_code}
            if display := icd10cm.description(draft.ailment_code):
                coding["display"] = display
            reason["coding"] = [coding]
        if draft.ailment:
            reason["text"] = draft.ailment
        resource["reasonCode"] = [reason]
    return resource


def observations(
    draft: InteractionDraft, encounter_reference: str, *, system_base: str, subject: str | None = None
) -> list[dict[str, Any]]:
    """The Observations of an interaction, in the Encounter at `encounter_reference`
    (`Encounter/{id}`, or a `urn:uuid:` within one transaction): the health status, each
    symptom, then each metric in the order written (a blood pressure as one panel)."""
    patient = {"reference": subject or f"Patient/{draft.patient_id}"}
    effective = fhir_instant(draft.interaction_date)
    # (position in its list, what the Observation says); the health status has no list.
    said: list[tuple[int | None, dict[str, Any]]] = []
    if draft.health_status is not None:
        code, display = HEALTH_STATUS
        concept = {"coding": [{"system": interaction_system(system_base), "code": code, "display": display}]}
        said.append((None, {"code": concept | {"text": display}, "valueInteger": draft.health_status}))
    said += [
        (position, {"code": _symptom_concept(), "valueCodeableConcept": {"text": symptom}})
        for position, symptom in enumerate(draft.symptoms, start=1)
    ]
    places = {name: place for place, name in enumerate(draft.metrics, start=1)}
    signs = Vitals(**{name: value for name, value in draft.metrics.items() if name in VITAL_SIGNS})
    metrics = [
        (
            min(places[name] for name in from_observations([vital]).present()),
            _placed(vital, places, system_base),
        )
        for vital in vitals.observations(signs, subject=patient, effective=effective)
    ]
    metrics += [
        (position, _metric(name, value, system_base))
        for position, (name, value) in enumerate(draft.metrics.items(), start=1)
        if name not in VITAL_SIGNS
    ]
    said += sorted(metrics, key=lambda metric: metric[0])
    return [
        _observation(content, position, patient, encounter_reference, effective, system_base)
        for position, content in said
    ]


def _placed(vital: dict[str, Any], places: dict[str, int], system_base: str) -> dict[str, Any]:
    """A vital-signs Observation whose components (a blood pressure's) carry their own places:
    the panel takes the place of its first, and either may have been written first."""
    for component in elements(vital.get("component")):
        if (name := sign_name(element(component.get("code")))) in places:
            component["extension"] = [{"url": _position_url(system_base), "valuePositiveInt": places[name]}]
    return vital


def _observation(
    content: dict[str, Any],
    position: int | None,
    patient: dict[str, str],
    encounter_reference: str,
    effective: str,
    system_base: str,
) -> dict[str, Any]:
    observation: dict[str, Any] = {"resourceType": "Observation"}
    if position is not None:
        observation["extension"] = [{"url": _position_url(system_base), "valuePositiveInt": position}]
    observation["status"] = "final"
    observation |= {key: value for key, value in content.items() if key not in ("resourceType", "status")}
    return observation | {
        "subject": patient,
        "encounter": {"reference": encounter_reference},
        "effectiveDateTime": effective,
    }


def to_domain(resource: dict[str, Any], found: list[dict[str, Any]], *, system_base: str) -> Interaction:
    """The interaction a stored Encounter and its Observations describe. Observations of
    other kinds than the gateway writes are left out."""
    subject = element(resource.get("subject"))
    patient_id = str(subject.get("reference") or "").removeprefix("Patient/")
    reason = next(iter(elements(resource.get("reasonCode"))), {})
    ailment_code = next(
        (
            code
            for coding in elements(reason.get("coding"))
            if coding.get("system") == icd10cm.SYSTEM and (code := text(coding.get("code")))
        ),
        None,
    )
    meta = element(resource.get("meta"))
    qa = [
        QuestionAnswer(question=question, answer=answer)
        for extension in _extensions_named(resource, _extension_url(system_base, "interaction-qa"))
        if (question := _part(extension, "question")) is not None and (answer := _part(extension, "answer")) is not None
    ]
    health_status, symptoms, metrics = _observed(found, system_base)
    return Interaction(
        **stored_fields(resource, patient_id),
        insurance_no=text(element(subject.get("identifier")).get("value")),
        # An Encounter another client wrote may lack its start: when it was stored stands in.
        interaction_date=instant(element(resource.get("period")).get("start")) or instant(meta.get("lastUpdated")),
        ailment=text(reason.get("text")),
        ailment_code=ailment_code,
        symptoms=symptoms,
        metrics=metrics,
        remarks=next(_strings(resource, _extension_url(system_base, "interaction-remarks")), None),
        health_status=health_status,
        qa=qa,
        next_steps=list(_strings(resource, _extension_url(system_base, "interaction-next-step"))),
        labels=_labels(resource, system_base),
    )


def _labels(resource: dict[str, Any], system_base: str) -> list[str]:
    """The labels of an Encounter (its tags), in the order they were written."""
    tagged = [
        code
        for tag in elements(element(resource.get("meta")).get("tag"))
        if tag.get("system") == label_system(system_base) and (code := text(tag.get("code")))
    ]
    written = [
        label
        for label in dict.fromkeys(_strings(resource, _extension_url(system_base, "interaction-label-order")))
        if label in tagged
    ]
    return written + [label for label in dict.fromkeys(tagged) if label not in written]


def _extensions(draft: InteractionDraft, system_base: str) -> list[dict[str, Any]]:
    extensions: list[dict[str, Any]] = [
        {"url": _extension_url(system_base, "interaction-label-order"), "valueString": label} for label in draft.labels
    ]
    if draft.remarks:
        extensions.append({"url": _extension_url(system_base, "interaction-remarks"), "valueString": draft.remarks})
    extensions += [
        {"url": _extension_url(system_base, "interaction-next-step"), "valueString": step} for step in draft.next_steps
    ]
    extensions += [
        {
            "url": _extension_url(system_base, "interaction-qa"),
            "extension": [
                {"url": "question", "valueString": pair.question},
                {"url": "answer", "valueString": pair.answer},
            ],
        }
        for pair in draft.qa
    ]
    return extensions


def _symptom_concept() -> dict[str, Any]:
    code, display = SYMPTOM
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _metric(name: str, value: bool | int | float | str, system_base: str) -> dict[str, Any]:
    observation: dict[str, Any] = {
        "code": {"coding": [{"system": metric_system(system_base), "code": name}], "text": name}
    }
    if isinstance(value, bool):
        observation["valueBoolean"] = value
    elif isinstance(value, str):
        observation["valueString"] = value
    else:
        observation["valueQuantity"] = {"value": value}
    return observation


def _observed(
    found: list[dict[str, Any]], system_base: str
) -> tuple[int | None, list[str], dict[str, bool | int | float | str]]:
    """The health status, symptoms and metrics a list of Observations holds, each list in
    the order it was written (Observations without a position after, as they came)."""
    health_status: int | None = None
    symptoms: list[tuple[int | None, str]] = []
    metrics: list[tuple[int | None, str, bool | int | float | str]] = []
    for observation in found:
        codings = elements(element(observation.get("code")).get("coding"))
        position = _position(observation, system_base)
        if _has_code(codings, interaction_system(system_base), HEALTH_STATUS[0]):
            value = observation.get("valueInteger")
            if health_status is None and isinstance(value, int) and not isinstance(value, bool):
                health_status = value
        elif _has_code(codings, LOINC, SYMPTOM[0]):
            concept = element(observation.get("valueCodeableConcept"))
            if symptom := text(concept.get("text")):
                symptoms.append((position, symptom))
        elif name := next(
            (
                code
                for coding in codings
                if coding.get("system") == metric_system(system_base) and (code := text(coding.get("code")))
            ),
            None,
        ):
            value = _metric_value(observation)
            if value is not None:
                metrics.append((position, name, value))
        else:
            places = {
                name: _position(component, system_base) or position
                for component in elements(observation.get("component"))
                if (name := sign_name(element(component.get("code"))))
            }
            metrics += [
                (places.get(sign, position), sign, measure)
                for sign, measure in from_observations([observation]).present().items()
            ]
    held: dict[str, bool | int | float | str] = {}
    for _, name, value in sorted(metrics, key=_written_order):
        held.setdefault(name, value)
    return health_status, [symptom for _, symptom in sorted(symptoms, key=_written_order)], held


def _written_order(item: tuple[Any, ...]) -> tuple[bool, int]:
    position = item[0]
    return (position is None, position or 0)


def _metric_value(observation: dict[str, Any]) -> bool | int | float | str | None:
    quantity = element(observation.get("valueQuantity")).get("value")
    if isinstance(quantity, int | float) and not isinstance(quantity, bool):
        return quantity
    if isinstance(observation.get("valueBoolean"), bool):
        return bool(observation["valueBoolean"])
    return text(observation.get("valueString"))


def _has_code(codings: list[dict[str, Any]], system: str, code: str) -> bool:
    return any(coding.get("system") == system and coding.get("code") == code for coding in codings)


def _position_url(system_base: str) -> str:
    return _extension_url(system_base, "interaction-position")


def _position(observation: dict[str, Any], system_base: str) -> int | None:
    for extension in _extensions_named(observation, _position_url(system_base)):
        value = extension.get("valuePositiveInt")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _extensions_named(resource: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [extension for extension in elements(resource.get("extension")) if extension.get("url") == url]


def _strings(resource: dict[str, Any], url: str) -> Iterator[str]:
    return (value for extension in _extensions_named(resource, url) if (value := text(extension.get("valueString"))))


def _part(extension: dict[str, Any], name: str) -> str | None:
    return next(
        (text(part.get("valueString")) for part in elements(extension.get("extension")) if part.get("url") == name),
        None,
    )
