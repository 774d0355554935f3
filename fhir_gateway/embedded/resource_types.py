"""The resource types the store accepts: FHIR R4's, where the R4B models can validate them.

R4's types and complex datatypes come from the specification's structure definitions,
generated into definitions/resource_types.json (scripts/generate_fhir_definitions.py).
"""

from functools import lru_cache
from importlib.resources import files
from importlib.util import find_spec

import orjson


@lru_cache(maxsize=1)
def _definitions() -> dict[str, list[str]]:
    return orjson.loads((files(__package__) / "definitions" / "resource_types.json").read_bytes())


@lru_cache(maxsize=1)
def resource_types() -> frozenset[str]:
    # find_spec looks for the model's module without importing it (importing all is seconds).
    return frozenset(
        name for name in _definitions()["resource_types"] if find_spec(f"fhir.resources.R4B.{name.lower()}") is not None
    )


@lru_cache(maxsize=1)
def datatypes() -> frozenset[str]:
    """R4's complex datatypes (Quantity, HumanName, Extension...): elements that restart a path."""
    return frozenset(_definitions()["datatypes"])
