"""Search parameter expressions of the R4 definitions, compiled to steps over resource JSON."""

import pytest

from fhir_gateway.embedded.expressions import compile_expression
from fhir_gateway.embedded.search_parameters import params_for, types_with_param


@pytest.mark.parametrize(
    ("expression", "resource_type", "resource", "expected"),
    [
        ("Patient.name.given", "Patient", {"name": [{"given": ["A", "B"]}, {"given": ["C"]}]}, ["A", "B", "C"]),
        ("Observation.value as Quantity", "Observation", {"valueQuantity": {"value": 5}}, [{"value": 5}]),
        ("Observation.value as Quantity", "Observation", {"valueString": "5"}, []),
        (
            "(Observation.value as CodeableConcept).text",
            "Observation",
            {"valueCodeableConcept": {"text": "hi"}},
            ["hi"],
        ),
        (
            "Observation.effective",
            "Observation",
            {"effectiveDateTime": "2020", "status": "final"},
            ["2020"],
        ),
        ("Condition.onset.as(Age)", "Condition", {"onsetAge": {"value": 3}, "onsetString": "x"}, [{"value": 3}]),
        ("Goal.target.due as date", "Goal", {"target": [{"dueDate": "2021"}, {"dueDuration": {}}]}, ["2021"]),
        (
            "Patient.telecom.where(system='phone')",
            "Patient",
            {"telecom": [{"system": "phone", "value": "1"}, {"system": "email", "value": "e"}]},
            [{"system": "phone", "value": "1"}],
        ),
        (
            "Observation.subject.where(resolve() is Patient)",
            "Observation",
            {"subject": {"reference": "Patient/1"}},
            [{"reference": "Patient/1"}],
        ),
        ("Observation.subject.where(resolve() is Patient)", "Observation", {"subject": {"reference": "Group/1"}}, []),
        (
            "Bundle.entry[0].resource",
            "Bundle",
            {"entry": [{"resource": {"id": "a"}}, {"resource": {"id": "b"}}]},
            [{"id": "a"}],
        ),
        ("Resource.meta.tag", "Patient", {"meta": {"tag": [{"code": "t"}]}}, [{"code": "t"}]),
        # A datatype's choice element (UsageContext.value), reached through a resource's element.
        (
            "ValueSet.useContext.value as Quantity",
            "ValueSet",
            {"useContext": [{"valueQuantity": {"value": 1}}]},
            [{"value": 1}],
        ),
    ],
)
def test_compiled_shapes_select_what_fhirpath_selects(
    expression: str, resource_type: str, resource: dict, expected: list
) -> None:
    assert (
        compile_expression(expression, resource_type).evaluate({"resourceType": resource_type, **resource}) == expected
    )


def test_an_expression_outside_the_compiled_shapes_is_evaluated_by_fhirpath() -> None:
    expression = compile_expression("Patient.deceased.exists() and Patient.deceased != false", "Patient")

    assert expression.evaluate({"resourceType": "Patient", "deceasedDateTime": "2020-01-01"}) == [True]
    assert expression.evaluate({"resourceType": "Patient", "deceasedBoolean": False}) == [False]


def test_every_r4_parameter_compiles() -> None:
    for resource_type in types_with_param("_id"):
        for param in params_for(resource_type).values():
            for expression in param.expressions:
                # A composite's own expression is its resource; its components hold the paths.
                assert expression.steps or param.type == "composite", (resource_type, param.name, expression.text)


def test_a_reference_type_test_names_the_target_a_bare_id_means() -> None:
    observation = params_for("Observation")
    # `patient` may point at Patient or Group by its targets, but its expression keeps Patients.
    assert observation["patient"].inferred_target == "Patient"
    assert observation["subject"].inferred_target is None
    assert params_for("Encounter")["service-provider"].inferred_target == "Organization"
