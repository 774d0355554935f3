"""Fuzzing the gateway against its OpenAPI schema with schemathesis.

`schemathesis.toml` (which loads `hooks.py`) is the one configuration of both runs: `make fuzz`
(`run.py`, thousands of cases against a served gateway) and the bounded, deterministic run
inside the suite (`tests/api/test_openapi_fuzz.py`), so both judge the API by the same rules.
"""

from pathlib import Path

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")
