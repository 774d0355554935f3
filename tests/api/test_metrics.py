"""What `/metrics` tells beyond the HTTP requests: the calls to the FHIR server by FHIR
interaction and outcome, the summary cache's hits and misses, and the records generated.
Through the public API, on whichever FHIR server runs."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from fhir_gateway.dependencies import get_language_model
from fhir_gateway.llm import Completion
from tests.api.conftest import OpenGateway

pytestmark = pytest.mark.anyio

FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
CALLS = "fhir_gateway_backend_call_duration_seconds_count"
LOOKUPS = "fhir_gateway_summary_cache_lookups_total"
RECORDS = "fhir_gateway_records_generated_total"
INTERACTIONS = {
    "read",
    "vread",
    "search",
    "create",
    "update",
    "patch",
    "delete",
    "transaction",
    "batch",
    "history",
    "operation",
    "capabilities",
    "other",
}
OUTCOMES = {"1xx", "2xx", "3xx", "4xx", "5xx", "timeout", "unreachable"}
RECORD_REQUEST = {"messages": [{"role": "user", "content": "J30.1"}], "cpt_codes": ["99213"]}


async def samples(client: httpx.AsyncClient, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples `/metrics` shows called `name`, keyed by their sorted labels."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == name
    }


def calls(interaction: str, outcome: str) -> tuple[tuple[str, str], ...]:
    return (("interaction", interaction), ("outcome", outcome))


async def new_patient(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/patients", json={"given_name": "Maria", "family_name": "Okafor", "birth_date": "1961-04-17"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# --- calls to the FHIR server -----------------------------------------------------------


async def test_relayed_requests_are_counted_as_their_fhir_interactions(client: httpx.AsyncClient) -> None:
    before = await samples(client, CALLS)

    created = await client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON)
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    assert (await client.get(f"/fhir/Patient/{patient_id}", headers=FHIR_JSON)).status_code == 200
    assert (await client.get("/fhir/Patient/no-such-patient", headers=FHIR_JSON)).status_code == 404
    assert (await client.get("/fhir/Patient", params={"_id": patient_id}, headers=FHIR_JSON)).status_code == 200

    after = await samples(client, CALLS)
    added = {labels: after[labels] - before.get(labels, 0) for labels in after}
    assert added[calls("create", "2xx")] == 1
    assert added[calls("read", "2xx")] == 1
    assert added[calls("read", "4xx")] == 1
    assert added[calls("search", "2xx")] == 1
    text = (await client.get("/metrics")).text
    assert patient_id not in text and "no-such-patient" not in text


async def test_the_simplified_api_s_calls_carry_only_interactions_and_outcomes(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    assert (await client.get(f"/patients/{patient_id}")).status_code == 200

    counted = await samples(client, CALLS)

    assert sum(counted.values()) >= 2
    for labels in counted:
        values = dict(labels)
        assert set(values) == {"interaction", "outcome"}
        assert values["interaction"] in INTERACTIONS and values["outcome"] in OUTCOMES


# --- the summary cache ------------------------------------------------------------------


async def test_summary_lookups_are_counted_as_hits_and_misses_on_both_faces(client: httpx.AsyncClient) -> None:
    assert await samples(client, LOOKUPS) == {(("result", "hit"),): 0, (("result", "miss"),): 0}
    patient_id = await new_patient(client)

    for _ in range(2):
        assert (await client.get(f"/patients/{patient_id}/summary")).status_code == 200
    assert await samples(client, LOOKUPS) == {(("result", "hit"),): 1, (("result", "miss"),): 1}

    document = await client.get(f"/fhir/Patient/{patient_id}/$summary", headers=FHIR_JSON)
    assert document.status_code == 200, document.text
    assert sum((await samples(client, LOOKUPS)).values()) == 3


# --- records generated -------------------------------------------------------------------


def records(written_by: str, kept_as_note: str) -> tuple[tuple[str, str], ...]:
    return (("kept_as_note", kept_as_note), ("written_by", written_by))


async def test_records_are_counted_by_their_writer_and_whether_kept_as_a_note(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    for extra in ({}, {}, {"patient_id": patient_id}):
        response = await client.post("/api/generate/records", json=RECORD_REQUEST | extra)
        assert response.status_code == 200, response.text
    refused = await client.post("/api/generate/records", json=RECORD_REQUEST | {"patient_id": "no-such-patient"})
    assert refused.status_code == 404

    assert await samples(client, RECORDS) == {
        records("template", "false"): 2,
        records("template", "true"): 1,
        records("language_model", "false"): 0,
        records("language_model", "true"): 0,
    }


class WritingModel:
    """A language model that writes every record the same."""

    model = "test-model"

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int, model: str | None = None) -> Any:
        return Completion(text="Visit Summary\nSeen for hay fever.", model=self.model)


async def test_a_record_the_language_model_wrote_is_counted_as_such(app: FastAPI, open_gateway: OpenGateway) -> None:
    app.dependency_overrides[get_language_model] = WritingModel
    async with open_gateway(app) as client:
        response = await client.post("/api/generate/records", json=RECORD_REQUEST)
        assert response.status_code == 200, response.text
        assert response.json()["generator"]["kind"] == "openai"

        counted = await samples(client, RECORDS)

    assert counted[records("language_model", "false")] == 1
    assert counted[records("template", "false")] == 0
