"""The forms conditional criteria come in: as R4 writes them, as HAPI's client and Synthea
write them, and as an absolute URL on the server's base."""

import pytest

from fhir_gateway.embedded.conditional import criteria_of
from fhir_gateway.embedded.outcomes import FhirStoreError

BASE = "http://fhir.example.org/fhir"
WANTED = [("identifier", "http://hl7.org/fhir/sid/us-npi|999")]


@pytest.mark.parametrize(
    "criteria",
    [
        "identifier=http://hl7.org/fhir/sid/us-npi|999",
        "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999",
        "/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999",
        f"{BASE}/Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999",
        "identifier=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Fus-npi%7C999",
    ],
)
def test_every_form_names_the_same_criteria(criteria: str) -> None:
    assert criteria_of("Practitioner", criteria, BASE) == WANTED


@pytest.mark.parametrize(
    "criteria",
    [
        "Patient?identifier=x|1",
        "http://elsewhere.example.org/fhir/Practitioner?identifier=x|1",
        "http://fhir.example.org/other/Practitioner?identifier=x|1",
    ],
)
def test_another_type_or_another_server_is_refused(criteria: str) -> None:
    with pytest.raises(FhirStoreError) as refused:
        criteria_of("Practitioner", criteria, BASE)
    assert refused.value.status == 400
