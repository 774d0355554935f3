"""The write paths of the FHIR face (`/fhir`), each with the FHIR request a fault aims at."""

from typing import Any

import httpx
import orjson

from fhir_gateway.fhir_client import FhirClient, FhirGone, FhirNotFound
from fhir_gateway.fhir_client.retry import Repetition
from tests.faults.injection import batches, method_on, operations, transactions
from tests.faults.paths import Context, State, WritePath, everything, unchanged, whole_or_nothing

FHIR_JSON = {"Content-Type": "application/fhir+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
IDENTIFIER_SYSTEM = "https://faults.example/id"


def family(subject: int) -> str:
    return f"Face{subject}"


def identifier(subject: int) -> str:
    return f"{IDENTIFIER_SYSTEM}|face-{subject}"


def patient(subject: int, **fields: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"face-{subject}"}],
        "name": [{"family": family(subject), "given": ["Ada"]}],
        "birthDate": "1980-12-10",
        **fields,
    }


def observation(subject_reference: str, subject: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": f"obs-{subject}"}],
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
        "subject": {"reference": subject_reference},
        "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
    }


async def _nothing(client: httpx.AsyncClient, subject: int) -> Context:
    return {"subject": subject}


async def _with_patient(client: httpx.AsyncClient, subject: int) -> Context:
    response = await client.post("/fhir/Patient", json=patient(subject), headers=FHIR_JSON)
    assert response.status_code == 201, response.text
    return {"subject": subject, "patient": response.json()}


async def _patients(store: FhirClient, context: Context) -> int:
    return len(await everything(store, "Patient", [("family", family(context["subject"]))]))


async def _created_once(store: FhirClient, context: Context) -> State:
    return whole_or_nothing({"Patient": await _patients(store, context)}, {"Patient": 1}, {"Patient": 0})


# -- create ----------------------------------------------------------------------------------


