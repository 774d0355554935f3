"""One reader and writer of FHIR versions as HTTP entity tags."""

import pytest

from fhir_gateway.fhir_client import etag, resource_etag, resource_version, version_of


@pytest.mark.parametrize("written", ['W/"3"', '"3"', "3", ' W/"3" '])
def test_every_form_clients_write_names_the_version(written: str) -> None:
    assert version_of(written) == "3"
    assert etag(written) == 'W/"3"'


@pytest.mark.parametrize("written", ["", "W/", 'W/"three"', '"3', "3,4", "*", 'W/"1" W/"2"', "9" * 19])
def test_anything_else_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="not the ETag of a version"):
        version_of(written)


def test_a_stored_resource_has_the_etag_of_its_version() -> None:
    resource = {"resourceType": "Patient", "id": "p", "meta": {"versionId": "12"}}

    assert (resource_version(resource), resource_etag(resource)) == ("12", 'W/"12"')


@pytest.mark.parametrize("meta", [None, {}, {"versionId": 3}, {"versionId": ""}, "v1"])
def test_a_resource_without_a_version_has_none(meta: object) -> None:
    resource = {"resourceType": "Patient", "id": "p", "meta": meta}

    assert resource_version(resource) is None
    with pytest.raises(ValueError, match="no meta.versionId"):
        resource_etag(resource)
