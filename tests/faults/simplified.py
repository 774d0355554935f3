"""The write paths of the simplified API, each with the FHIR request a fault aims at."""

from random import Random
from typing import Any

import httpx

from fhir_gateway.fhir_client import FhirClient, FhirGone
from fhir_gateway.fhir_client.retry import Repetition
from generators.identifiers import HealthNumbers
from tests.faults.injection import method_on, transactions
from tests.faults.paths import Context, State, WritePath, everything, whole_or_nothing

TAKEN_AT = "2025-02-04T21:00:00-08:00"
# Three vital signs, each stored as an Observation derived from the note.
NOTE_TEXT = "Nursing note: ambulated twice in the hallway.\nHR 88, SpO2 97% on room air, temperature 36.8 C.\n"
NOTE_VITALS = 3
# The Encounter, then 6 Observations: the health status, 2 symptoms, 3 metrics.
INTERACTION_OBSERVATIONS = 6


def health_number(subject: int) -> str:
    """A valid BC health number of its own for each subject of a test."""
    return HealthNumbers("BC", Random(subject))()


def patient_body(subject: int, **fields: Any) -> dict[str, Any]:
    return {
        "given_name": "Ada",
        "family_name": f"Faults{subject}",
        "birth_date": "1980-12-10",
        "province": "BC",
        "insurance_no": health_number(subject),
        "phone": "+1 604 555 0100",
        **fields,
    }


def interaction_body(insurance_no: str) -> dict[str, Any]:
    return {
        "insurance_no": insurance_no,
        "interaction_date": "2025-03-01T10:30:00-08:00",
        "ailment": "Allergic rhinitis",
        "ailment_code": "J30.1",
        "symptoms": ["sneezing", "itchy eyes"],
        "metrics": {"heart_rate": 72, "temperature_c": 36.6, "peak_flow_l_min": 420},
        "health_status": 7,
    }


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _with_patient(client: httpx.AsyncClient, subject: int) -> Context:
    patient = await _created(await client.post("/patients", json=patient_body(subject)))
    return {"subject": subject, "patient": patient, "patient_id": patient["id"]}


async def _with_note(client: httpx.AsyncClient, subject: int) -> Context:
    context = await _with_patient(client, subject)
    note = {"taken_at": TAKEN_AT, "content": NOTE_TEXT}
    context["note"] = await _created(await client.post(f"/patients/{context['patient_id']}/notes", json=note))
    return context


async def _with_interaction(client: httpx.AsyncClient, subject: int) -> Context:
    context = await _with_patient(client, subject)
    body = interaction_body(context["patient"]["insurance_no"])
    context["interaction"] = await _created(await client.post("/interactions", json=body))
    return context


async def _of_patient(store: FhirClient, resource_type: str, patient_id: str) -> list[dict[str, Any]]:
    return await everything(store, resource_type, [("subject", f"Patient/{patient_id}")])


async def _records(store: FhirClient, patient_id: str) -> dict[str, int]:
    return {
        resource_type: len(await _of_patient(store, resource_type, patient_id))
        for resource_type in ("DocumentReference", "Encounter", "Observation")
    }


# -- patients --------------------------------------------------------------------------------


async def _nothing(client: httpx.AsyncClient, subject: int) -> Context:
    return {"subject": subject}


