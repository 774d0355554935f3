"""A doctor-patient interaction <-> a FHIR Encounter and its Observations: lossless in whatever
order the server returns the Observations, valid R4B, as the mapping table says, forgiving of
what other FHIR clients wrote (mappers.interaction)."""

import copy
import json
import random
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fhir.resources.R4B.encounter import Encounter as R4BEncounter
from fhir.resources.R4B.observation import Observation as R4BObservation
from hypothesis import given, settings
from hypothesis import strategies as st

from mappers import icd10cm
from mappers.interaction import (
    Interaction,
    InteractionDraft,
    InteractionFields,
    QuestionAnswer,
    encounter,
    observations,
    to_domain,
)
from mappers.vitals import LOINC, UCUM, VITAL_SIGNS

BASE = "https://fhir-gateway.test"
ENCOUNTER_ID = "enc-1"
ENCOUNTER_REFERENCE = f"Encounter/{ENCOUNTER_ID}"
STORED_AT = "2025-03-01T18:45:12.345+00:00"
LABEL_SYSTEM = f"{BASE}/CodeSystem/interaction-label"
INTERACTION_SYSTEM = f"{BASE}/CodeSystem/interaction"
METRIC_SYSTEM = f"{BASE}/CodeSystem/interaction-metric"
BC_SYSTEM = "https://fhir.health.gov.bc.ca/identifier/phn"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# What an interaction says: compared field by field between a draft and what reads back.
FIELDS = set(InteractionFields.model_fields)


def _url(name: str) -> str:
    return f"{BASE}/StructureDefinition/{name}"


# --- strategies: cheap to draw (restricted alphabets, small sizes) -------------------------------

WORD_ALPHABET = string.ascii_letters + string.digits + "éöñç.,;:'()/%?!-"
word = st.text(alphabet=WORD_ALPHABET, min_size=1, max_size=8)
# Non-blank single-line text without white space around it.
phrase = st.lists(word, min_size=1, max_size=4).map(" ".join)
slug = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(string.ascii_lowercase),
    st.text(alphabet=string.ascii_lowercase + string.digits, max_size=8),
)
labels = st.lists(
    st.lists(slug, min_size=1, max_size=2).map("-".join),
    unique=True,
    max_size=4,
)
ids = st.text(alphabet=string.ascii_letters + string.digits + "-.", min_size=1, max_size=20)
AILMENT_CODES = ["J30.1", "J06.9", "I10", "E11.9", "J45.909", "M54.50", "R05.9", "Z00.00"]
OFFSETS = [
    UTC,
    timezone(timedelta(hours=-8)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-3, minutes=-30)),
    timezone(timedelta(hours=14)),
]
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from(OFFSETS)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))

metric_names = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(string.ascii_lowercase),
    st.text(alphabet=string.ascii_lowercase + string.digits + "_", max_size=15),
).filter(lambda name: name not in VITAL_SIGNS)
metric_values = st.one_of(
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(-1e15, 1e15, allow_nan=False, allow_infinity=False),
    phrase,
)
SINGLE_SIGNS = [name for name in VITAL_SIGNS if name not in ("bp_systolic", "bp_diastolic")]


def _in_range(name: str) -> st.SearchStrategy[int | float]:
    """Plausible values of a sign, at the precision it is kept to."""
    sign = VITAL_SIGNS[name]
    if sign.decimals == 0:
        return st.integers(int(sign.low), int(sign.high))
    scale = 10**sign.decimals
    return st.integers(int(sign.low * scale), int(sign.high * scale)).map(lambda tenths: tenths / scale)


@st.composite
def _pressures(draw: st.DrawFn) -> list[tuple[str, int]]:
    """No blood pressure, one half of one, or a reading with the systolic above the diastolic."""
    kind = draw(st.sampled_from(["none", "systolic", "diastolic", "both"]))
    if kind == "systolic":
        return [("bp_systolic", draw(_in_range("bp_systolic")))]
    if kind == "diastolic":
        return [("bp_diastolic", draw(_in_range("bp_diastolic")))]
    if kind == "none":
        return []
    diastolic = draw(st.integers(20, 199))
    return [("bp_systolic", draw(st.integers(max(50, diastolic + 1), 300))), ("bp_diastolic", diastolic)]


