"""Shaping search results: page size, offset, sort order, totals, includes, and paging by links."""

from dataclasses import dataclass

import httpx
import pytest

from tests.contract.factories import LOINC, Json, Tag, encounter, observation, patient
from tests.contract.interactions import create, matches, next_link, pages, reference, search, search_ids
from tests.contract.target import (
    GIVEN_NAMES_IN_DOCUMENT_ORDER,
    REPEATED_GIVEN_NAME_SORTS,
    SMALLEST_AND_LARGEST_GIVEN_NAME,
)

# name: (family, given, birth date). Two Bakers and three Clarks tie on family; Eve and Ivy
# Clark also tie on birth date, so a sort on those keys alone leaves ties for the server to break.
ROSTER: dict[str, tuple[str, str, str]] = {
    "liam-adams": ("Adams", "Liam", "1970-01-01"),
    "zed-baker": ("Baker", "Zed", "1985-05-05"),
    "amy-baker": ("Baker", "Amy", "1990-09-09"),
    "mia-clark": ("Clark", "Mia", "1960-06-06"),
    "eve-clark": ("Clark", "Eve", "1975-07-07"),
    "ivy-clark": ("Clark", "Ivy", "1975-07-07"),
    "noah-davis": ("Davis", "Noah", "2000-02-02"),
}
BY_FAMILY_THEN_GIVEN_DESCENDING = [
    "liam-adams",
    "zed-baker",
    "amy-baker",
    "mia-clark",
    "ivy-clark",
    "eve-clark",
    "noah-davis",
]
BY_BIRTHDATE_DESCENDING_THEN_GIVEN = [
    "noah-davis",
    "amy-baker",
    "zed-baker",
    "eve-clark",
    "ivy-clark",
    "liam-adams",
    "mia-clark",
]


@dataclass(frozen=True)
class Roster:
    tag: Tag
    people: dict[str, Json]

    def names(self, ids: list[str]) -> list[str]:
        by_id = {person["id"]: name for name, person in self.people.items()}
        return [by_id[found] for found in ids]

    def params(self, *params: tuple[str, str]) -> list[tuple[str, str]]:
        return [("_tag", self.tag.search), *params]


@pytest.fixture(scope="module")
def roster(fhir: httpx.Client) -> Roster:
    tag = Tag.new()
    people = {
        name: create(fhir, patient(tag=tag, family=family, given=[given], birth_date=birth_date))
        for name, (family, given, birth_date) in ROSTER.items()
    }
    return Roster(tag, people)


def test_sort_orders_by_several_keys_with_a_dash_for_descending(fhir: httpx.Client, roster: Roster) -> None:
    by_family = search_ids(fhir, "Patient", roster.params(("_sort", "family,-given")))
    by_birthdate = search_ids(fhir, "Patient", roster.params(("_sort", "-birthdate,given")))

    assert roster.names(by_family) == BY_FAMILY_THEN_GIVEN_DESCENDING
    assert roster.names(by_birthdate) == BY_BIRTHDATE_DESCENDING_THEN_GIVEN


def test_count_limits_a_page_and_links_to_the_next(fhir: httpx.Client, roster: Roster) -> None:
    page = search(fhir, "Patient", roster.params(("_count", "3"), ("_sort", "family,-given")))

    assert roster.names([resource["id"] for resource in matches(page)]) == BY_FAMILY_THEN_GIVEN_DESCENDING[:3]
    assert next_link(page) is not None


def test_offset_skips_that_many_matches(fhir: httpx.Client, roster: Roster) -> None:
    page = search(fhir, "Patient", roster.params(("_count", "2"), ("_offset", "2"), ("_sort", "family,-given")))

    assert roster.names([resource["id"] for resource in matches(page)]) == BY_FAMILY_THEN_GIVEN_DESCENDING[2:4]


def test_following_next_links_returns_every_match_once_in_sort_order(fhir: httpx.Client, roster: Roster) -> None:
    every_page = list(pages(fhir, "Patient", roster.params(("_count", "2"), ("_sort", "family,-given"))))
    ids = [resource["id"] for page in every_page for resource in matches(page)]

    assert len(every_page) >= 4
    assert all(len(matches(page)) <= 2 for page in every_page)
    assert roster.names(ids) == BY_FAMILY_THEN_GIVEN_DESCENDING


def test_a_sort_with_ties_still_pages_every_match_exactly_once_in_a_stable_order(
    fhir: httpx.Client, roster: Roster
) -> None:
    params = roster.params(("_count", "1"), ("_sort", "family"))

    first_walk = search_ids(fhir, "Patient", params)
    second_walk = search_ids(fhir, "Patient", params)

    assert sorted(roster.names(first_walk)) == sorted(ROSTER)
    families = [ROSTER[name][0] for name in roster.names(first_walk)]
    assert families == sorted(families)
    assert second_walk == first_walk


