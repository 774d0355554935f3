"""What FhirClient puts on the wire for each FHIR interaction, and what it returns."""

from typing import Any

import httpx
import orjson
import pytest
import respx

from fhir_gateway.fhir_client import FhirClient, FhirConflict, FhirError
from tests.unit.conftest import BASE

pytestmark = pytest.mark.anyio

FHIR_JSON = "application/fhir+json"
PATIENT = {"resourceType": "Patient", "id": "1", "meta": {"versionId": "3"}, "gender": "female"}


def sent_json(request: httpx.Request) -> object:
    return orjson.loads(request.content)


# -- reads -----------------------------------------------------------------------------


async def test_read_gets_the_resource_by_type_and_id(client: FhirClient, server: respx.Router) -> None:
    route = server.get("/Patient/1").respond(200, json=PATIENT)

    assert await client.read("Patient", "1") == PATIENT
    request = route.calls.last.request
    assert str(request.url) == f"{BASE}/Patient/1"
    assert request.headers["Accept"] == FHIR_JSON


async def test_vread_gets_one_version(client: FhirClient, server: respx.Router) -> None:
    route = server.get("/Patient/1/_history/2").respond(200, json=PATIENT)

    assert await client.vread("Patient", "1", "2") == PATIENT
    assert route.called


async def test_capabilities_gets_metadata(client: FhirClient, server: respx.Router) -> None:
    statement = {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1"}
    server.get("/metadata").respond(200, json=statement)

    assert await client.capabilities() == statement


async def test_history_gets_the_instance_history(client: FhirClient, server: respx.Router) -> None:
    history = {"resourceType": "Bundle", "type": "history", "entry": []}
    server.get("/Patient/1/_history").respond(200, json=history)

    assert await client.history("Patient", "1") == history


async def test_ids_are_percent_encoded_so_they_cannot_leave_their_path(
    client: FhirClient, server: respx.Router
) -> None:
    route = server.route().respond(404)

    for resource_id in ("a/b?c=d", ".."):
        with pytest.raises(FhirError):
            await client.read("Patient", resource_id)

    first, second = (call.request.url for call in route.calls)
    assert first.raw_path == b"/fhir/Patient/a%2Fb%3Fc%3Dd"
    assert second.raw_path == b"/fhir/Patient/%2E%2E"


async def test_a_success_without_a_json_body_is_an_error(client: FhirClient, server: respx.Router) -> None:
    server.get("/Patient/1").respond(200, text="<html>proxy page</html>")

    with pytest.raises(FhirError, match="not a FHIR resource"):
        await client.read("Patient", "1")


# -- create ----------------------------------------------------------------------------


async def test_create_posts_the_resource_as_fhir_json(client: FhirClient, server: respx.Router) -> None:
    new = {"resourceType": "Patient", "gender": "female"}
    route = server.post("/Patient").respond(201, json=PATIENT)

    assert await client.create(new) == PATIENT
    request = route.calls.last.request
    assert request.headers["Content-Type"] == FHIR_JSON
    assert request.headers["Prefer"] == "return=representation"
    assert "If-None-Exist" not in request.headers
    assert sent_json(request) == new


async def test_conditional_create_sends_if_none_exist_and_says_it_matched(
    client: FhirClient, server: respx.Router
) -> None:
    route = server.post("/Patient").respond(200, json=PATIENT)

    outcome = await client.create_if_none_exist({"resourceType": "Patient"}, "identifier=https://x.test/mrn|42")

    assert route.calls.last.request.headers["If-None-Exist"] == "identifier=https://x.test/mrn|42"
    assert (outcome.resource, outcome.created) == (PATIENT, False)


async def test_conditional_create_says_it_created(client: FhirClient, server: respx.Router) -> None:
    server.post("/Patient").respond(201, json=PATIENT)

    outcome = await client.create_if_none_exist({"resourceType": "Patient"}, "identifier=x|1")

    assert (outcome.resource, outcome.created) == (PATIENT, True)


async def test_a_conditional_create_that_lost_a_race_is_asked_again_and_answers_the_match(
    client: FhirClient, server: respx.Router
) -> None:
    lost = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": "HAPI-0550: HAPI-2745: conditional"}],
    }
    route = server.post("/Patient").mock(
        side_effect=[httpx.Response(409, json=lost), httpx.Response(200, json=PATIENT)]
    )

    outcome = await client.create_if_none_exist({"resourceType": "Patient"}, "identifier=x|1")

    assert (outcome.resource, outcome.created, route.call_count) == (PATIENT, False, 2)


async def test_any_other_conflict_of_a_conditional_create_is_raised_at_once(
    client: FhirClient, server: respx.Router
) -> None:
    other = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "conflict"}]}
    route = server.post("/Patient").respond(409, json=other)

    with pytest.raises(FhirConflict):
        await client.create_if_none_exist({"resourceType": "Patient"}, "identifier=x|1")
    assert route.call_count == 1


# -- search pages ------------------------------------------------------------------------


