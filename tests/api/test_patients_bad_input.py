"""Bad input to `/patients` is a 422 naming the simplified field, stores nothing, and leaves the
connection fit for the next request."""

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio

VALID: dict[str, Any] = {"given_name": "Ada Marie", "family_name": "Lovelace", "birth_date": "1980-12-10"}


def with_field(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {**VALID, "address": {"line": ["123 Fake St"], "city": "Vancouver"}}
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


async def stored_patients(client: httpx.AsyncClient) -> int:
    response = await client.get("/patients")
    assert response.status_code == 200
    return response.json()["total"]


def error_locations(response: httpx.Response) -> list[list[str | int]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return [error["loc"] for error in response.json()["errors"]]


TEXT_FIELDS = [("given_name",), ("family_name",), ("phone",), ("address", "line", 0), ("address", "city")]


@pytest.mark.parametrize("path", TEXT_FIELDS, ids=lambda path: ".".join(map(str, path)))
@pytest.mark.parametrize("character", ["\ud800", "\udfff", "\x00", "\x07", "\x0b", "\x1f", "\x7f", "\x85", "\n"])
async def test_unstorable_characters_are_refused_by_field(
    client: httpx.AsyncClient, path: tuple[str | int, ...], character: str
) -> None:
    # json.dumps writes a lone surrogate as the escape "\ud800", as a client's JSON would carry it.
    body = json.dumps(with_field(path, f"Ada{character}x")).encode()
    response = await client.post("/patients", content=body, headers={"Content-Type": "application/json"})

    assert error_locations(response) == [["body", *path]]
    # Nothing was stored, and the connection still serves.
    assert await stored_patients(client) == 0


async def test_the_message_never_repeats_the_refused_text(client: httpx.AsyncClient) -> None:
    response = await client.post("/patients", json=with_field(("family_name",), "Secretname\x1f"))

    assert response.json()["errors"][0]["msg"].endswith("(U+001F at character 11)")
    assert "Secretname" not in response.text


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("given_name",), "A" * 201),
        (("family_name",), "B" * 201),
        (("given_name",), " ".join(["Ann"] * 11)),
        (("address", "line"), ["1 Main St"] * 6),
        (("address", "line", 0), "1" * 201),
        (("address", "city"), "C" * 101),
        (("phone",), "1" * 41),
        (("email",), "a" * 65 + "@example.org"),
        (("email",), "a@" + "b" * 250 + ".org"),
        (("mrn",), "M" * 65),
        (("insurance_no",), "1" * 33),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else None,
)
async def test_text_beyond_generous_limits_is_refused(
    client: httpx.AsyncClient, path: tuple[str | int, ...], value: Any
) -> None:
    response = await client.post("/patients", json=with_field(path, value))

    assert error_locations(response)[0][: len(path) + 1] == ["body", *path]
    assert await stored_patients(client) == 0


async def test_text_at_the_limits_is_kept(client: httpx.AsyncClient) -> None:
    body = with_field(("given_name",), " ".join(["Annabel"] * 10))
    body["family_name"] = "F" * 200
    body["address"]["line"] = ["L" * 200] * 5

    response = await client.post("/patients", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["family_name"] == "F" * 200
    assert response.json()["address"]["line"] == ["L" * 200] * 5


@pytest.mark.parametrize("birth_date", [0, 1796170000, "0", "1980", "1980-12-10T00:00:00", "10/12/1980"])
async def test_a_birth_date_must_be_written_yyyy_mm_dd(client: httpx.AsyncClient, birth_date: Any) -> None:
    response = await client.post("/patients", json={**VALID, "birth_date": birth_date})

    assert error_locations(response) == [["body", "birth_date"]]


@pytest.mark.parametrize("since", ["0.5", "1796170000", "2025-03-01T10:30:00", "2025-03-01", "yesterday"])
async def test_updated_since_must_be_an_iso_instant_with_an_offset(client: httpx.AsyncClient, since: str) -> None:
    response = await client.get("/patients", params={"updated_since": since})

    assert error_locations(response) == [["query", "updated_since"]]


async def test_an_unencoded_plus_of_an_offset_is_read_as_plus(client: httpx.AsyncClient) -> None:
    created = (await client.post("/patients", json=VALID)).json()

    response = await client.get("/patients?updated_since=2000-01-01T00:00:00+00:00")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [created["id"]]


@pytest.mark.parametrize("name", ["q", "mrn", "insurance_no"])
async def test_query_text_with_control_characters_is_refused(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get("/patients", params={name: "Ad\x00a"})

    assert error_locations(response) == [["query", name]]


@pytest.mark.parametrize("query", ["page=1&page=2", "size=5&size=5", "q=ada&q=bob", "gender=male&gender=female"])
async def test_a_single_valued_query_parameter_given_twice_is_refused(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/patients?{query}")

    name = query.split("=", 1)[0]
    assert error_locations(response) == [["query", name]]
    assert "more than once" in response.json()["errors"][0]["msg"]


async def test_the_query_is_validated_before_the_patient_is_looked_up(client: httpx.AsyncClient) -> None:
    created = (await client.post("/patients", json=VALID)).json()
    assert (await client.delete(f"/patients/{created['id']}")).status_code == 200

    for listing in ("immunizations", "allergies"):
        response = await client.get(f"/patients/{created['id']}/{listing}", params={"page": 0, "size": 0})

        assert sorted(error_locations(response)) == [["query", "page"], ["query", "size"]]
        # With a valid query, the deleted patient is what the answer is about.
        assert (await client.get(f"/patients/{created['id']}/{listing}")).status_code == 410


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post("/patients", content=b'{"given_name": "Ada"}', headers={"Content-Type": content_type})

    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await stored_patients(client) == 0


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/merge+json"]
)
async def test_json_bodies_are_taken_by_any_json_media_type(client: httpx.AsyncClient, content_type: str) -> None:
    response = await client.post(
        "/patients",
        content=b'{"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1980-12-10"}',
        headers={"Content-Type": content_type},
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/patients", "GET, OPTIONS, POST"),
        ("/patients/abc", "DELETE, GET, OPTIONS, PUT"),
        ("/patients/abc/immunizations", "GET, OPTIONS"),
    ],
)
async def test_options_names_every_method_of_the_path(client: httpx.AsyncClient, path: str, allowed: str) -> None:
    response = await client.options(path)

    assert response.status_code == 204
    assert response.headers["allow"] == allowed


async def test_a_method_the_path_does_not_serve_is_405_naming_all_it_does(client: httpx.AsyncClient) -> None:
    response = await client.patch("/patients/abc", json={})

    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, OPTIONS, PUT"
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_options_of_an_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.options("/nowhere")).status_code == 404
