"""Searching Patients: ids, dates, tags, identifiers, names, birth dates and gender.

One small cast of patients is written once per server; every search is scoped to its tag.
"""

from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest

from tests.contract.factories import IDENTIFIER_SYSTEM, Json, Tag, patient, unique_value
from tests.contract.interactions import (
    assert_operation_outcome,
    create,
    outcome_text,
    parse_instant,
    search_ids,
)
from tests.contract.target import FOLDS_UNDECOMPOSABLE_LETTERS, PARTIAL_DATE_GE_LE_OUTSIDE_SPEC

# name: (family, given names, birth date, gender)
CAST: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "anna-smith": ("Smith", ("Anna", "Maria"), "1979-06-15", "female"),
    "zoe-muller": ("Müller", ("Zoë",), "1980-03-01", "female"),
    "john-smithers": ("Smithers", ("John",), "1980-12-10", "male"),
    "anna-blacksmith": ("Blacksmith", ("Anna",), "1981-01-20", "other"),
    "bob-smith-lowercase": ("smith", ("Bob",), "1990-05-05", "male"),
}


@dataclass(frozen=True)
class Cast:
    tag: Tag
    people: dict[str, Json]

    def id(self, name: str) -> str:
        return self.people[name]["id"]

    def names(self, ids: list[str]) -> set[str]:
        """The names of the cast members with these ids; any other id fails."""
        by_id = {person["id"]: name for name, person in self.people.items()}
        assert len(set(ids)) == len(ids), f"a patient was found twice: {ids}"
        return {by_id[found] for found in ids}


@pytest.fixture(scope="module")
def cast(fhir: httpx.Client) -> Cast:
    tag = Tag.new()
    people = {
        name: create(
            fhir,
            patient(
                tag=tag,
                family=family,
                given=given,
                birth_date=birth_date,
                gender=gender,
                identifiers=[(IDENTIFIER_SYSTEM, unique_value())],
            ),
        )
        for name, (family, given, birth_date, gender) in CAST.items()
    }
    return Cast(tag, people)


def _found(fhir: httpx.Client, cast: Cast, *params: tuple[str, str]) -> set[str]:
    return cast.names(search_ids(fhir, "Patient", [("_tag", cast.tag.search), *params]))


def test_tag_finds_exactly_the_tagged_resources(fhir: httpx.Client, cast: Cast) -> None:
    assert _found(fhir, cast) == set(CAST)
    assert search_ids(fhir, "Patient", [("_tag", Tag.new().search)]) == []


def test_id_finds_one_resource_and_a_comma_list_finds_several(fhir: httpx.Client, cast: Cast) -> None:
    one, other = cast.id("anna-smith"), cast.id("john-smithers")

    assert _found(fhir, cast, ("_id", one)) == {"anna-smith"}
    assert _found(fhir, cast, ("_id", f"{one},{other}")) == {"anna-smith", "john-smithers"}


def test_identifier_matches_system_and_value_or_value_alone(fhir: httpx.Client, cast: Cast) -> None:
    value = cast.people["zoe-muller"]["identifier"][0]["value"]

    assert _found(fhir, cast, ("identifier", f"{IDENTIFIER_SYSTEM}|{value}")) == {"zoe-muller"}
    assert _found(fhir, cast, ("identifier", value)) == {"zoe-muller"}
    assert _found(fhir, cast, ("identifier", f"urn:test:other-system|{value}")) == set()


