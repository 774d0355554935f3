"""Chained and reverse-chained searches: a condition on the resource a reference points at
(`subject:Patient.family`), or on the resources that point here (`_has:Observation:patient:code`).

What a server cannot chain it refuses with a 400 that names the chain: an empty 200 would tell
the client that nothing matches.
"""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.contract.factories import ACT_CODE, IDENTIFIER_SYSTEM, LOINC, Json, Tag, patient
from tests.contract.interactions import assert_operation_outcome, create, outcome_text, reference, search_ids
from tests.contract.target import REFERENCE_IDENTIFIER_MODIFIER

REFERENCE_IDENTIFIER_SYSTEM = "urn:test:reference-identifier"


@dataclass(frozen=True)
class Cast:
    """Two patients, their observations and encounters, and an observation about a group."""

    tag: Tag
    stored: dict[str, Json]

    @property
    def family(self) -> str:
        """Patient a's family name, unique to this run."""
        return self.stored["patient-a"]["name"][0]["family"]

    def identifier(self, key: str) -> str:
        found = self.stored[key]["identifier"][0]
        return f"{found['system']}|{found['value']}"

    def params(self, *params: tuple[str, str]) -> list[tuple[str, str]]:
        return [("_tag", self.tag.search), *params]

    def found(self, fhir: httpx.Client, resource_type: str, *params: tuple[str, str]) -> set[str]:
        """The keys of the resources a search finds; an id found twice, or not stored here, fails."""
        ids = search_ids(fhir, resource_type, self.params(*params))
        by_id = {
            resource["id"]: key for key, resource in self.stored.items() if resource["resourceType"] == resource_type
        }
        assert len(set(ids)) == len(ids), f"a resource was found twice: {ids}"
        return {by_id[found] for found in ids}


@pytest.fixture(scope="module")
def cast(fhir: httpx.Client) -> Cast:
    tag = Tag.new()
    stored: dict[str, Json] = {}

    def keep(key: str, resource: Json) -> str:
        stored[key] = create(fhir, resource)
        return reference(stored[key])

    def tagged(resource_type: str, **elements: Any) -> Json:
        return {"resourceType": resource_type, "meta": {"tag": [tag.coding]}, **elements}

    organization = keep("organization", tagged("Organization", name=f"Acme {tag.code}"))
    a = keep(
        "patient-a",
        {
            **patient(
                tag=tag,
                family=f"Chained{tag.code[:8]}",
                birth_date="1970-05-05",
                identifiers=[(IDENTIFIER_SYSTEM, f"a-{tag.code}")],
            ),
            "managingOrganization": {"reference": organization},
        },
    )
    b = keep(
        "patient-b",
        patient(tag=tag, family="Other", birth_date="1990-01-01", identifiers=[(IDENTIFIER_SYSTEM, f"b-{tag.code}")]),
    )
    group = keep("group", tagged("Group", type="person", actual=True))

    def observation(subject: Json, code: str, status: str = "final") -> Json:
        return tagged("Observation", status=status, code={"coding": [{"system": LOINC, "code": code}]}, subject=subject)

    keep("observation-a", observation({"reference": a}, "1234-5"))
    keep("observation-b", observation({"reference": b}, "9999-9", status="preliminary"))
    keep("observation-group", observation({"reference": group}, "1234-5"))
    # A reference that also carries the identifier of what it points at (Reference.identifier).
    keep(
        "observation-b-identified",
        observation(
            {"reference": b, "identifier": {"system": REFERENCE_IDENTIFIER_SYSTEM, "value": tag.code}},
            "9999-9",
            status="preliminary",
        ),
    )
    for key, subject in [("encounter-a", a), ("encounter-b", b)]:
        keep(
            key,
            tagged(
                "Encounter",
                status="finished",
                **{"class": {"system": ACT_CODE, "code": "AMB"}},
                subject={"reference": subject},
            ),
        )
    return Cast(tag, stored)


@pytest.mark.parametrize("chain", ["subject:Patient.family", "subject.family", "patient.family"])
def test_a_chain_finds_the_observations_of_the_patients_it_matches(fhir: httpx.Client, cast: Cast, chain: str) -> None:
    assert cast.found(fhir, "Observation", (chain, cast.family)) == {"observation-a"}
    assert cast.found(fhir, "Observation", (chain, f"{cast.family},Other")) == {
        "observation-a",
        "observation-b",
        "observation-b-identified",
    }
    assert cast.found(fhir, "Observation", (chain, "Nobody")) == set()


