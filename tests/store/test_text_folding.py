"""String search and sort fold text as the fuzzy name search does (`mappers.text.fold`), on
both databases: letters Unicode does not decompose (ø, ł, æ, þ) match and sort as their
base letters, as the name search keys have them."""

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.requests import FhirRequest
from mappers.name_keys import name_words
from mappers.text import fold

BASE = "http://store.test/fhir"
TAG = "urn:test:folding"
GIVEN_NAMES = ["Sven", "Søren", "Luna", "Łukasz", "Ava", "Æsa", "Sophie", "Þóra"]


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[tuple[EmbeddedStore, str]]:
    store = EmbeddedStore(database_url)
    tag = uuid4().hex
    for given in GIVEN_NAMES:
        patient = {
            "resourceType": "Patient",
            "meta": {"tag": [{"system": TAG, "code": tag}]},
            "name": [{"use": "official", "family": "Nørgaard", "given": [given]}],
        }
        assert store.handle(FhirRequest("POST", "Patient", body=patient), BASE).status == 201
    yield store, tag
    store.dispose()


def _given_names(found: tuple[EmbeddedStore, str], params: list[tuple[str, str]]) -> list[str]:
    store, tag = found
    response = store.handle(FhirRequest("GET", "Patient", [("_tag", f"{TAG}|{tag}"), *params]), BASE)
    assert response.status == 200 and response.body is not None, response.body
    entries: list[dict[str, Any]] = response.body.get("entry", [])
    return [entry["resource"]["name"][0]["given"][0] for entry in entries]


@pytest.mark.parametrize("stored", ["Søren", "Łukasz", "Æsa", "Þóra"])
def test_a_name_is_found_by_the_word_the_name_search_keys_it_by(store: tuple[EmbeddedStore, str], stored: str) -> None:
    (word,) = name_words(stored)

    assert _given_names(store, [("given", word)]) == [stored]
    assert _given_names(store, [("given", word.upper())]) == [stored]
    assert _given_names(store, [("name", stored.lower())]) == [stored]


@pytest.mark.parametrize(("query", "stored"), [("soren", "Søren"), ("lukasz", "Łukasz"), ("aesa", "Æsa")])
def test_prefix_and_contains_searches_see_the_base_letters(
    store: tuple[EmbeddedStore, str], query: str, stored: str
) -> None:
    assert _given_names(store, [("given", query[:3])]) == [stored]
    assert _given_names(store, [("given:contains", query[1:])]) == [stored]


def test_names_sort_among_their_base_letters() -> None:
    assert sorted(GIVEN_NAMES, key=fold) == ["Æsa", "Ava", "Łukasz", "Luna", "Sophie", "Søren", "Sven", "Þóra"]


def test_the_store_sorts_names_as_they_fold(store: tuple[EmbeddedStore, str]) -> None:
    assert _given_names(store, [("_sort", "given")]) == sorted(GIVEN_NAMES, key=fold)
    assert _given_names(store, [("_sort", "-given")]) == sorted(GIVEN_NAMES, key=fold, reverse=True)
    assert _given_names(store, [("family", "norgaard")]) != []
