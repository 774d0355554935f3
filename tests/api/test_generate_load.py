"""`POST /api/generate/immunizations`: synthetic immunization records made and stored in
batches, with a line of progress after each; the same seed stored again changes nothing;
what a request may not ask is a 422 naming the field."""

from typing import Any

import httpx
import orjson
import pytest

pytestmark = pytest.mark.anyio


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in response.content.splitlines()]


async def load(client: httpx.AsyncClient, **body: object) -> httpx.Response:
    response = await client.post("/api/generate/immunizations", json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return response


async def test_records_are_stored_in_batches_with_progress_after_each(client: httpx.AsyncClient) -> None:
    response = await load(client, count=20, seed=5, province="BC")

    *progress, last = lines(response)
    assert last == {"done": True, "seed": 5, "loaded": 20}
    assert response.headers["X-Generator-Seed"] == "5"
    loaded = [line["loaded"] for line in progress]
    assert len(progress) > 1 and loaded == sorted(loaded) and loaded[-1] == 20
    assert all(line["count"] == 20 for line in progress)
    # Each line names the patients of its batch, each once over the whole answer.
    named = [patient for line in progress for patient in line["patients"]]
    assert [len(line["patients"]) for line in progress] == [b - a for a, b in zip([0, *loaded], loaded, strict=False)]
    assert len({patient["id"] for patient in named}) == 20

    listed = (await client.get("/patients", params={"size": 100})).json()
    assert listed["total"] == 20
    names = {patient["id"]: f"{patient['given_name']} {patient['family_name']}" for patient in listed["items"]}
    assert names == {patient["id"]: patient["name"] for patient in named}
    first = named[0]["id"]
    assert (await client.get(f"/patients/{first}/immunizations")).json()["total"] >= 1
    assert (await client.get(f"/patients/{first}/allergies")).json()["total"] == 1


async def test_ontario_records_have_no_allergy(client: httpx.AsyncClient) -> None:
    response = await load(client, count=3, seed=5, province="ON")

    patients = [patient for line in lines(response)[:-1] for patient in line["patients"]]
    for patient in patients:
        assert (await client.get(f"/patients/{patient['id']}")).json()["province"] == "ON"
        assert (await client.get(f"/patients/{patient['id']}/allergies")).json()["total"] == 0


async def test_loading_a_seed_again_creates_nothing_new(client: httpx.AsyncClient) -> None:
    first = lines(await load(client, count=4, seed=9))
    again = lines(await load(client, count=4, seed=9))

    assert first[:-1] == again[:-1]
    assert (await client.get("/patients")).json()["total"] == 4


async def test_without_a_seed_one_is_chosen_and_said(client: httpx.AsyncClient) -> None:
    response = await load(client, count=1)

    seed = int(response.headers["X-Generator-Seed"])
    assert lines(response)[-1] == {"done": True, "seed": seed, "loaded": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": 1001}, "count"),
        ({"count": "5"}, "count"),
        ({"count": True}, "count"),
        ({}, "count"),
        ({"count": 1, "province": "QC"}, "province"),
        ({"count": 1, "seed": -1}, "seed"),
        ({"count": 1, "seed": 1.5}, "seed"),
        ({"count": 1, "records": 5}, "records"),
    ],
)
async def test_what_may_not_be_asked_is_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/generate/immunizations", json=body)

    assert response.status_code == 422, response.text
    assert [error["loc"] for error in response.json()["errors"]] == [["body", field]]
    assert (await client.get("/patients")).json()["total"] == 0
