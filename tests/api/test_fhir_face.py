"""`/fhir`: FHIR REST relayed to the FHIR server (the embedded store, or HAPI FHIR under
`make hapi-test`), with the server's statuses and headers, and every URL the server writes
turned into the gateway's own."""

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from fhir_gateway.app import create_app
from fhir_gateway.settings import Settings
from tests.api.conftest import BASE_URL, FHIR_BASE_URL, OpenGateway
from tests.synthea.shapes import Style, synthea_set

pytestmark = pytest.mark.anyio

FHIR = f"{BASE_URL}/fhir"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
# What the gateway talks to: no answer may show it.
SERVER_BASE = FHIR_BASE_URL or "http://embedded/fhir"


def patient(family: str, **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"family": family, "given": ["Ada"]}], **fields}


def family() -> str:
    return f"Face{uuid4().hex[:10]}"


async def create(client: httpx.AsyncClient, resource: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/fhir/{resource['resourceType']}", json=resource, headers=FHIR_JSON)
    assert response.status_code == 201, response.text
    return response.json()


def urls_in(bundle: dict[str, Any]) -> Iterator[str]:
    yield from (link["url"] for link in bundle.get("link") or [])
    for entry in bundle.get("entry") or []:
        if "fullUrl" in entry:
            yield entry["fullUrl"]
        location = (entry.get("response") or {}).get("location")
        if location and "://" in location:
            yield location


def assert_outcome(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"] and all(issue["severity"] in ("error", "fatal") for issue in body["issue"])
    return body


def expressions(outcome: dict[str, Any]) -> list[str]:
    return [expression for issue in outcome["issue"] for expression in issue.get("expression") or []]


async def test_create_read_vread_update_delete_pass_statuses_and_headers_through(client: httpx.AsyncClient) -> None:
    created = await client.post("/fhir/Patient", json=patient(family()), headers=FHIR_JSON)
    assert created.status_code == 201
    stored = created.json()
    patient_id = stored["id"]
    assert created.headers["location"].startswith(f"{FHIR}/Patient/{patient_id}/_history/1")
    assert created.headers["etag"] == 'W/"1"'

    read = await client.get(f"/fhir/Patient/{patient_id}")
    assert read.status_code == 200
    assert read.headers["etag"] == 'W/"1"'
    assert "last-modified" in read.headers
    assert read.json() == stored

    changed = {**stored, "active": True}
    updated = await client.put(f"/fhir/Patient/{patient_id}", json=changed, headers=FHIR_JSON)
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == 'W/"2"'
    assert updated.json()["active"] is True

    first = await client.get(f"/fhir/Patient/{patient_id}/_history/1")
    assert first.status_code == 200
    assert "active" not in first.json()

    stale = await client.put(f"/fhir/Patient/{patient_id}", json=changed, headers={**FHIR_JSON, "If-Match": 'W/"1"'})
    assert stale.status_code in (409, 412)

    deleted = await client.delete(f"/fhir/Patient/{patient_id}")
    assert deleted.status_code in (200, 204)
    assert_outcome(await client.get(f"/fhir/Patient/{patient_id}"), 410)
    assert_outcome(await client.get(f"/fhir/Patient/{uuid4().hex}"), 404)


async def test_search_pages_and_links_point_at_the_gateway(client: httpx.AsyncClient) -> None:
    name = family()
    ids = {(await create(client, patient(name, birthDate=f"19{60 + index}-01-01")))["id"] for index in range(5)}

    page = (await client.get("/fhir/Patient", params={"family": name, "_count": "2", "_sort": "birthdate"})).json()
    seen: list[str] = []
    while True:
        assert page["resourceType"] == "Bundle" and page["type"] == "searchset"
        urls = list(urls_in(page))
        assert urls and all(url.startswith(FHIR) for url in urls), urls
        seen += [entry["resource"]["id"] for entry in page.get("entry") or []]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        response = await client.get(following[0])
        assert response.status_code == 200, response.text
        page = response.json()
    assert set(seen) == ids and len(seen) == 5
    born = [entry["resource"]["birthDate"] for entry in page["entry"]]
    assert born == sorted(born)


async def test_repeated_search_parameters_and_revinclude_reach_the_server(client: httpx.AsyncClient) -> None:
    name = family()
    older = await create(client, patient(name, birthDate="1950-05-05"))
    younger = await create(client, patient(name, birthDate="1990-05-05"))
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "weight"},
        "subject": {"reference": f"Patient/{younger['id']}"},
    }
    await create(client, observation)

    ranged = await client.get(
        "/fhir/Patient", params=[("family", name), ("birthdate", "ge1980-01-01"), ("birthdate", "le2000-01-01")]
    )
    assert [entry["resource"]["id"] for entry in ranged.json()["entry"]] == [younger["id"]]

    included = (await client.get("/fhir/Patient", params={"family": name, "_revinclude": "Observation:subject"})).json()
    modes = sorted((entry["search"]["mode"], entry["resource"]["resourceType"]) for entry in included["entry"])
    assert modes == [("include", "Observation"), ("match", "Patient"), ("match", "Patient")]
    assert older["id"] in {entry["resource"]["id"] for entry in included["entry"]}
    assert all(url.startswith(FHIR) for url in urls_in(included))


