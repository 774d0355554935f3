"""Fuzzing the gateway against its OpenAPI schema with schemathesis.

`schemathesis.toml` (which loads `hooks.py`) is the one configuration of both runs: `make fuzz`
(`run.py`, thousands of cases against a served gateway) and the bounded, deterministic run
inside the suite (`tests/api/test_openapi_fuzz.py`), so both judge the API by the same rules.

Both fuzz the gateway with authentication on: an API key of every scope, which the
configuration's Authorization header reads from FUZZ_API_KEY, so schemathesis' own checks of
authentication (requests without it, or with an invalid one) run as well.
"""

from pathlib import Path

from fhir_gateway.security import new_api_key

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")
API_KEY_VARIABLE = "FUZZ_API_KEY"


def fuzzing_key() -> tuple[str, str]:
    """A fresh API key for the fuzzer, and its API_KEYS entry for the gateway."""
    key, configured = new_api_key("fuzzer", ["system/*.*"])
    return key, configured.entry()
