"""`POST /api/generate/{format}`: synthetic clinical records streamed as FHIR, NDJSON, CSV
and X12, with their content types and file names; what a request may not ask is a 422
naming the field."""

import csv
import io
from collections.abc import Callable

import httpx
import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from generators.clinical.formats import RESOURCE_TYPES
from generators.clinical.tables import TABLES
from tests.x12_reading import Read, envelopes_agree

pytestmark = pytest.mark.anyio

TODAY = "2026-11-01"


async def generate(client: httpx.AsyncClient, output: str, count: int = 5, **options: object) -> httpx.Response:
    body = {"count": count, "seed": 42, "options": {"reference_date": TODAY, **options}}
    return await client.post(f"/api/generate/{output}", json=body)


@pytest.mark.parametrize(
    ("output", "media_type", "name"),
    [
        ("fhir", "application/fhir+json", "clinical-BC-seed42-5-fhir.json"),
        ("ndjson", "application/fhir+ndjson", "clinical-BC-seed42-5-ndjson.ndjson"),
        ("csv", "text/csv", "clinical-BC-seed42-5-patients.csv"),
        ("x12-834", "application/edi-x12", "clinical-BC-seed42-5-x12-834.x12"),
        ("x12-837", "application/edi-x12", "clinical-BC-seed42-5-x12-837.x12"),
    ],
)
async def test_each_format_is_a_download_of_its_type_the_same_for_the_same_seed(
    client: httpx.AsyncClient, output: str, media_type: str, name: str
) -> None:
    first = await generate(client, output)
    again = await generate(client, output)

    assert first.status_code == 200, first.text
    assert first.headers["content-type"].split(";")[0] == media_type
    assert first.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert first.headers["x-generator-seed"] == "42"
    assert first.content and first.content == again.content


async def test_the_fhir_bundle_is_valid_and_loads_through_the_fhir_face(client: httpx.AsyncClient) -> None:
    bundle = (await generate(client, "fhir", count=3)).json()

    get_fhir_model_class("Bundle").model_validate(bundle)
    assert bundle["type"] == "transaction"
    stored = await client.post("/fhir", json=bundle, headers={"Content-Type": "application/fhir+json"})
    assert stored.status_code == 200, stored.text
    statuses = {entry["response"]["status"][:3] for entry in stored.json()["entry"]}
    assert statuses == {"201"}
    patients = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    read = await client.get(f"/patients/{patients[0]['id']}")
    assert read.status_code == 200
    assert read.json()["family_name"] == patients[0]["name"][0]["family"]


async def test_ndjson_is_one_resource_a_line_or_only_the_type_asked(client: httpx.AsyncClient) -> None:
    every = [orjson.loads(line) for line in (await generate(client, "ndjson")).content.splitlines()]
    observations = [
        orjson.loads(line)
        for line in (await generate(client, "ndjson", resource_type="Observation")).content.splitlines()
    ]

    assert {resource["resourceType"] for resource in every} <= set(RESOURCE_TYPES)
    assert sum(resource["resourceType"] == "Patient" for resource in every) == 5
    assert observations == [resource for resource in every if resource["resourceType"] == "Observation"]


@pytest.mark.parametrize("table", sorted(TABLES))
async def test_csv_is_the_table_asked_with_its_header(client: httpx.AsyncClient, table: str) -> None:
    response = await generate(client, "csv", table=table)

    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert tuple(rows[0]) == TABLES[table]
    assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)
    assert response.headers["content-disposition"].endswith(f'-{table}.csv"')


@pytest.mark.parametrize("output", ["x12-834", "x12-837"])
async def test_x12_is_valid_for_its_implementation_guide(
    client: httpx.AsyncClient, read_x12: Callable[[bytes], Read], output: str
) -> None:
    response = await generate(client, output, count=20, usage="P", control_number=123)

    parsed = read_x12(response.content)
    assert parsed.valid and parsed.errors == []
    envelopes_agree(parsed, expected_sets=1)
    (isa,) = parsed.find("ISA")
    assert isa.get_value("ISA13") == "000000123" and isa.get_value("ISA15") == "P"


async def test_x12_follows_the_separators_asked(client: httpx.AsyncClient) -> None:
    response = await generate(
        client, "x12-837", element_separator="|", segment_terminator="!", component_separator=">", line_breaks=False
    )

    text = response.text
    assert text.startswith("ISA|") and text.endswith("!")
    assert "\n" not in text
    segments = text.split("!")[:-1]
    assert segments[-1].split("|")[0] == "IEA"
    assert sum(segment.startswith("CLM|") for segment in segments) >= 5


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"count": 10_001}, "count", "python -m generators clinical"),
        ({"count": 0}, "count", "at least 1"),
        ({"count": 5, "seed": -1}, "seed", "greater than or equal to 0"),
        ({"count": 5, "options": {"province": "QC"}}, "province", "'BC' or 'ON'"),
        ({"count": 5, "options": {"table": "claims"}}, "table", "patients"),
        ({"count": 5, "options": {"element_separator": "A"}}, "element_separator", "one ASCII punctuation mark"),
        ({"count": 5, "options": {"sender_id": "me"}}, "sender_id", "capital letters and digits"),
        ({"count": 5, "options": {"segment_terminator": "*"}}, "options", "separators"),
        ({"count": 5, "colour": "red"}, "colour", "Extra inputs"),
    ],
)
async def test_what_a_request_may_not_ask_is_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, object], field: str, words: str
) -> None:
    response = await client.post("/api/generate/ndjson", json=body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text and words in response.text


async def test_an_unknown_format_is_a_422_listing_the_formats(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/generate/hl7v2", json={"count": 1})

    assert response.status_code == 422
    assert "x12-837" in response.text


async def test_the_records_endpoint_is_still_the_synthetic_record(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/generate/records", json={"messages": [{"content": "J30.1"}]})

    assert response.status_code == 200, response.text
    assert "J30.1" in response.text
