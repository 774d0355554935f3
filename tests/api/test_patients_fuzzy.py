"""`GET /patients?q=`: fuzzy name search, its ranking, and what it asks of the FHIR server."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.app import create_app
from fhir_gateway.features.patients import fuzzy
from fhir_gateway.features.patients.fuzzy import name_score
from fhir_gateway.fhir_client import FhirClient, RetryPolicy
from fhir_gateway.settings import Settings
from tests.api.conftest import OpenGateway, OpenOwnStoreGateway

pytestmark = pytest.mark.anyio

PEOPLE = [
    ("John", "Smith", "1980-12-10", "male"),
    ("Jane", "Smith", "1975-01-01", "female"),
    ("Jon", "Smyth", "1990-02-02", "male"),
    ("Joan", "Smithers", "1960-03-03", "female"),
    ("Johnny", "Smithson", "1985-04-04", "male"),
    ("Mary", "Jones", "1970-05-05", "female"),
    ("Zoë", "Lovelace", "1992-06-06", "female"),
    ("Ada Marie", "Lovelace", "1980-12-10", "female"),
    ("Émile", "St-Onge", "1971-07-07", "male"),
    ("Autumn", "Lessard", "1999-08-08", "female"),
    ("Siobhan", "O'Brien", "1988-09-09", "female"),
]


@pytest.fixture
async def people(client: httpx.AsyncClient) -> dict[str, str]:
    """The PEOPLE, stored: full name -> id."""
    ids = {}
    for given, family, birth_date, gender in PEOPLE:
        response = await client.post(
            "/patients",
            json={"given_name": given, "family_name": family, "birth_date": birth_date, "gender": gender},
        )
        assert response.status_code == 201, response.text
        ids[f"{given} {family}"] = response.json()["id"]
    return ids


async def search(client: httpx.AsyncClient, q: str, **params: Any) -> list[str]:
    response = await client.get("/patients", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [f"{item['given_name']} {item['family_name']}" for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("John Smith", "John Smith"),
        ("Jonh Smtih", "John Smith"),
        ("smith john", "John Smith"),
        ("SMITH, JOHN", "John Smith"),
        ("Jhn Smith", "John Smith"),
        ("Jane Smiht", "Jane Smith"),
        ("zoe lovelace", "Zoë Lovelace"),
        ("Zoë Lovelace", "Zoë Lovelace"),
        ("Zoe Lovlace", "Zoë Lovelace"),
        ("ada lovelace", "Ada Marie Lovelace"),
        ("marie lovelace", "Ada Marie Lovelace"),
        ("Emile Saint Onge", "Émile St-Onge"),
        ("emile stonge", "Émile St-Onge"),
        ("Siobhan OBrien", "Siobhan O'Brien"),
        ("Mray Jnoes", "Mary Jones"),
        ("J Smith", "John Smith"),
    ],
)
async def test_the_patient_meant_comes_first(
    client: httpx.AsyncClient, people: dict[str, str], query: str, expected: str
) -> None:
    found = await search(client, query)

    assert found, query
    assert found[0] == expected or (
        # An initial is as good for John as for Jane: both come first, ties by id.
        query == "J Smith" and set(found[:2]) == {"John Smith", "Jane Smith"}
    )


async def test_two_typos_in_one_word_are_found_through_the_other_word(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    assert (await search(client, "Jxhz Smith"))[0] == "John Smith"
    # The first letter lost as well: only the last pass, on "lessard" alone, finds it.
    assert await search(client, "uumn Lessard") == ["Autumn Lessard"]


async def test_exact_matches_rank_above_near_ones(client: httpx.AsyncClient, people: dict[str, str]) -> None:
    found = await search(client, "John Smith")

    assert found[0] == "John Smith"
    assert "Jon Smyth" in found
    assert found.index("John Smith") < found.index("Jon Smyth")
    assert "Mary Jones" not in found


async def test_zoe_and_zoe_with_diaeresis_find_each_other(client: httpx.AsyncClient) -> None:
    for given in ("Zoë", "Zoe"):
        await client.post("/patients", json={"given_name": given, "family_name": "Adams", "birth_date": "1990-01-01"})

    assert sorted(await search(client, "zoe adams")) == ["Zoe Adams", "Zoë Adams"]
    assert sorted(await search(client, "ZOË ADAMS")) == ["Zoe Adams", "Zoë Adams"]


async def test_nothing_alike_finds_nothing(client: httpx.AsyncClient, people: dict[str, str]) -> None:
    response = await client.get("/patients", params={"q": "Xavier Quinterro"})

    assert response.json()["items"] == []
    assert response.json()["total"] == 0


async def test_a_query_of_punctuation_only_finds_nothing(client: httpx.AsyncClient, people: dict[str, str]) -> None:
    assert await search(client, " -- ") == []


async def test_filters_apply_to_fuzzy_matches(client: httpx.AsyncClient, people: dict[str, str]) -> None:
    assert await search(client, "smith", gender="female") == ["Jane Smith"]
    assert await search(client, "lovelace", birth_date="1980-12-10") == ["Ada Marie Lovelace"]


async def test_fuzzy_matches_page(client: httpx.AsyncClient, people: dict[str, str]) -> None:
    first = (await client.get("/patients", params={"q": "smith", "size": 2})).json()
    second = (await client.get(first["next"])).json()

    assert first["total"] == second["total"] >= 3
    assert httpx.URL(first["next"]).params["q"] == "smith"
    assert not {item["id"] for item in first["items"]} & {item["id"] for item in second["items"]}
    assert first["items"][0]["family_name"] == "Smith"


async def test_fuzzy_matches_sort_when_asked(client: httpx.AsyncClient, people: dict[str, str]) -> None:
    by_relevance = (await client.get("/patients", params={"q": "smith", "size": 100})).json()["items"]
    by_birth = (await client.get("/patients", params={"q": "smith", "sort": "-birth_date", "size": 100})).json()[
        "items"
    ]

    birth_dates = [item["birth_date"] for item in by_birth]
    assert birth_dates == sorted(birth_dates, reverse=True)
    assert sorted(item["id"] for item in by_birth) == sorted(item["id"] for item in by_relevance)


async def test_a_patient_written_without_name_keys_is_not_found_until_the_gateway_writes_it(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    stored = await app.state.fhir_client.create(
        {"resourceType": "Patient", "name": [{"family": "Outsider", "given": ["Olga"]}], "birthDate": "1970-01-01"}
    )
    assert await search(client, "Olga Outsider") == []

    await client.put(
        f"/patients/{stored['id']}", json={"given_name": "Olga", "family_name": "Outsider", "birth_date": "1970-01-01"}
    )

    assert await search(client, "Olga Outsidr") == ["Olga Outsider"]


async def test_a_renamed_patient_is_found_by_the_new_name_only(client: httpx.AsyncClient) -> None:
    created = (
        await client.post(
            "/patients", json={"given_name": "Hedy", "family_name": "Kiesler", "birth_date": "1914-11-09"}
        )
    ).json()

    await client.put(
        f"/patients/{created['id']}", json={"given_name": "Hedy", "family_name": "Lamarr", "birth_date": "1914-11-09"}
    )

    assert await search(client, "Hedy Lamar") == ["Hedy Lamarr"]
    # The old name's keys may linger on the resource (FHIR servers keep tags), but it no longer matches well.
    assert await search(client, "Hedy Kiesler") == []


class _Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def recorded(own_store_gateway: OpenOwnStoreGateway) -> AsyncIterator[tuple[httpx.AsyncClient, _Recording]]:
    async with own_store_gateway(_Recording) as gateway:
        assert isinstance(gateway.transport, _Recording)
        yield gateway.client, gateway.transport


async def test_every_candidate_search_is_bounded_by_name_keys(recorded: tuple[httpx.AsyncClient, _Recording]) -> None:
    client, transport = recorded
    for given, family, birth_date, gender in PEOPLE:
        await client.post(
            "/patients", json={"given_name": given, "family_name": family, "birth_date": birth_date, "gender": gender}
        )
    transport.requests.clear()

    for query in ("Jonh Smtih", "uumn Lessard", "smith", "Xavier Quinterro"):
        await client.get("/patients", params={"q": query})

    searches = [request for request in transport.requests if request.method == "GET"]
    assert searches
    for request in searches:
        params = request.url.params
        assert request.url.path == "/fhir/Patient"
        assert params.get_list("_tag"), "a candidate search without name keys would read every patient"
        assert int(params["_count"]) <= fuzzy.BROAD_CANDIDATES


async def test_a_fhir_failure_during_fuzzy_search_is_a_gateway_error(
    settings: Settings, open_gateway: OpenGateway
) -> None:
    def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"resourceType": "OperationOutcome", "issue": []})

    fhir_client = FhirClient(
        "http://fhir.test/fhir", transport=httpx.MockTransport(unavailable), retry=RetryPolicy(attempts=1)
    )
    async with open_gateway(create_app(settings, fhir_client=fhir_client)) as client:
        response = await client.get("/patients", params={"q": "John Smith Jones"})

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    await fhir_client.aclose()


# -- ranking --------------------------------------------------------------------------------------


def test_the_same_name_scores_one_in_any_order_case_or_accent() -> None:
    assert name_score("John Smith", "John Smith") == 1.0
    assert name_score("smith john", "John Smith") == 1.0
    assert name_score("ZOE", "Zoë") == 1.0


def test_one_typo_scores_below_none_and_above_two() -> None:
    exact = name_score("John Smith", "John Smith")
    one = name_score("Jonh Smith", "John Smith")
    two = name_score("Jonh Smtih", "John Smith")

    assert exact > one > two >= fuzzy.MIN_SCORE


def test_a_swap_of_neighbours_costs_one_edit() -> None:
    assert name_score("smtih", "smith") == name_score("smitt", "smith")


def test_a_name_word_the_query_left_out_costs_a_little() -> None:
    assert 0.85 < name_score("Ada Lovelace", "Ada Marie Lovelace") < 1.0
    assert name_score("Ada Lovelace", "Ada Marie Lovelace") > name_score("Ada Lovelace", "Ida Lovelace")


def test_a_query_word_the_name_lacks_costs_a_lot() -> None:
    assert name_score("Ada Marie Lovelace", "Ada Lovelace") < name_score("Ada Lovelace", "Ada Marie Lovelace")


def test_an_initial_matches_the_words_it_begins() -> None:
    assert name_score("J Smith", "John Smith") == 1.0
    assert name_score("K Smith", "John Smith") < fuzzy.MIN_SCORE + 0.1


def test_hyphenated_names_match_split_or_joined() -> None:
    assert name_score("stonge", "St-Onge") == 1.0
    assert name_score("st onge", "St-Onge") == 1.0


def test_an_empty_name_matches_nothing() -> None:
    assert name_score("John", " ") == 0.0
