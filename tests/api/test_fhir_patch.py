"""JSON Patch on `/fhir`, done by the gateway the same on any FHIR server: read, patch,
validate, update with If-Match of the version read, so no concurrent edit is lost."""

from typing import Any
from uuid import uuid4

import anyio
import httpx
import orjson
import pytest

from fhir_gateway.features.fhir_api.patch import ATTEMPTS
from tests.api.test_fhir_face import FHIR_JSON, assert_outcome, create, expressions, patient

pytestmark = pytest.mark.anyio

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


async def send_patch(
    client: httpx.AsyncClient, path: str, operations: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.patch(path, content=orjson.dumps(operations), headers={**JSON_PATCH, **(headers or {})})


async def stored_patient(client: httpx.AsyncClient) -> dict[str, Any]:
    resource = patient(f"Patch{uuid4().hex[:8]}", birthDate="1970-01-01", telecom=[{"system": "phone", "value": "1"}])
    return await create(client, resource)


async def test_a_patch_makes_a_new_version(client: httpx.AsyncClient) -> None:
    stored = await stored_patient(client)
    path = f"/fhir/Patient/{stored['id']}"
    response = await send_patch(
        client,
        path,
        [
            {"op": "replace", "path": "/birthDate", "value": "1971-02-03"},
            {"op": "add", "path": "/active", "value": True},
        ],
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    patched = response.json()
    assert (patched["birthDate"], patched["active"], patched["meta"]["versionId"]) == ("1971-02-03", True, "2")
    assert (await client.get(path)).json() == patched


async def test_if_match_of_the_current_version_applies_and_a_stale_one_is_412(client: httpx.AsyncClient) -> None:
    stored = await stored_patient(client)
    path = f"/fhir/Patient/{stored['id']}"
    change = [{"op": "add", "path": "/active", "value": True}]
    assert (await send_patch(client, path, change, {"If-Match": 'W/"1"'})).status_code == 200
    assert_outcome(await send_patch(client, path, change, {"If-Match": 'W/"1"'}), 412)
    assert (await client.get(path)).json()["meta"]["versionId"] == "2"
    assert_outcome(await send_patch(client, path, change, {"If-Match": "soon"}), 400)


async def test_a_failed_test_operation_is_422_and_changes_nothing(client: httpx.AsyncClient) -> None:
    stored = await stored_patient(client)
    path = f"/fhir/Patient/{stored['id']}"
    operations = [
        {"op": "test", "path": "/birthDate", "value": "1999-09-09"},
        {"op": "replace", "path": "/birthDate", "value": "2000-01-01"},
    ]
    assert_outcome(await send_patch(client, path, operations), 422)
    assert (await client.get(path)).json() == stored


@pytest.mark.parametrize(
    ("operations", "status"),
    [
        ([{"op": "remove", "path": "/address/0"}], 422),
        ([{"op": "replace", "path": "/id", "value": "another"}], 422),
        ([{"op": "replace", "path": "/resourceType", "value": "Group"}], 422),
        ([{"op": "shuffle", "path": "/name"}], 400),
        ({"op": "add", "path": "/active", "value": True}, 400),
    ],
)
async def test_patches_that_cannot_apply_are_refused(client: httpx.AsyncClient, operations: Any, status: int) -> None:
    stored = await stored_patient(client)
    path = f"/fhir/Patient/{stored['id']}"
    assert_outcome(await send_patch(client, path, operations), status)
    assert (await client.get(path)).json() == stored


async def test_a_patch_that_makes_an_invalid_resource_is_422_naming_the_element(client: httpx.AsyncClient) -> None:
    stored = await stored_patient(client)
    path = f"/fhir/Patient/{stored['id']}"
    outcome = assert_outcome(
        await send_patch(client, path, [{"op": "replace", "path": "/birthDate", "value": "x"}]), 422
    )
    assert expressions(outcome) == ["Patient.birthDate"]
    assert (await client.get(path)).json() == stored


async def test_a_merge_patch_changes_and_removes_elements(client: httpx.AsyncClient) -> None:
    """fhirpy's `patch()` sends the changed elements as plain JSON: a JSON Merge Patch."""
    stored = await stored_patient(client)
    path = f"/fhir/Patient/{stored['id']}"
    for content_type in ("application/json", "application/merge-patch+json"):
        response = await client.patch(
            path,
            content=orjson.dumps({"gender": "female", "telecom": None}),
            headers={"Content-Type": content_type},
        )
        assert response.status_code == 200, response.text
        patched = response.json()
        assert patched["gender"] == "female" and "telecom" not in patched
        assert patched["name"] == stored["name"]
    # The second patch changed nothing: the server keeps the version, as FHIR servers do.
    assert (await client.get(path)).json()["meta"]["versionId"] == "2"


async def test_a_patch_needs_a_patch_format_and_an_existing_resource(client: httpx.AsyncClient) -> None:
    stored = await stored_patient(client)
    path = f"/fhir/Patient/{stored['id']}"
    change = [{"op": "add", "path": "/active", "value": True}]
    as_text = await client.patch(path, content=orjson.dumps(change), headers={"Content-Type": "text/plain"})
    assert_outcome(as_text, 415)
    fhirpath = {"resourceType": "Parameters", "parameter": [{"name": "operation"}]}
    assert_outcome(await client.patch(path, content=orjson.dumps(fhirpath), headers=FHIR_JSON), 415)
    merge_list = await client.patch(path, content=b"[1]", headers={"Content-Type": "application/merge-patch+json"})
    assert_outcome(merge_list, 400)
    assert (await client.get(path)).json() == stored
    assert_outcome(await send_patch(client, f"/fhir/Patient/{uuid4().hex}", change), 404)


async def test_concurrent_patches_lose_no_edit(client: httpx.AsyncClient) -> None:
    """As many patches at once as the gateway makes attempts: whichever order the updates
    land in, each patch either wins or is applied again to what the winner left."""
    stored = await create(client, patient(f"Race{uuid4().hex[:8]}", identifier=[{"system": "urn:race", "value": "0"}]))
    path = f"/fhir/Patient/{stored['id']}"
    values = [f"v{index}" for index in range(ATTEMPTS)]
    statuses: dict[str, int] = {}

    async def add(value: str) -> None:
        operation = {"op": "add", "path": "/identifier/-", "value": {"system": "urn:race", "value": value}}
        statuses[value] = (await send_patch(client, path, [operation])).status_code

    async with anyio.create_task_group() as group:
        for value in values:
            group.start_soon(add, value)
    final = (await client.get(path)).json()
    assert statuses == dict.fromkeys(values, 200)
    assert sorted(identifier["value"] for identifier in final["identifier"]) == ["0", *values]
    assert final["meta"]["versionId"] == str(1 + len(values))