# name: given names, in order. No two tie under either rule below, and no folded name is a
# prefix of another, so neither the tie-break nor the collation of spaces decides anything.
SEVERAL_GIVEN_NAMES: dict[str, tuple[str, ...]] = {
    "bob": ("Bob",),
    "christian-adrian": ("Christian", "Adrian"),
    "edgar": ("edgar",),
    "emile-zola": ("Émile", "Zola"),
    "zachary-alexander": ("Zachary", "Alexander"),
}
# (ascending, descending) under each rule a server may follow (tests/contract/target.py).
GIVEN_NAME_ORDERS: dict[str, tuple[list[str], list[str]]] = {
    GIVEN_NAMES_IN_DOCUMENT_ORDER: (
        ["bob", "christian-adrian", "edgar", "emile-zola", "zachary-alexander"],
        ["zachary-alexander", "emile-zola", "edgar", "christian-adrian", "bob"],
    ),
    # Adrian, Alexander, Bob, edgar, Émile; and Zola, Zachary, edgar, Christian, Bob.
    SMALLEST_AND_LARGEST_GIVEN_NAME: (
        ["christian-adrian", "zachary-alexander", "bob", "edgar", "emile-zola"],
        ["emile-zola", "zachary-alexander", "edgar", "christian-adrian", "bob"],
    ),
}


def test_sort_by_given_orders_several_given_names_by_the_servers_rule(fhir: httpx.Client) -> None:
    tag = Tag.new()
    people = {name: create(fhir, patient(tag=tag, given=given)) for name, given in SEVERAL_GIVEN_NAMES.items()}
    roster = Roster(tag, people)

    ascending = roster.names(search_ids(fhir, "Patient", roster.params(("_sort", "given"))))
    descending = roster.names(search_ids(fhir, "Patient", roster.params(("_sort", "-given"))))

    assert (ascending, descending) in [GIVEN_NAME_ORDERS[rule] for rule in REPEATED_GIVEN_NAME_SORTS]


def test_total_accurate_counts_every_match_beyond_the_page(fhir: httpx.Client, roster: Roster) -> None:
    page = search(fhir, "Patient", roster.params(("_count", "2"), ("_total", "accurate")))

    assert page["total"] == len(ROSTER)
    assert len(matches(page)) == 2


def test_summary_count_answers_the_total_without_entries(fhir: httpx.Client, roster: Roster) -> None:
    page = search(fhir, "Patient", roster.params(("_summary", "count")))

    assert page["total"] == len(ROSTER)
    assert page.get("entry", []) == []


@dataclass(frozen=True)
class Visit:
    tag: Tag
    patient: Json
    encounter: Json
    observations: list[Json]


@pytest.fixture
def visit(fhir: httpx.Client, tag: Tag) -> Visit:
    """One patient's encounter with two observations, all under the test's tag."""
    subject = create(fhir, patient(tag=tag))
    seen = create(fhir, encounter(subject=reference(subject), tag=tag))
    observations = [
        create(fhir, observation(subject=reference(subject), encounter=reference(seen), tag=tag, code=code))
        for code in [(LOINC, "8867-4"), (LOINC, "8310-5")]
    ]
    return Visit(tag, subject, seen, observations)


def _by_mode(page: Json) -> dict[str, set[str]]:
    modes: dict[str, set[str]] = {}
    for entry in page["entry"]:
        modes.setdefault(entry["search"]["mode"], set()).add(reference(entry["resource"]))
    return modes


def test_include_adds_the_referenced_resources_once_marked_include(fhir: httpx.Client, visit: Visit) -> None:
    page = search(fhir, "Observation", [("_tag", visit.tag.search), ("_include", "Observation:subject")])

    assert _by_mode(page) == {
        "match": {reference(found) for found in visit.observations},
        "include": {reference(visit.patient)},
    }
    assert len(page["entry"]) == 3


def test_revinclude_adds_the_referring_resources_marked_include(fhir: httpx.Client, visit: Visit) -> None:
    page = search(
        fhir,
        "Encounter",
        [("_id", visit.encounter["id"]), ("_revinclude", "Observation:encounter")],
    )

    assert _by_mode(page) == {
        "match": {reference(visit.encounter)},
        "include": {reference(found) for found in visit.observations},
    }


def test_include_iterate_follows_the_references_of_what_was_included(fhir: httpx.Client, visit: Visit) -> None:
    # Observation -> its Encounter (include) -> that Encounter's subject (iterate).
    page = search(
        fhir,
        "Observation",
        [
            ("_id", visit.observations[0]["id"]),
            ("_include", "Observation:encounter"),
            ("_include:iterate", "Encounter:subject"),
        ],
    )

    assert _by_mode(page) == {
        "match": {reference(visit.observations[0])},
        "include": {reference(visit.encounter), reference(visit.patient)},
    }


def test_revinclude_iterate_follows_the_referrers_of_what_was_included(fhir: httpx.Client, visit: Visit) -> None:
    # Patient <- its Encounter (revinclude) <- that Encounter's Observations (iterate).
    page = search(
        fhir,
        "Patient",
        [
            ("_id", visit.patient["id"]),
            ("_revinclude", "Encounter:subject"),
            ("_revinclude:iterate", "Observation:encounter"),
        ],
    )

    assert _by_mode(page) == {
        "match": {reference(visit.patient)},
        "include": {reference(visit.encounter), *(reference(found) for found in visit.observations)},
    }
