"""`/patients`: create, read, replace; validation, identifiers kept unique, optimistic locking."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.features.patients import service, uniqueness
from fhir_gateway.fhir_client import FhirClient
from tests.api.conftest import OpenOwnStoreGateway

pytestmark = pytest.mark.anyio

PROBLEM_JSON = "application/problem+json"
BC_PHN = "9698658215"
OTHER_BC_PHN = "9253484802"
ON_HCN = "9876543217"


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"given_name": "Ada Marie", "family_name": "Lovelace", "birth_date": "1980-12-10"}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


async def create(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/patients", json=payload(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def fhir(app: FastAPI) -> FhirClient:
    return app.state.fhir_client


# -- create ---------------------------------------------------------------------------------------


async def test_create_answers_201_with_the_stored_patient_location_and_etag(client: httpx.AsyncClient) -> None:
    full = payload(
        province="BC",
        insurance_no=BC_PHN,
        gender="female",
        phone="+1 604 555 0100",
        email="ada@example.org",
        address={
            "line": ["123 Fake St"],
            "city": "Vancouver",
            "province": "BC",
            "postal_code": "V5K 0A1",
            "country": "CA",
        },
    )

    response = await client.post("/patients", json=full)

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in full} == full
    assert re.fullmatch(r"MRN-\d{8}", body["mrn"])
    assert body["version"] == "1"
    assert datetime.fromisoformat(body["updated_at"]).tzinfo is not None
    assert response.headers["Location"] == f"http://gateway.test/patients/{body['id']}"
    assert response.headers["ETag"] == 'W/"1"'
    read = await client.get(response.headers["Location"])
    assert read.json() == body


async def test_create_keeps_a_given_mrn_and_normalises_the_insurance_number(client: httpx.AsyncClient) -> None:
    body = await create(client, mrn="MRN-00012345", province="ON", insurance_no="9876 543 217-ab")

    assert body["mrn"] == "MRN-00012345"
    assert body["insurance_no"] == "9876543217AB"


async def test_create_stores_a_standard_fhir_patient(client: httpx.AsyncClient, app: FastAPI) -> None:
    body = await create(client, province="BC", insurance_no=BC_PHN, gender="female")

    resource = await fhir(app).read("Patient", body["id"])

    assert resource["name"] == [{"use": "official", "family": "Lovelace", "given": ["Ada", "Marie"]}]
    assert resource["birthDate"] == "1980-12-10"
    systems = {identifier["system"]: identifier["value"] for identifier in resource["identifier"]}
    assert systems["https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id"] == BC_PHN
    assert systems["https://fhir-gateway.dev/mrn"] == body["mrn"]


def field_error(response: httpx.Response) -> list[tuple[Any, ...]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    return [tuple(error["loc"]) for error in response.json()["errors"]]


TOMORROW = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"given_name": None}, "given_name"),
        ({"family_name": None}, "family_name"),
        ({"given_name": "   "}, "given_name"),
        ({"family_name": ""}, "family_name"),
        ({"birth_date": None}, "birth_date"),
        ({"birth_date": TOMORROW}, "birth_date"),
        ({"birth_date": "1899-12-31"}, "birth_date"),
        ({"birth_date": "10/12/1980"}, "birth_date"),
        ({"gender": "f"}, "gender"),
        ({"province": "BC", "insurance_no": "9698658216"}, "insurance_no"),
        ({"province": "BC", "insurance_no": "123"}, "insurance_no"),
        ({"province": "ON", "insurance_no": "9876543210"}, "insurance_no"),
        ({"province": "ON", "insurance_no": "9876543217A"}, "insurance_no"),
        ({"province": "BC"}, "insurance_no"),
        ({"province": "XX", "insurance_no": BC_PHN}, "province"),
        ({"insurance_no": "12/34"}, "insurance_no"),
        ({"mrn": "MRN 1"}, "mrn"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"address": {"postal_code": "90210"}}, "address"),
        ({"address": {"province": "BC", "postal_code": "M5V 2T6"}}, "address"),
        ({"version": "1"}, "version"),
        ({"updated_at": "2024-01-01T00:00:00Z"}, "updated_at"),
    ],
)
async def test_create_refuses_invalid_fields_with_422_naming_them(
    client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    response = await client.post("/patients", json=payload(**overrides))

    assert ("body", field) in field_error(response)


async def test_a_missing_name_is_named_even_when_sent_as_null(client: httpx.AsyncClient) -> None:
    response = await client.post("/patients", json={**payload(), "given_name": None})

    assert ("body", "given_name") in field_error(response)


async def test_every_invalid_field_is_reported_at_once(client: httpx.AsyncClient) -> None:
    response = await client.post("/patients", json={"birth_date": TOMORROW, "gender": "x"})

    assert set(field_error(response)) == {
        ("body", "given_name"),
        ("body", "family_name"),
        ("body", "birth_date"),
        ("body", "gender"),
    }


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/patients", content=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM_JSON)


async def test_a_canadian_address_is_normalised(client: httpx.AsyncClient) -> None:
    body = await create(client, address={"province": "on", "postal_code": "m5v2t6"})

    assert body["address"] == {"line": [], "city": None, "province": "ON", "postal_code": "M5V 2T6", "country": None}


async def test_an_address_abroad_keeps_its_own_postal_code(client: httpx.AsyncClient) -> None:
    body = await create(client, address={"city": "Seattle", "province": "WA", "postal_code": "98101", "country": "US"})

    assert body["address"]["postal_code"] == "98101"


# -- uniqueness -----------------------------------------------------------------------------------


async def test_a_duplicate_mrn_is_409_naming_it(client: httpx.AsyncClient) -> None:
    first = await create(client, mrn="MRN-00000001")

    response = await client.post("/patients", json=payload(mrn="MRN-00000001", given_name="Other"))

    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    detail = response.json()["detail"]
    assert "mrn 'MRN-00000001'" in detail
    assert first["id"] in detail


async def test_a_duplicate_insurance_number_is_409_naming_it(client: httpx.AsyncClient) -> None:
    first = await create(client, province="BC", insurance_no=BC_PHN)

    response = await client.post("/patients", json=payload(province="BC", insurance_no="9698-658-215"))

    assert response.status_code == 409
    assert f"insurance_no '{BC_PHN}'" in response.json()["detail"]
    assert first["id"] in response.json()["detail"]


async def test_an_ontario_number_is_the_same_card_whatever_its_version_code(client: httpx.AsyncClient) -> None:
    await create(client, province="ON", insurance_no=f"{ON_HCN}AB")

    response = await client.post("/patients", json=payload(province="ON", insurance_no=f"{ON_HCN}CD"))

    assert response.status_code == 409


async def test_a_number_clashes_whatever_province_it_was_filed_under(client: httpx.AsyncClient) -> None:
    await create(client, insurance_no=BC_PHN)

    response = await client.post("/patients", json=payload(province="BC", insurance_no=BC_PHN))

    assert response.status_code == 409


async def test_both_clashes_are_named(client: httpx.AsyncClient) -> None:
    await create(client, mrn="MRN-00000002", province="BC", insurance_no=BC_PHN)

    response = await client.post("/patients", json=payload(mrn="MRN-00000002", province="BC", insurance_no=BC_PHN))

    detail = response.json()["detail"]
    assert "mrn 'MRN-00000002' and insurance_no '9698658215' are already held" in detail


async def test_concurrent_creates_of_one_insurance_number_store_exactly_one(client: httpx.AsyncClient) -> None:
    statuses: list[int] = []

    async def attempt(index: int) -> None:
        response = await client.post(
            "/patients", json=payload(given_name=f"Twin{index}", province="BC", insurance_no=OTHER_BC_PHN)
        )
        statuses.append(response.status_code)

    async with anyio.create_task_group() as group:
        for index in range(6):
            group.start_soon(attempt, index)

    assert sorted(statuses) == [201, 409, 409, 409, 409, 409]
    listed = await client.get("/patients", params={"insurance_no": OTHER_BC_PHN})
    assert listed.json()["total"] == 1


async def test_a_drawn_mrn_that_is_taken_is_drawn_again(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = (await create(client, mrn="MRN-12345678"))["mrn"]
    draws = iter([taken, "MRN-87654321"])
    monkeypatch.setattr(service, "new_mrn", lambda: next(draws))

    body = await create(client, given_name="Grace")

    assert body["mrn"] == "MRN-87654321"


class _IgnoresIfNoneExist(httpx.AsyncBaseTransport):
    """A FHIR server on which conditional creates race: it creates whatever it is sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "If-None-Exist" in request.headers:
            del request.headers["If-None-Exist"]
        return await self._inner.handle_async_request(request)


