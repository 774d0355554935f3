"""Bodies that FHIR JSON forbids but the models let through are refused, naming the path."""

import re

import pytest

from fhir_gateway.embedded.outcomes import FhirStoreError
from fhir_gateway.embedded.validation import validate


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"resourceType": "Patient", "meta": None}, "Patient.meta"),
        ({"resourceType": "Patient", "meta": {"tag": None}}, "Patient.meta.tag"),
        ({"resourceType": "Patient", "name": [{"family": None, "given": ["Ann"]}]}, "Patient.name[0].family"),
    ],
)
def test_a_null_property_is_refused(body: dict, path: str) -> None:
    with pytest.raises(FhirStoreError) as refused:
        validate(body)

    assert refused.value.status == 400
    assert [issue.expression for issue in refused.value.issues] == [path]


def test_null_items_of_a_primitive_array_beside_their_extensions_are_taken() -> None:
    body = {
        "resourceType": "Patient",
        "name": [{"given": ["Ann", None], "_given": [None, {"extension": [{"url": "urn:x", "valueString": "y"}]}]}],
    }

    assert validate(body) == body


# Required codes: R4's value sets in full, as the specification lists them.

OBSERVATION_STATUSES = [
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
]


def _observation(**fields: object) -> dict:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "Heart rate"}} | fields


def _questionnaire(*items: dict) -> dict:
    return {"resourceType": "Questionnaire", "status": "active", "item": list(items)}


@pytest.mark.parametrize(
    "body",
    [
        *[_observation(status=status) for status in OBSERVATION_STATUSES],
        *[
            {"resourceType": "Encounter", "status": status, "class": {"code": "AMB"}}
            for status in ["entered-in-error", "unknown"]
        ],
        *[
            {"resourceType": "DiagnosticReport", "status": status, "code": {"text": "CBC"}}
            for status in ["amended", "corrected", "appended", "cancelled", "entered-in-error", "unknown"]
        ],
        *[{"resourceType": "Task", "status": status, "intent": "order"} for status in ["on-hold", "entered-in-error"]],
        _questionnaire({"linkId": "1", "type": "open-choice"}),
        _questionnaire({"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "open-choice"}]}),
        _observation(valueQuantity={"value": 5, "comparator": "<="}),
        # Bindings whose codes the specification does not list: MIME types, currencies.
        {"resourceType": "Patient", "photo": [{"contentType": "image/x-portable-anymap"}]},
        {"resourceType": "Invoice", "status": "draft", "totalNet": {"value": 1, "currency": "XTS"}},
        # Extensions' values have no required binding.
        {"resourceType": "Patient", "extension": [{"url": "urn:x", "valueCode": "anything"}]},
    ],
)
def test_every_code_of_a_required_binding_is_taken(body: dict) -> None:
    assert validate(body) == body


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        (_observation(status="bogus"), "Observation.status", "bogus"),
        (_observation(valueQuantity={"value": 5, "comparator": "=="}), "Observation.valueQuantity.comparator", "=="),
        ({"resourceType": "Patient", "name": [{"use": "nick"}]}, "Patient.name[0].use", "nick"),
        (
            _questionnaire({"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "multiple-choice"}]}),
            "Questionnaire.item[0].item[0].type",
            "multiple-choice",
        ),
        (
            _questionnaire(
                {"linkId": "1", "type": "group"},
                {
                    "linkId": "2",
                    "type": "group",
                    "item": [{"linkId": "2.1", "type": "text"}, {"linkId": "2.2", "type": "x"}],
                },
            ),
            "Questionnaire.item[1].item[1].type",
            "x",
        ),
        (
            {"resourceType": "Patient", "contained": [_observation(status="done")]},
            "Patient.contained[0].status",
            "done",
        ),
        (
            {"resourceType": "Patient", "telecom": [{"system": "phone"}, {"system": "beeper"}]},
            "Patient.telecom[1].system",
            "beeper",
        ),
    ],
)
def test_a_code_outside_a_required_binding_is_refused_naming_its_path(body: dict, path: str, code: str) -> None:
    with pytest.raises(FhirStoreError) as refused:
        validate(body)

    assert refused.value.status == 400
    [issue] = refused.value.issues
    assert (issue.expression, issue.code) == (path, "code-invalid")
    assert issue.diagnostics.startswith(f"{path}: unknown code {code!r}, expected one of ")


def test_the_refusal_lists_every_code_of_a_short_value_set() -> None:
    with pytest.raises(FhirStoreError) as refused:
        validate(_observation(status="bogus"))

    assert refused.value.issues[0].diagnostics == (
        f"Observation.status: unknown code 'bogus', expected one of {OBSERVATION_STATUSES}"
    )


def test_the_refusal_counts_the_codes_of_a_long_value_set_and_shows_twenty() -> None:
    body = {
        "resourceType": "ImplementationGuide",
        "url": "http://example.org/ig",
        "name": "Example",
        "status": "draft",
        "packageId": "example.ig",
        "fhirVersion": ["4.0.1"],
        "license": "not-a-license",
    }
    with pytest.raises(FhirStoreError) as refused:
        validate(body)

    diagnostics = refused.value.issues[0].diagnostics
    assert re.fullmatch(
        r"ImplementationGuide\.license: unknown code 'not-a-license', expected one of (\d+) codes: "
        r"\[('[^']+', ){20}\.\.\.\]",
        diagnostics,
    )
    assert int(re.search(r"one of (\d+) codes", diagnostics).group(1)) > 300  # type: ignore[union-attr]