async def test_search_by_form_post(client: httpx.AsyncClient) -> None:
    name = family()
    stored = await create(client, patient(name))
    response = await client.post(
        "/fhir/Patient/_search",
        content=f"family={name}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert [entry["resource"]["id"] for entry in response.json()["entry"]] == [stored["id"]]
    as_json = await client.post("/fhir/Patient/_search", json={"family": name})
    assert_outcome(as_json, 415)


async def test_conditional_create_update_and_delete(client: httpx.AsyncClient) -> None:
    name = family()
    identifier = f"urn:test|{name}"
    headers = {**FHIR_JSON, "If-None-Exist": f"identifier={identifier}"}
    resource = patient(name, identifier=[{"system": "urn:test", "value": name}])
    first = await client.post("/fhir/Patient", json=resource, headers=headers)
    again = await client.post("/fhir/Patient", json=resource, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]

    updated = await client.put(
        "/fhir/Patient", params={"identifier": identifier}, json={**resource, "active": False}, headers=FHIR_JSON
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["id"] == first.json()["id"] and updated.json()["active"] is False

    removed = await client.delete("/fhir/Patient", params={"identifier": identifier})
    assert removed.status_code in (200, 204), removed.text
    assert_outcome(await client.get(f"/fhir/Patient/{first.json()['id']}"), 410)


async def test_histories_are_bundles_under_the_gateway_base(client: httpx.AsyncClient) -> None:
    stored = await create(client, patient(family()))
    await client.put(f"/fhir/Patient/{stored['id']}", json={**stored, "active": True}, headers=FHIR_JSON)
    for path in (f"/fhir/Patient/{stored['id']}/_history", "/fhir/Patient/_history", "/fhir/_history"):
        response = await client.get(path, params={"_count": "5"})
        assert response.status_code == 200, response.text
        history = response.json()
        assert history["type"] == "history"
        assert all(url.startswith(FHIR) for url in urls_in(history)), path
    versions = [
        entry["resource"]["meta"]["versionId"]
        for entry in (await client.get(f"/fhir/Patient/{stored['id']}/_history")).json()["entry"]
    ]
    assert versions == ["2", "1"]


def _transaction(name: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:5f0e4c5e-2c38-4a0e-9d55-0f6f6a8a0001",
                "resource": patient(name),
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"text": "weight"},
                    "subject": {"reference": "urn:uuid:5f0e4c5e-2c38-4a0e-9d55-0f6f6a8a0001"},
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }


async def test_transaction_resolves_its_references_and_answers_with_gateway_urls(client: httpx.AsyncClient) -> None:
    name = family()
    response = await client.post("/fhir", json=_transaction(name), headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["type"] == "transaction-response"
    assert [entry["response"]["status"][:3] for entry in answer["entry"]] == ["201", "201"]
    assert all(url.startswith(FHIR) for url in urls_in(answer))
    found = (await client.get("/fhir/Patient", params={"family": name, "_revinclude": "Observation:subject"})).json()
    patient_id = next(e["resource"]["id"] for e in found["entry"] if e["resource"]["resourceType"] == "Patient")
    observation = next(e["resource"] for e in found["entry"] if e["resource"]["resourceType"] == "Observation")
    assert observation["subject"]["reference"] == f"Patient/{patient_id}"


async def test_an_invalid_entry_refuses_the_whole_transaction_naming_its_path(client: httpx.AsyncClient) -> None:
    name = family()
    bundle = _transaction(name)
    bundle["entry"][1]["resource"]["status"] = "finished-ish"
    outcome = assert_outcome(await client.post("/fhir", json=bundle, headers=FHIR_JSON), 400)
    assert expressions(outcome) == ["Bundle.entry[1].resource.status"]
    assert (await client.get("/fhir/Patient", params={"family": name})).json().get("entry") is None


async def test_batch_entries_answer_independently(client: httpx.AsyncClient) -> None:
    stored = await create(client, patient(family()))
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": f"Patient/{stored['id']}"}},
            {"request": {"method": "GET", "url": f"Patient/{uuid4().hex}"}},
            {"request": {"method": "GET", "url": f"Patient?_id={stored['id']}"}},
        ],
    }
    response = await client.post("/fhir", json=batch, headers=FHIR_JSON)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["type"] == "batch-response"
    assert [entry["response"]["status"][:3] for entry in answer["entry"]] == ["200", "404", "200"]
    assert all(url.startswith(FHIR) for url in urls_in(answer["entry"][2]["resource"]))