@st.composite
def _metrics(draw: st.DrawFn) -> dict[str, bool | int | float | str]:
    """Some vital signs in their ranges and a few other metrics, in any order (the two halves
    of a blood pressure too: apart, either first)."""
    signs = draw(st.lists(st.sampled_from(SINGLE_SIGNS), unique=True, max_size=len(SINGLE_SIGNS)))
    groups: list[list[tuple[str, bool | int | float | str]]] = [[(name, draw(_in_range(name)))] for name in signs]
    groups += [[pressure] for pressure in draw(_pressures())]
    others = draw(st.dictionaries(metric_names, metric_values, max_size=3))
    groups += [[item] for item in others.items()]
    order = draw(st.permutations(range(len(groups))))
    return dict(item for index in order for item in groups[index])


drafts = st.builds(
    InteractionDraft,
    patient_id=ids,
    insurance_no=st.none() | st.text(alphabet=string.digits + "ABZ", min_size=1, max_size=12),
    insurance_system=st.none() | st.sampled_from([BC_SYSTEM, "https://example.org/health-number"]),
    interaction_date=instants,
    ailment=st.none() | phrase,
    ailment_code=st.none() | st.sampled_from(AILMENT_CODES),
    symptoms=st.lists(phrase, max_size=5),
    metrics=_metrics(),
    remarks=st.none() | phrase,
    health_status=st.none() | st.integers(1, 10),
    qa=st.lists(st.builds(QuestionAnswer, question=phrase, answer=phrase), max_size=3),
    next_steps=st.lists(phrase, max_size=3),
    labels=labels,
)


# --- helpers -------------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    """`value` as it comes back from a FHIR server: through JSON."""
    return json.loads(json.dumps(value))


