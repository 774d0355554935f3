"""The gateway answers as its OpenAPI schema says: every schemathesis check, every operation.

A bounded `make fuzz`: the same configuration (tests/fuzz/schemathesis.toml and its hooks),
the app reached in-process, a few dozen cases per operation. Generation is derandomized, so
every run sends the same requests, and nothing is timed (no deadline, no too-slow health
check): a loaded machine makes the run slower, never different.

The gateway runs with authentication on, as in production (see tests/fuzz/__init__.py).

The stateful test chains operations along the links schemathesis infers from the schema
(create, read, replace and delete a patient, list their records); use_after_free and
ensure_resource_availability only apply to such sequences.
"""

import os
import random
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from starlette.types import ASGIApp, Receive, Scope, Send

from fhir_gateway.app import create_app
from fhir_gateway.features.generate.schemas import MAX_COUNT, MAX_LOAD_COUNT
from fhir_gateway.settings import Settings
from tests.fuzz import API_KEY_VARIABLE, CONFIG_FILE, fuzzing_key

DETERMINISTIC = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SEQUENCES = settings(DETERMINISTIC, max_examples=15, stateful_step_count=6)


class CurrentGateway:
    """The ASGI app schemathesis calls: it hands everything, lifespan included, to the gateway
    of the running test. Tests are generated from the schema when the module is collected,
    but each runs on a gateway of its own (the `app` fixture: a fresh store)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no gateway is running"
        await self.app(scope, receive, send)


GATEWAY = CurrentGateway()
FUZZ_KEY, FUZZ_KEY_ENTRY = fuzzing_key()
# Read by the configuration's Authorization header when it is loaded, just below.
os.environ[API_KEY_VARIABLE] = FUZZ_KEY
# The app's own schema; building an app opens nothing (its lifespan opens the store).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(_env_file=None)).openapi(), config=schemathesis.Config.from_path(CONFIG_FILE)
)
# What `schemathesis.openapi.from_asgi` does after fetching the schema from the app.
schema.app = GATEWAY


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The test gateway as in production, authentication and the audit trail on: the fuzzer's key and no other."""
    secured = {"is_local_dev": False, "api_keys": [FUZZ_KEY_ENTRY], "rate_limit": "", "audit_enabled": True}
    return create_app(settings.model_copy(update=secured))


@pytest.fixture(autouse=True)
def gateway(app: FastAPI) -> Iterator[None]:
    # schemathesis starts the lifespan on the first request and ends it when the test ends.
    GATEWAY.app = app
    # Some of schemathesis' choices draw on the global random state, which earlier tests move.
    random.seed(0)
    yield
    GATEWAY.app = None


# Generating synthetic records takes a time that grows with `count` (up to 10,000 patients
# streamed, or 1,000 stored: seconds each case), over an input of a few fields: fewer cases
# cover it, and each valid count above a few is sent as a few, in every phase (the coverage
# phase sends the bounds, past any generation hook).
MAX_COUNTS = {"/api/generate/{format}": MAX_COUNT, "/api/generate/immunizations": MAX_LOAD_COUNT}
FEWER = settings(DETERMINISTIC, max_examples=6)
# (`include` keeps every operation here; excluding all the others does not.)
GENERATIONS = schema.exclude(func=lambda context: context.operation.path not in MAX_COUNTS)
WITHOUT_GENERATIONS = schema.exclude(func=lambda context: context.operation.path in MAX_COUNTS)
SMALL_COUNT = 20


def with_a_small_count(case: Case) -> None:
    count = case.body.get("count") if isinstance(case.body, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and SMALL_COUNT < count <= MAX_COUNTS[case.path]:
        case.body = {**case.body, "count": SMALL_COUNT}


@WITHOUT_GENERATIONS.parametrize()
@DETERMINISTIC
def test_every_operation_answers_as_its_schema_says(case: Case) -> None:
    case.call_and_validate()


@GENERATIONS.parametrize()
@FEWER
def test_generating_records_answers_as_its_schema_says(case: Case) -> None:
    with_a_small_count(case)
    case.call_and_validate()


def test_sequences_of_operations_answer_as_the_schema_says() -> None:
    # Generations link to nothing: in a sequence they would only be the slow steps.
    WITHOUT_GENERATIONS.as_state_machine().run(settings=SEQUENCES)
