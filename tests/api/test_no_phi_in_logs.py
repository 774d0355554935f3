"""No patient data in the logs: a patient with a distinctive name, health number and note
goes through both faces, succeeding and failing, with every logger at DEBUG but the ones the
gateway's logging configuration holds at WARNING, and none of it appears in what is logged."""

import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.app import create_app
from fhir_gateway.observability import logging_config
from fhir_gateway.settings import Settings
from tests.api.conftest import OpenGateway

pytestmark = pytest.mark.anyio

GIVEN = "Zebulonia"
FAMILY = "Quixotewright"
HEALTH_NUMBER = "9876543218"
MRN = "MRN-77441199"
NOTE = "Reports a xylophone-shaped rash after the quinceañera"
PHONE = "+1 604 555 0199"
DISTINCTIVE = (GIVEN, FAMILY, HEALTH_NUMBER, MRN, "xylophone", "quincea", PHONE)
FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    # The audit trail on: what it records and logs goes through the capture as well.
    return create_app(settings.model_copy(update={"audit_enabled": True}))


@pytest.fixture
def production_log_levels() -> Iterator[None]:
    """The levels the gateway's logging configuration sets on libraries that log request
    URLs and bodies, for the duration of the test."""
    quieted = {
        name: config["level"]
        for name, config in logging_config("DEBUG")["loggers"].items()
        if "handlers" not in config and "level" in config
    }
    assert {"httpx", "httpcore", "openai"} <= set(quieted)
    before = {name: logging.getLogger(name).level for name in quieted}
    for name, level in quieted.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)


async def test_patient_data_never_reaches_the_logs(
    app: FastAPI, open_gateway: OpenGateway, caplog: pytest.LogCaptureFixture, production_log_levels: None
) -> None:
    caplog.set_level(logging.DEBUG)
    async with open_gateway(app) as client:
        await _exercise(client)
        await app.state.audit_trail.flush()
    logged = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    assert caplog.records, "nothing was logged at all: the capture is not working"
    for value in DISTINCTIVE:
        assert value not in logged, value


async def _exercise(client: httpx.AsyncClient) -> None:
    patient = {
        "given_name": GIVEN,
        "family_name": FAMILY,
        "insurance_no": HEALTH_NUMBER,
        "province": "BC",
        "mrn": MRN,
        "birth_date": "1961-07-04",
        "phone": PHONE,
    }
    created = await client.post("/patients", json=patient)
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    # Refusals that name the input: a duplicate, and invalid fields.
    assert (await client.post("/patients", json=patient)).status_code == 409
    assert (await client.post("/patients", json={**patient, "birth_date": f"{FAMILY}-day"})).status_code == 422
    assert (await client.get("/patients", params={"q": f"{GIVEN} {FAMILY}"})).status_code == 200
    assert (await client.get("/patients", params={"q": "Zebulnia Quixotwright"})).status_code == 200
    assert (await client.get("/patients", params={"mrn": MRN})).status_code == 200
    assert (await client.get("/patients", params={"insurance_no": HEALTH_NUMBER})).status_code == 200

    note = await client.post(
        f"/patients/{patient_id}/notes", json={"content": NOTE, "taken_at": "2026-11-30T10:00:00Z"}
    )
    assert note.status_code == 201, note.text
    assert (await client.get(f"/patients/{patient_id}/notes/{note.json()['id']}")).status_code == 200
    assert (await client.get(f"/patients/{patient_id}/summary")).status_code == 200

    assert (await client.get("/fhir/Patient", params={"name": FAMILY})).status_code == 200
    assert (await client.get("/fhir/Patient", params={"identifier": f"x|{HEALTH_NUMBER}"})).status_code == 200
    invalid = {"resourceType": "Patient", "name": [{"family": FAMILY}], "gender": f"{GIVEN}-gender"}
    assert (await client.post("/fhir/Patient", json=invalid, headers=FHIR_JSON)).status_code == 400
    summary = await client.get(f"/fhir/Patient/{patient_id}/$summary")
    assert summary.status_code == 200, summary.text
    renamed = await client.patch(
        f"/fhir/Patient/{patient_id}",
        json=[{"op": "replace", "path": "/name/0/family", "value": f"{FAMILY}-Smythe"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert renamed.status_code == 200, renamed.text
    assert (await client.delete(f"/patients/{patient_id}")).status_code == 200
