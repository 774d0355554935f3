"""Every write path, run five times against a server that answers one request in five with
a bare 503 (every fifth request it gets, reads and writes alike, counted deterministically).

Whatever request the 503 lands on is retried when that is safe; the one a path may not
repeat (a plain create) fails its write with a clear 503 and leaves nothing behind. Every
write the gateway answered as done is stored once, whole; every one it refused is absent.
"""

import pytest

from tests.faults.conftest import FaultyGateway
from tests.faults.injection import OVERLOADED
from tests.faults.paths import WritePath, assert_clear_failure
from tests.faults.test_write_paths import PATHS

pytestmark = pytest.mark.anyio

RUNS = 5
ONE_IN = 5


@pytest.mark.parametrize("path", PATHS, ids=str)
async def test_one_answer_in_five_a_503_fails_only_writes_that_cannot_be_repeated(
    gateway: FaultyGateway, path: WritePath
) -> None:
    subjects = [await path.prepare(gateway.client, subject) for subject in range(1, RUNS + 1)]
    gateway.faults.arm_every(ONE_IN, path.strikes)

    outcomes = []
    for context in subjects:
        seen_before = len(gateway.faults.seen)
        response = await path.act(gateway.client, context)
        struck = [seen for seen in gateway.faults.seen[seen_before:] if seen.struck]
        outcomes.append((response, any(seen.aimed for seen in struck)))
        print(path, response.status_code, [(s.method, s.path, s.aimed) for s in struck])
    gateway.faults.disarm()

    assert len(gateway.faults.seen) >= ONE_IN
    for context, (response, write_struck) in zip(subjects, outcomes, strict=True):
        if write_struck and not path.retries(OVERLOADED):
            assert_clear_failure(response, OVERLOADED, path)
            assert await path.observe(gateway.store, context) == "untouched"
        else:
            assert response.status_code == path.done_status, response.text
            assert await path.observe(gateway.store, context) == path.afterwards(done=True)
