"""`ap` (approximately, R4 search.html#prefix): within 10% of a number or quantity, and of the
gap between now and a date."""

from datetime import date, timedelta
from pathlib import Path

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.requests import FhirRequest

BASE = "http://testserver/fhir"


def _ids(store: EmbeddedStore, resource_type: str, query: list[tuple[str, str]]) -> set[str]:
    response = store.handle(FhirRequest("GET", resource_type, query=query), BASE)
    assert response.status == 200, response.body
    assert response.body is not None
    return {entry["resource"]["id"] for entry in response.body.get("entry", [])}


def _create(store: EmbeddedStore, resource: dict) -> str:
    response = store.handle(FhirRequest("POST", resource["resourceType"], body=resource), BASE)
    assert response.status == 201, response.body
    return response.body["id"]  # type: ignore[index]


def test_ap_takes_ten_percent_around_a_quantity(tmp_path: Path) -> None:
    store = EmbeddedStore(f"sqlite:///{tmp_path / 'fhir.db'}")
    weights = {
        value: _create(
            store,
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "weight"},
                "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "kg"},
            },
        )
        for value in (89, 91, 100, 109, 111)
    }
    found = _ids(store, "Observation", [("value-quantity", "ap100|http://unitsofmeasure.org|kg")])
    store.dispose()

    assert found == {weights[91], weights[100], weights[109]}


def test_ap_takes_a_tenth_of_the_gap_to_now_around_a_date(tmp_path: Path) -> None:
    store = EmbeddedStore(f"sqlite:///{tmp_path / 'fhir.db'}")
    asked = date.today() - timedelta(days=1000)
    born = {
        offset: _create(store, {"resourceType": "Patient", "birthDate": (asked + timedelta(days=offset)).isoformat()})
        for offset in (-150, -50, 0, 50, 150)
    }
    found = _ids(store, "Patient", [("birthdate", f"ap{asked.isoformat()}")])
    store.dispose()

    assert found == {born[-50], born[0], born[50]}