def _stored(draft: InteractionDraft) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Encounter and Observations of a draft as a FHIR server returns them."""
    written = encounter(draft, system_base=BASE)
    meta = written.get("meta", {}) | {"versionId": "1", "lastUpdated": STORED_AT}
    stored = written | {"id": ENCOUNTER_ID, "meta": meta}
    found = [
        observation | {"id": f"obs-{index}", "meta": {"versionId": "1", "lastUpdated": STORED_AT}}
        for index, observation in enumerate(observations(draft, ENCOUNTER_REFERENCE, system_base=BASE))
    ]
    return _json(stored), _json(found)


def _typed(metrics: dict[str, Any]) -> list[tuple[str, type, Any]]:
    """The metrics with their order and types (True == 1 == 1.0 in Python: compared apart)."""
    return [(name, type(value), value) for name, value in metrics.items()]


def _assert_reads_back(interaction: Interaction, draft: InteractionDraft) -> None:
    assert interaction.model_dump(include=FIELDS) == draft.model_dump(include=FIELDS)
    assert interaction.patient_id == draft.patient_id
    assert interaction.interaction_date.utcoffset() == draft.interaction_date.utcoffset()
    assert _typed(interaction.metrics) == _typed(draft.metrics)
    assert interaction.symptoms == draft.symptoms
    assert interaction.labels == draft.labels


def _codes(concept: dict[str, Any], system: str = LOINC) -> list[str]:
    return [coding["code"] for coding in concept["coding"] if coding["system"] == system]


EXAMPLE = InteractionDraft(
    patient_id="p-123",
    insurance_no="9698658215",
    insurance_system=BC_SYSTEM,
    interaction_date=datetime.fromisoformat("2025-03-01T10:30:00-08:00"),
    ailment="Allergic rhinitis",
    ailment_code="J30.1",
    symptoms=["sneezing", "itchy eyes"],
    metrics={
        "heart_rate": 72,
        "bp_systolic": 120,
        "bp_diastolic": 78,
        "temperature_c": 36.6,
        "spo2": 98,
        "respiratory_rate": 14,
        "weight_kg": 70.5,
        "peak_flow_l_min": 420,
    },
    remarks="Seasonal; worse outdoors",
    health_status=7,
    qa=[QuestionAnswer(question="Any fever?", answer="No")],
    next_steps=["Start fexofenadine", "Follow up in 2 weeks"],
    labels=["allergy", "follow-up"],
)
EXAMPLE_INSTANT = "2025-03-01T10:30:00.000-08:00"

# fhir.resources builds each nested element's validator on first use, and the ICD-10-CM table
# loads on its first code: paid here, not in a timed example.
_WARM_UP = _stored(EXAMPLE)
R4BEncounter.model_validate(_WARM_UP[0])
for _resource in _WARM_UP[1]:
    R4BObservation.model_validate(_resource)


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=80)
@given(drafts)
def test_round_trip_gives_back_every_field(draft: InteractionDraft) -> None:
    stored, found = _stored(draft)

    interaction = to_domain(stored, found, system_base=BASE)

    _assert_reads_back(interaction, draft)
    assert interaction.id == ENCOUNTER_ID
    assert interaction.version == "1"
    assert interaction.updated_at == datetime.fromisoformat(STORED_AT)


@settings(max_examples=80)
@given(drafts, st.randoms(use_true_random=False))
def test_the_read_does_not_depend_on_the_order_of_the_observations(
    draft: InteractionDraft, shuffler: random.Random
) -> None:
    stored, found = _stored(draft)
    shuffled = list(found)
    shuffler.shuffle(shuffled)

    interaction = to_domain(stored, shuffled, system_base=BASE)

    _assert_reads_back(interaction, draft)
    assert interaction == to_domain(stored, found, system_base=BASE)


@settings(max_examples=50)
@given(drafts)
def test_every_resource_is_valid_r4b_and_linked_to_the_patient_and_the_encounter(draft: InteractionDraft) -> None:
    stored, found = _stored(draft)

    R4BEncounter.model_validate(stored)
    assert stored["subject"]["reference"] == f"Patient/{draft.patient_id}"
    for observation in found:
        R4BObservation.model_validate(observation)
        assert observation["status"] == "final"
        assert observation["subject"] == {"reference": f"Patient/{draft.patient_id}"}
        assert observation["encounter"] == {"reference": ENCOUNTER_REFERENCE}
        assert observation["effectiveDateTime"] == draft.interaction_date.isoformat(timespec="milliseconds")


@settings(max_examples=50)
@given(drafts)
def test_one_observation_per_symptom_and_metric_and_health_status(draft: InteractionDraft) -> None:
    found = observations(draft, ENCOUNTER_REFERENCE, system_base=BASE)

    # A blood pressure reading is one panel for its two halves.
    both_pressures = {"bp_systolic", "bp_diastolic"} <= set(draft.metrics)
    expected = (
        (draft.health_status is not None) + len(draft.symptoms) + len(draft.metrics) - (1 if both_pressures else 0)
    )
    assert len(found) == expected


@settings(max_examples=50)
@given(drafts)
def test_the_encounter_is_a_finished_ambulatory_moment(draft: InteractionDraft) -> None:
    resource = encounter(draft, system_base=BASE)

    moment = draft.interaction_date.isoformat(timespec="milliseconds")
    assert resource["period"] == {"start": moment, "end": moment}
    assert resource["status"] == "finished"
    assert resource["class"]["code"] == "AMB"
    assert "id" not in resource
    assert [tag["code"] for tag in resource.get("meta", {}).get("tag", [])] == draft.labels


# --- the contract's example ----------------------------------------------------------------------


def test_the_encounter_of_the_example() -> None:
    resource = encounter(EXAMPLE, system_base=BASE)

    R4BEncounter.model_validate(resource)
    assert resource["resourceType"] == "Encounter"
    assert resource["status"] == "finished"
    assert resource["class"] == {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"}
    assert resource["period"] == {"start": EXAMPLE_INSTANT, "end": EXAMPLE_INSTANT}
    assert resource["subject"] == {
        "reference": "Patient/p-123",
        "identifier": {"system": BC_SYSTEM, "value": "9698658215"},
    }
    assert resource["reasonCode"] == [
        {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/sid/icd-10-cm",
                    "code": "J30.1",
                    "display": "Allergic rhinitis due to pollen",
                }
            ],
            "text": "Allergic rhinitis",
        }
    ]
    assert icd10cm.description("J30.1") == "Allergic rhinitis due to pollen"
    assert resource["meta"]["tag"] == [
        {"system": LABEL_SYSTEM, "code": "allergy"},
        {"system": LABEL_SYSTEM, "code": "follow-up"},
    ]
    extensions = resource["extension"]
    assert [
        extension["valueString"] for extension in extensions if extension["url"] == _url("interaction-remarks")
    ] == ["Seasonal; worse outdoors"]
    assert [
        extension["valueString"] for extension in extensions if extension["url"] == _url("interaction-next-step")
    ] == ["Start fexofenadine", "Follow up in 2 weeks"]
    assert [extension for extension in extensions if extension["url"] == _url("interaction-qa")] == [
        {
            "url": _url("interaction-qa"),
            "extension": [{"url": "question", "valueString": "Any fever?"}, {"url": "answer", "valueString": "No"}],
        }
    ]
    assert [
        extension["valueString"] for extension in extensions if extension["url"] == _url("interaction-label-order")
    ] == ["allergy", "follow-up"]
    assert "id" not in resource


def test_the_observations_of_the_example() -> None:
    found = observations(EXAMPLE, ENCOUNTER_REFERENCE, system_base=BASE)

    for observation in found:
        R4BObservation.model_validate(observation)
        assert observation["resourceType"] == "Observation"
        assert observation["status"] == "final"
        assert observation["subject"] == {"reference": "Patient/p-123"}
        assert observation["encounter"] == {"reference": ENCOUNTER_REFERENCE}
        assert observation["effectiveDateTime"] == EXAMPLE_INSTANT

    health, first, second, *metrics = found
    assert _codes(health["code"], INTERACTION_SYSTEM) == ["health-status"]
    assert health["valueInteger"] == 7
    for symptom, said in ((first, "sneezing"), (second, "itchy eyes")):
        assert _codes(symptom["code"]) == ["75325-1"]
        assert symptom["valueCodeableConcept"] == {"text": said}

    by_code = {next(iter(_codes(observation["code"], LOINC)), None): observation for observation in metrics}
    expected = {"8867-4": (72, "/min"), "8310-5": (36.6, "Cel"), "2708-6": (98, "%"), "9279-1": (14, "/min")}
    expected |= {"29463-7": (70.5, "kg")}
    for code, (value, unit) in expected.items():
        quantity = by_code[code]["valueQuantity"]
        assert quantity == {"value": value, "unit": unit, "system": UCUM, "code": unit}
        assert by_code[code]["category"][0]["coding"][0] == {
            "system": OBSERVATION_CATEGORY,
            "code": "vital-signs",
            "display": "Vital Signs",
        }
    panel = by_code["85354-9"]
    assert "valueQuantity" not in panel
    assert [(_codes(part["code"]), part["valueQuantity"]["value"]) for part in panel["component"]] == [
        (["8480-6"], 120),
        (["8462-4"], 78),
    ]
    assert all(part["valueQuantity"]["code"] == "mm[Hg]" for part in panel["component"])
    peak_flow = by_code[None]
    assert peak_flow["code"] == {
        "coding": [{"system": METRIC_SYSTEM, "code": "peak_flow_l_min"}],
        "text": "peak_flow_l_min",
    }
    assert peak_flow["valueQuantity"] == {"value": 420}
    # Seven metrics: six vital-sign Observations (one blood pressure panel) and the peak flow.
    assert len(metrics) == 7


def test_the_example_reads_back_after_a_json_trip_with_ints_and_floats_kept() -> None:
    stored, found = _stored(EXAMPLE)

    interaction = to_domain(stored, found, system_base=BASE)

    assert interaction == Interaction(
        id=ENCOUNTER_ID,
        version="1",
        updated_at=datetime.fromisoformat(STORED_AT),
        **EXAMPLE.model_dump(exclude={"insurance_system"}),
    )
    assert _typed(interaction.metrics) == [
        ("heart_rate", int, 72),
        ("bp_systolic", int, 120),
        ("bp_diastolic", int, 78),
        ("temperature_c", float, 36.6),
        ("spo2", int, 98),
        ("respiratory_rate", int, 14),
        ("weight_kg", float, 70.5),
        ("peak_flow_l_min", int, 420),
    ]
    assert interaction.interaction_date.isoformat() == "2025-03-01T10:30:00-08:00"


def test_json_keeps_a_whole_float_a_float_and_an_int_an_int() -> None:
    draft = EXAMPLE.model_copy(update={"metrics": {"weight_kg": 70.0, "heart_rate": 72, "ratio": 2.0, "steps": 9000}})
    stored, found = _stored(draft)

    values = [observation["valueQuantity"]["value"] for observation in found if "valueQuantity" in observation]
    assert [(type(value), value) for value in values] == [(float, 70.0), (int, 72), (float, 2.0), (int, 9000)]
    assert _typed(to_domain(stored, found, system_base=BASE).metrics) == [
        ("weight_kg", float, 70.0),
        ("heart_rate", int, 72),
        ("ratio", float, 2.0),
        ("steps", int, 9000),
    ]


def test_text_and_boolean_metrics_are_value_string_and_value_boolean() -> None:
    draft = EXAMPLE.model_copy(update={"metrics": {"smoker": False, "mood": "calm"}})

    smoker, mood = observations(draft, ENCOUNTER_REFERENCE, system_base=BASE)[3:]

    assert smoker["valueBoolean"] is False
    assert "valueQuantity" not in smoker and "valueString" not in smoker
    assert mood["valueString"] == "calm"
    assert _codes(smoker["code"], METRIC_SYSTEM) == ["smoker"]
    stored, found = _stored(draft)
    assert _typed(to_domain(stored, found, system_base=BASE).metrics) == [
        ("smoker", bool, False),
        ("mood", str, "calm"),
    ]


def test_the_subject_of_a_transaction_replaces_the_patient_reference() -> None:
    resource = encounter(EXAMPLE, system_base=BASE, subject="urn:uuid:patient")
    found = observations(EXAMPLE, "urn:uuid:encounter", system_base=BASE, subject="urn:uuid:patient")

    assert resource["subject"] == {
        "reference": "urn:uuid:patient",
        "identifier": {"system": BC_SYSTEM, "value": "9698658215"},
    }
    assert found and all(observation["subject"] == {"reference": "urn:uuid:patient"} for observation in found)
    assert all(observation["encounter"] == {"reference": "urn:uuid:encounter"} for observation in found)


def test_a_health_number_without_a_system_is_an_identifier_without_one() -> None:
    draft = EXAMPLE.model_copy(update={"insurance_system": None})

    assert encounter(draft, system_base=BASE)["subject"] == {
        "reference": "Patient/p-123",
        "identifier": {"value": "9698658215"},
    }
    assert "identifier" not in encounter(draft.model_copy(update={"insurance_no": None}), system_base=BASE)["subject"]


def test_an_interaction_with_nothing_but_its_date_has_no_extensions_tags_or_observations() -> None:
    draft = InteractionDraft(patient_id="p-1", interaction_date=datetime(2025, 3, 1, 18, 30, tzinfo=UTC))

    resource = encounter(draft, system_base=BASE)

    assert set(resource) == {"resourceType", "status", "class", "subject", "period"}
    assert observations(draft, ENCOUNTER_REFERENCE, system_base=BASE) == []
    R4BEncounter.model_validate(resource)
    interaction = to_domain(resource | {"id": ENCOUNTER_ID}, [], system_base=BASE)
    assert interaction.model_dump(include=FIELDS) == draft.model_dump(include=FIELDS)


def test_an_ailment_code_alone_has_no_text_and_an_ailment_alone_no_coding() -> None:
    coded = encounter(EXAMPLE.model_copy(update={"ailment": None}), system_base=BASE)
    worded = encounter(EXAMPLE.model_copy(update={"ailment_code": None}), system_base=BASE)

    assert coded["reasonCode"] == [
        {"coding": [{"system": icd10cm.SYSTEM, "code": "J30.1", "display": "Allergic rhinitis due to pollen"}]}
    ]
    assert worded["reasonCode"] == [{"text": "Allergic rhinitis"}]


def test_the_interaction_date_is_kept_to_the_millisecond_with_its_offset() -> None:
    moment = datetime(2025, 3, 1, 10, 30, 5, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))

    draft = InteractionDraft(**(EXAMPLE.model_dump() | {"interaction_date": moment}))

    assert draft.interaction_date == moment.replace(microsecond=123000)
    assert encounter(draft, system_base=BASE)["period"]["start"] == "2025-03-01T10:30:05.123+05:30"
    stored, found = _stored(draft)
    back = to_domain(stored, found, system_base=BASE).interaction_date
    assert back == moment.replace(microsecond=123000)
    assert back.utcoffset() == timedelta(hours=5, minutes=30)


def test_a_blood_pressure_written_diastolic_first_reads_back_in_its_written_order() -> None:
    draft = EXAMPLE.model_copy(update={"metrics": {"bp_diastolic": 80, "peak_flow_l_min": 420, "bp_systolic": 120}})
    stored, found = _stored(draft)

    assert list(to_domain(stored, found, system_base=BASE).metrics) == [
        "bp_diastolic",
        "peak_flow_l_min",
        "bp_systolic",
    ]


# --- what other FHIR clients write ---------------------------------------------------------------


def _foreign_encounter() -> dict[str, Any]:
    """An Encounter another client wrote: no extensions, tags, reason or period."""
    return {
        "resourceType": "Encounter",
        "id": "foreign-1",
        "meta": {"versionId": "4", "lastUpdated": "2024-06-01T12:00:00.000+00:00"},
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB"},
        "subject": {"reference": "Patient/p-9"},
    }


def _observation(code: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": code,
        "subject": {"reference": "Patient/p-9"},
        "encounter": {"reference": "Encounter/foreign-1"},
        **fields,
    }


def _symptom(said: str, position: int | None = None) -> dict[str, Any]:
    extension = [{"url": _url("interaction-position"), "valuePositiveInt": position}] if position else []
    return _observation(
        {"coding": [{"system": LOINC, "code": "75325-1"}]},
        valueCodeableConcept={"text": said},
        **({"extension": extension} if extension else {}),
    )


def test_an_encounter_another_client_wrote_reads_with_empty_lists_and_its_storage_time() -> None:
    resource = _foreign_encounter()
    R4BEncounter.model_validate(resource)

    interaction = to_domain(resource, [], system_base=BASE)

    stored_at = datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert interaction == Interaction(
        id="foreign-1",
        patient_id="p-9",
        version="4",
        updated_at=stored_at,
        insurance_no=None,
        interaction_date=stored_at,
        ailment=None,
        ailment_code=None,
        symptoms=[],
        metrics={},
        remarks=None,
        health_status=None,
        qa=[],
        next_steps=[],
        labels=[],
    )


def test_a_period_start_without_an_offset_gives_way_to_the_storage_time() -> None:
    resource = _foreign_encounter() | {"period": {"start": "2024-05-31"}}
    resource["meta"]["lastUpdated"] = "2024-06-01T12:00:00Z"

    assert to_domain(resource, [], system_base=BASE).interaction_date == datetime(2024, 6, 1, 12, tzinfo=UTC)


def test_a_reason_of_another_code_system_gives_its_text_but_no_ailment_code() -> None:
    resource = _foreign_encounter() | {
        "reasonCode": [{"coding": [{"system": "http://snomed.info/sct", "code": "21719001"}], "text": "Hay fever"}]
    }

    interaction = to_domain(resource, [], system_base=BASE)

    assert interaction.ailment == "Hay fever"
    assert interaction.ailment_code is None


def test_observations_of_other_kinds_are_ignored() -> None:
    lab = _observation({"coding": [{"system": LOINC, "code": "2339-0", "display": "Glucose"}]}, valueString="high")
    glucose = _observation(
        {"coding": [{"system": LOINC, "code": "2339-0"}]},
        valueQuantity={"value": 7.2, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"},
    )
    other_status = _observation({"coding": [{"system": INTERACTION_SYSTEM, "code": "mood"}]}, valueInteger=3)
    snomed_symptom = _observation(
        {"coding": [{"system": "http://snomed.info/sct", "code": "75325-1"}]}, valueCodeableConcept={"text": "cough"}
    )
    silent_symptom = _symptom("  ")
    empty_metric = _observation({"coding": [{"system": METRIC_SYSTEM, "code": "peak_flow"}]})
    for resource in (lab, glucose, other_status, snomed_symptom):
        R4BObservation.model_validate(resource)

    interaction = to_domain(
        _foreign_encounter(),
        [lab, glucose, other_status, snomed_symptom, silent_symptom, empty_metric],
        system_base=BASE,
    )

    assert interaction.symptoms == []
    assert interaction.metrics == {}
    assert interaction.health_status is None


def test_the_observations_of_the_gateway_read_among_foreign_ones() -> None:
    stored, found = _stored(EXAMPLE)
    lab = _observation({"coding": [{"system": LOINC, "code": "2339-0"}]}, valueString="high")

    interaction = to_domain(stored, [lab, *found[:3], lab, *found[3:], lab], system_base=BASE)

    assert interaction == to_domain(stored, found, system_base=BASE)


def test_tags_of_other_systems_are_not_labels_and_a_foreign_label_tag_comes_last() -> None:
    resource = _foreign_encounter()
    resource["meta"]["tag"] = [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST"},
        {"system": LABEL_SYSTEM, "code": "added-later"},
        {"system": LABEL_SYSTEM, "code": "allergy"},
        {"code": "no-system"},
        {"system": LABEL_SYSTEM, "code": "follow-up"},
    ]
    # The written order names the gateway's labels, and one whose tag is gone.
    resource["extension"] = [
        {"url": _url("interaction-label-order"), "valueString": label} for label in ("follow-up", "removed", "allergy")
    ]
    R4BEncounter.model_validate(resource)

    assert to_domain(resource, [], system_base=BASE).labels == ["follow-up", "allergy", "added-later"]


def test_tags_sorted_by_the_server_read_in_their_written_order() -> None:
    draft = EXAMPLE.model_copy(update={"labels": ["zeta", "alpha", "mid"]})
    stored, found = _stored(draft)
    stored["meta"]["tag"].sort(key=lambda tag: tag["code"])

    assert to_domain(stored, found, system_base=BASE).labels == ["zeta", "alpha", "mid"]


def test_a_qa_extension_missing_a_part_is_skipped() -> None:
    qa = _url("interaction-qa")
    resource = _foreign_encounter() | {
        "extension": [
            {"url": qa, "extension": [{"url": "question", "valueString": "Any fever?"}]},
            {"url": qa, "extension": [{"url": "answer", "valueString": "No"}]},
            {
                "url": qa,
                "extension": [{"url": "question", "valueString": "Cough?"}, {"url": "answer", "valueString": " "}],
            },
            {
                "url": qa,
                "extension": [{"url": "question", "valueString": "Rash?"}, {"url": "answer", "valueString": "Yes"}],
            },
            {"url": qa},
        ]
    }

    assert to_domain(resource, [], system_base=BASE).qa == [QuestionAnswer(question="Rash?", answer="Yes")]


def test_a_health_status_that_is_not_an_integer_is_ignored() -> None:
    code = {"coding": [{"system": INTERACTION_SYSTEM, "code": "health-status"}]}
    boolean = _observation(code, valueBoolean=True)
    boolean_integer = _observation(code, valueInteger=True)
    text = _observation(code, valueString="7")
    decimal = _observation(code, valueQuantity={"value": 7})

    assert (
        to_domain(_foreign_encounter(), [boolean, boolean_integer, text, decimal], system_base=BASE).health_status
        is None
    )
    assert (
        to_domain(
            _foreign_encounter(), [boolean_integer, _observation(code, valueInteger=4)], system_base=BASE
        ).health_status
        == 4
    )


def test_observations_without_a_position_come_after_the_positioned_ones_in_the_order_given() -> None:
    found = [_symptom("a"), _symptom("c", 2), _symptom("b"), _symptom("d", 1)]
    malformed_positions = [
        _symptom("e") | {"extension": [{"url": _url("interaction-position"), "valuePositiveInt": value}]}
        for value in (0, -1, "1", True, 1.5)
    ]

    interaction = to_domain(_foreign_encounter(), found + malformed_positions, system_base=BASE)

    assert interaction.symptoms == ["d", "c", "a", "b", "e", "e", "e", "e", "e"]


def test_metrics_without_a_position_come_after_the_positioned_ones() -> None:
    stored, found = _stored(EXAMPLE.model_copy(update={"metrics": {"peak_flow_l_min": 420, "spo2": 97}}))
    foreign_heart_rate = _observation(
        {"coding": [{"system": LOINC, "code": "8867-4"}]},
        valueQuantity={"value": 80, "unit": "/min", "system": UCUM, "code": "/min"},
    )
    foreign_metric = _observation({"coding": [{"system": METRIC_SYSTEM, "code": "fev1"}]}, valueQuantity={"value": 3.1})

    interaction = to_domain(stored, [foreign_heart_rate, foreign_metric, *reversed(found)], system_base=BASE)

    assert _typed(interaction.metrics) == [
        ("peak_flow_l_min", int, 420),
        ("spo2", int, 97),
        ("heart_rate", int, 80),
        ("fev1", float, 3.1),
    ]


def test_a_metric_read_twice_keeps_the_first_in_written_order() -> None:
    stored, found = _stored(EXAMPLE.model_copy(update={"metrics": {"heart_rate": 72}}))
    unplaced = _observation(
        {"coding": [{"system": LOINC, "code": "8867-4"}]},
        valueQuantity={"value": 99, "unit": "/min", "system": UCUM, "code": "/min"},
    )

    assert to_domain(stored, [unplaced, *found], system_base=BASE).metrics == {"heart_rate": 72}


MALFORMED_ENCOUNTERS: list[tuple[str, dict[str, Any]]] = [
    ("subject a list", {"subject": [{"reference": "Patient/p-9"}]}),
    ("subject a string", {"subject": "Patient/p-9"}),
    ("identifier a list", {"subject": {"reference": "Patient/p-9", "identifier": [{"value": "1"}]}}),
    ("reference a number", {"subject": {"reference": 9}}),
    ("meta a list", {"meta": [{"versionId": "1"}], "period": {"start": "2024-06-01T12:00:00+00:00"}}),
    ("tags an object", {"meta": {"lastUpdated": "2024-06-01T12:00:00+00:00", "tag": {"system": LABEL_SYSTEM}}}),
    ("tags not objects", {"meta": {"lastUpdated": "2024-06-01T12:00:00+00:00", "tag": ["allergy", 3, None]}}),
    (
        "tag code a number",
        {"meta": {"lastUpdated": "2024-06-01T12:00:00+00:00", "tag": [{"system": LABEL_SYSTEM, "code": 3}]}},
    ),
    ("period a list", {"period": [{"start": "2024-06-01T12:00:00+00:00"}]}),
    ("period start a number", {"period": {"start": 20240601}}),
    ("period start not a date", {"period": {"start": "yesterday"}}),
    ("reasonCode an object", {"reasonCode": {"text": "Hay fever"}}),
    ("reasonCode not objects", {"reasonCode": ["Hay fever", 3]}),
    ("coding an object", {"reasonCode": [{"coding": {"system": icd10cm.SYSTEM, "code": "J30.1"}}]}),
    ("reason text a list", {"reasonCode": [{"text": ["Hay fever"]}]}),
    ("extensions an object", {"extension": {"url": _url("interaction-remarks"), "valueString": "x"}}),
    ("extensions not objects", {"extension": ["x", 3, None, []]}),
    ("remarks a number", {"extension": [{"url": _url("interaction-remarks"), "valueString": 3}]}),
    ("qa parts an object", {"extension": [{"url": _url("interaction-qa"), "extension": {"url": "question"}}]}),
    ("qa parts not objects", {"extension": [{"url": _url("interaction-qa"), "extension": ["question", "answer"]}]}),
]


@pytest.mark.parametrize(("why", "changes"), MALFORMED_ENCOUNTERS, ids=[why for why, _ in MALFORMED_ENCOUNTERS])
def test_a_malformed_encounter_reads_without_its_malformed_parts(why: str, changes: dict[str, Any]) -> None:
    resource = _foreign_encounter() | copy.deepcopy(changes)

    interaction = to_domain(resource, [], system_base=BASE)

    assert interaction.id == "foreign-1"
    assert interaction.ailment_code is None
    assert interaction.labels == []
    assert interaction.qa == []
    assert interaction.remarks is None
    assert interaction.insurance_no is None
    assert interaction.ailment is None


MALFORMED_OBSERVATIONS: list[tuple[str, dict[str, Any]]] = [
    ("code a list", {"code": [{"coding": [{"system": LOINC, "code": "75325-1"}]}]}),
    (
        "coding an object",
        {"code": {"coding": {"system": LOINC, "code": "75325-1"}}, "valueCodeableConcept": {"text": "x"}},
    ),
    ("codings not objects", {"code": {"coding": ["75325-1", None]}}),
    (
        "symptom value a list",
        {"code": {"coding": [{"system": LOINC, "code": "75325-1"}]}, "valueCodeableConcept": ["x"]},
    ),
    (
        "symptom text a number",
        {"code": {"coding": [{"system": LOINC, "code": "75325-1"}]}, "valueCodeableConcept": {"text": 3}},
    ),
    ("metric quantity a list", {"code": {"coding": [{"system": METRIC_SYSTEM, "code": "x"}]}, "valueQuantity": [1]}),
    (
        "metric value text",
        {"code": {"coding": [{"system": METRIC_SYSTEM, "code": "x"}]}, "valueQuantity": {"value": "1"}},
    ),
    (
        "metric value a boolean",
        {"code": {"coding": [{"system": METRIC_SYSTEM, "code": "x"}]}, "valueQuantity": {"value": True}},
    ),
    ("metric code a number", {"code": {"coding": [{"system": METRIC_SYSTEM, "code": 3}]}, "valueString": "x"}),
    ("vital quantity a list", {"code": {"coding": [{"system": LOINC, "code": "8867-4"}]}, "valueQuantity": [72]}),
    ("panel components a number", {"code": {"coding": [{"system": LOINC, "code": "85354-9"}]}, "component": 3}),
    ("panel components not objects", {"code": {"coding": [{"system": LOINC, "code": "85354-9"}]}, "component": ["x"]}),
    ("extensions an object", {"code": {"coding": []}, "extension": {"url": _url("interaction-position")}}),
    ("extensions not objects", {"code": {"coding": []}, "extension": [1, "x"]}),
    ("no code", {}),
]


@pytest.mark.parametrize(("why", "shape"), MALFORMED_OBSERVATIONS, ids=[why for why, _ in MALFORMED_OBSERVATIONS])
def test_a_malformed_observation_is_ignored(why: str, shape: dict[str, Any]) -> None:
    stored, found = _stored(EXAMPLE)
    malformed = {"resourceType": "Observation", "status": "final"} | copy.deepcopy(shape)

    interaction = to_domain(stored, [malformed, *found, malformed], system_base=BASE)

    assert interaction == to_domain(stored, found, system_base=BASE)
