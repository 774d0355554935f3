"""Bodies that FHIR JSON forbids but the models let through are refused, naming the path."""

import pytest

from fhir_gateway.embedded.outcomes import FhirStoreError
from fhir_gateway.embedded.validation import validate


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"resourceType": "Patient", "meta": None}, "Patient.meta"),
        ({"resourceType": "Patient", "meta": {"tag": None}}, "Patient.meta.tag"),
        ({"resourceType": "Patient", "name": [{"family": None, "given": ["Ann"]}]}, "Patient.name[0].family"),
    ],
)
def test_a_null_property_is_refused(body: dict, path: str) -> None:
    with pytest.raises(FhirStoreError) as refused:
        validate(body)

    assert refused.value.status == 400
    assert [issue.expression for issue in refused.value.issues] == [path]


def test_null_items_of_a_primitive_array_beside_their_extensions_are_taken() -> None:
    body = {
        "resourceType": "Patient",
        "name": [{"given": ["Ann", None], "_given": [None, {"extension": [{"url": "urn:x", "valueString": "y"}]}]}],
    }

    assert validate(body) == body