@pytest.mark.parametrize(
    ("resource", "expression"),
    [
        (patient("Valid", birthDate="1990-13-01"), "Patient.birthDate"),
        (patient("Valid", gender="sometimes"), "Patient.gender"),
        (patient("Valid", nickname="Ada"), "Patient.nickname"),
        ({**patient("Valid"), "active": "yes"}, "Patient.active"),
        ({"resourceType": "Observation", "status": "final", "code": {"text": "x"}}, "resourceType"),
    ],
)
async def test_invalid_resources_are_refused_naming_the_element(
    client: httpx.AsyncClient, resource: dict[str, Any], expression: str
) -> None:
    outcome = assert_outcome(await client.post("/fhir/Patient", json=resource, headers=FHIR_JSON), 400)
    assert expression in expressions(outcome)


async def test_an_update_is_validated_too(client: httpx.AsyncClient) -> None:
    stored = await create(client, patient(family()))
    broken = {**stored, "birthDate": "yesterday"}
    outcome = assert_outcome(await client.put(f"/fhir/Patient/{stored['id']}", json=broken, headers=FHIR_JSON), 400)
    assert expressions(outcome) == ["Patient.birthDate"]
    assert (await client.get(f"/fhir/Patient/{stored['id']}")).json() == stored


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1, 2]"])
async def test_bodies_that_are_no_resource_are_refused(client: httpx.AsyncClient, body: bytes) -> None:
    assert_outcome(await client.post("/fhir/Patient", content=body, headers=FHIR_JSON), 400)


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "application/fhir+xml"},
        {"Accept": "application/xml, text/html"},
        {"Accept": "application/fhir+json;q=0, application/fhir+xml"},
    ],
)
async def test_asking_for_another_format_is_406(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    assert_outcome(await client.get("/fhir/Patient", headers=headers), 406)


@pytest.mark.parametrize(
    "accept", ["application/json", "application/fhir+json; fhirVersion=4.0", "*/*", "text/html,*/*;q=0.8"]
)
async def test_json_and_anything_are_served(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.get("/fhir/Patient", params={"_count": "1"}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")


async def test_format_parameter_xml_is_406_and_json_is_served(client: httpx.AsyncClient) -> None:
    assert "_format" in expressions(assert_outcome(await client.get("/fhir/Patient?_format=xml"), 406))
    assert (await client.get("/fhir/Patient?_format=json&_count=1")).status_code == 200


async def test_sending_xml_is_415(client: httpx.AsyncClient) -> None:
    xml = b'<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>'
    response = await client.post("/fhir/Patient", content=xml, headers={"Content-Type": "application/fhir+xml"})
    assert_outcome(response, 415)


async def test_a_dot_segment_cannot_leave_the_server_base(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/Patient/%2E%2E/metadata")
    assert response.status_code in (400, 404), response.text
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_an_unreachable_server_is_503_as_an_outcome(settings: Any, open_gateway: Any) -> None:
    from fhir_gateway.app import create_app

    dead = settings.model_copy(update={"fhir_base_url": "http://127.0.0.1:9/fhir", "fhir_retry_attempts": 1})
    async with open_gateway(create_app(dead)) as gateway:
        outcome = assert_outcome(await gateway.get("/fhir/Patient/1"), 503)
    assert "unavailable" in outcome["issue"][0]["diagnostics"]


async def test_a_searchset_validates_as_a_bundle(client: httpx.AsyncClient) -> None:
    await create(client, patient(family()))
    page = (await client.get("/fhir/Patient", params={"_count": "3"})).json()
    Bundle.model_validate(page)
    assert SERVER_BASE not in json.dumps(page)


@pytest.mark.parametrize("style", list(Style))
async def test_a_synthea_export_loads_through_the_face(client: httpx.AsyncClient, style: Style) -> None:
    """Synthea's bundles, posted as its uploader posts them: every entry validates and is
    stored, as the server alone would store it."""
    tag = {"system": "urn:test:synthea", "code": uuid4().hex}
    synthea = synthea_set(2026, 2, salt=tag["code"], style=style, encounters=4, tag=tag)
    for bundle in synthea.bundles:
        response = await client.post("/fhir", json=bundle, headers=FHIR_JSON)
        assert response.status_code == 200, response.text[:2000]
        assert all(entry["response"]["status"][:1] == "2" for entry in response.json()["entry"])
    stored = {}
    for resource_type in synthea.counts:
        found = await client.get(
            f"/fhir/{resource_type}", params={"_tag": f"{tag['system']}|{tag['code']}", "_summary": "count"}
        )
        stored[resource_type] = found.json()["total"]
    assert stored == dict(synthea.counts)


class _Overloaded(httpx.AsyncBaseTransport):
    """The server answering 503 with Retry-After to every search, other requests passed on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/Patient"):
            outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "transient"}]}
            return httpx.Response(503, json=outcome, headers={"Retry-After": "7"})
        return await self.inner.handle_async_request(request)


async def test_the_servers_refusals_reach_the_client_as_it_sent_them(own_store_gateway: Any) -> None:
    """Through a transport (HAPI's path: streamed, retried by the client's policy), a 503
    comes back with the server's own outcome and Retry-After, and other requests still pass."""
    async with own_store_gateway(_Overloaded) as gateway:
        refused = await gateway.client.get("/fhir/Patient", params={"family": "Any"})
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "7"
        assert refused.json()["issue"][0]["code"] == "transient"
        stored = await create(gateway.client, patient(family()))
        read = await gateway.client.get(f"/fhir/Patient/{stored['id']}")
        assert read.status_code == 200 and read.json() == stored
        assert read.headers["etag"] == 'W/"1"'


async def test_fhir_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    stored = await create(client, patient(family()))
    for _ in range(2):
        await client.get(f"/fhir/Patient/{stored['id']}")
    metrics = (await client.get("/metrics")).text
    assert 'route="/fhir/{resource_type}/{resource_id}",status="200"} 2.0' in metrics
    assert stored["id"] not in metrics


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/fhir/metadata", 405),
        ("TRACE", "/fhir/metadata", 405),
        ("PATCH", "/fhir/Patient", 405),
        ("GET", "/fhir/Patient/not an id", 404),
        ("GET", "/fhir/patient/1", 404),
    ],
)
async def test_urls_and_methods_no_route_serves_are_outcomes(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert_outcome(response, status)
    if status == 405:
        assert "GET" in response.headers["allow"]


async def test_options_names_the_methods_of_a_url(client: httpx.AsyncClient) -> None:
    response = await client.options("/fhir/Patient/abc")
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}


async def test_a_body_over_the_cap_is_refused_as_an_operation_outcome(
    settings: Settings, open_gateway: OpenGateway
) -> None:
    small = settings.model_copy(update={"max_request_bytes": 2048, "max_upload_bytes": 1024})
    big = patient(family(), text={"status": "generated", "div": "<div>" + "x" * 4096 + "</div>"})
    async with open_gateway(create_app(small)) as client:
        answer = await client.post("/fhir/Patient", json=big, headers=FHIR_JSON)
        assert_outcome(answer, 413)
        assert answer.json()["issue"][0]["code"] == "too-long"
        # The simplified API's own refusal stays a problem.
        simplified = await client.post("/patients", content=b"x" * 4096, headers={"Content-Type": "application/json"})
        assert (simplified.status_code, simplified.headers["content-type"]) == (413, "application/problem+json")
