"""`/interactions`: a doctor-patient interaction recorded for the patient holding a health
number, as one Encounter and its Observations; read, listed (by health number or patient
id), deleted, and taken along when the patient is deleted. On whichever FHIR server runs."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.settings import Settings
from tests.api.checks import assert_problem, exists
from tests.api.conftest import BASE_URL

pytestmark = pytest.mark.anyio

BC_PHN = "9698658215"
OTHER_BC_PHN = "9253484802"
BAD_CHECK_DIGIT = "9698658216"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"

EXAMPLE: dict[str, Any] = {
    "insurance_no": BC_PHN,
    "interaction_date": "2025-03-01T10:30:00-08:00",
    "ailment": "Allergic rhinitis",
    "ailment_code": "J30.1",
    "symptoms": ["sneezing", "itchy eyes"],
    "metrics": {
        "heart_rate": 72,
        "bp_systolic": 120,
        "bp_diastolic": 78,
        "temperature_c": 36.6,
        "spo2": 98,
        "respiratory_rate": 14,
        "weight_kg": 70.5,
        "peak_flow_l_min": 420,
    },
    "remarks": "Seasonal symptoms, worse outdoors.",
    "health_status": 7,
    "qa": [{"question": "Any fever?", "answer": "No"}],
    "next_steps": ["Start fexofenadine", "Follow up in 2 weeks"],
    "labels": ["allergy", "follow-up"],
}
# 1 health status + 2 symptoms + 6 vital signs (the blood pressure one panel) + 1 other metric.
EXAMPLE_OBSERVATIONS = 10
STORED_KEYS = {"id", "patient_id", "version", "updated_at"}
MINIMAL = {"insurance_no": BC_PHN, "interaction_date": "2025-03-01T10:30:00-08:00"}


# --- helpers -----------------------------------------------------------------------------


async def new_patient(client: httpx.AsyncClient, insurance_no: str = BC_PHN, given: str = "Ada") -> str:
    response = await client.post(
        "/patients",
        json={
            "given_name": given,
            "family_name": "Lovelace",
            "birth_date": "1980-12-10",
            "province": "BC",
            "insurance_no": insurance_no,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def record(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    """POST an interaction (MINIMAL with `body` over it), asserting it was recorded."""
    response = await client.post("/interactions", json=MINIMAL | body)
    assert response.status_code == 201, response.text
    return response.json()


async def record_at(client: httpx.AsyncClient, when: str, **body: Any) -> str:
    return (await record(client, interaction_date=when, **body))["id"]


def fhir_of(app: FastAPI) -> FhirClient:
    fhir: FhirClient = app.state.fhir_client
    return fhir


async def matches(fhir: FhirClient, resource_type: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The resources a FHIR search finds (its matches only)."""
    bundle = await fhir.search(resource_type, [*params, ("_count", "100")])
    return [
        entry["resource"]
        for entry in bundle.get("entry") or []
        if (entry.get("search") or {}).get("mode", "match") == "match"
    ]


async def observations_of(fhir: FhirClient, interaction_id: str) -> list[dict[str, Any]]:
    return await matches(fhir, "Observation", [("encounter", f"Encounter/{interaction_id}")])


async def assert_nothing_stored(fhir: FhirClient) -> None:
    """No Encounter and no Observation on the FHIR server (each test starts on an empty one)."""
    assert await matches(fhir, "Encounter", []) == []
    assert await matches(fhir, "Observation", []) == []


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def written(body: dict[str, Any]) -> dict[str, Any]:
    """A response body without what the server assigns."""
    return {key: value for key, value in body.items() if key not in STORED_KEYS}


