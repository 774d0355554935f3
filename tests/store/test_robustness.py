"""Whatever a client sends, the store answers 2xx or 4xx, never 5xx (on both databases)."""

import warnings
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Newer Starlette prefers `httpx2`; the pinned dependencies ship `httpx`, which it still drives.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from fhir_gateway.embedded import EmbeddedStore

_json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
# Bodies that look enough like resources to get past the first checks.
_patient_like = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Observation", "Bundle", "Nope", ""])},
    optional={
        "id": st.text(max_size=70),
        "name": _json,
        "gender": _json,
        "birthDate": _json,
        "subject": st.fixed_dictionaries({"reference": st.text(max_size=40)}),
        "meta": _json,
        "extension": _json,
        "entry": _json,
        "type": st.sampled_from(["transaction", "batch", "collection"]),
    },
)
_params = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "name",
                "name:exact",
                "birthdate",
                "_id",
                "_sort",
                "_count",
                "_offset",
                "identifier",
                "subject",
                "_include",
                "_revinclude",
                "_lastUpdated",
                "gender:not",
                "name:missing",
                "_total",
                "_summary",
                "x",
            ]
        ),
        st.text(max_size=25),
    ),
    max_size=4,
)
_budget = settings(max_examples=60, deadline=None)


@pytest.fixture(scope="module")
def fhir(database_url: str) -> Iterator[TestClient]:
    store = EmbeddedStore(database_url)
    with TestClient(store.app, base_url="http://testserver/fhir/") as client:
        yield client
    store.dispose()


@_budget
@given(body=_patient_like | _json)
def test_any_posted_body_gets_a_client_error_or_success(fhir: TestClient, body: object) -> None:
    for path in ("Patient", ""):
        response = fhir.post(path, json=body)
        assert response.status_code < 500, response.text


@_budget
@given(params=_params)
def test_any_search_gets_a_client_error_or_success(fhir: TestClient, params: list[tuple[str, str]]) -> None:
    response = fhir.get("Patient", params=params)
    assert response.status_code < 500, response.text


@_budget
@given(path=st.text(max_size=40), method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH"]))
def test_any_path_gets_a_client_error_or_success(fhir: TestClient, path: str, method: str) -> None:
    response = fhir.request(
        method,
        f"Patient/{quote(path, safe='/')}",
        content=b"[]",
        headers={"content-type": "application/json-patch+json"},
    )
    assert response.status_code < 500, response.text