@pytest.fixture
async def racing_gateway(
    own_store_gateway: OpenOwnStoreGateway,
) -> AsyncIterator[tuple[httpx.AsyncClient, FhirClient]]:
    async with own_store_gateway(_IgnoresIfNoneExist) as gateway:
        yield gateway.client, gateway.fhir


async def test_a_create_that_raced_past_the_condition_gives_way_to_the_earlier_claim(
    racing_gateway: tuple[httpx.AsyncClient, FhirClient],
) -> None:
    client, fhir_client = racing_gateway
    first = await create(client, province="BC", insurance_no=BC_PHN)

    response = await client.post("/patients", json=payload(given_name="Late", province="BC", insurance_no=BC_PHN))

    assert response.status_code == 409
    assert first["id"] in response.json()["detail"]
    holders = await fhir_client.search("Patient", {"identifier": f"{BC_PHN}", "_total": "accurate"})
    assert [entry["resource"]["id"] for entry in holders.get("entry", [])] == [first["id"]]


async def test_a_replace_that_raced_past_the_check_is_undone(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = await create(client, province="BC", insurance_no=BC_PHN)
    other = await create(client, given_name="Grace", province="BC", insurance_no=OTHER_BC_PHN)

    async def check_missed(*args: object, **kwargs: object) -> None:
        return None

    monkeypatch.setattr(uniqueness, "ensure_free", check_missed)

    response = await client.put(
        f"/patients/{other['id']}", json=payload(given_name="Grace", province="BC", insurance_no=BC_PHN)
    )

    assert response.status_code == 409
    assert holder["id"] in response.json()["detail"]
    restored = (await client.get(f"/patients/{other['id']}")).json()
    assert restored["insurance_no"] == OTHER_BC_PHN
    assert (await client.get(f"/patients/{holder['id']}")).json()["insurance_no"] == BC_PHN


# -- read -----------------------------------------------------------------------------------------


async def test_read_answers_the_patient_with_its_etag(client: httpx.AsyncClient) -> None:
    created = await create(client)

    response = await client.get(f"/patients/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["ETag"] == 'W/"1"'


async def test_an_unknown_id_is_404(client: httpx.AsyncClient) -> None:
    for method in ("GET", "PUT", "DELETE"):
        body = payload() if method == "PUT" else None
        response = await client.request(method, "/patients/no-such-patient", json=body)

        assert response.status_code == 404, method
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert "no-such-patient" in response.json()["detail"]


async def test_a_malformed_id_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/patients/not*an*id")

    assert ("path", "patient_id") in field_error(response)


async def test_a_patient_written_by_another_fhir_client_reads_with_what_it_has(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    stored = await fhir(app).create({"resourceType": "Patient", "name": [{"text": "Unknown"}], "birthDate": "1970"})

    response = await client.get(f"/patients/{stored['id']}")

    assert response.status_code == 200
    body = response.json()
    assert (body["given_name"], body["family_name"], body["birth_date"], body["mrn"]) == (None, None, None, None)


# -- replace --------------------------------------------------------------------------------------


async def test_replace_stores_a_new_version_and_keeps_the_mrn(client: httpx.AsyncClient) -> None:
    created = await create(client, gender="female")

    response = await client.put(f"/patients/{created['id']}", json=payload(family_name="King", gender="female"))

    assert response.status_code == 200
    body = response.json()
    assert body["family_name"] == "King"
    assert body["mrn"] == created["mrn"]
    assert body["version"] == "2"
    assert response.headers["ETag"] == 'W/"2"'
    assert (await client.get(f"/patients/{created['id']}")).json() == body


async def test_replace_removes_fields_left_out(client: httpx.AsyncClient) -> None:
    created = await create(client, phone="+1 604 555 0100", gender="female")

    body = (await client.put(f"/patients/{created['id']}", json=payload())).json()

    assert body["phone"] is None
    assert body["gender"] is None


async def test_replace_may_change_the_mrn(client: httpx.AsyncClient) -> None:
    created = await create(client)

    body = (await client.put(f"/patients/{created['id']}", json=payload(mrn="MRN-99999999"))).json()

    assert body["mrn"] == "MRN-99999999"


async def test_replace_with_the_current_if_match_succeeds(client: httpx.AsyncClient) -> None:
    created = await create(client)

    response = await client.put(
        f"/patients/{created['id']}", json=payload(family_name="King"), headers={"If-Match": 'W/"1"'}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_stale_if_match_is_412(client: httpx.AsyncClient, method: str) -> None:
    created = await create(client)
    await client.put(f"/patients/{created['id']}", json=payload(family_name="King"))

    response = await client.request(
        method, f"/patients/{created['id']}", json=payload() if method == "PUT" else None, headers={"If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert "version 2" in response.json()["detail"]
    assert (await client.get(f"/patients/{created['id']}")).json()["family_name"] == "King"


async def test_a_malformed_if_match_is_400(client: httpx.AsyncClient) -> None:
    created = await create(client)

    response = await client.put(f"/patients/{created['id']}", json=payload(), headers={"If-Match": "yesterday"})

    assert response.status_code == 400


async def test_replace_refuses_another_patients_identifier(client: httpx.AsyncClient) -> None:
    holder = await create(client, province="BC", insurance_no=BC_PHN)
    other = await create(client, given_name="Grace")

    response = await client.put(f"/patients/{other['id']}", json=payload(province="BC", insurance_no=BC_PHN))

    assert response.status_code == 409
    assert holder["id"] in response.json()["detail"]


async def test_replace_may_keep_its_own_identifiers(client: httpx.AsyncClient) -> None:
    created = await create(client, province="BC", insurance_no=BC_PHN)

    response = await client.put(
        f"/patients/{created['id']}", json=payload(mrn=created["mrn"], province="BC", insurance_no=BC_PHN)
    )

    assert response.status_code == 200


async def test_replace_validates_like_create(client: httpx.AsyncClient) -> None:
    created = await create(client)

    response = await client.put(f"/patients/{created['id']}", json=payload(birth_date=TOMORROW))

    assert ("body", "birth_date") in field_error(response)


async def test_replace_keeps_fhir_content_the_api_does_not_show(client: httpx.AsyncClient, app: FastAPI) -> None:
    created = await create(client)
    resource = await fhir(app).read("Patient", created["id"])
    resource["communication"] = [{"language": {"text": "French"}}]
    resource["telecom"] = [{"system": "fax", "value": "+1 604 555 0199"}]
    await fhir(app).update(resource)

    await client.put(f"/patients/{created['id']}", json=payload(family_name="King", phone="+1 604 555 0100"))

    stored = await fhir(app).read("Patient", created["id"])
    assert stored["communication"] == [{"language": {"text": "French"}}]
    assert {"system": "fax", "value": "+1 604 555 0199"} in stored["telecom"]
    assert {"system": "phone", "value": "+1 604 555 0100"} in stored["telecom"]


class _WritesBeforeFirstUpdate(httpx.AsyncBaseTransport):
    """A FHIR server on which another client writes the Patient just before the gateway's
    first PUT of it arrives."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.interposed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and not self.interposed:
            self.interposed = True
            async with httpx.AsyncClient(transport=self._inner, base_url=str(request.url)) as other:
                resource = (await other.get("")).json()
                resource["communication"] = [{"language": {"text": "French"}}]
                assert (await other.put("", json=resource)).status_code == 200
        return await self._inner.handle_async_request(request)


async def test_replace_retries_when_someone_else_wrote_in_between(own_store_gateway: OpenOwnStoreGateway) -> None:
    async with own_store_gateway(_WritesBeforeFirstUpdate) as gateway:
        created = await create(gateway.client)

        response = await gateway.client.put(f"/patients/{created['id']}", json=payload(family_name="King"))

        assert response.status_code == 200
        assert response.json()["version"] == "3"
        stored = await gateway.fhir.read("Patient", created["id"])
        # The write in between survived, and so did the replace.
        assert stored["communication"] == [{"language": {"text": "French"}}]
        assert stored["name"][0]["family"] == "King"


async def test_replace_of_a_deleted_patient_is_410_and_does_not_bring_it_back(client: httpx.AsyncClient) -> None:
    created = await create(client)
    await client.delete(f"/patients/{created['id']}")

    response = await client.put(f"/patients/{created['id']}", json=payload())

    assert response.status_code == 410
    assert (await client.get(f"/patients/{created['id']}")).status_code == 410


async def test_the_openapi_schema_documents_the_patient_routes(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    paths = schema["paths"]
    assert set(paths["/patients"]) == {"get", "post"}
    assert set(paths["/patients/{patient_id}"]) == {"get", "put", "delete"}
    assert {"409", "422"} <= set(paths["/patients"]["post"]["responses"])
    assert {"404", "409", "412"} <= set(paths["/patients/{patient_id}"]["put"]["responses"])
    assert {"PatientIn", "PatientPublic", "Problem"} <= set(schema["components"]["schemas"])
