"""Searches in the forms FHIR client libraries send them, beside R4's own.

fhirclient writes date comparisons with the old prefixes (`>`, `<`, `>=`, `<=`, percent-encoded
in the URL); fhirpy counts with `_count=0&_totalMethod=count`; many clients POST
`[type]/_search` with a form-encoded body, some with part of the query left in the URL.
Each must answer as the R4 search it stands for.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest

from tests.contract.factories import Json, Tag, patient
from tests.contract.interactions import (
    assert_operation_outcome,
    create,
    matches,
    next_link,
    outcome_text,
    search,
    search_ids,
)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# name: (family, birth date)
PEOPLE: dict[str, tuple[str, str]] = {
    "born-1960": ("Formsmith", "1960-06-06"),
    "born-1965": ("Formsmith", "1965-01-01"),
    "born-1970": ("Other", "1970-07-07"),
}


@dataclass(frozen=True)
class People:
    tag: Tag
    stored: dict[str, Json]

    def names(self, ids: list[str]) -> set[str]:
        by_id = {person["id"]: name for name, person in self.stored.items()}
        assert len(set(ids)) == len(ids), f"a patient was found twice: {ids}"
        return {by_id[found] for found in ids}

    def params(self, *params: tuple[str, str]) -> list[tuple[str, str]]:
        return [("_tag", self.tag.search), *params]


@pytest.fixture(scope="module")
def people(fhir: httpx.Client) -> People:
    tag = Tag.new()
    stored = {
        name: create(fhir, patient(tag=tag, family=family, birth_date=birth_date))
        for name, (family, birth_date) in PEOPLE.items()
    }
    return People(tag, stored)


def _posted(fhir: httpx.Client, url_params: list[tuple[str, str]], body_params: list[tuple[str, str]]) -> Json:
    response = fhir.post("Patient/_search", params=url_params, content=urlencode(body_params), headers=FORM)
    assert response.status_code == 200, response.text
    found = response.json()
    assert (found["resourceType"], found["type"]) == ("Bundle", "searchset")
    return found


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (">1965-01-01", {"born-1970"}),
        ("<1965-01-01", {"born-1960"}),
        (">=1965-01-01", {"born-1965", "born-1970"}),
        ("<=1965-01-01", {"born-1960", "born-1965"}),
    ],
)
def test_old_comparison_prefixes_compare_like_gt_lt_ge_and_le(
    fhir: httpx.Client, people: People, value: str, expected: set[str]
) -> None:
    # httpx percent-encodes `>`, `<` and `=` in the value, as fhirclient's URLs carry them.
    assert people.names(search_ids(fhir, "Patient", people.params(("birthdate", value)))) == expected


def test_count_zero_with_total_method_count_answers_the_total_alone(fhir: httpx.Client, people: People) -> None:
    page = search(fhir, "Patient", people.params(("_count", "0"), ("_totalMethod", "count")))

    assert page["total"] == len(PEOPLE)
    assert page.get("entry", []) == []


def test_total_method_is_ignored(fhir: httpx.Client, people: People) -> None:
    # Not an R4 parameter: HAPI FHIR ignores it rather than refusing it as unknown.
    found = search_ids(fhir, "Patient", people.params(("_totalMethod", "count"), ("family", "Formsmith")))

    assert people.names(found) == {"born-1960", "born-1965"}


@pytest.mark.parametrize(
    ("url_params", "body_params"),
    [
        ([], [("family", "Formsmith"), ("birthdate", "ge1961")]),
        ([("family", "Formsmith")], [("birthdate", "ge1961")]),
        ([("birthdate", "ge1961")], [("family", "Formsmith")]),
    ],
    ids=["all-in-the-body", "split-family-in-the-url", "split-birthdate-in-the-url"],
)
def test_a_form_posted_search_answers_what_the_same_get_answers(
    fhir: httpx.Client, people: People, url_params: list[tuple[str, str]], body_params: list[tuple[str, str]]
) -> None:
    tag = [("_tag", people.tag.search)]

    posted = _posted(fhir, tag + url_params, body_params)

    got = search_ids(fhir, "Patient", tag + url_params + body_params)
    assert people.names([resource["id"] for resource in matches(posted)]) == people.names(got) == {"born-1965"}


def test_a_parameter_in_both_the_url_and_the_body_must_match_both(fhir: httpx.Client, people: People) -> None:
    # A repeated parameter is an AND wherever each occurrence is written.
    both = _posted(fhir, people.params(("family", "Formsmith")), [("family", "Other")])
    either = _posted(fhir, people.params(("family", "Formsmith")), [("family", "Formsmith,Other")])

    assert matches(both) == []
    assert people.names([resource["id"] for resource in matches(either)]) == {"born-1960", "born-1965"}


def test_a_form_posted_search_pages_by_its_next_link(fhir: httpx.Client, people: People) -> None:
    first = _posted(fhir, people.params(("_count", "2")), [("family", "Formsmith,Other"), ("_sort", "birthdate")])
    url = next_link(first)
    assert url is not None

    second = fhir.get(url)

    assert second.status_code == 200, second.text
    ids = [resource["id"] for page in (first, second.json()) for resource in matches(page)]
    assert ids == [people.stored[name]["id"] for name in PEOPLE]  # PEOPLE is in birth date order


def test_a_form_posted_search_refuses_an_unknown_parameter_like_a_get(fhir: httpx.Client, people: People) -> None:
    response = fhir.post(
        "Patient/_search", params=people.params(), content=urlencode([("favourite-colour", "blue")]), headers=FORM
    )

    outcome = assert_operation_outcome(response, 400)
    assert "favourite-colour" in outcome_text(outcome)
