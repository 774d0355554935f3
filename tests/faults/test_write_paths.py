"""Every write path of both faces × every fault of the FHIR server behind them.

A fault strikes the path's decisive FHIR request (the write) either once, and then the
server is well again, or on every attempt. Either way the gateway answers clearly: the
write done (when it was retried, or nothing had been sent), or a 503/504 with the server's
Retry-After; a request that may have reached the server is sent again only when that is
safe. And the store, read directly afterwards, holds the write whole and once, or not at all.
"""

from typing import Any

import pytest

from tests.faults.conftest import ATTEMPTS, FaultyGateway
from tests.faults.fhir_face import PATHS as FHIR_FACE_PATHS
from tests.faults.injection import FAULTS, Fault
from tests.faults.paths import WritePath, assert_clear_failure
from tests.faults.simplified import PATHS as SIMPLIFIED_PATHS

pytestmark = pytest.mark.anyio

PATHS = (*SIMPLIFIED_PATHS, *FHIR_FACE_PATHS)


def matrix() -> list[Any]:
    return [pytest.param(path, fault, id=f"{path}-{fault}") for path in PATHS for fault in FAULTS]


@pytest.mark.parametrize(("path", "fault"), matrix())
async def test_a_fault_that_passes_is_retried_only_when_safe(
    gateway: FaultyGateway, path: WritePath, fault: Fault
) -> None:
    context = await path.prepare(gateway.client, 1)
    assert await path.observe(gateway.store, context) == "untouched"
    gateway.faults.arm(fault, path.strikes, times=1)

    response = await path.act(gateway.client, context)

    if path.retries(fault):
        assert response.status_code == path.answered_done(fault), response.text
        assert await path.observe(gateway.store, context) == path.afterwards(done=True)
        assert gateway.faults.aimed == 2
    else:
        assert_clear_failure(response, fault, path)
        assert await path.observe(gateway.store, context) == path.afterwards(done=fault.forwards)
        assert gateway.faults.aimed == 1


@pytest.mark.parametrize(("path", "fault"), matrix())
async def test_a_lasting_fault_is_a_clear_failure_with_the_write_whole_or_undone(
    gateway: FaultyGateway, path: WritePath, fault: Fault
) -> None:
    context = await path.prepare(gateway.client, 1)
    gateway.faults.arm(fault, path.strikes)

    response = await path.act(gateway.client, context)

    assert_clear_failure(response, fault, path)
    assert await path.observe(gateway.store, context) == path.afterwards(done=fault.forwards)
    assert gateway.faults.aimed == (ATTEMPTS if path.retries(fault) else 1)
