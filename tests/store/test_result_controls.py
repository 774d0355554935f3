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


def test_an_underscore_name_r4_does_not_define_is_ignored_as_hapi_does() -> None:
    query = parse_query("Patient", [("_totalMethod", "count"), ("_foo", "1"), ("family", "X")])

    assert [condition.param.name for condition in query.conditions] == ["family"]  # type: ignore[union-attr]


def test_a_special_parameter_the_store_does_not_do_is_refused_naming_it() -> None:
    for name in ("_filter", "_list", "_text", "_content"):
        with pytest.raises(FhirStoreError) as refused:
            parse_query("Patient", [(name, "x")])
        assert name in str(refused.value)
