"""The schema is one the fuzzer can read whole, and its hook drops only refusals for rules a
JSON Schema cannot state."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from schemathesis.core.jsonschema.patterns import enforced_pattern

from fhir_gateway.app import create_app
from fhir_gateway.settings import Settings
from tests.fuzz.hooks import refused_only_for_a_repeated_sort_field, refused_only_for_unstatable_rules

VALID = {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1980-12-10"}
TOMORROW = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
BORN_TOMORROW = {**VALID, "birth_date": TOMORROW}
# A BC PHN with a wrong check digit (9698658215 is valid).
BAD_CHECK_DIGIT = {"province": "BC", "insurance_no": "9698658216"}


def patterns(node: object) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [pattern for value in node.values() for pattern in patterns(value)]
    if isinstance(node, list):
        return [pattern for item in node for pattern in patterns(item)]
    return []


def test_every_pattern_of_the_schema_is_one_the_fuzzer_enforces() -> None:
    # A pattern its regex engine cannot compile would be dropped whole, and the fuzz would
    # send what the pattern forbids.
    schema = create_app(Settings(_env_file=None)).openapi()

    found = patterns(schema)

    assert found
    assert [pattern for pattern in found if enforced_pattern(pattern) is None] == []


def problem(*fields: str) -> dict[str, Any]:
    return {"status": 422, "errors": [{"loc": ["body", field], "msg": "invalid"} for field in fields]}


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (BORN_TOMORROW, problem("birth_date")),
        ({**VALID, "birth_date": "1899-12-31"}, problem("birth_date")),
        ({**VALID, **BAD_CHECK_DIGIT}, problem("insurance_no")),
        ({**BORN_TOMORROW, **BAD_CHECK_DIGIT}, problem("birth_date", "insurance_no")),
    ],
    ids=["future birth date", "birth date before 1900", "check digit", "both"],
)
def test_a_refusal_for_unstatable_rules_is_dropped(body: dict[str, Any], answer: dict[str, Any]) -> None:
    assert refused_only_for_unstatable_rules("POST /patients", body, 422, answer)
    assert refused_only_for_unstatable_rules("PUT /patients/{patient_id}", body, 422, answer)


@pytest.mark.parametrize(
    ("operation", "body", "status", "answer"),
    [
        # The answer also names a field whose rule a schema can state.
        ("POST /patients", {**BORN_TOMORROW, "family_name": ""}, 422, problem("birth_date", "family_name")),
        # The body breaks no unstatable rule, whatever the answer names.
        ("POST /patients", VALID, 422, problem("birth_date")),
        ("POST /patients", {**VALID, "province": "BC", "insurance_no": "9698658215"}, 422, problem("insurance_no")),
        # A province without a check digit rule, or no province: the number is not checked.
        ("POST /patients", {**VALID, "province": "AB", "insurance_no": "12"}, 422, problem("insurance_no")),
        # Not a 422, not a patient write, or no field named.
        ("POST /patients", BORN_TOMORROW, 400, problem("birth_date")),
        ("GET /patients", BORN_TOMORROW, 422, problem("birth_date")),
        ("POST /patients", BORN_TOMORROW, 422, {"status": 422, "errors": []}),
        ("POST /patients", BORN_TOMORROW, 422, "not a problem"),
    ],
    ids=[
        "another field",
        "valid birth date",
        "valid check digit",
        "no check digit rule",
        "status",
        "operation",
        "no errors",
        "no problem",
    ],
)
def test_every_other_refusal_is_kept(operation: str, body: dict[str, Any], status: int, answer: object) -> None:
    assert not refused_only_for_unstatable_rules(operation, body, status, answer)


def test_a_refusal_of_a_special_use_email_domain_is_dropped() -> None:
    body = {**VALID, "email": "ada@clinic.test"}

    assert refused_only_for_unstatable_rules("POST /patients", body, 422, problem("email"))
    assert not refused_only_for_unstatable_rules(
        "POST /patients", {**VALID, "email": "ada@example.org"}, 422, problem("email")
    )


@pytest.mark.parametrize(
    ("sort", "dropped"), [("family_name,-family_name", True), ("family_name,given_name", False), ("name", False)]
)
def test_only_a_list_refused_for_a_repeated_sort_field_is_dropped(sort: str, dropped: bool) -> None:
    answer = {"status": 422, "errors": [{"loc": ["query", "sort"], "msg": "names a field twice"}]}

    assert refused_only_for_a_repeated_sort_field({"sort": sort}, 422, answer) is dropped


def test_a_generation_refused_for_two_separators_alike_is_dropped() -> None:
    operation = "POST /api/generate/{format}"
    alike = {"count": 1, "options": {"element_separator": "~"}}
    distinct = {"count": 1, "options": {"element_separator": "|"}}

    assert refused_only_for_unstatable_rules(operation, alike, 422, problem("options"))
    assert not refused_only_for_unstatable_rules(operation, distinct, 422, problem("options"))
    assert not refused_only_for_unstatable_rules(operation, alike, 422, problem("count"))