def test_a_chain_on_a_token_matches_the_patients_identifier(fhir: httpx.Client, cast: Cast) -> None:
    assert cast.found(fhir, "Observation", ("subject.identifier", cast.identifier("patient-a"))) == {"observation-a"}
    assert cast.found(fhir, "Observation", ("patient.identifier", f"{IDENTIFIER_SYSTEM}|b-{cast.tag.code}")) == {
        "observation-b",
        "observation-b-identified",
    }


@pytest.mark.parametrize("birthdate", ["1970-05-05", "lt1980", "1970"])
def test_a_chain_on_a_date_compares_the_patients_birth_date(fhir: httpx.Client, cast: Cast, birthdate: str) -> None:
    assert cast.found(fhir, "Encounter", ("subject:Patient.birthdate", birthdate)) == {"encounter-a"}


def test_a_chain_and_a_plain_parameter_must_both_match(fhir: httpx.Client, cast: Cast) -> None:
    assert cast.found(fhir, "Observation", ("subject.family", "Other"), ("code", "9999-9")) == {
        "observation-b",
        "observation-b-identified",
    }
    assert cast.found(fhir, "Observation", ("subject.family", "Other"), ("code", "1234-5")) == set()


def test_has_finds_the_patients_that_observations_point_at(fhir: httpx.Client, cast: Cast) -> None:
    # The group's observation has the code too, but a group is not a patient.
    assert cast.found(fhir, "Patient", ("_has:Observation:patient:code", f"{LOINC}|1234-5")) == {"patient-a"}
    assert cast.found(fhir, "Patient", ("_has:Observation:subject:status", "final")) == {"patient-a"}
    assert cast.found(fhir, "Patient", ("_has:Observation:subject:status", "preliminary")) == {"patient-b"}
    assert cast.found(fhir, "Patient", ("_has:Observation:subject:status", "cancelled")) == set()


def test_identifier_modifier_matches_the_identifier_a_reference_carries(fhir: httpx.Client, cast: Cast) -> None:
    value = f"{REFERENCE_IDENTIFIER_SYSTEM}|{cast.tag.code}"
    if not REFERENCE_IDENTIFIER_MODIFIER:
        outcome = assert_operation_outcome(
            fhir.get("Observation", params=cast.params(("subject:identifier", value))), 400
        )
        assert ":identifier" in outcome_text(outcome)
        return

    assert cast.found(fhir, "Observation", ("subject:identifier", value)) == {"observation-b-identified"}
    # Patient a has this identifier, but no reference to it carries it: that is `subject.identifier`.
    assert cast.found(fhir, "Observation", ("subject:identifier", cast.identifier("patient-a"))) == set()


@pytest.mark.parametrize(
    ("resource_type", "name", "named"),
    [
        ("Observation", "subject.nonsense", "nonsense"),
        ("Observation", "subject:Patient.nonsense", "nonsense"),
        ("Observation", "nonsense.family", "nonsense"),
        ("Observation", "code.family", "code.family"),
        ("Patient", "_has:Observation:subject:nonsense", "nonsense"),
        ("Patient", "_has:Observation:nonsense:status", "nonsense"),
        ("Patient", "_has:Nonsense:subject:status", "Nonsense"),
    ],
    ids=lambda value: value if isinstance(value, str) and ("." in value or ":" in value) else None,
)
def test_a_chain_through_an_unknown_parameter_is_refused_naming_it(
    fhir: httpx.Client, cast: Cast, resource_type: str, name: str, named: str
) -> None:
    response = fhir.get(resource_type, params=cast.params((name, "x")))

    outcome = assert_operation_outcome(response, 400)
    assert named in outcome_text(outcome)


def test_a_two_level_chain_is_answered_or_refused_never_left_empty(fhir: httpx.Client, cast: Cast) -> None:
    # R4 allows chains of any length; a server that stops at one level must say so.
    name = "subject.organization.name"

    response = fhir.get("Observation", params=cast.params((name, f"Acme {cast.tag.code}")))

    if response.status_code == 400:
        assert "organization" in outcome_text(assert_operation_outcome(response, 400))
    else:
        assert cast.found(fhir, "Observation", (name, f"Acme {cast.tag.code}")) == {"observation-a"}
