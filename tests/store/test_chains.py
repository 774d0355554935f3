"""Chains of several links, and `_has` whose last part is itself a reference: lookups of the
reference index nested in lookups of the same index."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.embedded.outcomes import FhirStoreError
from fhir_gateway.embedded.requests import FhirRequest

BASE = "http://testserver/fhir"


class Store:
    def __init__(self, path: Path) -> None:
        self.store = EmbeddedStore(f"sqlite:///{path / 'fhir.db'}")

    def post(self, resource: dict[str, Any]) -> str:
        response = self.store.handle(FhirRequest("POST", resource["resourceType"], body=resource), BASE)
        assert response.status == 201, response.body
        return response.body["id"]  # type: ignore[index]

    def ids(self, resource_type: str, query: list[tuple[str, str]]) -> set[str]:
        response = self.store.handle(FhirRequest("GET", resource_type, query=query), BASE)
        assert response.status == 200, response.body
        return {entry["resource"]["id"] for entry in (response.body or {}).get("entry", [])}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Store, dict[str, str]]]:
    store = Store(tmp_path)
    acme = store.post({"resourceType": "Organization", "name": "Acme Clinic"})
    other = store.post({"resourceType": "Organization", "name": "Other Clinic"})
    ann = store.post({"resourceType": "Patient", "managingOrganization": {"reference": f"Organization/{acme}"}})
    bob = store.post({"resourceType": "Patient", "managingOrganization": {"reference": f"Organization/{other}"}})
    visit = store.post(
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": {"reference": f"Patient/{bob}"},
            "serviceProvider": {"reference": f"Organization/{acme}"},
        }
    )
    observations = {
        name: store.post(
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "weight"},
                "subject": {"reference": f"Patient/{patient}"},
            }
        )
        for name, patient in (("ann", ann), ("bob", bob))
    }
    ids = {"acme": acme, "ann": ann, "bob": bob, "visit": visit, **{f"obs-{k}": v for k, v in observations.items()}}
    yield store, ids
    store.store.dispose()


def test_a_two_level_chain_follows_both_references(world: tuple[Store, dict[str, str]]) -> None:
    store, ids = world

    assert store.ids("Observation", [("subject.organization.name", "Acme")]) == {ids["obs-ann"]}
    assert store.ids("Observation", [("subject:Patient.organization.name", "Other")]) == {ids["obs-bob"]}


def test_has_whose_last_part_is_a_reference(world: tuple[Store, dict[str, str]]) -> None:
    store, ids = world

    found = store.ids("Patient", [("_has:Encounter:subject:service-provider", f"Organization/{ids['acme']}")])

    assert found == {ids["bob"]}


def test_a_chain_longer_than_three_links_is_refused_naming_it(world: tuple[Store, dict[str, str]]) -> None:
    store, _ = world
    chain = "subject.organization.partof.partof.name"

    with pytest.raises(FhirStoreError) as refused:
        store.ids("Observation", [(chain, "x")])

    assert refused.value.status == 400
    assert "partof.partof.name" in str(refused.value)