async def _create_patient(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    return await client.post("/patients", json=patient_body(context["subject"]))


async def _create_patient_without_number(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    body = patient_body(context["subject"], province=None, insurance_no=None)
    return await client.post("/patients", json=body)


async def _patients_named(store: FhirClient, context: Context) -> State:
    family = patient_body(context["subject"])["family_name"]
    holders = await everything(store, "Patient", [("family", family)])
    return whole_or_nothing({"Patient": len(holders)}, {"Patient": 1}, {"Patient": 0})


def _replace(*, if_match: bool) -> Any:
    async def act(client: httpx.AsyncClient, context: Context) -> httpx.Response:
        headers = {"If-Match": f'W/"{context["patient"]["version"]}"'} if if_match else {}
        body = patient_body(context["subject"], phone="+1 604 555 0199")
        return await client.put(f"/patients/{context['patient_id']}", json=body, headers=headers)

    return act


async def _phone(store: FhirClient, context: Context) -> State:
    stored = await store.read("Patient", context["patient_id"])
    phones = [item["value"] for item in stored.get("telecom") or [] if item.get("system") == "phone"]
    family = patient_body(context["subject"])["family_name"]
    counts = {"Patient": len(await everything(store, "Patient", [("family", family)])), "phones": len(phones)}
    if counts == {"Patient": 1, "phones": 1}:
        return "done" if phones == ["+1 604 555 0199"] else "untouched"
    raise AssertionError(f"one patient with one phone expected; the store holds {counts}")


async def _delete_patient(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    return await client.delete(f"/patients/{context['patient_id']}")


async def _patient_and_records(store: FhirClient, context: Context) -> State:
    patient_id = context["patient_id"]
    try:
        await store.read("Patient", patient_id)
        counts = {"Patient": 1}
    except FhirGone:
        counts = {"Patient": 0}
    counts |= await _records(store, patient_id)
    untouched = {"Patient": 1, "DocumentReference": 1, "Encounter": 1, "Observation": NOTE_VITALS + 6}
    done = dict.fromkeys(untouched, 0)
    return whole_or_nothing(counts, done, untouched)


async def _with_note_and_interaction(client: httpx.AsyncClient, subject: int) -> Context:
    context = await _with_note(client, subject)
    body = interaction_body(context["patient"]["insurance_no"])
    context["interaction"] = await _created(await client.post("/interactions", json=body))
    return context


# -- notes -----------------------------------------------------------------------------------


async def _add_note(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    note = {"taken_at": TAKEN_AT, "content": NOTE_TEXT}
    return await client.post(f"/patients/{context['patient_id']}/notes", json=note)


async def _upload_note(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    return await client.post(
        f"/patients/{context['patient_id']}/notes",
        files={"file": ("note.txt", NOTE_TEXT.encode(), "text/plain")},
        data={"taken_at": TAKEN_AT},
    )


async def _notes(store: FhirClient, context: Context) -> State:
    records = await _records(store, context["patient_id"])
    documents = await _of_patient(store, "DocumentReference", context["patient_id"])
    derived = {
        str((observation.get("derivedFrom") or [{}])[0].get("reference"))
        for observation in await _of_patient(store, "Observation", context["patient_id"])
    }
    if len(documents) == 1:
        assert derived <= {f"DocumentReference/{documents[0]['id']}"}, derived
    expected = {"DocumentReference": 1, "Encounter": 0, "Observation": context.get("vitals", NOTE_VITALS)}
    return whole_or_nothing(records, expected, dict.fromkeys(expected, 0))


async def _delete_note(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    return await client.delete(f"/patients/{context['patient_id']}/notes/{context['note']['id']}")


async def _note_left(store: FhirClient, context: Context) -> State:
    records = await _records(store, context["patient_id"])
    untouched = {"DocumentReference": 1, "Encounter": 0, "Observation": NOTE_VITALS}
    return whole_or_nothing(records, dict.fromkeys(untouched, 0), untouched)


# -- interactions ----------------------------------------------------------------------------


async def _record_interaction(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    return await client.post("/interactions", json=interaction_body(context["patient"]["insurance_no"]))


async def _interactions(store: FhirClient, context: Context) -> State:
    records = await _records(store, context["patient_id"])
    done = {"DocumentReference": 0, "Encounter": 1, "Observation": INTERACTION_OBSERVATIONS}
    return whole_or_nothing(records, done, dict.fromkeys(done, 0))


async def _delete_interaction(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    return await client.delete(f"/interactions/{context['interaction']['id']}")


async def _interaction_left(store: FhirClient, context: Context) -> State:
    records = await _records(store, context["patient_id"])
    untouched = {"DocumentReference": 0, "Encounter": 1, "Observation": INTERACTION_OBSERVATIONS}
    return whole_or_nothing(records, dict.fromkeys(untouched, 0), untouched)


# -- records ---------------------------------------------------------------------------------


async def _generate_record(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": "J30.1"}], "patient_id": context["patient_id"]}
    return await client.post("/api/generate/records", json=body)


async def _kept_record(store: FhirClient, context: Context) -> State:
    # The offline record states no vital sign: the note comes alone.
    return await _notes(store, context | {"vitals": 0})


CREATE_PATIENT = method_on("POST", "Patient")

PATHS = (
    WritePath(
        "POST /patients", "simplified", CREATE_PATIENT, Repetition.LOST, _nothing, _create_patient, _patients_named, 201
    ),
    WritePath(
        "POST /patients (no insurance number)",
        "simplified",
        CREATE_PATIENT,
        Repetition.LOST,
        _nothing,
        _create_patient_without_number,
        _patients_named,
        201,
    ),
    WritePath(
        "PUT /patients/{id}",
        "simplified",
        method_on("PUT", "Patient"),
        Repetition.REFUSED,
        _with_patient,
        _replace(if_match=False),
        _phone,
        200,
    ),
    WritePath(
        "PUT /patients/{id} If-Match",
        "simplified",
        method_on("PUT", "Patient"),
        Repetition.REFUSED,
        _with_patient,
        _replace(if_match=True),
        _phone,
        200,
    ),
    WritePath(
        "DELETE /patients/{id}",
        "simplified",
        transactions,
        Repetition.LOST,
        _with_note_and_interaction,
        _delete_patient,
        _patient_and_records,
        200,
    ),
    WritePath(
        "POST notes (JSON)", "simplified", transactions, Repetition.UNSENT, _with_patient, _add_note, _notes, 201
    ),
    WritePath(
        "POST notes (upload)", "simplified", transactions, Repetition.UNSENT, _with_patient, _upload_note, _notes, 201
    ),
    WritePath(
        "DELETE notes/{id}", "simplified", transactions, Repetition.LOST, _with_note, _delete_note, _note_left, 200
    ),
    WritePath(
        "POST /interactions",
        "simplified",
        transactions,
        Repetition.UNSENT,
        _with_patient,
        _record_interaction,
        _interactions,
        201,
    ),
    WritePath(
        "DELETE /interactions/{id}",
        "simplified",
        transactions,
        Repetition.LOST,
        _with_interaction,
        _delete_interaction,
        _interaction_left,
        200,
    ),
    WritePath(
        "POST /api/generate/records patient_id",
        "simplified",
        transactions,
        Repetition.UNSENT,
        _with_patient,
        _generate_record,
        _kept_record,
        200,
    ),
)
