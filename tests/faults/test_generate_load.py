"""Loading synthetic records while the FHIR server fails: a first batch refused is an
ordinary error answer with nothing stored; a later one ends the progress with a line that
says so, and the batches stored before it stay whole."""

import httpx
import orjson
import pytest

from tests.faults.conftest import FaultyGateway
from tests.faults.injection import UNAVAILABLE, transactions

pytestmark = pytest.mark.anyio


class Counted:
    """Selects every transaction from the `nth` one on (retries included)."""

    def __init__(self, nth: int) -> None:
        self.nth = nth
        self.seen = 0

    def __call__(self, request: httpx.Request) -> bool:
        if not transactions(request):
            return False
        self.seen += 1
        return self.seen >= self.nth


async def stored_patients(gateway: FaultyGateway) -> int:
    return (await gateway.store.search("Patient", {"_summary": "count"}))["total"]


async def test_a_refused_first_batch_is_an_error_answer_and_stores_nothing(gateway: FaultyGateway) -> None:
    gateway.faults.arm(UNAVAILABLE, transactions)

    response = await gateway.client.post("/api/generate/immunizations", json={"count": 20, "seed": 1})

    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await stored_patients(gateway) == 0


async def test_a_later_batch_refused_ends_the_progress_with_an_error_line(gateway: FaultyGateway) -> None:
    gateway.faults.arm(UNAVAILABLE, Counted(3))

    response = await gateway.client.post("/api/generate/immunizations", json={"count": 20, "seed": 1})

    assert response.status_code == 200
    *progress, last = [orjson.loads(line) for line in response.content.splitlines()]
    assert [line["loaded"] for line in progress] == [2, 4]
    assert last == {"error": "The FHIR store failed after 4 of 20 records."}
    assert await stored_patients(gateway) == 4
