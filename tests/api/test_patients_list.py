"""`GET /patients`: paging, sorting (stable across pages) and filters."""

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mappers.text import fold

pytestmark = pytest.mark.anyio

# (given, family, birth date, gender): ties on every sort key, so the id must break them.
PEOPLE = [
    ("Ada", "Lovelace", "1980-12-10", "female"),
    ("Grace", "Hopper", "1906-12-09", "female"),
    ("Alan", "Turing", "1912-06-23", "male"),
    ("Émile", "Borel", "1971-01-07", "male"),
    ("Emile", "Borel", "1971-01-07", "male"),
    ("Zoë", "Borel", "1990-03-03", "female"),
    ("Zoe", "Adams", "1990-03-03", "other"),
    ("Kurt", "Gödel", "1906-04-28", "male"),
    ("Kurt", "Godel", "1950-04-28", "unknown"),
    ("Emmy", "Noether", "1982-03-23", "female"),
    ("John", "Smith", "1980-12-10", "male"),
    ("Jane", "Smith", "1980-12-10", "female"),
    ("John", "Smith", "1975-05-05", "male"),
    ("Mary", "Smith", "2001-01-01", "female"),
    ("Ada", "Byron", "1915-12-10", "female"),
    ("Hedy", "Lamarr", "1914-11-09", "female"),
    ("Barbara", "Liskov", "1939-11-07", "female"),
    ("Edsger", "Dijkstra", "1930-05-11", "male"),
    ("Donald", "Knuth", "1938-01-10", "male"),
    ("Frances", "Allen", "1932-08-04", "female"),
    ("Katherine", "Johnson", "1918-08-26", "female"),
    ("Tim", "Berners-Lee", "1955-06-08", "male"),
    ("Sophie", "Germain", "1976-04-01", "female"),
]


