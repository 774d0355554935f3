"""hapi/application.yaml: the HAPI FHIR JPA settings the gateway relies on."""

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml

from tests.deploy import HAPI_CONFIG

# Largest `size` the gateway's list endpoints accept (api-contract: size <= 100).
GATEWAY_MAX_PAGE_SIZE = 100

EXPECTED = {
    "spring.datasource.driverClassName": "org.postgresql.Driver",
    "spring.jpa.properties.hibernate.dialect": "ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect",
    "spring.jpa.properties.hibernate.search.enabled": False,
    "hapi.fhir.fhir_version": "R4",
    "hapi.fhir.client_id_strategy": "ALPHANUMERIC",
    "hapi.fhir.allow_cascading_deletes": False,
    "hapi.fhir.allow_multiple_delete": False,
    "hapi.fhir.allow_contains_searches": True,
    "hapi.fhir.allow_external_references": False,
    "hapi.fhir.enforce_referential_integrity_on_write": True,
    "hapi.fhir.enforce_referential_integrity_on_delete": True,
    "hapi.fhir.ips_enabled": False,
}


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Spring's view of a YAML tree: nested and dotted keys alike become dotted paths."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{path}.")
        else:
            yield path, value


@pytest.fixture(scope="module")
def properties() -> dict[str, Any]:
    return dict(_flatten(yaml.safe_load(HAPI_CONFIG.read_text())))


@pytest.mark.parametrize(("key", "value"), EXPECTED.items())
def test_holds_the_setting(properties: dict[str, Any], key: str, value: object) -> None:
    assert key in properties
    assert properties[key] == value and type(properties[key]) is type(value)


def test_paging_defaults_fit_the_gateway(properties: dict[str, Any]) -> None:
    default, maximum = properties["hapi.fhir.default_page_size"], properties["hapi.fhir.max_page_size"]
    assert isinstance(default, int) and isinstance(maximum, int)
    assert 0 < default <= maximum
    assert maximum >= GATEWAY_MAX_PAGE_SIZE


def test_database_location_is_left_to_compose(properties: dict[str, Any]) -> None:
    """URL and credentials come from SPRING_DATASOURCE_*, so the two can never disagree."""
    location = {"spring.datasource.url", "spring.datasource.username", "spring.datasource.password"}
    assert not location & set(properties)
