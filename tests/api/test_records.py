"""`POST /api/generate/records` without a language model: the ICD-10-CM codes read from the
messages (checked against the release, normalised, each once), the CPT codes checked for
their shape only, the offline record built from the codes' descriptions, and the record
kept as a patient's note when a `patient_id` is given. Through the public API, on whichever
FHIR server runs (the FHIR client of the app only checks that nothing was stored)."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fhir_gateway.fhir_client import FhirClient
from tests.api.checks import assert_problem

pytestmark = pytest.mark.anyio

URL = "/api/generate/records"
SEED: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "J30.1"}],
    "cpt_codes": ["99213"],
}
ANSWER_KEYS = {"record", "codes", "generator", "note", "warnings"}
LABEL = "SYNTHETIC RECORD"
SECTIONS = ("Visit Summary", "History and Physical", "Assessment & Plan", "Prescriptions", "Follow-Up")
NOTE_TYPES = {"admission", "progress", "consult", "discharge", "nursing", "history-and-physical", "other"}
AUTHOR = "Synthetic record generator"
DESCRIPTIONS = {
    "J30.1": "Allergic rhinitis due to pollen",
    "I10": "Essential (primary) hypertension",
    "E11.9": "Type 2 diabetes mellitus without complications",
    "J45.909": "Unspecified asthma, uncomplicated",
    "J18.9": "Pneumonia, unspecified organism",
}
# The AMA's words for 99213, which the gateway does not ship.
CPT_99213_WORDS = ("office or other outpatient visit", "established patient", "medical decision making")


def body(*contents: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content} for content in contents], **extra}


async def generate(client: httpx.AsyncClient, request: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(URL, json=request)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert set(answer) == ANSWER_KEYS
    return answer


def icd(*codes: str) -> list[dict[str, str]]:
    return [{"code": code, "description": DESCRIPTIONS[code]} for code in codes]


def section_lines(record: str) -> list[int]:
    """Where each section title stands as a line of its own."""
    lines = record.splitlines()
    return [lines.index(title) for title in SECTIONS]


async def new_patient(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/patients", json={"given_name": "Maria", "family_name": "Okafor", "birth_date": "1961-04-17"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def stored_documents(app: FastAPI) -> list[dict[str, Any]]:
    fhir: FhirClient = app.state.fhir_client
    bundle = await fhir.search("DocumentReference", [("_count", "100")])
    return [
        entry["resource"]
        for entry in bundle.get("entry") or []
        if (entry.get("search") or {}).get("mode", "match") == "match"
    ]


def error_locs(problem: dict[str, Any]) -> list[list[str | int]]:
    return [error["loc"] for error in problem["errors"]]


# --- the seed example and the offline record -----------------------------------------------


async def test_the_seed_example_is_an_offline_record_of_its_codes(client: httpx.AsyncClient) -> None:
    answer = await generate(client, SEED)

    assert answer["codes"] == {
        "icd10cm": [{"code": "J30.1", "description": "Allergic rhinitis due to pollen"}],
        "cpt": [{"code": "99213", "category": "I"}],
    }
    assert answer["generator"] == {"kind": "offline", "model": None, "prompt": None}
    assert answer["note"] is None
    assert answer["warnings"] == []
    record = answer["record"]
    assert record.splitlines()[0].startswith(LABEL)
    positions = section_lines(record)
    assert positions == sorted(positions)
    assert len(set(positions)) == len(SECTIONS)
    assert "Allergic rhinitis due to pollen" in record
    assert "J30.1" in record
    assert "99213" in record


async def test_the_offline_record_is_labelled_before_its_first_section(client: httpx.AsyncClient) -> None:
    record = (await generate(client, SEED))["record"]

    assert record.index(LABEL) < record.index(SECTIONS[0])
    assert record.count(LABEL) == 1


async def test_the_offline_record_is_the_same_for_the_same_codes(client: httpx.AsyncClient) -> None:
    request = body("Seen for J30.1 and I10 today", cpt_codes=["99213", "3074F"])

    first = await generate(client, request)
    second = await generate(client, request)
    # The same codes written differently are the same codes.
    third = await generate(client, body("j30.1, i10", cpt_codes="99213 3074F"))

    assert first["record"] == second["record"] == third["record"]
    assert first["codes"] == second["codes"] == third["codes"]


async def test_other_codes_give_another_record(client: httpx.AsyncClient) -> None:
    pollen = await generate(client, body("J30.1"))
    asthma = await generate(client, body("J45.909"))

    assert pollen["record"] != asthma["record"]
    assert "Unspecified asthma, uncomplicated" in asthma["record"]
    assert "Allergic rhinitis due to pollen" not in asthma["record"]


# --- ICD-10-CM codes read from the messages ------------------------------------------------


async def test_several_codes_in_one_message_are_read_in_order(client: httpx.AsyncClient) -> None:
    answer = await generate(
        client, body("Allergic rhinitis (J30.1); hypertension I10, and type 2 diabetes E11.9 without complications")
    )

    assert answer["codes"]["icd10cm"] == icd("J30.1", "I10", "E11.9")
    record = answer["record"]
    for description in (DESCRIPTIONS["J30.1"], DESCRIPTIONS["I10"], DESCRIPTIONS["E11.9"]):
        assert description in record
    # The first code is the main diagnosis; the others follow it.
    assert record.index(DESCRIPTIONS["J30.1"]) < record.index(DESCRIPTIONS["I10"])


async def test_codes_across_messages_are_read_in_order_each_once(client: httpx.AsyncClient) -> None:
    answer = await generate(
        client,
        {
            "messages": [
                {"role": "system", "content": "Codes follow: J30.1 and I10."},
                {"role": "user", "content": "Also i10 again, then E11.9"},
                {"role": "user", "content": "and J30.1 once more, J18.9 last."},
            ]
        },
    )

    assert answer["codes"]["icd10cm"] == icd("J30.1", "I10", "E11.9", "J18.9")


@pytest.mark.parametrize("written", ["J30.1", "j30.1", "J301", "j301", "  j30.1  "])
async def test_a_code_in_lower_case_or_without_its_dot_is_normalised(client: httpx.AsyncClient, written: str) -> None:
    answer = await generate(client, body(written))

    assert answer["codes"]["icd10cm"] == icd("J30.1")


async def test_dotless_and_dotted_forms_of_one_code_are_one_code_where_first_written(
    client: httpx.AsyncClient,
) -> None:
    answer = await generate(client, body("e119 first, then J30.1, E11.9 and E119"))

    assert answer["codes"]["icd10cm"] == icd("E11.9", "J30.1")


async def test_a_code_ending_a_sentence_is_read(client: httpx.AsyncClient) -> None:
    answer = await generate(client, body("The patient was seen for J30.1."))

    assert answer["codes"]["icd10cm"] == icd("J30.1")


async def test_an_unknown_code_is_422_at_its_message_content(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.post(URL, json=body("J30.99")), 422)

    assert error_locs(problem) == [["body", "messages", 0, "content"]]
    assert "J30.99" in problem["errors"][0]["msg"]


async def test_each_unknown_code_is_one_error_at_its_own_message(client: httpx.AsyncClient) -> None:
    problem = assert_problem(
        await client.post(URL, json=body("J30.1 with J30.99 and U99.9", "nothing coded here", "I10 and Q99.99")),
        422,
    )

    assert error_locs(problem) == [
        ["body", "messages", 0, "content"],
        ["body", "messages", 0, "content"],
        ["body", "messages", 2, "content"],
    ]
    for error, code in zip(problem["errors"], ("J30.99", "U99.9", "Q99.99"), strict=True):
        assert code in error["msg"]


@pytest.mark.parametrize(
    "contents",
    [
        ("no codes at all",),
        ("allergic rhinitis", "hypertension"),
        # A1C is a lab test, not a code.
        ("A1C 7.2%",),
    ],
)
async def test_messages_without_any_code_are_422_at_the_messages(
    client: httpx.AsyncClient, contents: tuple[str, ...]
) -> None:
    problem = assert_problem(await client.post(URL, json=body(*contents)), 422)

    assert error_locs(problem) == [["body", "messages"]]
    assert problem["errors"][0]["msg"]


# --- CPT codes ------------------------------------------------------------------------------


async def test_cpt_codes_are_passed_through_with_their_category_and_no_description(
    client: httpx.AsyncClient,
) -> None:
    answer = await generate(client, body("J30.1", cpt_codes=["99213", "3074F", "0042T"]))

    assert answer["codes"]["cpt"] == [
        {"code": "99213", "category": "I"},
        {"code": "3074F", "category": "II"},
        {"code": "0042T", "category": "III"},
    ]
    record = answer["record"]
    for code in ("99213", "3074F", "0042T"):
        assert code in record
    lowered = record.lower()
    assert not [words for words in CPT_99213_WORDS if words in lowered]


@pytest.mark.parametrize(
    ("cpt_codes", "expected"),
    [
        ("99213", [("99213", "I")]),
        ("99213,3074F 0042T", [("99213", "I"), ("3074F", "II"), ("0042T", "III")]),
        (" 99213 , 99214,  ", [("99213", "I"), ("99214", "I")]),
        ("", []),
        ([], []),
    ],
)
async def test_cpt_codes_may_be_one_string(
    client: httpx.AsyncClient, cpt_codes: str | list[str], expected: list[tuple[str, str]]
) -> None:
    answer = await generate(client, body("J30.1", cpt_codes=cpt_codes))

    assert answer["codes"]["cpt"] == [{"code": code, "category": category} for code, category in expected]


async def test_without_cpt_codes_the_record_names_none(client: httpx.AsyncClient) -> None:
    answer = await generate(client, body("J30.1"))

    assert answer["codes"]["cpt"] == []
    assert "CPT" not in answer["record"]


@pytest.mark.parametrize(
    ("cpt_codes", "wrong"),
    [
        (["9921"], [0]),
        (["99213", "9921", "1234X", "12345F", "3074f", "A1234"], [1, 2, 3, 4, 5]),
        (["99213", "0042T", "123456"], [2]),
        ("9921", [0]),
        ("99213, 9921 3074F 3074X", [1, 3]),
    ],
)
async def test_a_cpt_code_of_the_wrong_shape_is_422_at_its_index(
    client: httpx.AsyncClient, cpt_codes: str | list[str], wrong: list[int]
) -> None:
    problem = assert_problem(await client.post(URL, json=body("J30.1", cpt_codes=cpt_codes)), 422)

    assert error_locs(problem) == [["body", "cpt_codes", index] for index in wrong]
    assert all(error["msg"] for error in problem["errors"])


async def test_wrong_icd_and_cpt_codes_are_reported_together(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.post(URL, json=body("J30.99", cpt_codes=["99213", "9921"])), 422)

    assert sorted(map(str, error_locs(problem))) == sorted(
        map(str, [["body", "messages", 0, "content"], ["body", "cpt_codes", 1]])
    )


# --- kept as a patient's note --------------------------------------------------------------


async def test_a_patient_id_keeps_the_record_as_that_patients_note(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    answer = await generate(client, SEED | {"patient_id": patient_id})

    note = answer["note"]
    assert set(note) == {"id", "patient_id", "note_type"}
    assert note["patient_id"] == patient_id
    assert note["note_type"] in NOTE_TYPES
    response = await client.get(f"/patients/{patient_id}/notes/{note['id']}")
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["text"] == answer["record"]
    assert stored["author"] == AUTHOR
    assert stored["note_type"] == note["note_type"]
    assert stored["patient_id"] == patient_id
    listed = (await client.get(f"/patients/{patient_id}/notes")).json()
    assert [item["id"] for item in listed["items"]] == [note["id"]]


async def test_each_record_kept_is_a_note_of_its_own(client: httpx.AsyncClient) -> None:
    patient_id = await new_patient(client)

    first = await generate(client, body("J30.1", patient_id=patient_id))
    second = await generate(client, body("I10", patient_id=patient_id))

    assert first["note"]["id"] != second["note"]["id"]
    listed = (await client.get(f"/patients/{patient_id}/notes")).json()
    assert listed["total"] == 2
    texts = {
        (await client.get(f"/patients/{patient_id}/notes/{note_id}")).json()["text"]
        for note_id in (first["note"]["id"], second["note"]["id"])
    }
    assert texts == {first["record"], second["record"]}


async def test_an_unknown_patient_is_404_and_nothing_is_stored(client: httpx.AsyncClient, app: FastAPI) -> None:
    problem = assert_problem(await client.post(URL, json=SEED | {"patient_id": "nobody"}), 404)

    assert "nobody" in problem["detail"]
    assert await stored_documents(app) == []


async def test_a_deleted_patient_is_410_and_nothing_is_stored(client: httpx.AsyncClient, app: FastAPI) -> None:
    patient_id = await new_patient(client)
    assert (await client.delete(f"/patients/{patient_id}")).status_code == 200

    assert_problem(await client.post(URL, json=SEED | {"patient_id": patient_id}), 410)

    assert await stored_documents(app) == []


async def test_codes_are_checked_before_the_patient(client: httpx.AsyncClient, app: FastAPI) -> None:
    problem = assert_problem(await client.post(URL, json=body("J30.99", patient_id="nobody")), 422)

    assert error_locs(problem) == [["body", "messages", 0, "content"]]
    assert await stored_documents(app) == []


async def test_without_a_patient_id_nothing_is_stored(client: httpx.AsyncClient, app: FastAPI) -> None:
    await new_patient(client)

    answer = await generate(client, SEED)

    assert answer["note"] is None
    assert await stored_documents(app) == []


# --- bad bodies ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_body", "loc"),
    [
        ({}, ["body", "messages"]),
        ({"cpt_codes": ["99213"]}, ["body", "messages"]),
        ({"messages": []}, ["body", "messages"]),
        (SEED | {"temperature": 0.5}, ["body", "temperature"]),
        ({"messages": [{"role": "user", "content": "J30.1", "name": "x"}]}, ["body", "messages", 0, "name"]),
        ({"messages": [{"role": "user"}]}, ["body", "messages", 0, "content"]),
        ({"messages": "J30.1"}, ["body", "messages"]),
        ({"messages": [{"content": "J30.1"}] * 21}, ["body", "messages"]),
        (body("J30.1", cpt_codes=["99213"] * 21), ["body", "cpt_codes"]),
        (body("J30.1", cpt_codes=99213), ["body", "cpt_codes"]),
        (body("J30.1", patient_id="not an id!"), ["body", "patient_id"]),
    ],
)
async def test_a_bad_body_is_422_naming_the_field(
    client: httpx.AsyncClient, request_body: dict[str, Any], loc: list[str | int]
) -> None:
    problem = assert_problem(await client.post(URL, json=request_body), 422)

    locs = error_locs(problem)
    assert locs
    assert all(found[: len(loc)] == loc for found in locs), locs


@pytest.mark.parametrize(
    ("request_body", "loc"),
    [
        ({"messages": [{"role": "user", "content": "   \n "}]}, ["body", "messages", 0, "content"]),
        ({"messages": [{"role": "", "content": "J30.1"}]}, ["body", "messages", 0, "role"]),
        (body("J30.1", model=""), ["body", "model"]),
        (body("J30.1", model="   "), ["body", "model"]),
    ],
    ids=["blank content", "empty role", "empty model", "blank model"],
)
async def test_blank_text_the_schema_forbids_is_422_at_its_field(
    client: httpx.AsyncClient, request_body: dict[str, Any], loc: list[str | int]
) -> None:
    # The OpenAPI schema gives role, content and model a pattern that needs one character
    # that is not white space.
    problem = assert_problem(await client.post(URL, json=request_body), 422)

    assert error_locs(problem) == [loc]


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, content=b'{"messages": ', headers={"Content-Type": "application/json"})

    assert_problem(response, 400)


async def test_a_body_sent_as_text_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, content=b"J30.1", headers={"Content-Type": "text/plain"})

    # 415 as the patients API answers, or 422 for a body that is no object.
    assert response.status_code in (415, 422), response.text
    assert_problem(response, response.status_code)


async def test_a_body_that_is_a_json_list_is_422(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.post(URL, json=[SEED]), 422)

    assert problem["errors"]


async def test_only_post_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)

    problem = assert_problem(response, 405)
    assert "POST" in response.headers["allow"].split(", ")
    assert "GET" not in response.headers["allow"]
    assert "POST" in problem["detail"]


async def test_an_unknown_code_written_without_its_dot_is_422_too(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.post(URL, json=body("J30.1 and Z9999")), 422)

    assert error_locs(problem) == [["body", "messages", 0, "content"]]
    assert "Z9999" in problem["errors"][0]["msg"]


async def test_a_three_character_word_of_a_code_s_shape_is_prose_unless_it_is_a_code(client: httpx.AsyncClient) -> None:
    answer = await generate(client, body("Vitamin B12 low; A1C pending; J30.1"))

    assert [code["code"] for code in answer["codes"]["icd10cm"]] == ["J30.1"]