async def create_people(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    created = []
    for given, family, birth_date, gender in PEOPLE:
        response = await client.post(
            "/patients",
            json={"given_name": given, "family_name": family, "birth_date": birth_date, "gender": gender},
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def walk(client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    """Every page from `url` on, following `next`; checks each page's links and counts."""
    pages = []
    while url:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        url = page["next"]
    for number, page in enumerate(pages, start=1):
        assert page["page"] == number
        assert page["total"] == len(PEOPLE)
        assert (page["prev"] is None) == (number == 1)
        assert (page["next"] is None) == (number == len(pages))
    return pages


def sort_value(patient: dict[str, Any], field: str) -> Any:
    value = patient[field]
    if field == "updated_at":
        return datetime.fromisoformat(value)
    return fold(value) if field in ("family_name", "given_name") else value


def in_order(sort: str):  # type: ignore[no-untyped-def]
    """A comparator for `sort` as the contract defines it: fields in turn, then id."""
    keys = [(field.removeprefix("-"), field.startswith("-")) for field in sort.split(",")]

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for field, descending in keys:
            left, right = sort_value(a, field), sort_value(b, field)
            if left != right:
                return (-1 if left < right else 1) * (-1 if descending else 1)
        return -1 if a["id"] < b["id"] else (1 if a["id"] > b["id"] else 0)

    return functools.cmp_to_key(compare)


@pytest.mark.parametrize(
    "sort",
    [
        "family_name,given_name",
        "-family_name",
        "given_name,-birth_date",
        "birth_date,-given_name",
        "-birth_date,family_name",
        "updated_at",
        "-updated_at",
    ],
)
async def test_walking_every_page_gives_every_patient_once_in_order(client: httpx.AsyncClient, sort: str) -> None:
    created = await create_people(client)

    pages = await walk(client, f"/patients?size=5&sort={sort}")

    items = [item for page in pages for item in page["items"]]
    assert [len(page["items"]) for page in pages] == [5, 5, 5, 5, 3]
    assert sorted(item["id"] for item in items) == sorted(patient["id"] for patient in created)
    assert items == sorted(created, key=in_order(sort))


async def test_several_given_names_sort_as_shown_first_given_name_first(client: httpx.AsyncClient) -> None:
    for given in ["Zachary Alexander", "Bob", "Christian Adrian", "Søren", "Sophie"]:
        body = {"given_name": given, "family_name": "Lund", "birth_date": "1980-01-01"}
        assert (await client.post("/patients", json=body)).status_code == 201

    ascending = (await client.get("/patients", params={"sort": "given_name"})).json()["items"]
    descending = (await client.get("/patients", params={"sort": "-given_name"})).json()["items"]

    expected = ["Bob", "Christian Adrian", "Sophie", "Søren", "Zachary Alexander"]
    assert [item["given_name"] for item in ascending] == expected
    assert [item["given_name"] for item in descending] == list(reversed(expected))


async def test_the_default_order_is_family_then_given_name(client: httpx.AsyncClient) -> None:
    created = await create_people(client)

    pages = await walk(client, "/patients?size=7")

    items = [item for page in pages for item in page["items"]]
    assert items == sorted(created, key=in_order("family_name,given_name"))


async def test_prev_links_walk_back_over_the_same_pages(client: httpx.AsyncClient) -> None:
    await create_people(client)
    forward = await walk(client, "/patients?size=6&sort=birth_date")

    backward = []
    url = forward[-1]["prev"]
    while url:
        page = (await client.get(url)).json()
        backward.append(page)
        url = page["prev"]

    assert [page["items"] for page in reversed(backward)] == [page["items"] for page in forward[:-1]]


async def test_links_keep_every_other_parameter(client: httpx.AsyncClient) -> None:
    await create_people(client)

    page = (await client.get("/patients", params={"size": 2, "sort": "-birth_date", "gender": "female"})).json()

    following = httpx.URL(page["next"])
    assert following.params["page"] == "2"
    assert following.params["sort"] == "-birth_date"
    assert following.params["gender"] == "female"
    assert following.params["size"] == "2"


async def test_a_page_past_the_end_is_empty_and_links_back_to_the_last(client: httpx.AsyncClient) -> None:
    await create_people(client)

    page = (await client.get("/patients", params={"size": 10, "page": 9})).json()

    assert page["items"] == []
    assert page["total"] == len(PEOPLE)
    assert page["next"] is None
    assert httpx.URL(page["prev"]).params["page"] == "3"


async def test_an_empty_list(client: httpx.AsyncClient) -> None:
    page = (await client.get("/patients")).json()

    assert page == {"items": [], "total": 0, "page": 1, "size": 20, "next": None, "prev": None}


async def test_filters_narrow_the_list(client: httpx.AsyncClient) -> None:
    await create_people(client)

    async def names(**params: Any) -> list[tuple[str, str]]:
        page = (await client.get("/patients", params=params)).json()
        assert page["total"] == len(page["items"])
        return sorted((item["given_name"], item["family_name"]) for item in page["items"])

    assert await names(birth_date="1980-12-10") == [("Ada", "Lovelace"), ("Jane", "Smith"), ("John", "Smith")]
    assert await names(birth_date="1980-12-10", gender="male") == [("John", "Smith")]
    assert await names(gender="other") == [("Zoe", "Adams")]


async def test_mrn_and_insurance_filters_find_the_one_patient(client: httpx.AsyncClient) -> None:
    await create_people(client)
    ontario = (
        await client.post(
            "/patients",
            json={
                "given_name": "Olive",
                "family_name": "Ontario",
                "birth_date": "1970-01-01",
                "mrn": "MRN-00000777",
                "province": "ON",
                "insurance_no": "9876543217AB",
            },
        )
    ).json()

    for params in (
        {"mrn": "MRN-00000777"},
        {"insurance_no": "9876543217AB"},
        {"insurance_no": "9876 543 217"},
        {"insurance_no": "9876543217CD"},
    ):
        page = (await client.get("/patients", params=params)).json()
        assert [item["id"] for item in page["items"]] == [ontario["id"]], params
    assert (await client.get("/patients", params={"mrn": "MRN-00000778"})).json()["total"] == 0


async def test_updated_since_needs_an_offset_and_filters_by_storage_time(client: httpx.AsyncClient) -> None:
    created = await create_people(client)
    last = max(datetime.fromisoformat(patient["updated_at"]) for patient in created)

    naive = await client.get("/patients", params={"updated_since": "2024-01-01T00:00:00"})
    recent = await client.get("/patients", params={"updated_since": last.isoformat()})
    future = await client.get("/patients", params={"updated_since": (last + timedelta(days=1)).isoformat()})
    everyone = await client.get("/patients", params={"updated_since": datetime(2000, 1, 1, tzinfo=UTC).isoformat()})

    assert naive.status_code == 422
    assert [tuple(error["loc"]) for error in naive.json()["errors"]] == [("query", "updated_since")]
    assert recent.json()["total"] >= 1
    assert all(datetime.fromisoformat(item["updated_at"]) >= last for item in recent.json()["items"])
    assert future.json()["total"] == 0
    assert everyone.json()["total"] == len(PEOPLE)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": 101}, "size"),
        ({"size": 0}, "size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"sort": "name"}, "sort"),
        ({"sort": "family_name,-family_name"}, "sort"),
        ({"gender": "f"}, "gender"),
        ({"birth_date": "1980"}, "birth_date"),
        ({"mrn": "MRN 1"}, "mrn"),
        ({"insurance_no": "12/34"}, "insurance_no"),
        ({"q": ""}, "q"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_invalid_list_parameters_are_422_naming_them(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/patients", params=params)

    assert response.status_code == 422
    assert ("query", field) in [tuple(error["loc"]) for error in response.json()["errors"]]


async def test_a_page_of_the_largest_size_is_accepted(client: httpx.AsyncClient) -> None:
    await create_people(client)

    page = (await client.get("/patients", params={"size": 100})).json()

    assert len(page["items"]) == len(PEOPLE)
    assert page["size"] == 100