async def _create(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    return await client.post("/fhir/Patient", json=patient(context["subject"]), headers=FHIR_JSON)


async def _create_if_none_exist(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    headers = {**FHIR_JSON, "If-None-Exist": f"identifier={identifier(context['subject'])}"}
    return await client.post("/fhir/Patient", json=patient(context["subject"]), headers=headers)


# -- update ----------------------------------------------------------------------------------

NEW_BIRTH_DATE = "1981-01-01"


def _update(*, if_match: bool) -> Any:
    async def act(client: httpx.AsyncClient, context: Context) -> httpx.Response:
        stored = context["patient"]
        headers = {**FHIR_JSON, "If-Match": f'W/"{stored["meta"]["versionId"]}"'} if if_match else FHIR_JSON
        changed = {**stored, "birthDate": NEW_BIRTH_DATE}
        return await client.put(f"/fhir/Patient/{stored['id']}", json=changed, headers=headers)

    return act


async def _conditional_update(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    changed = patient(context["subject"], birthDate=NEW_BIRTH_DATE)
    params = {"identifier": identifier(context["subject"])}
    return await client.put("/fhir/Patient", params=params, json=changed, headers=FHIR_JSON)


async def _birth_date(store: FhirClient, context: Context) -> State:
    assert await _patients(store, context) == 1
    stored = await store.read("Patient", context["patient"]["id"])
    return "done" if stored["birthDate"] == NEW_BIRTH_DATE else "untouched"


# -- delete ----------------------------------------------------------------------------------


async def _delete(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    return await client.delete(f"/fhir/Patient/{context['patient']['id']}")


async def _deleted(store: FhirClient, context: Context) -> State:
    try:
        await store.read("Patient", context["patient"]["id"])
    except FhirGone:
        return "done"
    return "untouched"


# -- patch -----------------------------------------------------------------------------------


def _patch(*, if_match: bool) -> Any:
    async def act(client: httpx.AsyncClient, context: Context) -> httpx.Response:
        stored = context["patient"]
        headers = {**JSON_PATCH, "If-Match": f'W/"{stored["meta"]["versionId"]}"'} if if_match else JSON_PATCH
        # Not idempotent: applied twice, it adds the name twice.
        operations = [{"op": "add", "path": "/name/-", "value": {"family": "Byron"}}]
        return await client.patch(f"/fhir/Patient/{stored['id']}", content=orjson.dumps(operations), headers=headers)

    return act


async def _names(store: FhirClient, context: Context) -> State:
    stored = await store.read("Patient", context["patient"]["id"])
    return whole_or_nothing({"names": len(stored["name"])}, {"names": 2}, {"names": 1})


# -- bundles ---------------------------------------------------------------------------------


def _bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


async def _transaction_of_creates(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    subject = context["subject"]
    urn = f"urn:uuid:00000000-0000-4000-8000-{subject:012d}"
    bundle = _bundle(
        "transaction",
        {"fullUrl": urn, "resource": patient(subject), "request": {"method": "POST", "url": "Patient"}},
        {"resource": observation(urn, subject), "request": {"method": "POST", "url": "Observation"}},
    )
    return await client.post("/fhir", json=bundle, headers=FHIR_JSON)


async def _transaction_of_conditional_creates(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    subject = context["subject"]
    urn = f"urn:uuid:00000000-0000-4000-8000-{subject:012d}"
    bundle = _bundle(
        "transaction",
        {
            "fullUrl": urn,
            "resource": patient(subject),
            "request": {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={identifier(subject)}"},
        },
        {
            "resource": observation(urn, subject),
            "request": {
                "method": "POST",
                "url": "Observation",
                "ifNoneExist": f"identifier={IDENTIFIER_SYSTEM}|obs-{subject}",
            },
        },
    )
    return await client.post("/fhir", json=bundle, headers=FHIR_JSON)


async def _patient_with_observation(store: FhirClient, context: Context) -> State:
    holders = await everything(store, "Patient", [("family", family(context["subject"]))])
    observations = [
        found
        for holder in holders
        for found in await everything(store, "Observation", [("subject", f"Patient/{holder['id']}")])
    ]
    counts = {"Patient": len(holders), "Observation": len(observations)}
    return whole_or_nothing(counts, {"Patient": 1, "Observation": 1}, {"Patient": 0, "Observation": 0})


def _batch_ids(subject: int) -> tuple[str, str]:
    return f"batch-a-{subject}", f"batch-b-{subject}"


async def _batch_of_updates(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    subject = context["subject"]
    entries = [
        {
            "resource": patient(subject, id=resource_id, gender=gender),
            "request": {"method": "PUT", "url": f"Patient/{resource_id}"},
        }
        for resource_id, gender in zip(_batch_ids(subject), ("female", "male"), strict=True)
    ]
    return await client.post("/fhir", json=_bundle("batch", *entries), headers=FHIR_JSON)


async def _batch_stored(store: FhirClient, context: Context) -> State:
    versions = []
    for resource_id in _batch_ids(context["subject"]):
        try:
            versions.append((await store.read("Patient", resource_id))["meta"]["versionId"])
        except FhirNotFound:
            versions.append(None)
    # Sent again, a PUT of the same content makes no second version.
    return whole_or_nothing({"versions": versions}, {"versions": ["1", "1"]}, {"versions": [None, None]})


# -- operations ------------------------------------------------------------------------------


async def _validate(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": patient(1)}]}
    return await client.post("/fhir/Patient/$validate", json=parameters, headers=FHIR_JSON)


async def _summary(client: httpx.AsyncClient, context: Context) -> httpx.Response:
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "audience", "valueCode": "family"}]}
    return await client.post(f"/fhir/Patient/{context['patient']['id']}/$summary", json=parameters, headers=FHIR_JSON)


async def _only_the_patient(store: FhirClient, context: Context) -> State:
    stored = await store.read("Patient", context["patient"]["id"])
    counts = {
        "Patient": await _patients(store, context),
        "versions": int(stored["meta"]["versionId"]),
        **{
            resource_type: len(await everything(store, resource_type, []))
            for resource_type in ("Composition", "Bundle")
        },
    }
    return unchanged(counts, {"Patient": 1, "versions": 1, "Composition": 0, "Bundle": 0})


async def _nothing_stored(store: FhirClient, context: Context) -> State:
    return unchanged({"Patient": len(await everything(store, "Patient", []))}, {"Patient": 0})


PATHS = (
    WritePath(
        "POST /fhir/Patient",
        "fhir",
        method_on("POST", "Patient"),
        Repetition.UNSENT,
        _nothing,
        _create,
        _created_once,
        201,
        relays_answers=True,
    ),
    WritePath(
        "POST /fhir/Patient If-None-Exist",
        "fhir",
        method_on("POST", "Patient"),
        Repetition.LOST,
        _nothing,
        _create_if_none_exist,
        _created_once,
        201,
        redone_status=200,
        relays_answers=True,
    ),
    WritePath(
        "PUT /fhir/Patient/{id}",
        "fhir",
        method_on("PUT", "Patient"),
        Repetition.LOST,
        _with_patient,
        _update(if_match=False),
        _birth_date,
        200,
        relays_answers=True,
    ),
    WritePath(
        "PUT /fhir/Patient/{id} If-Match",
        "fhir",
        method_on("PUT", "Patient"),
        Repetition.REFUSED,
        _with_patient,
        _update(if_match=True),
        _birth_date,
        200,
        relays_answers=True,
    ),
    WritePath(
        "PUT /fhir/Patient?identifier",
        "fhir",
        method_on("PUT", "Patient"),
        Repetition.LOST,
        _with_patient,
        _conditional_update,
        _birth_date,
        200,
        relays_answers=True,
    ),
    WritePath(
        "DELETE /fhir/Patient/{id}",
        "fhir",
        method_on("DELETE", "Patient"),
        Repetition.LOST,
        _with_patient,
        _delete,
        _deleted,
        200,
        relays_answers=True,
    ),
    WritePath(
        "PATCH /fhir/Patient/{id}",
        "fhir",
        method_on("PUT", "Patient"),
        Repetition.REFUSED,
        _with_patient,
        _patch(if_match=False),
        _names,
        200,
        relays_answers=True,
    ),
    WritePath(
        "PATCH /fhir/Patient/{id} If-Match",
        "fhir",
        method_on("PUT", "Patient"),
        Repetition.REFUSED,
        _with_patient,
        _patch(if_match=True),
        _names,
        200,
        relays_answers=True,
    ),
    WritePath(
        "POST /fhir transaction (creates)",
        "fhir",
        transactions,
        Repetition.UNSENT,
        _nothing,
        _transaction_of_creates,
        _patient_with_observation,
        200,
        relays_answers=True,
    ),
    WritePath(
        "POST /fhir transaction (conditional creates)",
        "fhir",
        transactions,
        Repetition.LOST,
        _nothing,
        _transaction_of_conditional_creates,
        _patient_with_observation,
        200,
        relays_answers=True,
    ),
    WritePath(
        "POST /fhir batch (updates)",
        "fhir",
        batches,
        Repetition.LOST,
        _nothing,
        _batch_of_updates,
        _batch_stored,
        200,
        relays_answers=True,
    ),
    # The embedded store serves no operation: its own refusal (400) is what a relayed one gets.
    WritePath(
        "POST /fhir/Patient/$validate (relayed)",
        "fhir",
        operations,
        Repetition.UNSENT,
        _nothing,
        _validate,
        _nothing_stored,
        400,
        relays_answers=True,
        writes=False,
    ),
    WritePath(
        "POST /fhir/Patient/{id}/$summary",
        "fhir",
        batches,
        Repetition.LOST,
        _with_patient,
        _summary,
        _only_the_patient,
        200,
        writes=False,
    ),
)
