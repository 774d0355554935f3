"""Result controls (`_count`, `_offset`) take non-negative integers in ASCII digits only."""

import pytest

from fhir_gateway.embedded.outcomes import FhirStoreError
from fhir_gateway.embedded.search import parse_query


@pytest.mark.parametrize("name", ["_count", "_offset"])
@pytest.mark.parametrize("value", ["²", "٣", "-1", "1.5", "", "ten"])
def test_anything_but_ascii_digits_is_a_bad_request(name: str, value: str) -> None:
    with pytest.raises(FhirStoreError) as refused:
        parse_query("Patient", [(name, value)])

    assert refused.value.status == 400


def test_ascii_digits_are_taken() -> None:
    query = parse_query("Patient", [("_count", "7"), ("_offset", "30")])

    assert (query.count, query.offset) == (7, 30)