def page_bundle(total: int | None, *entries: dict[str, Any]) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": list(entries)}
    if total is not None:
        bundle["total"] = total
    return bundle


async def test_a_search_page_asks_for_its_window_and_total_and_sorts_entries_by_mode(
    client: FhirClient, server: respx.Router
) -> None:
    encounter = {"resourceType": "Encounter", "id": "e"}
    route = server.get("/Patient").respond(
        200,
        json=page_bundle(
            41,
            {"resource": PATIENT, "search": {"mode": "match"}},
            {"resource": {"resourceType": "Patient", "id": "2"}},
            {"resource": encounter, "search": {"mode": "include"}},
            {"resource": {"resourceType": "OperationOutcome"}, "search": {"mode": "outcome"}},
        ),
    )

    page = await client.search_page("Patient", [("name", "ada"), ("name", "lo")], count=20, offset=40)

    query = route.calls.last.request.url.params
    assert query.get_list("name") == ["ada", "lo"]
    assert (query["_count"], query["_offset"], query["_total"]) == ("20", "40", "accurate")
    assert [resource["id"] for resource in page.matches] == ["1", "2"]
    assert page.included == [encounter]
    assert page.total == 41


async def test_a_search_page_takes_a_mapping_of_parameters(client: FhirClient, server: respx.Router) -> None:
    route = server.get("/Patient").respond(200, json=page_bundle(0))

    await client.search_page("Patient", {"gender": "female", "_tag": ["a", "b"]}, count=5)

    query = route.calls.last.request.url.params
    assert (query["gender"], query.get_list("_tag"), query["_offset"]) == ("female", ["a", "b"], "0")


async def test_a_search_page_without_a_total_is_the_servers_failure(client: FhirClient, server: respx.Router) -> None:
    server.get("/Patient").respond(200, json=page_bundle(None))

    with pytest.raises(FhirError) as caught:
        await client.search_page("Patient", count=5)
    assert caught.value.status == 502


async def test_create_answered_without_a_body_reads_the_resource_back_from_location(
    client: FhirClient, server: respx.Router
) -> None:
    location = f"{BASE}/Patient/7/_history/1"
    server.post("/Patient").respond(201, headers={"Location": location})
    read_back = server.get("/Patient/7/_history/1").respond(200, json={**PATIENT, "id": "7"})

    assert (await client.create({"resourceType": "Patient"}))["id"] == "7"
    assert str(read_back.calls.last.request.url) == location


async def test_create_answered_with_an_operation_outcome_reads_the_resource_back(
    client: FhirClient, server: respx.Router
) -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational"}],
    }
    server.post("/Patient").respond(201, json=outcome, headers={"Location": "Patient/7/_history/1"})
    server.get("/Patient/7/_history/1").respond(200, json={**PATIENT, "id": "7"})

    assert (await client.create({"resourceType": "Patient"}))["resourceType"] == "Patient"


async def test_create_answered_with_neither_body_nor_location_is_an_error(
    client: FhirClient, server: respx.Router
) -> None:
    server.post("/Patient").respond(201)

    with pytest.raises(FhirError, match="without the Patient or its Location"):
        await client.create({"resourceType": "Patient"})


async def test_create_refuses_a_resource_without_a_type(client: FhirClient) -> None:
    with pytest.raises(ValueError, match="resourceType"):
        await client.create({"gender": "female"})


# -- update and patch ------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ["3", '"3"', 'W/"3"'])
async def test_update_puts_to_the_id_with_if_match_as_a_weak_etag(
    client: FhirClient, server: respx.Router, if_match: str
) -> None:
    route = server.put("/Patient/1").respond(200, json=PATIENT)

    assert await client.update(PATIENT, if_match=if_match) == PATIENT
    request = route.calls.last.request
    assert request.headers["If-Match"] == 'W/"3"'
    assert request.headers["Content-Type"] == FHIR_JSON
    assert sent_json(request) == PATIENT


async def test_update_without_if_match_sends_none(client: FhirClient, server: respx.Router) -> None:
    route = server.put("/Patient/1").respond(200, json=PATIENT)

    await client.update(PATIENT)

    assert "If-Match" not in route.calls.last.request.headers


async def test_update_needs_an_id(client: FhirClient) -> None:
    with pytest.raises(ValueError, match="id"):
        await client.update({"resourceType": "Patient"})


async def test_conditional_update_puts_to_the_type_with_the_criteria(client: FhirClient, server: respx.Router) -> None:
    route = server.put("/Patient").respond(201, json=PATIENT)

    await client.conditional_update({"resourceType": "Patient"}, "identifier=https://x.test/mrn|42")

    url = route.calls.last.request.url
    assert url.path == "/fhir/Patient"
    assert url.params["identifier"] == "https://x.test/mrn|42"


async def test_patch_sends_json_patch_with_if_match(client: FhirClient, server: respx.Router) -> None:
    operations = [{"op": "replace", "path": "/gender", "value": "male"}]
    route = server.patch("/Patient/1").respond(200, json={**PATIENT, "gender": "male"})

    assert (await client.patch("Patient", "1", operations, if_match="3"))["gender"] == "male"
    request = route.calls.last.request
    assert request.headers["Content-Type"] == "application/json-patch+json"
    assert request.headers["If-Match"] == 'W/"3"'
    assert sent_json(request) == operations