def typed(value: Any) -> Any:
    """`value` with the type of every leaf beside it, and the order of every object's keys:
    equal only when the JSON reads back exactly (72 is not 72.0, key order counts)."""
    if isinstance(value, dict):
        return [(key, typed(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


async def listed(client: httpx.AsyncClient, url: str, **params: Any) -> dict[str, Any]:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def listed_ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    page = await listed(client, "/interactions", insurance_no=BC_PHN, size=100, **params)
    assert page["total"] == len(page["items"])
    return [item["id"] for item in page["items"]]


def assert_gone(response: httpx.Response) -> None:
    assert response.status_code in (404, 410), response.text
    assert_problem(response, response.status_code)


# --- record and read ---------------------------------------------------------------------


async def test_the_example_is_recorded_and_read_back_exactly_as_written(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    response = await client.post("/interactions", json=EXAMPLE)

    assert response.status_code == 201, response.text
    created = response.json()
    interaction_id = created["id"]
    assert isinstance(interaction_id, str) and interaction_id
    assert response.headers["location"] == f"{BASE_URL}/interactions/{interaction_id}"
    assert response.headers["etag"] == f'W/"{created["version"]}"'
    assert (created["patient_id"], created["version"]) == (patient_id, "1")
    assert abs(instant(created["updated_at"]) - datetime.now(UTC)) < timedelta(minutes=5)
    assert set(created) == set(EXAMPLE) | STORED_KEYS
    assert typed(written(created)) == typed(EXAMPLE)
    assert type(created["metrics"]["heart_rate"]) is int
    assert type(created["metrics"]["temperature_c"]) is float
    assert type(created["metrics"]["peak_flow_l_min"]) is int
    assert list(created["metrics"]) == list(EXAMPLE["metrics"])

    read = await client.get(response.headers["location"])

    assert read.status_code == 200, read.text
    assert read.headers["etag"] == response.headers["etag"]
    assert typed(read.json()) == typed(created)


async def test_labels_and_metrics_read_back_in_the_order_written(client: httpx.AsyncClient) -> None:
    await new_patient(client)
    metrics = {
        "peak_flow_l_min": 380,
        "smoker": False,
        "spo2": 97,
        "inhaler_technique": "good",
        "Peak.Flow-2": 365.5,
        "height_cm": 172.5,
        "heart_rate": 88,
        "wheeze": True,
        "weight_kg": 70.0,
        "fev1_fvc": 0.72,
        "pain_score": -3,
    }
    labels = ["urgent", "allergy", "asthma", "a1", "follow-up"]

    created = await record(client, metrics=metrics, labels=labels)
    read = (await client.get(f"/interactions/{created['id']}")).json()

    for body in (created, read):
        assert typed(body["metrics"]) == typed(metrics)
        assert body["labels"] == labels
    assert typed(read) == typed(created)
    (item,) = (await listed(client, "/interactions", insurance_no=BC_PHN))["items"]
    assert typed(item) == typed(created)


@pytest.mark.parametrize(
    "metrics",
    [
        {"bp_diastolic": 78, "bp_systolic": 120},
        {"bp_systolic": 120, "heart_rate": 72, "bp_diastolic": 78},
        {"bp_diastolic": 78, "peak_flow_l_min": 420, "bp_systolic": 120},
    ],
    ids=["diastolic-first", "heart-rate-between", "other-metric-between"],
)
async def test_a_blood_pressure_written_in_any_key_order_reads_back_in_that_order(
    client: httpx.AsyncClient, metrics: dict[str, int]
) -> None:
    await new_patient(client)

    created = await record(client, metrics=metrics)
    read = (await client.get(f"/interactions/{created['id']}")).json()

    assert list(created["metrics"].items()) == list(metrics.items())
    assert list(read["metrics"].items()) == list(metrics.items())


async def test_boolean_and_text_metrics_keep_their_type(client: httpx.AsyncClient, app: FastAPI) -> None:
    await new_patient(client)
    metrics = {"smoker": False, "wheeze": True, "inhaler_technique": "good", "note": "  worse at night  "}

    created = await record(client, metrics=metrics)

    expected = {"smoker": False, "wheeze": True, "inhaler_technique": "good", "note": "worse at night"}
    assert typed(created["metrics"]) == typed(expected)
    assert typed((await client.get(f"/interactions/{created['id']}")).json()["metrics"]) == typed(expected)
    stored = {obs["code"]["text"]: obs for obs in await observations_of(fhir_of(app), created["id"])}
    assert stored["smoker"]["valueBoolean"] is False
    assert stored["wheeze"]["valueBoolean"] is True
    assert stored["inhaler_technique"]["valueString"] == "good"
    assert stored["note"]["valueString"] == "worse at night"


async def test_texts_are_stored_without_surrounding_white_space(client: httpx.AsyncClient) -> None:
    await new_patient(client)

    created = await record(
        client,
        ailment="  Allergic rhinitis   ",
        symptoms=[" sneezing", "itchy eyes  "],
        remarks="\n\t Seasonal.\n  Worse outdoors.  \n",
        qa=[{"question": "  Any fever? ", "answer": " No\n\t"}],
        next_steps=["  Start fexofenadine  "],
    )

    expected = {
        "ailment": "Allergic rhinitis",
        "symptoms": ["sneezing", "itchy eyes"],
        "remarks": "Seasonal.\n  Worse outdoors.",
        "qa": [{"question": "Any fever?", "answer": "No"}],
        "next_steps": ["Start fexofenadine"],
    }
    read = (await client.get(f"/interactions/{created['id']}")).json()
    for body in (created, read):
        assert {key: body[key] for key in expected} == expected


async def test_codes_and_whole_numbers_are_normalised(client: httpx.AsyncClient) -> None:
    await new_patient(client)

    created = await record(client, ailment_code="j301", health_status=7.0)

    assert (created["ailment_code"], created["health_status"]) == ("J30.1", 7)
    assert type(created["health_status"]) is int
    read = (await client.get(f"/interactions/{created['id']}")).json()
    assert (read["ailment_code"], read["health_status"]) == ("J30.1", 7)


async def test_an_interaction_with_only_its_date_has_empty_fields_and_no_observations(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    patient_id = await new_patient(client)

    created = await record(client)

    assert written(created) == {
        "insurance_no": BC_PHN,
        "interaction_date": "2025-03-01T10:30:00-08:00",
        "ailment": None,
        "ailment_code": None,
        "symptoms": [],
        "metrics": {},
        "remarks": None,
        "health_status": None,
        "qa": [],
        "next_steps": [],
        "labels": [],
    }
    assert created["patient_id"] == patient_id
    assert (await client.get(f"/interactions/{created['id']}")).json() == created
    assert await observations_of(fhir_of(app), created["id"]) == []


async def test_every_vital_sign_at_the_ends_of_its_range_is_accepted(client: httpx.AsyncClient) -> None:
    await new_patient(client)
    lows = {
        "heart_rate": 20,
        "respiratory_rate": 4,
        "bp_systolic": 50,
        "bp_diastolic": 20,
        "temperature_c": 30,
        "spo2": 50,
        "weight_kg": 0.5,
        "height_cm": 30,
    }
    highs = {
        "heart_rate": 250,
        "respiratory_rate": 60,
        "bp_systolic": 300,
        "bp_diastolic": 200,
        "temperature_c": 45.0,
        "spo2": 100,
        "weight_kg": 500,
        "height_cm": 250.0,
    }

    for metrics in (lows, highs, {"bp_systolic": 81, "bp_diastolic": 80}):
        created = await record(client, metrics=metrics, health_status=1 if metrics is lows else 10)
        assert typed(created["metrics"]) == typed(metrics)
        assert typed((await client.get(f"/interactions/{created['id']}")).json()["metrics"]) == typed(metrics)


async def test_the_earliest_and_the_latest_accepted_dates(client: httpx.AsyncClient) -> None:
    await new_patient(client)
    a_minute_ahead = (datetime.now(UTC) + timedelta(minutes=1)).isoformat(timespec="milliseconds")

    earliest = await record(client, interaction_date="1900-01-01T00:00:00Z")
    ahead = await record(client, interaction_date=a_minute_ahead)

    assert instant(earliest["interaction_date"]) == datetime(1900, 1, 1, tzinfo=UTC)
    assert instant(ahead["interaction_date"]) == instant(a_minute_ahead)


async def test_the_interaction_date_keeps_its_offset(client: httpx.AsyncClient) -> None:
    await new_patient(client)

    for when in ("2025-03-01T10:30:00+05:30", "2025-03-01T10:30:00Z", "2025-03-01T10:30:00.250-03:00"):
        created = await record(client, interaction_date=when)
        read = (await client.get(f"/interactions/{created['id']}")).json()
        for body in (created, read):
            stated = instant(body["interaction_date"])
            assert stated == instant(when)
            assert stated.utcoffset() == instant(when).utcoffset()


# --- on the FHIR server ------------------------------------------------------------------


async def test_the_encounter_is_found_by_its_patient_and_each_label(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    fhir = fhir_of(app)
    patient_id = await new_patient(client)
    bystander = await new_patient(client, OTHER_BC_PHN, given="Grace")
    created = await record(client, **EXAMPLE)
    of_the_bystander = await record(client, **(EXAMPLE | {"insurance_no": OTHER_BC_PHN}))
    system = f"{settings.identifier_system_base}/CodeSystem/interaction-label"

    def tagged(patient: str, label: str) -> list[tuple[str, str]]:
        return [("subject", f"Patient/{patient}"), ("_tag", f"{system}|{label}")]

    for label in EXAMPLE["labels"]:
        assert [found["id"] for found in await matches(fhir, "Encounter", tagged(patient_id, label))] == [created["id"]]
    assert await matches(fhir, "Encounter", tagged(patient_id, "urgent")) == []
    assert [found["id"] for found in await matches(fhir, "Encounter", tagged(bystander, "allergy"))] == [
        of_the_bystander["id"]
    ]

    encounter = await fhir.read("Encounter", created["id"])
    assert encounter["status"] == "finished"
    assert encounter["class"]["code"] == "AMB"
    assert encounter["subject"]["reference"] == f"Patient/{patient_id}"
    assert encounter["subject"]["identifier"]["value"] == BC_PHN
    assert instant(encounter["period"]["start"]) == instant(EXAMPLE["interaction_date"])
    (reason,) = encounter["reasonCode"]
    assert reason["text"] == "Allergic rhinitis"
    assert [(coding["system"], coding["code"]) for coding in reason["coding"]] == [(ICD10CM, "J30.1")]
    assert sorted(tag["code"] for tag in encounter["meta"]["tag"] if tag["system"] == system) == sorted(
        EXAMPLE["labels"]
    )


async def test_every_observation_is_found_by_its_encounter_with_loinc_and_ucum_for_vital_signs(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    fhir = fhir_of(app)
    patient_id = await new_patient(client)
    created = await record(client, **EXAMPLE)
    other = await record(client, symptoms=["cough"])

    found = await observations_of(fhir, created["id"])

    assert len(found) == EXAMPLE_OBSERVATIONS
    assert len(await observations_of(fhir, other["id"])) == 1
    for observation in found:
        assert observation["status"] == "final"
        assert observation["subject"]["reference"] == f"Patient/{patient_id}"
        assert observation["encounter"]["reference"] == f"Encounter/{created['id']}"
        assert instant(observation["effectiveDateTime"]) == instant(EXAMPLE["interaction_date"])

    def codes(observation: dict[str, Any]) -> list[tuple[str, str]]:
        return [(coding["system"], coding["code"]) for coding in observation["code"]["coding"]]

    vital = [obs for obs in found if (LOINC, "75325-1") not in codes(obs) and codes(obs)[0][0] == LOINC]
    assert len(vital) == 6
    single = {codes(obs)[0][1]: obs["valueQuantity"] for obs in vital if "valueQuantity" in obs}
    assert {code: (q["value"], q["system"], q["code"]) for code, q in single.items()} == {
        "8867-4": (72, UCUM, "/min"),
        "8310-5": (36.6, UCUM, "Cel"),
        "2708-6": (98, UCUM, "%"),
        "9279-1": (14, UCUM, "/min"),
        "29463-7": (70.5, UCUM, "kg"),
    }
    for observation in vital:
        assert "vital-signs" in [c["code"] for category in observation["category"] for c in category["coding"]]
    (panel,) = [obs for obs in vital if codes(obs) == [(LOINC, "85354-9")]]
    assert "valueQuantity" not in panel
    assert {
        component["code"]["coding"][0]["code"]: (
            component["valueQuantity"]["value"],
            component["valueQuantity"]["system"],
            component["valueQuantity"]["code"],
        )
        for component in panel["component"]
    } == {"8480-6": (120, UCUM, "mm[Hg]"), "8462-4": (78, UCUM, "mm[Hg]")}

    symptoms = [obs for obs in found if codes(obs) == [(LOINC, "75325-1")]]
    assert sorted(obs["valueCodeableConcept"]["text"] for obs in symptoms) == ["itchy eyes", "sneezing"]
    base = settings.identifier_system_base
    (health,) = [obs for obs in found if codes(obs) == [(f"{base}/CodeSystem/interaction", "health-status")]]
    assert health["valueInteger"] == 7
    (peak_flow,) = [
        obs for obs in found if codes(obs) == [(f"{base}/CodeSystem/interaction-metric", "peak_flow_l_min")]
    ]
    assert peak_flow["valueQuantity"]["value"] == 420


# --- health numbers ----------------------------------------------------------------------


async def test_an_unknown_health_number_is_404_naming_it_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await new_patient(client)

    for insurance_no in (OTHER_BC_PHN, "ZZ123"):
        problem = assert_problem(await client.post("/interactions", json=EXAMPLE | {"insurance_no": insurance_no}), 404)
        assert insurance_no in problem["detail"]
        problem = assert_problem(await client.get("/interactions", params={"insurance_no": insurance_no}), 404)
        assert insurance_no in problem["detail"]

    await assert_nothing_stored(fhir_of(app))


async def test_a_health_number_failing_its_check_digit_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await new_patient(client)

    problem = assert_problem(await client.post("/interactions", json=EXAMPLE | {"insurance_no": BAD_CHECK_DIGIT}), 422)
    assert [error["loc"] for error in problem["errors"]] == [["body", "insurance_no"]]
    assert all(error["msg"] for error in problem["errors"])

    problem = assert_problem(await client.get("/interactions", params={"insurance_no": BAD_CHECK_DIGIT}), 422)
    assert [error["loc"] for error in problem["errors"]] == [["query", "insurance_no"]]

    await assert_nothing_stored(fhir_of(app))


async def test_a_health_number_written_with_spaces_or_hyphens_finds_its_patient(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    spaced = await record(client, insurance_no="9698 658 215")
    hyphenated = await record(client, insurance_no="9698-658-215", interaction_date="2025-03-02T10:30:00-08:00")

    for created in (spaced, hyphenated):
        assert (created["patient_id"], created["insurance_no"]) == (patient_id, BC_PHN)
    page = await listed(client, "/interactions", insurance_no="9698-658 215")
    assert [item["id"] for item in page["items"]] == [hyphenated["id"], spaced["id"]]


# --- validation --------------------------------------------------------------------------

MISSING = object()


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


INVALID: list[tuple[str, dict[str, Any], list[list[Any]]]] = [
    ("missing-insurance_no", {"insurance_no": MISSING}, [["body", "insurance_no"]]),
    ("blank-insurance_no", {"insurance_no": ""}, [["body", "insurance_no"]]),
    ("punctuated-insurance_no", {"insurance_no": "9698/658/215"}, [["body", "insurance_no"]]),
    ("numeric-insurance_no", {"insurance_no": 9698658215}, [["body", "insurance_no"]]),
    ("missing-interaction_date", {"interaction_date": MISSING}, [["body", "interaction_date"]]),
    ("naive-interaction_date", {"interaction_date": "2025-03-01T10:30:00"}, [["body", "interaction_date"]]),
    ("date-only-interaction_date", {"interaction_date": "2025-03-01"}, [["body", "interaction_date"]]),
    ("unix-time-interaction_date", {"interaction_date": 1740853800}, [["body", "interaction_date"]]),
    ("impossible-interaction_date", {"interaction_date": "2025-02-30T10:30:00Z"}, [["body", "interaction_date"]]),
    ("future-interaction_date", {"interaction_date": "future"}, [["body", "interaction_date"]]),
    ("before-1900-interaction_date", {"interaction_date": "1899-12-31T23:59:59Z"}, [["body", "interaction_date"]]),
    (
        "before-1900-utc-interaction_date",
        {"interaction_date": "1900-01-01T00:30:00+01:00"},
        [["body", "interaction_date"]],
    ),
    ("health_status-0", {"health_status": 0}, [["body", "health_status"]]),
    ("health_status-11", {"health_status": 11}, [["body", "health_status"]]),
    ("health_status-text", {"health_status": "7"}, [["body", "health_status"]]),
    ("health_status-fraction", {"health_status": 7.5}, [["body", "health_status"]]),
    ("health_status-boolean", {"health_status": True}, [["body", "health_status"]]),
    ("heart_rate-low", {"metrics": {"heart_rate": 19}}, [["body", "metrics", "heart_rate"]]),
    ("heart_rate-high", {"metrics": {"heart_rate": 251}}, [["body", "metrics", "heart_rate"]]),
    ("respiratory_rate-low", {"metrics": {"respiratory_rate": 3}}, [["body", "metrics", "respiratory_rate"]]),
    ("respiratory_rate-high", {"metrics": {"respiratory_rate": 61}}, [["body", "metrics", "respiratory_rate"]]),
    ("bp_systolic-low", {"metrics": {"bp_systolic": 49}}, [["body", "metrics", "bp_systolic"]]),
    ("bp_systolic-high", {"metrics": {"bp_systolic": 301}}, [["body", "metrics", "bp_systolic"]]),
    ("bp_diastolic-low", {"metrics": {"bp_diastolic": 19}}, [["body", "metrics", "bp_diastolic"]]),
    ("bp_diastolic-high", {"metrics": {"bp_diastolic": 201}}, [["body", "metrics", "bp_diastolic"]]),
    (
        "bp-equal",
        {"metrics": {"bp_systolic": 80, "bp_diastolic": 80}},
        [["body", "metrics", "bp_systolic"], ["body", "metrics", "bp_diastolic"]],
    ),
    (
        "bp-systolic-below",
        {"metrics": {"heart_rate": 70, "bp_diastolic": 90, "bp_systolic": 80}},
        [["body", "metrics", "bp_systolic"], ["body", "metrics", "bp_diastolic"]],
    ),
    ("temperature_c-low", {"metrics": {"temperature_c": 29.9}}, [["body", "metrics", "temperature_c"]]),
    ("temperature_c-high", {"metrics": {"temperature_c": 45.1}}, [["body", "metrics", "temperature_c"]]),
    ("spo2-low", {"metrics": {"spo2": 49}}, [["body", "metrics", "spo2"]]),
    ("spo2-high", {"metrics": {"spo2": 100.5}}, [["body", "metrics", "spo2"]]),
    ("weight_kg-low", {"metrics": {"weight_kg": 0.4}}, [["body", "metrics", "weight_kg"]]),
    ("weight_kg-high", {"metrics": {"weight_kg": 500.1}}, [["body", "metrics", "weight_kg"]]),
    ("height_cm-low", {"metrics": {"height_cm": 29.9}}, [["body", "metrics", "height_cm"]]),
    ("height_cm-high", {"metrics": {"height_cm": 250.1}}, [["body", "metrics", "height_cm"]]),
    ("heart_rate-text", {"metrics": {"heart_rate": "72"}}, [["body", "metrics", "heart_rate"]]),
    ("heart_rate-boolean", {"metrics": {"heart_rate": True}}, [["body", "metrics", "heart_rate"]]),
    ("spo2-percent-text", {"metrics": {"spo2": "98%"}}, [["body", "metrics", "spo2"]]),
    ("weight_kg-null", {"metrics": {"weight_kg": None}}, [["body", "metrics", "weight_kg"]]),
    ("one-of-several-vitals", {"metrics": {"spo2": 98, "heart_rate": 300}}, [["body", "metrics", "heart_rate"]]),
    ("metric-name-space", {"metrics": {"peak flow": 420}}, [["body", "metrics", "peak flow", "[key]"]]),
    ("metric-name-digit-first", {"metrics": {"1st_reading": 1}}, [["body", "metrics", "1st_reading", "[key]"]]),
    ("metric-name-underscore-first", {"metrics": {"_x": 1}}, [["body", "metrics", "_x", "[key]"]]),
    ("metric-name-too-long", {"metrics": {"m" * 65: 1}}, [["body", "metrics", "m" * 65, "[key]"]]),
    ("metric-blank-text", {"metrics": {"note": "   "}}, [["body", "metrics", "note"]]),
    ("metric-null", {"metrics": {"note": None}}, [["body", "metrics", "note"]]),
    ("metric-list", {"metrics": {"note": [1, 2]}}, [["body", "metrics", "note"]]),
    ("metric-object", {"metrics": {"note": {"value": 1}}}, [["body", "metrics", "note"]]),
    ("metric-huge-number", {"metrics": {"count": 1e16}}, [["body", "metrics", "count"]]),
    ("metrics-not-an-object", {"metrics": [["heart_rate", 72]]}, [["body", "metrics"]]),
    ("label-upper-case", {"labels": ["allergy", "Urgent"]}, [["body", "labels", 1]]),
    ("label-double-hyphen", {"labels": ["follow--up"]}, [["body", "labels", 0]]),
    ("label-leading-hyphen", {"labels": ["-urgent"]}, [["body", "labels", 0]]),
    ("label-space", {"labels": ["follow up"]}, [["body", "labels", 0]]),
    ("label-empty", {"labels": [""]}, [["body", "labels", 0]]),
    ("label-repeated", {"labels": ["allergy", "urgent", "allergy"]}, [["body", "labels"]]),
    ("labels-not-a-list", {"labels": "allergy"}, [["body", "labels"]]),
    ("ailment_code-unknown", {"ailment_code": "J99.9"}, [["body", "ailment_code"]]),
    ("ailment_code-range", {"ailment_code": "J30-J39"}, [["body", "ailment_code"]]),
    ("ailment_code-nonsense", {"ailment_code": "allergy"}, [["body", "ailment_code"]]),
    ("ailment_code-empty", {"ailment_code": ""}, [["body", "ailment_code"]]),
    ("ailment-blank", {"ailment": "  "}, [["body", "ailment"]]),
    ("ailment-line-break", {"ailment": "Allergic\nrhinitis"}, [["body", "ailment"]]),
    ("remarks-blank", {"remarks": " \n "}, [["body", "remarks"]]),
    ("symptom-blank", {"symptoms": ["sneezing", " "]}, [["body", "symptoms", 1]]),
    ("symptoms-not-a-list", {"symptoms": "sneezing"}, [["body", "symptoms"]]),
    ("next_step-empty", {"next_steps": [""]}, [["body", "next_steps", 0]]),
    ("qa-without-answer", {"qa": [{"question": "Any fever?"}]}, [["body", "qa", 0, "answer"]]),
    ("qa-blank-question", {"qa": [{"question": " ", "answer": "No"}]}, [["body", "qa", 0, "question"]]),
    ("qa-unknown-field", {"qa": [{"question": "Q?", "answer": "A", "by": "Dr"}]}, [["body", "qa", 0, "by"]]),
    ("unknown-field", {"vitals": {"heart_rate": 72}}, [["body", "vitals"]]),
    ("unknown-id", {"id": "chosen-id"}, [["body", "id"]]),
]


@pytest.mark.parametrize(("overrides", "locations"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
async def test_an_invalid_interaction_is_422_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI, overrides: dict[str, Any], locations: list[list[Any]]
) -> None:
    await new_patient(client)
    body = EXAMPLE | overrides
    if body["interaction_date"] == "future":
        body["interaction_date"] = _future()
    body = {key: value for key, value in body.items() if value is not MISSING}

    problem = assert_problem(await client.post("/interactions", json=body), 422)

    assert [error["loc"] for error in problem["errors"]] == locations
    assert all(error["msg"] for error in problem["errors"])
    await assert_nothing_stored(fhir_of(app))


@pytest.mark.parametrize(
    "body", [b"[]", b'"interaction"', b"null", b"42", b""], ids=["list", "text", "null", "number", "none"]
)
async def test_a_body_that_is_not_an_object_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI, body: bytes
) -> None:
    await new_patient(client)

    response = await client.post("/interactions", content=body, headers={"Content-Type": "application/json"})

    problem = assert_problem(response, 422)

    assert problem["errors"] and all(error["loc"][0] == "body" for error in problem["errors"])
    await assert_nothing_stored(fhir_of(app))


async def test_a_body_that_is_not_json_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await new_patient(client)

    response = await client.post(
        "/interactions", content=b'{"insurance_no": "9698658215", ', headers={"Content-Type": "application/json"}
    )

    assert response.status_code in (400, 422)
    assert_problem(response, response.status_code)
    await assert_nothing_stored(fhir_of(app))


# --- lists -------------------------------------------------------------------------------


async def test_interactions_are_filtered_by_any_of_the_labels(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    await new_patient(client, OTHER_BC_PHN, given="Grace")
    allergy = await record_at(client, "2025-03-01T10:00:00Z", labels=["allergy", "follow-up"])
    asthma = await record_at(client, "2025-03-02T10:00:00Z", labels=["asthma"])
    unlabelled = await record_at(client, "2025-03-03T10:00:00Z")
    await record_at(client, "2025-03-04T10:00:00Z", insurance_no=OTHER_BC_PHN, labels=["allergy", "asthma"])

    assert await listed_ids(client) == [unlabelled, asthma, allergy]
    assert await listed_ids(client, label="allergy") == [allergy]
    assert await listed_ids(client, label="follow-up") == [allergy]
    assert await listed_ids(client, label=["asthma", "follow-up"]) == [asthma, allergy]
    assert await listed_ids(client, label=["allergy", "follow-up"]) == [allergy]
    assert await listed_ids(client, label=["urgent", "asthma"]) == [asthma]

    for url, params in (
        ("/interactions", {"insurance_no": BC_PHN, "label": "urgent"}),
        (f"/patients/{patient_id}/interactions", {"label": ["urgent", "allerg"]}),
    ):
        assert await listed(client, url, **params) == {
            "items": [],
            "total": 0,
            "page": 1,
            "size": 20,
            "next": None,
            "prev": None,
        }


async def test_pages_are_disjoint_cover_every_interaction_and_link_to_each_other(client: httpx.AsyncClient) -> None:
    await new_patient(client)
    ids = [await record_at(client, f"2025-03-0{day}T09:00:00-08:00") for day in range(1, 6)]
    newest_first = ids[::-1]

    first = await listed(client, "/interactions", insurance_no=BC_PHN, size=2)
    assert first["prev"] is None and first["next"] is not None
    second = (await client.get(first["next"])).json()
    third = (await client.get(second["next"])).json()

    pages = (first, second, third)
    assert [(page["page"], page["size"], page["total"]) for page in pages] == [(1, 2, 5), (2, 2, 5), (3, 2, 5)]
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert third["next"] is None
    assert "page=1" in second["prev"] and "size=2" in second["prev"]
    assert (await client.get(second["prev"])).json()["items"] == first["items"]
    assert (await client.get(third["prev"])).json()["items"] == second["items"]
    assert [item["id"] for page in pages for item in page["items"]] == newest_first

    beyond = await listed(client, "/interactions", insurance_no=BC_PHN, size=2, page=9)
    assert (beyond["items"], beyond["total"], beyond["next"]) == ([], 5, None)
    assert "page=3" in beyond["prev"]


async def test_newest_come_first_and_ties_on_one_instant_page_stably(client: httpx.AsyncClient) -> None:
    await new_patient(client)
    older = await record_at(client, "2025-02-28T08:00:00Z")
    # One instant, written with three offsets.
    tied = [
        await record_at(client, when)
        for when in ("2025-03-01T10:30:00-08:00", "2025-03-01T18:30:00Z", "2025-03-01T19:30:00+01:00")
    ]
    newer = await record_at(client, "2025-03-01T18:30:00.001Z")
    listed_once = await listed_ids(client)
    expected = [newer, *listed_once[1:4], older]
    assert listed_once == expected
    # Ties by id: as text, or as numbers where a server assigns numeric ids (shorter first).
    assert listed_once[1:4] in (sorted(tied), sorted(tied, key=lambda tied_id: (len(tied_id), tied_id)))

    async def sweep(size: int) -> list[str]:
        return [
            item["id"]
            for page in range(1, 6)
            for item in (await listed(client, "/interactions", insurance_no=BC_PHN, size=size, page=page))["items"]
        ]

    assert await sweep(1) == expected
    assert await sweep(1) == expected
    assert await sweep(2) == expected


async def test_from_and_to_dates_are_whole_utc_days(client: httpx.AsyncClient) -> None:
    await new_patient(client)
    feb_28 = await record_at(client, "2025-02-28T23:59:59Z")
    mar_1_start = await record_at(client, "2025-03-01T00:00:00Z")
    mar_1_noon = await record_at(client, "2025-03-01T12:00:00Z")
    # 23:30 in Vancouver on 1 March is 07:30 UTC on 2 March.
    mar_2_by_utc = await record_at(client, "2025-03-01T23:30:00-08:00")
    mar_3 = await record_at(client, "2025-03-03T00:00:00Z")

    assert await listed_ids(client, **{"from": "2025-03-01", "to": "2025-03-01"}) == [mar_1_noon, mar_1_start]
    assert await listed_ids(client, **{"from": "2025-03-02", "to": "2025-03-02"}) == [mar_2_by_utc]
    assert await listed_ids(client, to="2025-03-01") == [mar_1_noon, mar_1_start, feb_28]
    assert await listed_ids(client, to="2025-02-28") == [feb_28]
    assert await listed_ids(client, **{"from": "2025-03-02"}) == [mar_3, mar_2_by_utc]
    assert await listed_ids(client, **{"from": "2025-03-03"}) == [mar_3]
    assert await listed_ids(client, **{"from": "2025-03-04"}) == []


async def test_from_and_to_instants_are_exact_inclusive_bounds(client: httpx.AsyncClient) -> None:
    await new_patient(client)
    early = await record_at(client, "2025-03-01T00:00:00Z")
    noon = await record_at(client, "2025-03-01T12:00:00Z")
    evening = await record_at(client, "2025-03-01T23:30:00-08:00")

    assert await listed_ids(client, **{"from": "2025-03-01T12:00:00Z"}) == [evening, noon]
    assert await listed_ids(client, **{"from": "2025-03-01T12:00:00.001Z"}) == [evening]
    assert await listed_ids(client, to="2025-03-01T12:00:00Z") == [noon, early]
    assert await listed_ids(client, to="2025-03-01T11:59:59.999Z") == [early]
    assert await listed_ids(client, **{"from": "2025-03-01T12:00:00Z", "to": "2025-03-01T12:00:00Z"}) == [noon]
    # The same instant with other offsets.
    assert await listed_ids(client, **{"from": "2025-03-01T23:30:00-08:00", "to": "2025-03-02T07:30:00Z"}) == [evening]
    assert await listed_ids(client, **{"from": "2025-03-01T13:00:00+01:00", "to": "2025-03-01T07:00:00-05:00"}) == [
        noon
    ]
    assert await listed_ids(client, **{"from": "2025-03-01T12:00:01Z", "to": "2025-03-02T07:29:59Z"}) == []


@pytest.mark.parametrize(
    ("params", "location"),
    [
        ({"from": "2025-13-01"}, ["query", "from"]),
        ({"from": "yesterday"}, ["query", "from"]),
        ({"from": "2025-03-01T10:00:00"}, ["query", "from"]),
        ({"to": "2025-03-32"}, ["query", "to"]),
        ({"to": "1740853800"}, ["query", "to"]),
        ({"label": "Allergy"}, ["query", "label", 0]),
        ({"label": ["allergy", "follow up"]}, ["query", "label", 1]),
        ({"size": "0"}, ["query", "size"]),
        ({"size": "101"}, ["query", "size"]),
        ({"page": "0"}, ["query", "page"]),
        ({"sort": "date"}, ["query", "sort"]),
    ],
)
async def test_a_bad_list_query_is_422_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, Any], location: list[Any]
) -> None:
    patient_id = await new_patient(client)
    await record(client)

    for url, query in (
        ("/interactions", {"insurance_no": BC_PHN, **params}),
        (f"/patients/{patient_id}/interactions", params),
    ):
        problem = assert_problem(await client.get(url, params=query), 422)
        assert [error["loc"] for error in problem["errors"]] == [location]


async def test_a_list_without_insurance_no_is_422(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get("/interactions"), 422)

    assert [error["loc"] for error in problem["errors"]] == [["query", "insurance_no"]]


async def test_the_list_by_patient_id_is_the_list_by_health_number(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    await new_patient(client, OTHER_BC_PHN, given="Grace")
    await record_at(client, "2025-03-03T10:00:00Z", insurance_no=OTHER_BC_PHN, labels=["allergy"])
    for day, labels in ((1, ["allergy"]), (2, []), (3, ["asthma", "allergy"]), (4, ["asthma"])):
        await record(client, **(EXAMPLE | {"interaction_date": f"2025-03-0{day}T10:00:00Z", "labels": labels}))

    for params in (
        {},
        {"label": "allergy"},
        {"label": ["asthma", "allergy"], "size": 2, "page": 2},
        {"from": "2025-03-02", "to": "2025-03-03T10:00:00Z"},
        {"size": 3},
        {"label": "urgent"},
    ):
        by_number = await listed(client, "/interactions", insurance_no=BC_PHN, **params)
        by_id = await listed(client, f"/patients/{patient_id}/interactions", **params)
        keys = ("items", "total", "page", "size")
        assert typed({key: by_id[key] for key in keys}) == typed({key: by_number[key] for key in keys}), params
        assert all(item["patient_id"] == patient_id for item in by_id["items"])
        for link in ("next", "prev"):
            assert (by_id[link] is None) == (by_number[link] is None)
            if by_id[link] is not None:
                assert (await client.get(by_id[link])).json()["items"] == (await client.get(by_number[link])).json()[
                    "items"
                ]

    everything = await listed(client, f"/patients/{patient_id}/interactions")
    assert everything["total"] == 4
    assert [instant(item["interaction_date"]).day for item in everything["items"]] == [4, 3, 2, 1]


async def test_the_interactions_of_an_unknown_patient_are_404(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get("/patients/no-such-patient/interactions"), 404)

    assert "no-such-patient" in problem["detail"]


async def test_a_patient_without_interactions_has_an_empty_page(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)
    await new_patient(client, OTHER_BC_PHN, given="Grace")
    await record(client, insurance_no=OTHER_BC_PHN)
    empty = {"items": [], "total": 0, "page": 1, "size": 20, "next": None, "prev": None}

    assert await listed(client, f"/patients/{patient_id}/interactions") == empty
    assert await listed(client, "/interactions", insurance_no=BC_PHN) == empty


# --- read --------------------------------------------------------------------------------


async def test_an_unknown_interaction_is_404(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get("/interactions/no-such-interaction"), 404)

    assert "no-such-interaction" in problem["detail"]


@pytest.mark.parametrize("interaction_id", ["a" * 65, "bad_id", "b%20c"])
async def test_a_malformed_interaction_id_is_422(client: httpx.AsyncClient, interaction_id: str) -> None:
    for response in (
        await client.get(f"/interactions/{interaction_id}"),
        await client.delete(f"/interactions/{interaction_id}"),
    ):
        problem = assert_problem(response, 422)
        assert [error["loc"] for error in problem["errors"]] == [["path", "interaction_id"]]


async def test_an_encounter_of_no_patient_is_no_interaction(client: httpx.AsyncClient, app: FastAPI) -> None:
    fhir = fhir_of(app)
    encounter = await fhir.create(
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        }
    )

    assert_problem(await client.get(f"/interactions/{encounter['id']}"), 404)
    assert_problem(await client.delete(f"/interactions/{encounter['id']}"), 404)
    assert await exists(fhir, "Encounter", encounter["id"])


# --- delete ------------------------------------------------------------------------------


async def test_delete_removes_the_encounter_and_its_observations(client: httpx.AsyncClient, app: FastAPI) -> None:
    fhir = fhir_of(app)
    await new_patient(client)
    created = await record(client, **EXAMPLE)
    kept = await record(client, **(EXAMPLE | {"interaction_date": "2025-03-02T10:30:00-08:00"}))
    observation_ids = [observation["id"] for observation in await observations_of(fhir, created["id"])]
    assert len(observation_ids) == EXAMPLE_OBSERVATIONS

    response = await client.delete(f"/interactions/{created['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": created["id"],
        "deleted": {"Encounter": 1, "Observation": EXAMPLE_OBSERVATIONS},
    }
    assert await observations_of(fhir, created["id"]) == []
    for observation_id in observation_ids:
        assert not await exists(fhir, "Observation", observation_id)
    assert not await exists(fhir, "Encounter", created["id"])
    assert_gone(await client.get(f"/interactions/{created['id']}"))
    assert_gone(await client.delete(f"/interactions/{created['id']}"))
    assert await listed_ids(client) == [kept["id"]]
    assert len(await observations_of(fhir, kept["id"])) == EXAMPLE_OBSERVATIONS
    assert (await client.get(f"/interactions/{kept['id']}")).json() == kept


async def test_an_interaction_without_observations_deletes_alone(client: httpx.AsyncClient, app: FastAPI) -> None:
    await new_patient(client)
    created = await record(client)

    response = await client.delete(f"/interactions/{created['id']}")

    assert response.status_code == 200, response.text
    assert response.json() == {"id": created["id"], "deleted": {"Encounter": 1, "Observation": 0}}
    assert not await exists(fhir_of(app), "Encounter", created["id"])


async def test_a_stale_if_match_is_412_and_nothing_is_deleted(client: httpx.AsyncClient, app: FastAPI) -> None:
    fhir = fhir_of(app)
    await new_patient(client)
    response = await client.post("/interactions", json=EXAMPLE)
    created = response.json()
    etag = response.headers["etag"]

    problem = assert_problem(await client.delete(f"/interactions/{created['id']}", headers={"If-Match": 'W/"7"'}), 412)

    assert f"version {created['version']}" in problem["detail"]
    assert await exists(fhir, "Encounter", created["id"])
    assert len(await observations_of(fhir, created["id"])) == EXAMPLE_OBSERVATIONS
    assert (await client.get(f"/interactions/{created['id']}")).json() == created

    deleted = await client.delete(f"/interactions/{created['id']}", headers={"If-Match": etag})

    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"] == {"Encounter": 1, "Observation": EXAMPLE_OBSERVATIONS}
    await assert_nothing_stored(fhir)


async def test_a_malformed_if_match_is_400_and_nothing_is_deleted(client: httpx.AsyncClient, app: FastAPI) -> None:
    await new_patient(client)
    created = await record(client, **EXAMPLE)

    assert_problem(await client.delete(f"/interactions/{created['id']}", headers={"If-Match": "yesterday"}), 400)

    assert await exists(fhir_of(app), "Encounter", created["id"])
    assert len(await observations_of(fhir_of(app), created["id"])) == EXAMPLE_OBSERVATIONS


async def test_delete_of_an_unknown_interaction_is_404(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.delete("/interactions/no-such-interaction"), 404)

    assert "no-such-interaction" in problem["detail"]


# --- the patient's delete ----------------------------------------------------------------


async def test_deleting_the_patient_removes_their_interactions_and_observations(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    fhir = fhir_of(app)
    patient_id = await new_patient(client)
    first = await record(client, **EXAMPLE)
    second = await record(client, interaction_date="2025-03-05T09:00:00Z", symptoms=["cough"], health_status=5)
    observation_ids = [obs["id"] for made in (first, second) for obs in await observations_of(fhir, made["id"])]
    assert len(observation_ids) == EXAMPLE_OBSERVATIONS + 2
    await new_patient(client, OTHER_BC_PHN, given="Grace")
    kept = await record(client, **(EXAMPLE | {"insurance_no": OTHER_BC_PHN}))

    response = await client.delete(f"/patients/{patient_id}")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": patient_id,
        "deleted": {"Patient": 1, "Encounter": 2, "Observation": EXAMPLE_OBSERVATIONS + 2},
    }
    assert await matches(fhir, "Encounter", [("subject", f"Patient/{patient_id}")]) == []
    assert await matches(fhir, "Observation", [("subject", f"Patient/{patient_id}")]) == []
    for made in (first, second):
        assert not await exists(fhir, "Encounter", made["id"])
        assert_gone(await client.get(f"/interactions/{made['id']}"))
    for observation_id in observation_ids:
        assert not await exists(fhir, "Observation", observation_id)
    assert_problem(await client.get("/interactions", params={"insurance_no": BC_PHN}), 404)
    assert_problem(await client.post("/interactions", json=EXAMPLE), 404)
    assert_gone(await client.get(f"/patients/{patient_id}/interactions"))
    assert (await client.get(f"/interactions/{kept['id']}")).json() == kept
    assert len(await observations_of(fhir, kept["id"])) == EXAMPLE_OBSERVATIONS
