"""`GET /patients/{id}/summary` with a language model configured (`OPENAI_*`): the request
the gateway sends the model, the model's narrative checked against the record, the offline
narrative whenever the model fails (never a 5xx), the cache in front of the model, and logs
free of patient data.

The gateway runs on an embedded store of its own (reached in-process) whichever FHIR server
the other API tests use; the model's server is scripted with respx, which answers what the
openai SDK sends over httpx. The store's traffic never reaches a network transport (it is
an in-process ASGI hop), so respx leaves it alone.
"""

import itertools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import respx

from fhir_gateway.app import create_app
from fhir_gateway.settings import EMBEDDED, Settings
from tests.api.conftest import ALLOWED_ORIGIN, OpenGateway

pytestmark = pytest.mark.anyio

T = TypeVar("T")

LLM_BASE = "https://llm.test/v1"
API_KEY = "test-key"
MODEL = "gpt-test"
PROMPT = "patient-summary/1"
SAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "generators" / "data" / "soap_notes.json").read_text(encoding="utf-8")
)
PATIENT: dict[str, Any] = SAMPLE["patient"]
NOTES: list[dict[str, str]] = SAMPLE["notes"]
# Phrases of the sample notes that a prompt carries and a log must not.
NOTE_PHRASES = ("Ex-smoker, 20 pack-years, quit 2015", "Possible candidal vulvovaginitis, SGLT2-inhibitor related")
GROUNDED = (
    "Maria Elena Okafor has type 2 diabetes and hypertension, treated with metformin, empagliflozin and "
    "lisinopril. She recovered from community-acquired pneumonia after amoxicillin-clavulanate."
)
OFFLINE = "The narrative was written offline"


def completion(content: str | None, **extra: Any) -> httpx.Response:
    """An OpenAI chat completion answering `content`."""
    body = {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
    } | extra
    return httpx.Response(200, json=body)


