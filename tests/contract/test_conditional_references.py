"""Conditional references and conditional creates, as Synthea's bundles and HAPI FHIR use them.

A reference may be a search (`"reference": "Patient?identifier=sys|val"`) in any reference
element of any entry: one match is written as `Patient/<id>`; none or several fail the whole
transaction. R4 (http.html#trules) allows them in transactions only; HAPI FHIR also resolves
them in a plain create, and so must the embedded store. `ifNoneExist` (and the If-None-Exist
header) arrives in three forms: bare criteria, criteria after the type, and an absolute URL on
the server's own base, which is the client's base URL (`http://testserver/fhir/` for the
embedded store under test).
"""

from collections.abc import Callable

import httpx
import pytest

from tests.contract.factories import (
    ACT_CODE,
    IDENTIFIER_SYSTEM,
    Json,
    Tag,
    bundle,
    observation,
    patient,
    post_entry,
    unique_value,
)
from tests.contract.interactions import (
    assert_operation_outcome,
    create,
    location_parts,
    outcome_text,
    read,
    reference,
    search_ids,
)
from tests.contract.target import UNMATCHED_CONDITIONAL_REFERENCE

PRACTITIONER_SYSTEM = "urn:test:npi"


def _patient_with_identifier(tag: Tag, value: str, family: str = "Conditional") -> Json:
    return patient(tag=tag, family=family, identifiers=[(IDENTIFIER_SYSTEM, value)])


def _patient_search(value: str) -> str:
    return f"Patient?identifier={IDENTIFIER_SYSTEM}|{value}"


def _encounter(tag: Tag, subject: str, individual: str) -> Json:
    """An Encounter whose subject and (nested) participant individual are `subject` and `individual`."""
    return {
        "resourceType": "Encounter",
        "meta": {"tag": [tag.coding]},
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB"},
        "subject": {"reference": subject},
        "participant": [{"individual": {"reference": individual}}],
    }


def _practitioner(tag: Tag, value: str) -> Json:
    return {
        "resourceType": "Practitioner",
        "meta": {"tag": [tag.coding]},
        "identifier": [{"system": PRACTITIONER_SYSTEM, "value": value}],
        "name": [{"family": "Attending"}],
    }


def _transaction(fhir: httpx.Client, entries: list[Json], kind: str = "transaction") -> httpx.Response:
    return fhir.post("", json=bundle(kind, entries))


def _tagged(fhir: httpx.Client, resource_type: str, tag: Tag, *params: tuple[str, str]) -> list[str]:
    return search_ids(fhir, resource_type, [("_tag", tag.search), *params])


def _stored_at(fhir: httpx.Client, location: str) -> Json:
    resource_type, resource_id, _ = location_parts(location)
    return read(fhir, f"{resource_type}/{resource_id}")


def test_conditional_references_in_any_entry_and_element_point_at_the_one_match(fhir: httpx.Client, tag: Tag) -> None:
    value = unique_value()
    subject = create(fhir, _patient_with_identifier(tag, value))
    attending = create(fhir, _practitioner(tag, value))
    patient_search = _patient_search(value)
    entries = [
        post_entry(_encounter(tag, patient_search, f"Practitioner?identifier={PRACTITIONER_SYSTEM}|{value}")),
        post_entry(observation(subject=patient_search, tag=tag)),
    ]

    response = _transaction(fhir, entries)

    assert response.status_code == 200, response.text
    encounter_at, observation_at = (entry["response"]["location"] for entry in response.json()["entry"])
    stored_encounter = _stored_at(fhir, encounter_at)
    assert stored_encounter["subject"]["reference"] == reference(subject)
    assert stored_encounter["participant"][0]["individual"]["reference"] == reference(attending)
    assert _stored_at(fhir, observation_at)["subject"]["reference"] == reference(subject)
    assert _tagged(fhir, "Observation", tag, ("subject", reference(subject))) == [location_parts(observation_at)[1]]


def test_a_conditional_reference_that_matches_nothing_fails_the_whole_transaction(fhir: httpx.Client, tag: Tag) -> None:
    criteria = _patient_search(unique_value())
    entries = [
        post_entry(patient(tag=tag, family="Bundled")),
        post_entry(observation(subject=criteria, tag=tag)),
    ]

    response = _transaction(fhir, entries)

    outcome = assert_operation_outcome(response, UNMATCHED_CONDITIONAL_REFERENCE)
    assert criteria in outcome_text(outcome)
    assert _tagged(fhir, "Patient", tag) == []
    assert _tagged(fhir, "Observation", tag) == []


def test_a_conditional_reference_that_matches_several_fails_the_transaction_with_412(
    fhir: httpx.Client, tag: Tag
) -> None:
    value = unique_value()
    twins = {create(fhir, _patient_with_identifier(tag, value))["id"] for _ in range(2)}
    criteria = _patient_search(value)
    entries = [
        post_entry(patient(tag=tag, family="Bundled")),
        post_entry(observation(subject=criteria, tag=tag)),
    ]

    response = _transaction(fhir, entries)

    outcome = assert_operation_outcome(response, 412)
    assert criteria in outcome_text(outcome)
    assert set(_tagged(fhir, "Patient", tag)) == twins
    assert _tagged(fhir, "Observation", tag) == []


