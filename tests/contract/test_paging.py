"""Paging that holds while the data changes: links followed as opaque URLs, never rebuilt.

A server may page a result list it stored with the first page (HAPI FHIR does): resources
deleted after it was made are left out of the later pages, and the pages may then hold fewer
entries than `_count`. What a client relies on is that no live match is missed and none comes
twice, in the order it asked for.
"""

import random

import httpx
import pytest

from tests.contract.factories import Json, Tag, patient, unique_id
from tests.contract.interactions import assert_operation_outcome, create, matches, next_link, outcome_text, search

PATIENTS = 25
PAGE_SIZE = 10
DELETED = 5


def _link(page: Json, relation: str) -> str | None:
    return next((link["url"] for link in page.get("link", []) if link["relation"] == relation), None)


def _ids(page: Json) -> list[str]:
    return [resource["id"] for resource in matches(page)]


def _follow(fhir: httpx.Client, url: str) -> Json:
    response = fhir.get(url)
    assert response.status_code == 200, response.text
    page = response.json()
    assert (page["resourceType"], page["type"]) == ("Bundle", "searchset")
    return page


def _rest(fhir: httpx.Client, page: Json) -> list[Json]:
    """The pages after `page`, by its `next` link and theirs."""
    later: list[Json] = []
    while url := next_link(page):
        page = _follow(fhir, url)
        later.append(page)
    return later


def _patients(fhir: httpx.Client, tag: Tag) -> dict[str, str]:
    """PATIENTS tagged patients, created in shuffled family order: id -> family."""
    families = [f"Paged{n:02d}" for n in range(PATIENTS)]
    random.Random(PATIENTS).shuffle(families)
    return {create(fhir, patient(tag=tag, family=family))["id"]: family for family in families}


def _delete(fhir: httpx.Client, ids: list[str]) -> None:
    for resource_id in ids:
        response = fhir.delete(f"Patient/{resource_id}")
        assert response.status_code in (200, 204), response.text


def _walk_after_deleting(fhir: httpx.Client, tag: Tag, *, seen: bool) -> tuple[dict[str, str], list[str], list[str]]:
    """Walk the tagged patients, deleting DELETED of them after the first page: ones that page
    showed (`seen`) or ones it did not. Answers (every patient, the ids walked, the ids deleted)."""
    everyone = _patients(fhir, tag)
    first = search(fhir, "Patient", [("_tag", tag.search), ("_count", str(PAGE_SIZE))])
    shown = _ids(first)
    assert len(shown) == PAGE_SIZE
    deleted = shown[:DELETED] if seen else [found for found in everyone if found not in shown][:DELETED]
    _delete(fhir, deleted)

    walked = shown + [found for page in _rest(fhir, first) for found in _ids(page)]

    return everyone, walked, deleted


def test_deleting_patients_already_seen_misses_no_other_patient(fhir: httpx.Client, tag: Tag) -> None:
    everyone, walked, _ = _walk_after_deleting(fhir, tag, seen=True)

    assert len(walked) == len(set(walked)), f"a patient came twice: {walked}"
    assert set(walked) == set(everyone)


def test_deleting_patients_not_yet_seen_leaves_them_out_and_misses_no_other(fhir: httpx.Client, tag: Tag) -> None:
    everyone, walked, deleted = _walk_after_deleting(fhir, tag, seen=False)

    assert len(walked) == len(set(walked)), f"a patient came twice: {walked}"
    assert set(walked) == set(everyone) - set(deleted)


def test_a_sorted_walk_keeps_its_order_across_pages_while_patients_are_deleted(fhir: httpx.Client, tag: Tag) -> None:
    everyone = _patients(fhir, tag)
    first = search(fhir, "Patient", [("_tag", tag.search), ("_count", str(PAGE_SIZE)), ("_sort", "family")])
    by_family = sorted(everyone, key=everyone.__getitem__)
    deleted = by_family[-DELETED:]
    _delete(fhir, deleted)

    walked = _ids(first) + [found for page in _rest(fhir, first) for found in _ids(page)]

    assert walked == [found for found in by_family if found not in deleted]


def test_next_links_are_urls_on_the_base_and_previous_links_go_back(fhir: httpx.Client, tag: Tag) -> None:
    _patients(fhir, tag)
    first = search(fhir, "Patient", [("_tag", tag.search), ("_count", str(PAGE_SIZE)), ("_sort", "family")])
    walk = [first, *_rest(fhir, first)]
    base = str(fhir.base_url).rstrip("/")

    assert [len(_ids(page)) for page in walk] == [10, 10, 5]
    assert _link(first, "previous") is None
    for earlier, later in zip(walk, walk[1:], strict=False):
        url = next_link(earlier)
        assert url is not None and url.startswith(base), url
        back = _link(later, "previous")
        assert back is not None and back.startswith(base), back
        assert _ids(_follow(fhir, back)) == _ids(earlier)


def test_a_page_link_of_a_search_that_does_not_exist_is_gone(fhir: httpx.Client) -> None:
    search_id = unique_id("never-searched")

    response = fhir.get("", params={"_getpages": search_id, "_getpagesoffset": str(PAGE_SIZE)})

    outcome = assert_operation_outcome(response, 410)
    assert search_id in outcome_text(outcome)


@pytest.mark.embedded_only(
    reason="HAPI FHIR keeps a search's stored pages for an hour (its expireSearchResultsAfterMillis); "
    "only the embedded store can be built with pages that expire at once"
)
def test_an_expired_page_link_is_gone(short_lived_pages_fhir: httpx.Client, tag: Tag) -> None:
    for family in ("Expired", "Pages"):
        create(short_lived_pages_fhir, patient(tag=tag, family=family))
    first = search(short_lived_pages_fhir, "Patient", [("_tag", tag.search), ("_count", "1")])
    url = next_link(first)
    assert url is not None

    assert_operation_outcome(short_lived_pages_fhir.get(url), 410)
