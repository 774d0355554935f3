"""Readiness: does the FHIR server answer, and (for the embedded store) its database?"""

import logging
from collections.abc import Awaitable, Callable

import anyio

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.features.health.schemas import Readiness
from fhir_gateway.fhir_client import FhirClient

OK = "ok"
# A probe must answer before the orchestrator's own probe timeout gives up on it; a
# dependency slower than this is as good as down.
CHECK_TIMEOUT_SECONDS = 5.0
_MAX_REASON_CHARS = 120

logger = logging.getLogger(__name__)


async def check_readiness(*, client: FhirClient, store: EmbeddedStore | None) -> Readiness:
    """Check the FHIR server (its `metadata`) and, with the embedded store, its database."""
    checks = {"fhir": await _check("fhir", client.capabilities)}
    if store is not None:
        checks["database"] = await _check(
            "database", lambda: anyio.to_thread.run_sync(store.ping, abandon_on_cancel=True)
        )
    ready = all(result == OK for result in checks.values())
    return Readiness(status="ok" if ready else "unavailable", checks=checks)


async def _check(name: str, probe: Callable[[], Awaitable[object]]) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await probe()
    except TimeoutError:
        reason = f"no answer within {CHECK_TIMEOUT_SECONDS:g}s"
    except Exception as exc:  # whatever a dependency fails with, it is not ready
        reason = str(exc) or type(exc).__name__
    else:
        return OK
    logger.warning("readiness check %s failed: %s", name, reason)
    return f"unavailable: {_shorten(reason)}"


def _shorten(reason: str) -> str:
    # The first line says what failed; later ones (SQL, links to docs) are for the log.
    line = reason.strip().partition("\n")[0]
    return line if len(line) <= _MAX_REASON_CHARS else line[: _MAX_REASON_CHARS - 1] + "…"
