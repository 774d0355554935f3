"""Searches built to hurt: huge numbers, thousands of values, a parameter of 100 KB.

None may cost a server error. The embedded store refuses each with a 400 whose OperationOutcome
names the parameter at fault; HAPI FHIR answers some with a 200 and never sees others (its
servlet container refuses long URLs), as tests/contract/target.py records. Each search is sent
as a query string, and again as a form-encoded `POST [type]/_search` body, which no URL limit
guards. A server may take long over some of them: requests here wait up to ten minutes. Dates
at the very ends of the calendar are valid, and are searched like any other.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest

from tests.contract.factories import Tag
from tests.contract.interactions import FHIR_JSON, assert_operation_outcome, outcome_text, search_ids
from tests.contract.target import LONG_URL_BYTES, LONG_URLS_ANSWER_AN_OPERATION_OUTCOME, MANY_VALUES_ANSWERS

TIMEOUT_SECONDS = 600
ANSWERS_400 = frozenset({400})


@dataclass(frozen=True)
class Hostile:
    params: list[tuple[str, str]]
    # The parameter an answer refusing the search must name.
    parameter: str
    statuses: frozenset[int] = ANSWERS_400


HOSTILE: dict[str, Hostile] = {
    "count-of-10000-digits": Hostile([("_count", "9" * 10_000)], "_count"),
    "offset-beyond-64-bits": Hostile([("_offset", "10000000000000000000")], "_offset"),
    "1000-repeated-names": Hostile([("name", f"name-{n}") for n in range(1000)], "name"),
    "tag-with-2000-values": Hostile(
        [("_tag", ",".join(f"urn:test|value-{n}" for n in range(2000)))], "_tag", MANY_VALUES_ANSWERS
    ),
    "name-with-1000-commas": Hostile(
        [("name", ",".join(f"name-{n}" for n in range(1001)))], "name", MANY_VALUES_ANSWERS
    ),
    "100-kb-value": Hostile([("name", "x" * 100_000)], "name"),
}
# httpx sends no URL over 64 KB, and no client does: that one only travels in a body.
IN_A_QUERY_STRING = [name for name in HOSTILE if name != "100-kb-value"]
TOO_SLOW_FOR_HAPI = pytest.mark.embedded_only(
    reason="HAPI FHIR 8.8 had not answered a search of 1,000 repeated name parameters after ten minutes"
)


@pytest.fixture
def patient_fhir(fhir: httpx.Client) -> Iterator[httpx.Client]:
    """`fhir`, waiting up to TIMEOUT_SECONDS for each answer."""
    usual = fhir.timeout
    fhir.timeout = httpx.Timeout(TIMEOUT_SECONDS)
    try:
        yield fhir
    finally:
        fhir.timeout = usual


def _check(response: httpx.Response, hostile: Hostile) -> None:
    assert response.status_code in hostile.statuses, f"{response.status_code}: {response.text[:500]}"
    if response.status_code == 400:
        said, named = outcome_text(assert_operation_outcome(response, 400)), hostile.parameter
        assert named in said, said
    else:
        assert response.headers["content-type"].startswith(FHIR_JSON)
        assert response.json()["type"] == "searchset"


@pytest.mark.parametrize("name", IN_A_QUERY_STRING)
def test_a_hostile_query_string_is_refused_naming_the_parameter(
    patient_fhir: httpx.Client, tag: Tag, name: str
) -> None:
    hostile = HOSTILE[name]

    response = patient_fhir.get("Patient", params=[("_tag", tag.search), *hostile.params])

    if not LONG_URLS_ANSWER_AN_OPERATION_OUTCOME and len(str(response.request.url)) > LONG_URL_BYTES:
        assert response.status_code == 400, response.text[:500]
        return
    _check(response, hostile)


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=TOO_SLOW_FOR_HAPI) if name == "1000-repeated-names" else name for name in HOSTILE]
)
def test_a_hostile_form_body_is_refused_naming_the_parameter(patient_fhir: httpx.Client, tag: Tag, name: str) -> None:
    hostile = HOSTILE[name]

    response = patient_fhir.post(
        "Patient/_search",
        content=urlencode([("_tag", tag.search), *hostile.params]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    _check(response, hostile)


@pytest.mark.parametrize("parameter", ["birthdate", "_lastUpdated"])
@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59Z", "gt9999-12-31T23:59:59Z", "9999-12-31", "0001-01-01", "lt0001-01-01"]
)
def test_a_date_at_an_end_of_the_calendar_is_searched(fhir: httpx.Client, tag: Tag, parameter: str, value: str) -> None:
    # Valid FHIR dates: their ranges end at the last instant a date can name, and go no further.
    assert search_ids(fhir, "Patient", [("_tag", tag.search), (parameter, value)]) == []
