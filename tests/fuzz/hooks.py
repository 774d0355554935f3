"""Schemathesis hooks of the gateway's fuzzing, loaded by `schemathesis.toml`.

`filter_failure`: `positive_data_acceptance` holds that whatever the schema allows, the API
accepts. Some rules no JSON Schema can state, so a schema-valid request may break them and
is then refused with 422, rightly:

- a patient's `birth_date` lies between 1900-01-01 and today (UTC): `format: date` takes no
  bounds, and today moves; an interaction's `interaction_date` lies between 1900 and now;
- a patient's `insurance_no`, with `province` BC or ON, passes that province's check digit
  (MOD-11, Luhn); an interaction's (of a patient no one holds) when it is shaped like one;
- `email` is not at a special-use domain (`.test`, `.local`, `localhost`, ...), which can
  receive no mail: `format: email` is syntax only;
- `ailment_code` is in the ICD-10-CM release, and so is every code a synthetic record's
  messages hold (which must hold one); a blood pressure's systolic is above its diastolic;
- `sort` (on the patient list) names each field once: a pattern cannot say so without lookahead;
- the four X12 separators a generation request names (or leaves at their defaults) differ.

Such a refusal is dropped only when the request really breaks one of these rules and every
field the answer names is one it breaks; any other refusal of schema-valid data is reported.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime

import email_validator
import schemathesis
from schemathesis import Case, HookContext, Response
from schemathesis.core.failures import Failure
from schemathesis.openapi.checks import RejectedPositiveData

from fhir_gateway.features.generate.schemas import GenerateOptions
from fhir_gateway.features.records.schemas import ICD_CODE
from fhir_gateway.fields import CLOCK_SKEW
from mappers import health_numbers, icd10cm

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
PATIENT_WRITES = frozenset({"POST /patients", "PUT /patients/{patient_id}"})
PATIENT_LIST = "GET /patients"
INTERACTION_WRITE = "POST /interactions"
INTERACTION_LIST = "GET /interactions"
RECORD_WRITE = "POST /api/generate/records"
GENERATION = "POST /api/generate/{format}"


@schemathesis.hook
def filter_failure(context: HookContext, failure: Failure, case: Case, response: Response) -> bool:
    """Keep every failure but a patient write refused only for rules its schema cannot state."""
    if not isinstance(failure, RejectedPositiveData):
        return True
    try:
        problem = response.json()
    except ValueError:
        return True
    operation = case.operation.label
    if operation == PATIENT_LIST:
        return not refused_only_for_a_repeated_sort_field(case.query, response.status_code, problem)
    if operation == INTERACTION_LIST:
        broken = {("query", "insurance_no")} if _unplaced_number_problem(case.query) else set()
        return not refused_only_for(broken, response.status_code, problem)
    return not refused_only_for_unstatable_rules(operation, case.body, response.status_code, problem)


def refused_only_for_a_repeated_sort_field(query: object, status: int, problem: object) -> bool:
    """Whether the list was refused with a 422 naming only a `sort` that names a field twice."""
    if status != 422 or not isinstance(problem, Mapping) or not isinstance(query, Mapping):
        return False
    sort = query.get("sort")
    if not isinstance(sort, str):
        return False
    names = [field.removeprefix("-") for field in sort.split(",")]
    errors = problem.get("errors")
    named = {tuple(error.get("loc") or ()) for error in errors or [] if isinstance(error, Mapping)}
    return len(set(names)) != len(names) and named == {("query", "sort")}


def refused_only_for_unstatable_rules(operation: str, body: object, status: int, problem: object) -> bool:
    """Whether a patient or interaction write was refused with a 422 naming only fields of
    `body` that break a rule no JSON Schema can state."""
    if operation in PATIENT_WRITES:
        broken = {("body", field) for field in fields_breaking_unstatable_rules(body)}
    elif operation == INTERACTION_WRITE:
        broken = interaction_fields_breaking_unstatable_rules(body)
    elif operation == RECORD_WRITE:
        broken = record_fields_breaking_unstatable_rules(body)
    elif operation == GENERATION:
        broken = generation_fields_breaking_unstatable_rules(body)
    else:
        return False
    return refused_only_for(broken, status, problem)


def refused_only_for(broken: set[tuple[str | int, ...]], status: int, problem: object) -> bool:
    """Whether the answer is a 422 naming only locations among `broken`."""
    if status != 422 or not isinstance(problem, Mapping):
        return False
    errors = problem.get("errors")
    if not isinstance(errors, list) or not errors:
        return False
    named = {tuple(error.get("loc") or ()) if isinstance(error, Mapping) else () for error in errors}
    return named <= broken


def interaction_fields_breaking_unstatable_rules(body: object) -> set[tuple[str, ...]]:
    """Where an interaction body breaks a rule no JSON Schema can state."""
    if not isinstance(body, Mapping):
        return set()
    broken: set[tuple[str, ...]] = set()
    if _unplaced_number_problem(body):
        broken.add(("body", "insurance_no"))
    moment = body.get("interaction_date")
    try:
        when = datetime.fromisoformat(moment) if isinstance(moment, str) else None
    except ValueError:
        when = None
    if when is not None and when.tzinfo is not None and not EARLIEST_MOMENT <= when <= datetime.now(UTC) + CLOCK_SKEW:
        broken.add(("body", "interaction_date"))
    code = body.get("ailment_code")
    if isinstance(code, str) and icd10cm.canonical(code) is None:
        broken.add(("body", "ailment_code"))
    metrics = body.get("metrics")
    if isinstance(metrics, Mapping):
        systolic, diastolic = metrics.get("bp_systolic"), metrics.get("bp_diastolic")
        if isinstance(systolic, int | float) and isinstance(diastolic, int | float) and systolic <= diastolic:
            broken |= {("body", "metrics", "bp_systolic"), ("body", "metrics", "bp_diastolic")}
    return broken


def record_fields_breaking_unstatable_rules(body: object) -> set[tuple[str | int, ...]]:
    """Where a synthetic record's request breaks a rule no JSON Schema can state: a message
    holding a code that is not in the ICD-10-CM release, or messages holding no code."""
    messages = body.get("messages") if isinstance(body, Mapping) else None
    if not isinstance(messages, list):
        return set()
    contents = [m.get("content") if isinstance(m, Mapping) else None for m in messages]
    found = [ICD_CODE.findall(content.upper()) if isinstance(content, str) else [] for content in contents]
    broken: set[tuple[str | int, ...]] = {
        ("body", "messages", index, "content")
        for index, codes in enumerate(found)
        if any(("." in code or len(code) >= 4) and icd10cm.canonical(code) is None for code in codes)
    }
    if not any(icd10cm.canonical(code) for codes in found for code in codes):
        broken.add(("body", "messages"))
    return broken


def generation_fields_breaking_unstatable_rules(body: object) -> set[tuple[str | int, ...]]:
    """Where a generation request breaks a rule no JSON Schema can state: two X12 separators alike."""
    options = body.get("options") if isinstance(body, Mapping) else None
    if not isinstance(options, Mapping):
        return set()
    separators = [
        options.get(name, GenerateOptions.model_fields[name].default)
        for name in ("element_separator", "segment_terminator", "component_separator", "repetition_separator")
    ]
    return {("body", "options")} if len(set(separators)) != len(separators) else set()


def _unplaced_number_problem(request: object) -> str | None:
    number = request.get("insurance_no") if isinstance(request, Mapping) else None
    if not isinstance(number, str):
        return None
    return health_numbers.unplaced_number_problem(health_numbers.normalize(number))


def fields_breaking_unstatable_rules(body: object) -> set[str]:
    """The fields of a patient body that break a rule no JSON Schema can state."""
    if not isinstance(body, Mapping):
        return set()
    broken = set()
    birth_date = body.get("birth_date")
    if isinstance(birth_date, str):
        try:
            born = date.fromisoformat(birth_date)
        except ValueError:
            born = None
        if born is not None and not EARLIEST_BIRTH_DATE <= born <= datetime.now(UTC).date():
            broken.add("birth_date")
    province, number = body.get("province"), body.get("insurance_no")
    if (
        isinstance(province, str)
        and isinstance(number, str)
        and health_numbers.health_number_problem(province, health_numbers.normalize(number))
    ):
        broken.add("insurance_no")
    email = body.get("email")
    if isinstance(email, str) and _special_use_domain(email):
        broken.add("email")
    return broken


def _special_use_domain(address: str) -> bool:
    domain = address.rsplit("@", 1)[-1].rstrip(".").lower()
    return any(domain == name or domain.endswith(f".{name}") for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)