# -- delete ----------------------------------------------------------------------------


async def test_delete_sends_delete_with_if_match(client: FhirClient, server: respx.Router) -> None:
    route = server.delete("/Patient/1").respond(204)

    await client.delete("Patient", "1", if_match='W/"2"')

    assert route.calls.last.request.headers["If-Match"] == 'W/"2"'


async def test_delete_without_if_match_sends_none(client: FhirClient, server: respx.Router) -> None:
    route = server.delete("/Patient/1").respond(200, json={"resourceType": "OperationOutcome"})

    await client.delete("Patient", "1")

    assert "If-Match" not in route.calls.last.request.headers


# -- search and paging -----------------------------------------------------------------


def searchset(
    *ids: str, next_url: str | None = None, extra_entries: tuple[dict[str, Any], ...] = ()
) -> dict[str, object]:
    links = [{"relation": "self", "url": f"{BASE}/Patient"}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = [{"resource": {"resourceType": "Patient", "id": i}, "search": {"mode": "match"}} for i in ids]
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": [*entries, *extra_entries]}


async def test_search_sends_mapping_params(client: FhirClient, server: respx.Router) -> None:
    route = server.get("/Patient").respond(200, json=searchset("1"))

    assert await client.search("Patient", {"family": "Lovelace", "_count": 20}) == searchset("1")
    params = route.calls.last.request.url.params
    assert params["family"] == "Lovelace"
    assert params["_count"] == "20"


async def test_search_keeps_repeated_parameter_names(client: FhirClient, server: respx.Router) -> None:
    route = server.get("/Observation").respond(200, json=searchset())

    await client.search("Observation", [("date", "ge2020-01-01"), ("date", "lt2021-01-01"), ("code", "8867-4")])

    params = route.calls.last.request.url.params
    assert params.get_list("date") == ["ge2020-01-01", "lt2021-01-01"]
    assert params["code"] == "8867-4"


async def test_next_page_follows_the_next_link_exactly_as_written(client: FhirClient, server: respx.Router) -> None:
    next_url = f"{BASE}?_getpages=0b5a-c1&_getpagesoffset=20&_count=20&_bundletype=searchset"
    route = server.get(BASE).respond(200, json=searchset("21"))

    assert await client.next_page(searchset("1", next_url=next_url)) == searchset("21")
    assert str(route.calls.last.request.url) == next_url


async def test_next_page_of_the_last_page_is_none(client: FhirClient, server: respx.Router) -> None:
    route = server.route().respond(500)

    assert await client.next_page(searchset("1")) is None
    assert not route.called


async def test_search_all_yields_every_resource_across_pages_but_not_search_warnings(
    client: FhirClient, server: respx.Router
) -> None:
    second = "http://fhir.test/fhir?_getpages=abc&_getpagesoffset=2"
    third = "http://fhir.test/fhir?_getpages=abc&_getpagesoffset=4"
    warning = {"resource": {"resourceType": "OperationOutcome"}, "search": {"mode": "outcome"}}
    first_page = searchset("1", "2", next_url=second, extra_entries=(warning,))
    server.get("/Patient", params={"gender": "female"}).respond(200, json=first_page)
    server.get(BASE, params={"_getpagesoffset": "2"}).respond(200, json=searchset("3", "4", next_url=third))
    server.get(BASE, params={"_getpagesoffset": "4"}).respond(200, json=searchset("5"))

    found = [resource["id"] async for resource in client.search_all("Patient", {"gender": "female"})]

    assert found == ["1", "2", "3", "4", "5"]


# -- bundles ---------------------------------------------------------------------------


async def test_transaction_posts_the_bundle_to_the_base_itself(client: FhirClient, server: respx.Router) -> None:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": []}
    answer = {"resourceType": "Bundle", "type": "transaction-response", "entry": []}
    route = server.post(BASE).respond(200, json=answer)

    assert await client.transaction(bundle) == answer
    request = route.calls.last.request
    assert str(request.url) == BASE
    assert request.headers["Content-Type"] == FHIR_JSON
    assert sent_json(request) == bundle


async def test_batch_posts_the_bundle_to_the_base(client: FhirClient, server: respx.Router) -> None:
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": []}
    answer = {"resourceType": "Bundle", "type": "batch-response", "entry": []}
    server.post(BASE).respond(200, json=answer)

    assert await client.batch(bundle) == answer


async def test_a_bundle_of_the_wrong_type_is_refused_before_sending(client: FhirClient, server: respx.Router) -> None:
    route = server.route().respond(200, json={})

    with pytest.raises(ValueError, match="transaction"):
        await client.transaction({"resourceType": "Bundle", "type": "batch"})
    with pytest.raises(ValueError, match="batch"):
        await client.batch({"resourceType": "Bundle", "type": "collection"})
    assert not route.called
