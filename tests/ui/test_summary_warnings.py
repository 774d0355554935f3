"""The summary page when a language model writes the narrative: the model is a stand-in
served on loopback (the real one is out of reach here) whose narrative names a medication
and a diagnosis the record does not hold, and the page shows the grounding check's warnings
beside the narrative and names the model."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.serving import served_on_loopback
from tests.ui.browser import DESKTOP, Api, served_gateway
from tests.ui.conftest import ConsoleLog, watched_page

MODEL = "stand-in-model"
UNGROUNDED = "She was started on warfarin for atrial fibrillation; her bronchitis is settling."


async def chat_completion(request: Request) -> JSONResponse:
    await request.json()
    return JSONResponse(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": UNGROUNDED}, "finish_reason": "stop"}],
        }
    )


@pytest.fixture(scope="module")
def model_server() -> Iterator[str]:
    app = Starlette(routes=[Route("/v1/chat/completions", chat_completion, methods=["POST"])])
    with served_on_loopback(app) as root:
        yield f"{root}/v1"


@pytest.fixture(scope="module")
def written_by_a_model(model_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database: Path = tmp_path_factory.mktemp("ui-model") / "fhir.db"
    with served_gateway(
        database, openai_api_key="sk-stand-in", openai_base_url=model_server, openai_model=MODEL
    ) as root:
        yield root


@pytest.fixture
def model_page(browser: Browser, written_by_a_model: str, console: ConsoleLog) -> Iterator[Page]:
    with watched_page(browser, written_by_a_model, DESKTOP, console) as page:
        yield page


def test_the_grounding_check_s_warnings_are_shown_beside_the_model_s_narrative(
    model_page: Page, written_by_a_model: str
) -> None:
    api = Api(written_by_a_model)
    try:
        patient = api.patient("Odile", "Brassard")
        api.interaction(
            patient["insurance_no"], "2025-03-01T10:30:00-08:00", ailment="Acute bronchitis", ailment_code="J20.9"
        )
    finally:
        api.close()

    model_page.goto(f"/ui/patients/{patient['id']}/summary")

    expect(model_page.get_by_role("main")).to_have_attribute("data-ready", "true")
    expect(model_page.get_by_text(UNGROUNDED)).to_be_visible()
    expect(model_page.get_by_role("heading", level=2, name="Warnings", exact=True)).to_be_visible()
    warnings = model_page.get_by_role("listitem").filter(has_text="which no source of this summary holds")
    expect(warnings.filter(has_text="warfarin")).to_have_count(1)
    expect(warnings.filter(has_text="atrial fibrillation")).to_have_count(1)
    expect(warnings.filter(has_text="bronchitis")).to_have_count(0)
    expect(model_page.get_by_text(f"Written by: openai ({MODEL})")).to_be_visible()
