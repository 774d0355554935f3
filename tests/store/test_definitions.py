"""The generated FHIR R4 tables: pinned to the specification they come from, and saying what it says."""

import importlib.util
import json
import re
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.deploy.test_dockerfile import _final, _ignored

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_fhir_definitions.py"
DEFINITIONS = ROOT / "fhir_gateway" / "embedded" / "definitions"
TABLES = ("search_parameters.json", "resource_types.json", "required_codes.json")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_fhir_definitions", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table(name: str) -> dict[str, Any]:
    return json.loads((DEFINITIONS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _script()


@pytest.fixture(scope="module")
def search_parameters() -> dict[str, Any]:
    return _table("search_parameters.json")


@pytest.fixture(scope="module")
def resources(search_parameters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return search_parameters["resources"]


@pytest.fixture(scope="module")
def types() -> dict[str, Any]:
    return _table("resource_types.json")


@pytest.fixture(scope="module")
def required() -> dict[str, Any]:
    return _table("required_codes.json")


@pytest.fixture(scope="module")
def regenerated(script: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The tables generated afresh from the pinned jar, and the generator's summary."""
    if not script.jar_path().is_file():
        try:
            urllib.request.urlopen(script.jar_url() + ".sha1", timeout=30).close()
        except OSError as error:
            pytest.skip(
                f"TABLES NOT CHECKED AGAINST THEIR SOURCE: {script.jar_path()} is missing "
                f"and {script.jar_url()} cannot be downloaded ({error})"
            )
    jar, sha1 = script.load_jar()
    output = tmp_path_factory.mktemp("definitions")
    return output, script.generate(output, jar, sha1)


@pytest.mark.parametrize("name", TABLES)
def test_each_table_names_the_artifact_the_script_pins(script: ModuleType, name: str) -> None:
    source = _table(name)["source"]

    assert source["artifact"] == f"{script.GROUP}:{script.ARTIFACT}"
    assert source["version"] == script.VERSION
    assert source["fhirVersion"] == "4.0.1"
    assert len(source["sha1"]) == 40


@pytest.mark.parametrize("name", TABLES)
def test_regenerating_from_the_jar_gives_the_committed_table(regenerated: tuple[Path, list[str]], name: str) -> None:
    output, _ = regenerated

    assert (output / name).read_bytes() == (DEFINITIONS / name).read_bytes()


def test_no_two_search_parameters_share_a_code_on_one_type(regenerated: tuple[Path, list[str]]) -> None:
    _, summary = regenerated

    assert not [line for line in summary if "already defined" in line or "applies to none" in line]


def test_the_image_carries_the_tables() -> None:
    copied = [command.value[0] for command in _final().find("COPY") if not command.flags]

    assert "fhir_gateway" in copied
    for name in TABLES:
        assert not _ignored(f"fhir_gateway/embedded/definitions/{name}")


def test_expressions_split_on_top_level_unions_only(script: ModuleType) -> None:
    expression = "(A.b as X) | A.c.where(d = 'x|y') | (A.e | A.f).g | ((A.h))"

    assert script.split_expression(expression) == ["A.b as X", "A.c.where(d = 'x|y')", "(A.e | A.f).g", "A.h"]


# Search parameters -------------------------------------------------------------------------

_ROOT = re.compile(r"\(*([A-Za-z][A-Za-z0-9]*)")


def test_the_common_parameters_keep_their_resource_rooted_expressions(search_parameters: dict[str, Any]) -> None:
    common = search_parameters["common"]

    assert {"_id", "_lastUpdated", "_tag", "_profile", "_security", "_source", "_text", "_content"} <= set(common)
    assert common["_id"] == {"type": "token", "expressions": ["Resource.id"], "targets": [], "components": []}
    assert common["_lastUpdated"]["expressions"] == ["Resource.meta.lastUpdated"]
    assert common["_text"] == {"type": "string", "expressions": [], "targets": [], "components": []}


def test_observation_parameters_are_the_specifications(resources: dict[str, dict[str, Any]]) -> None:
    observation = resources["Observation"]

    assert observation["value-quantity"] == {
        "type": "quantity",
        "expressions": ["Observation.value as Quantity", "Observation.value as SampledData"],
        "targets": [],
        "components": [],
    }
    assert observation["patient"]["type"] == "reference"
    assert observation["patient"]["targets"] == ["Patient", "Group"]
    assert observation["patient"]["expressions"] == ["Observation.subject.where(resolve() is Patient)"]
    assert observation["value-string"]["expressions"] == [
        "Observation.value as string",
        "(Observation.value as CodeableConcept).text",
    ]


def test_a_composite_names_its_components_by_their_codes_on_the_same_type(
    resources: dict[str, dict[str, Any]],
) -> None:
    composite = resources["Observation"]["code-value-quantity"]

    assert composite["type"] == "composite"
    assert composite["components"] == [
        {"param": "code", "expression": "code"},
        {"param": "value-quantity", "expression": "value.as(Quantity)"},
    ]
    assert {component["param"] for component in composite["components"]} <= set(resources["Observation"])


def test_a_shared_parameter_lands_on_each_base_with_its_own_part(resources: dict[str, dict[str, Any]]) -> None:
    assert resources["AllergyIntolerance"]["patient"]["expressions"] == ["AllergyIntolerance.patient"]
    assert resources["CarePlan"]["patient"]["expressions"] == ["CarePlan.subject.where(resolve() is Patient)"]
    assert resources["Patient"]["family"]["expressions"] == ["Patient.name.family"]
    assert resources["Practitioner"]["family"]["expressions"] == ["Practitioner.name.family"]


@pytest.mark.parametrize("resource_type", ["ExplanationOfBenefit", "MedicationRequest", "DiagnosticReport", "Claim"])
def test_clinical_and_financial_records_search_by_patient(
    resources: dict[str, dict[str, Any]], resource_type: str
) -> None:
    patient = resources[resource_type]["patient"]

    assert patient["type"] == "reference"
    assert "Patient" in patient["targets"]


def test_parameters_missing_from_the_hand_typed_list_are_there(resources: dict[str, dict[str, Any]]) -> None:
    assert resources["Location"]["identifier"]["type"] == "token"
    assert resources["RiskAssessment"]["probability"]["type"] == "number"
    assert resources["RiskAssessment"]["probability"]["expressions"] == ["RiskAssessment.prediction.probability"]


def test_every_expression_is_rooted_at_its_own_type(resources: dict[str, dict[str, Any]]) -> None:
    strays = [
        (resource_type, code, expression)
        for resource_type, parameters in resources.items()
        for code, parameter in parameters.items()
        for expression in parameter["expressions"]
        if _ROOT.match(expression).group(1) != resource_type  # type: ignore[union-attr]
    ]

    assert strays == []


def test_every_resource_type_has_a_parameter_table(resources: dict[str, dict[str, Any]], types: dict[str, Any]) -> None:
    parameters = sum(len(table) for table in resources.values())

    assert sorted(resources) == types["resource_types"]
    assert len(resources) >= 140
    # 1,375 SearchParameters; a shared one (clinical-patient) counts once per base type.
    assert 1_600 <= parameters <= 1_800


# Resource types and datatypes ----------------------------------------------------------


def test_resource_types_are_the_concrete_r4_resources(types: dict[str, Any]) -> None:
    resource_types = set(types["resource_types"])

    assert {"Patient", "Observation", "Bundle", "Parameters", "Binary", "MedicinalProduct"} <= resource_types
    assert not {"Resource", "DomainResource"} & resource_types


def test_datatypes_are_the_complex_specializations(types: dict[str, Any]) -> None:
    datatypes = set(types["datatypes"])

    assert {"Address", "HumanName", "Quantity", "Age", "Coding", "Timing", "Dosage", "Meta"} <= datatypes
    assert {"Narrative", "Extension"} <= datatypes
    # Abstract types, profiles of Quantity and primitives are not complex datatypes.
    assert not {"Element", "BackboneElement", "SimpleQuantity", "MoneyQuantity", "code", "string"} & datatypes


# Required codes ------------------------------------------------------------------------


def test_required_bindings_carry_every_code_of_their_value_set(required: dict[str, Any]) -> None:
    bindings = required["bindings"]

    assert bindings["Observation.status"] == [
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    ]
    assert bindings["Quantity.comparator"] == ["<", "<=", ">=", ">"]
    assert bindings["Timing.repeat.durationUnit"] == ["s", "min", "h", "d", "wk", "mo", "a"]
    assert {"open-choice", "group", "quantity"} <= set(bindings["Questionnaire.item.type"])
    # A value set of a whole code system: every resource type of it (nested concepts included).
    assert {"Patient", "Observation", "Resource", "DomainResource"} <= set(bindings["SearchParameter.base"])
    assert all(codes for codes in bindings.values())


def test_content_references_name_the_element_they_repeat(required: dict[str, Any]) -> None:
    references = required["content_references"]

    assert references["Questionnaire.item.item"] == "Questionnaire.item"
    assert references["Bundle.entry.link"] == "Bundle.link"


def test_bindings_the_specification_cannot_enumerate_say_why(required: dict[str, Any]) -> None:
    not_enumerable = required["not_enumerable"]

    assert "mimetypes" in not_enumerable["Attachment.contentType"]
    assert "urn:iso:std:iso:4217" in not_enumerable["Money.currency"]
    assert not set(not_enumerable) & set(required["bindings"])