@pytest.mark.parametrize(
    ("parameter", "value", "expected"),
    [
        ("family", "smi", {"anna-smith", "john-smithers", "bob-smith-lowercase"}),
        ("family", "SMI", {"anna-smith", "john-smithers", "bob-smith-lowercase"}),
        ("family", "muller", {"zoe-muller"}),
        ("given", "zoe", {"zoe-muller"}),
        ("given", "ANN", {"anna-smith", "anna-blacksmith"}),
        ("name", "anna", {"anna-smith", "anna-blacksmith"}),
        ("name", "smithe", {"john-smithers"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_string_search_is_a_case_and_accent_insensitive_prefix(
    fhir: httpx.Client, cast: Cast, parameter: str, value: str, expected: set[str]
) -> None:
    assert _found(fhir, cast, (parameter, value)) == expected


# given name: the name as the gateway's name keys fold it. Unicode decomposes none of these
# letters into a base letter and an accent.
UNDECOMPOSABLE: dict[str, str] = {"Søren": "soren", "Łukasz": "lukasz", "Æsa": "aesa", "Þóra": "thora"}


def test_letters_without_a_decomposition_match_as_the_server_folds_them(fhir: httpx.Client, tag: Tag) -> None:
    people = {create(fhir, patient(tag=tag, given=[given]))["id"]: given for given in UNDECOMPOSABLE}

    def found(value: str) -> list[str]:
        return [people[found_id] for found_id in search_ids(fhir, "Patient", [("_tag", tag.search), ("given", value)])]

    assert {given: found(given.lower()) for given in UNDECOMPOSABLE} == {given: [given] for given in UNDECOMPOSABLE}
    assert {given: found(folded) for given, folded in UNDECOMPOSABLE.items()} == {
        given: [given] if FOLDS_UNDECOMPOSABLE_LETTERS else [] for given in UNDECOMPOSABLE
    }


def test_exact_modifier_matches_the_whole_string_case_sensitively(fhir: httpx.Client, cast: Cast) -> None:
    assert _found(fhir, cast, ("family:exact", "Smith")) == {"anna-smith"}
    assert _found(fhir, cast, ("family:exact", "smith")) == {"bob-smith-lowercase"}
    assert _found(fhir, cast, ("family:exact", "Smi")) == set()
    assert _found(fhir, cast, ("given:exact", "Zoë")) == {"zoe-muller"}
    assert _found(fhir, cast, ("given:exact", "Zoe")) == set()


def test_contains_modifier_matches_a_substring(fhir: httpx.Client, cast: Cast) -> None:
    assert _found(fhir, cast, ("family:contains", "mith")) == {
        "anna-smith",
        "john-smithers",
        "anna-blacksmith",
        "bob-smith-lowercase",
    }
    assert _found(fhir, cast, ("name:contains", "ARI")) == {"anna-smith"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1980", {"zoe-muller", "john-smithers"}),
        ("eq1980-12", {"john-smithers"}),
        ("1980-03-01", {"zoe-muller"}),
        ("ne1980", {"anna-smith", "anna-blacksmith", "bob-smith-lowercase"}),
        ("lt1980", {"anna-smith"}),
        ("gt1980", {"anna-blacksmith", "bob-smith-lowercase"}),
        ("le1980-03-01", {"anna-smith", "zoe-muller"}),
        ("ge1980-12-10", {"john-smithers", "anna-blacksmith", "bob-smith-lowercase"}),
        ("lt1980-03", {"anna-smith"}),
        ("gt1980-12-10", {"anna-blacksmith", "bob-smith-lowercase"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_birthdate_prefixes_compare_partial_dates_as_ranges(
    fhir: httpx.Client, cast: Cast, value: str, expected: set[str]
) -> None:
    assert _found(fhir, cast, ("birthdate", value)) == expected


def test_gender_is_a_token(fhir: httpx.Client, cast: Cast) -> None:
    assert _found(fhir, cast, ("gender", "male")) == {"john-smithers", "bob-smith-lowercase"}


def test_a_comma_separated_value_is_an_or(fhir: httpx.Client, cast: Cast) -> None:
    assert _found(fhir, cast, ("gender", "female,other")) == {"anna-smith", "zoe-muller", "anna-blacksmith"}
    assert _found(fhir, cast, ("family", "Müller,Smithers")) == {"zoe-muller", "john-smithers"}


def test_a_repeated_parameter_is_an_and(fhir: httpx.Client, cast: Cast) -> None:
    assert _found(fhir, cast, ("given", "anna"), ("given", "mar")) == {"anna-smith"}
    assert _found(fhir, cast, ("birthdate", "ge1980-01-01"), ("birthdate", "lt1981-01-01")) == {
        "zoe-muller",
        "john-smithers",
    }


@pytest.mark.embedded_only(reason=PARTIAL_DATE_GE_LE_OUTSIDE_SPEC)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ge1980", {"zoe-muller", "john-smithers", "anna-blacksmith", "bob-smith-lowercase"}),
        ("le1980", {"anna-smith", "zoe-muller", "john-smithers"}),
        ("ge1980-12", {"john-smithers", "anna-blacksmith", "bob-smith-lowercase"}),
        ("le1980-03", {"anna-smith", "zoe-muller"}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_ge_and_le_with_a_partial_date_take_in_the_dates_inside_it(
    fhir: httpx.Client, cast: Cast, value: str, expected: set[str]
) -> None:
    # search.html#prefix: ge (le) also matches when the search value fully contains the target.
    assert _found(fhir, cast, ("birthdate", value)) == expected


def test_different_parameters_must_all_match(fhir: httpx.Client, cast: Cast) -> None:
    assert _found(fhir, cast, ("family", "smith"), ("gender", "male")) == {
        "john-smithers",
        "bob-smith-lowercase",
    }


def test_a_repeated_search_sees_what_was_written_in_between(fhir: httpx.Client, tag: Tag) -> None:
    # Search, create, search again: a duplicate check. HAPI answers a repeated search from the
    # cached results of the first for 60 s unless `reuse_cached_search_results_millis` is 0.
    query = [("_tag", tag.search)]
    assert search_ids(fhir, "Patient", query) == []

    created = create(fhir, patient(tag=tag))

    assert search_ids(fhir, "Patient", query) == [created["id"]]


def test_last_updated_compares_with_the_times_the_server_recorded(fhir: httpx.Client, tag: Tag) -> None:
    written = [create(fhir, patient(tag=tag, family=f"Written{n}")) for n in range(3)]
    stamps: dict[str, datetime] = {p["id"]: parse_instant(p["meta"]["lastUpdated"]) for p in written}
    pivot = written[1]["meta"]["lastUpdated"]

    at_or_after = set(search_ids(fhir, "Patient", [("_tag", tag.search), ("_lastUpdated", f"ge{pivot}")]))
    before = set(search_ids(fhir, "Patient", [("_tag", tag.search), ("_lastUpdated", f"lt{pivot}")]))

    assert at_or_after == {id for id, stamp in stamps.items() if stamp >= parse_instant(pivot)}
    assert before == {id for id, stamp in stamps.items() if stamp < parse_instant(pivot)}
    assert {written[1]["id"], written[2]["id"]} <= at_or_after


def test_an_unknown_search_parameter_is_rejected(fhir: httpx.Client, cast: Cast) -> None:
    response = fhir.get("Patient", params=[("_tag", cast.tag.search), ("favourite-colour", "blue")])

    outcome = assert_operation_outcome(response, 400)
    assert "favourite-colour" in outcome_text(outcome)