def test_a_conditional_reference_in_a_batch_fails_only_its_entry(fhir: httpx.Client, tag: Tag) -> None:
    entries = [
        post_entry(observation(subject=_patient_search(unique_value()), tag=tag)),
        post_entry(patient(tag=tag, family="Batched")),
    ]

    response = _transaction(fhir, entries, kind="batch")

    assert response.status_code == 200, response.text
    failed, created = (entry["response"] for entry in response.json()["entry"])
    assert failed["status"][:1] == "4"
    assert created["status"].startswith("201")
    assert _tagged(fhir, "Patient", tag) == [location_parts(created["location"])[1]]
    assert _tagged(fhir, "Observation", tag) == []


def test_a_plain_create_resolves_a_conditional_reference_like_a_transaction(fhir: httpx.Client, tag: Tag) -> None:
    value = unique_value()
    subject = create(fhir, _patient_with_identifier(tag, value))
    attending = create(fhir, _practitioner(tag, value))

    created = create(
        fhir, _encounter(tag, _patient_search(value), f"Practitioner?identifier={PRACTITIONER_SYSTEM}|{value}")
    )

    stored = read(fhir, reference(created))
    assert stored["subject"]["reference"] == reference(subject)
    assert stored["participant"][0]["individual"]["reference"] == reference(attending)


@pytest.mark.parametrize(
    ("twins", "statuses"),
    [(0, UNMATCHED_CONDITIONAL_REFERENCE), (2, frozenset({412}))],
    ids=["no-match", "several-matches"],
)
def test_a_plain_create_whose_conditional_reference_is_ambiguous_or_unmatched_is_refused(
    fhir: httpx.Client, tag: Tag, twins: int, statuses: frozenset[int]
) -> None:
    value = unique_value()
    for _ in range(twins):
        create(fhir, _patient_with_identifier(tag, value))
    criteria = _patient_search(value)

    response = fhir.post("Observation", json=observation(subject=criteria, tag=tag))

    outcome = assert_operation_outcome(response, statuses)
    assert criteria in outcome_text(outcome)
    assert _tagged(fhir, "Observation", tag) == []


# The forms clients write the criteria in: bare (R4's form), after the type, and as an absolute
# URL on the base (clients that build every URL from the base).
CRITERIA_FORMS: dict[str, Callable[[httpx.Client, str], str]] = {
    "bare": lambda fhir, query: query,
    "after-the-type": lambda fhir, query: f"Patient?{query}",
    "absolute-url": lambda fhir, query: f"{str(fhir.base_url).rstrip('/')}/Patient?{query}",
}


def _conditional_create(fhir: httpx.Client, resource: Json, criteria: str, *, in_bundle: bool) -> tuple[str, str]:
    """`(status, id)` of a conditional create of `resource`, sent in a bundle entry or as a header."""
    if in_bundle:
        response = _transaction(fhir, [post_entry(resource, if_none_exist=criteria)])
        assert response.status_code == 200, response.text
        (entry,) = response.json()["entry"]
        return entry["response"]["status"][:3], location_parts(entry["response"]["location"])[1]
    response = fhir.post("Patient", json=resource, headers={"If-None-Exist": criteria})
    assert response.status_code in (200, 201), response.text
    if response.status_code == 201:
        return "201", location_parts(response.headers["Location"])[1]
    return "200", response.json()["id"]


@pytest.mark.parametrize("in_bundle", [True, False], ids=["bundle-entry", "header"])
@pytest.mark.parametrize("form", list(CRITERIA_FORMS))
def test_if_none_exist_in_every_form_finds_the_match_and_creates_nothing(
    fhir: httpx.Client, tag: Tag, form: str, in_bundle: bool
) -> None:
    value = unique_value()
    existing = create(fhir, _patient_with_identifier(tag, value, family="Original"))
    criteria = CRITERIA_FORMS[form](fhir, f"identifier={IDENTIFIER_SYSTEM}|{value}")

    status, found_id = _conditional_create(
        fhir, _patient_with_identifier(tag, value, family="Duplicate"), criteria, in_bundle=in_bundle
    )

    assert (status, found_id) == ("200", existing["id"])
    assert _tagged(fhir, "Patient", tag) == [existing["id"]]
    assert read(fhir, reference(existing))["name"][0]["family"] == "Original"


@pytest.mark.parametrize("in_bundle", [True, False], ids=["bundle-entry", "header"])
@pytest.mark.parametrize("form", list(CRITERIA_FORMS))
def test_if_none_exist_in_every_form_creates_when_nothing_matches(
    fhir: httpx.Client, tag: Tag, form: str, in_bundle: bool
) -> None:
    value = unique_value()
    criteria = CRITERIA_FORMS[form](fhir, f"identifier={IDENTIFIER_SYSTEM}|{value}")

    status, created_id = _conditional_create(fhir, _patient_with_identifier(tag, value), criteria, in_bundle=in_bundle)

    assert status == "201"
    assert _tagged(fhir, "Patient", tag, ("identifier", f"{IDENTIFIER_SYSTEM}|{value}")) == [created_id]
