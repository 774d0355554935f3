"""Which FhirError each failure of the FHIR server becomes, and what the error carries."""

from typing import Any

import httpx
import pytest
import respx

from fhir_gateway.fhir_client import (
    FhirBadRequest,
    FhirClient,
    FhirConflict,
    FhirError,
    FhirGone,
    FhirNotFound,
    FhirTimeout,
    FhirUnavailable,
    FhirVersionConflict,
    error_from_entry,
)

pytestmark = pytest.mark.anyio


def outcome(*diagnostics: str, code: str = "processing") -> dict[str, object]:
    issues = [{"severity": "error", "code": code, "diagnostics": text} for text in diagnostics]
    return {"resourceType": "OperationOutcome", "issue": issues}


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, FhirBadRequest),
        (422, FhirBadRequest),
        (404, FhirNotFound),
        (410, FhirGone),
        (409, FhirConflict),
        (412, FhirVersionConflict),
        (429, FhirUnavailable),
        (500, FhirUnavailable),
        (502, FhirUnavailable),
        (503, FhirUnavailable),
        (504, FhirTimeout),
        (401, FhirError),
        (403, FhirError),
        (415, FhirError),
    ],
)
async def test_each_error_status_raises_its_error_type(
    client: FhirClient, server: respx.Router, status: int, error_type: type[FhirError]
) -> None:
    server.get("/Patient/1").respond(status, json=outcome("something went wrong"))

    with pytest.raises(FhirError) as caught:
        await client.read("Patient", "1")

    assert type(caught.value) is error_type
    assert caught.value.status == status


async def test_the_error_keeps_the_operation_outcome_and_joins_its_diagnostics(
    client: FhirClient, server: respx.Router
) -> None:
    body = outcome("Patient.birthDate: invalid date", "Patient.gender: unknown code", code="invalid")
    server.post("/Patient").respond(400, json=body)

    with pytest.raises(FhirBadRequest) as caught:
        await client.create({"resourceType": "Patient"})

    error = caught.value
    assert error.outcome == body
    assert error.diagnostics == "Patient.birthDate: invalid date; Patient.gender: unknown code"
    assert str(error) == (
        "FHIR server answered 400 Bad Request: Patient.birthDate: invalid date; Patient.gender: unknown code"
    )


async def test_an_issue_without_diagnostics_contributes_its_details_text(
    client: FhirClient, server: respx.Router
) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "details": {"text": "Gone for good"}}],
    }
    server.get("/Patient/1").respond(410, json=body)

    with pytest.raises(FhirGone, match="410 Gone: Gone for good"):
        await client.read("Patient", "1")


async def test_an_error_without_an_operation_outcome_still_reads_well(client: FhirClient, server: respx.Router) -> None:
    server.get("/Patient/1").respond(404, text="not here")

    with pytest.raises(FhirNotFound) as caught:
        await client.read("Patient", "1")

    assert caught.value.outcome is None
    assert caught.value.diagnostics == ""
    assert str(caught.value) == "FHIR server answered 404 Not Found"


async def test_hapi_409_for_a_stale_if_match_is_a_version_conflict(client: FhirClient, server: respx.Router) -> None:
    stale = outcome(
        "HAPI-0989: Trying to update Patient/1/_history/2 but this is not the current version",
        code="conflict",
    )
    server.put("/Patient/1").respond(409, json=stale)

    with pytest.raises(FhirVersionConflict) as caught:
        await client.update({"resourceType": "Patient", "id": "1"}, if_match="2")

    assert caught.value.status == 409


async def test_a_409_from_a_blocked_delete_stays_a_plain_conflict(client: FhirClient, server: respx.Router) -> None:
    blocked = outcome("HAPI-0550: Unable to delete Patient/1 because at least one resource has a reference")
    server.delete("/Patient/1").respond(409, json=blocked)

    with pytest.raises(FhirConflict) as caught:
        await client.delete("Patient", "1")

    assert not isinstance(caught.value, FhirVersionConflict)
    assert "Unable to delete Patient/1" in caught.value.diagnostics


async def test_a_conditional_create_matching_several_resources_is_a_version_conflict(
    client: FhirClient, server: respx.Router
) -> None:
    server.post("/Patient").respond(412, json=outcome("Failed to CREATE: 2 matches"))

    with pytest.raises(FhirVersionConflict):
        await client.create_if_none_exist({"resourceType": "Patient"}, "identifier=x|1")


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), ("0", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
async def test_unavailable_carries_the_servers_retry_after(
    client: FhirClient, server: respx.Router, header: str, seconds: float
) -> None:
    server.get("/Patient/1").respond(503, headers={"Retry-After": header})

    with pytest.raises(FhirUnavailable) as caught:
        await client.read("Patient", "1")

    assert caught.value.retry_after == seconds


async def test_unavailable_without_retry_after_says_so(client: FhirClient, server: respx.Router) -> None:
    server.get("/Patient/1").respond(429)

    with pytest.raises(FhirUnavailable) as caught:
        await client.read("Patient", "1")

    assert caught.value.retry_after is None


async def test_no_connection_is_unavailable_with_status_503(client: FhirClient, server: respx.Router) -> None:
    server.get("/Patient/1").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))

    with pytest.raises(FhirUnavailable) as caught:
        await client.read("Patient", "1")

    assert type(caught.value) is FhirUnavailable
    assert caught.value.status == 503
    assert caught.value.outcome is None
    assert str(caught.value) == "FHIR server unreachable (ConnectError: [Errno 111] Connection refused)"
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    "timeout_error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.WriteTimeout, httpx.PoolTimeout]
)
async def test_every_timeout_is_a_fhir_timeout_with_status_504(
    client: FhirClient, server: respx.Router, timeout_error: type[httpx.TimeoutException]
) -> None:
    server.get("/Patient/1").mock(side_effect=timeout_error("timed out"))

    with pytest.raises(FhirTimeout) as caught:
        await client.read("Patient", "1")

    assert caught.value.status == 504
    assert str(caught.value) == f"FHIR server did not answer in time ({timeout_error.__name__}: timed out)"


async def test_send_returns_error_answers_instead_of_raising(client: FhirClient, server: respx.Router) -> None:
    server.get("/Patient/1").respond(410, json=outcome("deleted"))

    response = await client.send("GET", "Patient/1")

    assert response.status_code == 410
    assert response.json() == outcome("deleted")


async def test_send_raises_only_when_no_answer_came(client: FhirClient, server: respx.Router) -> None:
    server.get("/Patient/1").mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(FhirTimeout):
        await client.send("GET", "Patient/1")


@pytest.mark.parametrize(
    ("status", "error_class"),
    [("404 Not Found", FhirNotFound), ("410 Gone", FhirGone), ("412", FhirVersionConflict), ("503", FhirUnavailable)],
)
def test_a_batch_entry_error_is_typed_by_its_status(status: str, error_class: type[FhirError]) -> None:
    entry = {"response": {"status": status, "outcome": outcome("Resource Patient/1 is not known")}}

    error = error_from_entry(entry)

    assert type(error) is error_class
    assert error.status == int(status.split()[0])
    assert error.diagnostics == "Resource Patient/1 is not known"


@pytest.mark.parametrize("entry", [{}, {"response": {"status": "200 OK"}}, {"response": {"status": "teapot"}}])
def test_a_batch_entry_without_an_error_status_is_the_servers_failure(entry: dict[str, Any]) -> None:
    error = error_from_entry(entry)

    assert error.status == 502
    assert "batch entry" in str(error)