@pytest.fixture
def llm() -> Iterator[respx.MockRouter]:
    """The model's server: every request the openai SDK sends is answered by its routes (a
    request no route matches fails the SDK's request, and so the test)."""
    with respx.mock(base_url=LLM_BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def chat(llm: respx.MockRouter) -> respx.Route:
    """`POST /chat/completions`, answering a grounded narrative unless a test says otherwise."""
    return llm.post("/chat/completions", name="chat").mock(return_value=completion(GROUNDED))


def llm_settings(database: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "fhir_base_url": EMBEDDED,
        "embedded_database_url": f"sqlite:///{database}",
        "cors_origins": [ALLOWED_ORIGIN],
        "home_url": None,
        "fhir_retry_attempts": 1,
        "openai_api_key": API_KEY,
        "openai_base_url": LLM_BASE,
        "openai_model": MODEL,
        "openai_max_retries": 0,
    }
    return Settings(_env_file=None, **(fields | overrides))


StartGateway = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def start_gateway(
    tmp_path: Path, open_gateway: OpenGateway, llm: respx.MockRouter
) -> AsyncIterator[StartGateway]:
    """Start a gateway with the model configured (settings overridden as asked), each on an
    embedded store of its own."""
    numbers = itertools.count()
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> httpx.AsyncClient:
            database = tmp_path / f"llm-store-{next(numbers)}" / "fhir.db"
            return await stack.enter_async_context(open_gateway(create_app(llm_settings(database, **overrides))))

        yield start


@pytest.fixture
async def client(start_gateway: StartGateway) -> httpx.AsyncClient:
    return await start_gateway()


@dataclass
class Loaded:
    patient: dict[str, Any]
    notes: dict[str, str]

    @property
    def id(self) -> str:
        return str(self.patient["id"])


async def add_note(client: httpx.AsyncClient, patient_id: str, taken_at: str, content: str) -> str:
    response = await client.post(f"/patients/{patient_id}/notes", json={"taken_at": taken_at, "content": content})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def sample(client: httpx.AsyncClient) -> Loaded:
    response = await client.post("/patients", json=PATIENT)
    assert response.status_code == 201, response.text
    patient = response.json()
    notes = {}
    for note in NOTES:
        notes[await add_note(client, patient["id"], note["taken_at"], note["content"])] = note["content"]
    return Loaded(patient, notes)


async def summarize(client: httpx.AsyncClient, patient_id: str, **params: str) -> dict[str, Any]:
    response = await client.get(f"/patients/{patient_id}/summary", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def sent_body(route: respx.Route) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls.last.request.content)
    return body


def user_message(route: respx.Route) -> str:
    return str(sent_body(route)["messages"][1]["content"])


def utc_today() -> date:
    return datetime.now(UTC).date()


async def on_one_day(run: Callable[[], Awaitable[T]], *reset: respx.Route) -> T:
    """`run`'s result, run again (the routes' calls forgotten) when the UTC day changed while
    it ran: the day is part of a summary's cache key."""
    for _ in range(3):
        day = utc_today()
        result = await run()
        if utc_today() == day:
            return result
        for route in reset:
            route.calls.clear()
    raise AssertionError("the UTC day kept changing")


def assert_facts_from_the_notes(body: dict[str, Any], sample: Loaded) -> None:
    """The key facts were read from the embedded store, whatever the model did."""
    medications = {fact["name"].lower(): fact for fact in body["key_facts"]["medications"]}
    assert "metformin 1000 mg" in medications["metformin"]["text"]
    assert medications["metformin"]["source"]["id"] in sample.notes
    assert sorted(source["id"] for source in body["sources"]) == sorted(sample.notes)


# --- the request ---------------------------------------------------------------------------


async def test_the_model_is_asked_once_with_the_record_but_no_identifiers(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    body = await summarize(client, sample.id, audience="clinician", length="detailed")

    assert chat.call_count == 1
    request = chat.calls.last.request
    assert request.method == "POST"
    assert str(request.url) == f"{LLM_BASE}/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"].startswith("application/json")
    sent = sent_body(chat)
    assert set(sent) == {"model", "messages", "max_tokens", "temperature"}
    assert sent["model"] == MODEL
    assert isinstance(sent["max_tokens"], int)
    assert sent["max_tokens"] > 0
    assert [message["role"] for message in sent["messages"]] == ["system", "user"]
    assert all(set(message) == {"role", "content"} for message in sent["messages"])
    assert "Use only the facts given" in sent["messages"][0]["content"]

    asked = user_message(chat)
    # The key facts, as the summary lists them, and the notes' own words.
    for fact in body["key_facts"]["medications"] + body["key_facts"]["diagnoses"]:
        assert fact["text"] in asked
    assert "metformin 1000 mg BID" in asked
    assert "No known drug allergies" in asked
    for phrase in NOTE_PHRASES:
        assert phrase in asked
    assert "Maria Elena Okafor" in asked
    assert "clinical terms" in asked
    # No identifier: neither the MRN, the health number, the birth date, nor any id.
    assert sample.patient["mrn"] not in asked
    assert PATIENT["insurance_no"] not in asked
    assert PATIENT["birth_date"] not in asked
    assert sample.id not in asked
    for note_id in sample.notes:
        assert note_id not in asked
    assert_facts_from_the_notes(body, sample)


async def test_the_family_is_asked_for_in_plain_words(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    await summarize(client, sample.id, audience="family", length="brief")
    family = user_message(chat)
    family_tokens = sent_body(chat)["max_tokens"]
    await summarize(client, sample.id, audience="clinician", length="detailed")
    clinician = user_message(chat)
    clinician_tokens = sent_body(chat)["max_tokens"]

    assert chat.call_count == 2
    assert "plain everyday words" in family
    assert "plain everyday words" not in clinician
    assert "clinical terms" not in family
    assert family != clinician
    assert family_tokens < clinician_tokens
    for asked in (family, clinician):
        assert PATIENT["insurance_no"] not in asked
        assert PATIENT["birth_date"] not in asked


# --- the answer ----------------------------------------------------------------------------


async def test_a_grounded_narrative_of_the_model_is_the_summarys(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    body = await summarize(client, sample.id)

    assert body["generator"] == {"kind": "openai", "model": MODEL, "prompt": PROMPT}
    assert body["narrative"] == GROUNDED
    assert body["warnings"] == []
    assert_facts_from_the_notes(body, sample)


async def test_the_narrative_is_the_models_text_without_surrounding_space(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    chat.mock(return_value=completion(f"\n  {GROUNDED}  \n"))

    body = await summarize(client, sample.id)

    assert body["narrative"] == GROUNDED
    assert body["generator"]["kind"] == "openai"


async def test_an_invented_drug_is_warned_about(client: httpx.AsyncClient, sample: Loaded, chat: respx.Route) -> None:
    said = f"{GROUNDED} She also takes atorvastatin 20 mg daily."
    chat.mock(return_value=completion(said))

    body = await summarize(client, sample.id)

    assert body["generator"]["kind"] == "openai"
    assert body["narrative"] == said
    assert len(body["warnings"]) == 1
    assert "atorvastatin" in body["warnings"][0]
    assert not [fact for fact in body["key_facts"]["medications"] if "atorvastatin" in fact["text"].lower()]


async def test_an_invented_diagnosis_is_warned_about(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    said = f"{GROUNDED} She has chronic kidney disease."
    chat.mock(return_value=completion(said))

    body = await summarize(client, sample.id)

    assert body["generator"]["kind"] == "openai"
    assert body["narrative"] == said
    assert len(body["warnings"]) == 1
    assert "chronic kidney disease" in body["warnings"][0]


async def test_a_brand_name_of_a_record_drug_is_not_warned_about(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    chat.mock(return_value=completion("She takes Glucophage and Jardiance for her T2DM."))

    body = await summarize(client, sample.id)

    assert body["generator"]["kind"] == "openai"
    assert body["warnings"] == []


# --- failures ------------------------------------------------------------------------------

FAILURES: dict[str, tuple[dict[str, Any], str]] = {
    "timeout": ({"side_effect": httpx.ReadTimeout("timed out")}, "in time"),
    "connection-error": ({"side_effect": httpx.ConnectError("refused")}, "could not be reached"),
    "429": ({"return_value": httpx.Response(429, json={"error": {"message": "slow down"}})}, "429"),
    "500": ({"return_value": httpx.Response(500, json={"error": {"message": "broken"}})}, "500"),
    "502-html": ({"return_value": httpx.Response(502, text="<html>bad gateway</html>")}, "502"),
    "503": ({"return_value": httpx.Response(503, json={"error": {"message": "overloaded"}})}, "503"),
    "invalid-json": (
        {"return_value": httpx.Response(200, content=b'{"choices": [', headers={"content-type": "application/json"})},
        "answer",
    ),
    "not-json": ({"return_value": httpx.Response(200, text="Maria has diabetes.")}, "answer"),
    "json-list": ({"return_value": httpx.Response(200, json=[])}, "answer"),
    "no-completion": ({"return_value": httpx.Response(200, json={})}, "answer"),
    "no-choices": ({"return_value": completion(None, choices=[])}, "answer"),
    "null-content": ({"return_value": completion(None)}, "answer"),
    "blank-content": ({"return_value": completion(" \n\t ")}, "answer"),
    "cut-short": (
        {
            "return_value": completion(
                "Maria has type 2 diabetes and takes",
                choices=[
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Maria has type 2 diabetes and takes"},
                        "finish_reason": "length",
                    }
                ],
            )
        },
        "cut short",
    ),
}


@pytest.mark.parametrize(("mock", "reason"), FAILURES.values(), ids=FAILURES.keys())
async def test_a_failing_model_gives_the_offline_narrative_and_says_why(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route, mock: dict[str, Any], reason: str
) -> None:
    chat.mock(**mock)

    response = await client.get(f"/patients/{sample.id}/summary")

    assert response.status_code == 200, response.text
    body = response.json()
    assert chat.call_count == 1
    assert body["generator"] == {"kind": "offline", "model": None, "prompt": None}
    assert body["narrative"].startswith("Maria Elena Okafor, ")
    assert "Medications: " in body["narrative"]
    assert len(body["warnings"]) == 1, body["warnings"]
    assert body["warnings"][0].startswith(OFFLINE)
    assert reason in body["warnings"][0]
    assert_facts_from_the_notes(body, sample)


NOTES_ONE_SIGN_EACH = (
    ("2024-10-02T10:05:00-07:00", "Past medical history: T2DM, HTN.\nMedications: metformin 1000 mg BID.\nNKDA."),
    ("2025-02-07T13:45:00-08:00", "Discharge diagnosis: pneumonia.\nBP 128/78. Lisinopril 10 mg daily."),
)


@pytest.mark.parametrize("audience", ["clinician", "family"])
async def test_the_offline_narrative_of_a_failure_is_the_one_without_a_model(
    start_gateway: StartGateway, chat: respx.Route, audience: str
) -> None:
    failing = await start_gateway()
    offline = await start_gateway(openai_api_key=None)
    chat.mock(return_value=httpx.Response(503))
    ids = []
    for client in (failing, offline):
        patient = (await client.post("/patients", json=PATIENT)).json()
        # One vital sign (the blood pressure) a note: the order of the measurements of one
        # note follows the ids the store gives them, which differ from store to store.
        for taken_at, content in NOTES_ONE_SIGN_EACH:
            await add_note(client, patient["id"], taken_at, content)
        ids.append(patient["id"])

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            await summarize(failing, ids[0], audience=audience),
            await summarize(offline, ids[1], audience=audience),
        )

    fallen_back, without_model = await on_one_day(both)

    assert chat.call_count == 1
    assert fallen_back["generator"]["kind"] == "offline"
    assert fallen_back["key_facts"]["medications"]
    assert fallen_back["narrative"] == without_model["narrative"]
    assert without_model["generator"]["kind"] == "offline"
    assert without_model["warnings"] == []


async def test_a_retry_of_the_sdk_can_still_get_the_models_narrative(
    start_gateway: StartGateway, chat: respx.Route
) -> None:
    client = await start_gateway(openai_max_retries=1)
    patient = (await client.post("/patients", json=PATIENT)).json()
    await add_note(client, patient["id"], NOTES[0]["taken_at"], NOTES[0]["content"])
    chat.side_effect = [httpx.Response(503, headers={"retry-after-ms": "1"}), completion(GROUNDED)]

    body = await summarize(client, patient["id"])

    assert chat.call_count == 2
    assert body["generator"]["kind"] == "openai"
    assert body["narrative"] == GROUNDED


# --- the cache -----------------------------------------------------------------------------


async def test_an_unchanged_record_asks_the_model_once(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    async def twice() -> tuple[dict[str, Any], dict[str, Any]]:
        return await summarize(client, sample.id), await summarize(client, sample.id)

    first, again = await on_one_day(twice, chat)

    assert chat.call_count == 1
    assert again == first
    assert again["generated_at"] == first["generated_at"]


async def test_a_new_note_asks_the_model_again(client: httpx.AsyncClient, sample: Loaded, chat: respx.Route) -> None:
    first = await summarize(client, sample.id)
    assert chat.call_count == 1

    added = await add_note(client, sample.id, "2025-04-01T09:00:00-07:00", "P: Start atorvastatin 20 mg daily.")
    chat.mock(return_value=completion(f"{GROUNDED} She started atorvastatin."))
    second = await summarize(client, sample.id)

    assert chat.call_count == 2
    assert second["generated_at"] != first["generated_at"]
    assert second["narrative"].endswith("She started atorvastatin.")
    assert second["warnings"] == []  # the new note holds atorvastatin
    assert {"type": "note", "id": added} in second["sources"]
    assert "atorvastatin 20 mg daily" in user_message(chat)


async def test_a_new_interaction_asks_the_model_again(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    await summarize(client, sample.id)
    visit = {
        "insurance_no": PATIENT["insurance_no"],
        "interaction_date": "2025-03-20T10:30:00-07:00",
        "ailment": "Allergic rhinitis",
        "ailment_code": "J30.1",
        "next_steps": ["Start fexofenadine 180 mg daily"],
    }
    assert (await client.post("/interactions", json=visit)).status_code == 201

    await summarize(client, sample.id)

    assert chat.call_count == 2
    assert "fexofenadine 180 mg daily" in user_message(chat)
    assert "Allergic rhinitis" in user_message(chat)


async def test_each_audience_and_length_asks_the_model_once(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    async def every() -> None:
        for _ in range(2):
            for audience in ("clinician", "family"):
                for length in ("brief", "standard", "detailed"):
                    await summarize(client, sample.id, audience=audience, length=length)

    await on_one_day(every, chat)

    assert chat.call_count == 6


async def test_without_a_cache_every_request_asks_the_model(start_gateway: StartGateway, chat: respx.Route) -> None:
    client = await start_gateway(summary_cache_size=0)
    patient = (await client.post("/patients", json=PATIENT)).json()

    for _ in range(3):
        await summarize(client, patient["id"])

    assert chat.call_count == 3


async def test_a_failure_of_the_model_is_not_kept_for_the_unchanged_record(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route
) -> None:
    # "Refused for now": once the model answers again, an unchanged record gets its narrative.
    chat.side_effect = [httpx.Response(429, json={"error": {"message": "slow down"}}), completion(GROUNDED)]

    async def twice() -> tuple[dict[str, Any], dict[str, Any]]:
        return await summarize(client, sample.id), await summarize(client, sample.id)

    refused, later = await on_one_day(twice)

    assert refused["generator"]["kind"] == "offline"
    assert chat.call_count == 2
    assert later["generator"]["kind"] == "openai"
    assert later["narrative"] == GROUNDED


# --- logs ----------------------------------------------------------------------------------


async def test_no_patient_data_is_logged(
    client: httpx.AsyncClient, sample: Loaded, chat: respx.Route, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.clear()  # what loading the sample logged is the test client's, not the summary's
    answers = {
        ("clinician", "brief"): {"side_effect": httpx.ReadTimeout("timed out")},
        ("clinician", "standard"): {"return_value": httpx.Response(503, json={"error": {"message": "down"}})},
        ("family", "brief"): {"return_value": completion(None)},
        ("family", "standard"): {"return_value": completion(GROUNDED)},
        ("family", "detailed"): {"return_value": completion(f"{GROUNDED} She takes atorvastatin.")},
    }

    for (audience, length), answer in answers.items():
        chat.mock(**answer)
        await summarize(client, sample.id, audience=audience, length=length)

    assert chat.call_count == len(answers)
    logged = caplog.text
    assert "Language model gpt-test failed" in logged  # the capture works, at DEBUG
    # The capture takes DEBUG records (the SDK's own, which hold whole prompts, are silenced).
    logging.getLogger("tests.probe").debug("probe at DEBUG")
    assert "probe at DEBUG" in caplog.text
    for secret in (
        "Okafor",
        "Maria Elena",
        PATIENT["insurance_no"],
        sample.patient["mrn"],
        PATIENT["birth_date"],
        *NOTE_PHRASES,
        "treated with metformin, empagliflozin",  # the model's answer
        "atorvastatin",
    ):
        assert secret not in logged, secret
