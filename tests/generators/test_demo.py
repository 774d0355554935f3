"""The demo dataset: what it holds, how further parts join it, and when it is loaded."""

from collections import Counter
from datetime import datetime
from pathlib import Path

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from fhir_gateway.app import create_app
from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.features.interactions.schemas import InteractionIn
from fhir_gateway.fhir_client import FhirClient
from fhir_gateway.settings import Settings
from generators.bundles import Resource, urn
from generators.cli import app
from generators.demo import DEMO_BATCH_SIZE, DEMO_COUNTS, DemoPatient, demo_records, sample_notes
from generators.pipeline import RunReport, outgoing_bundles
from generators.records import DEFAULT_SYSTEM_BASE
from generators.uploader import BundleUploader, UploadPolicy
from mappers import icd10cm, synthetic_record, vitals
from mappers.interaction import to_domain as interaction_to_domain
from mappers.note import to_domain
from mappers.patient import to_domain as patient_to_domain
from tests.generators.conftest import BASE, TODAY
from tests.test_cli import free_port, running, wait_for


def _synthetic(document: Resource) -> bool:
    return any(author.get("display") == synthetic_record.AUTHOR for author in document.get("author", []))


def count(store: EmbeddedStore, resource_type: str) -> int:
    async def search() -> int:
        async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
            return (await client.search(resource_type, {"_summary": "count"}))["total"]

    return anyio.run(search)


def test_the_demo_holds_a_few_dozen_patients_with_immunizations_and_bc_allergies() -> None:
    records = list(demo_records(TODAY))[1:]

    patients = [record[0] for record in records]
    assert len(patients) == sum(DEMO_COUNTS.values()) == 36
    assert Counter(patient["address"][0]["state"] for patient in patients) == {"BC": 24, "ON": 12}
    kinds = Counter(resource["resourceType"] for record in records for resource in record)
    assert kinds["AllergyIntolerance"] == 24
    assert 36 <= kinds["Immunization"] <= 72
    assert records == list(demo_records(TODAY))[1:]


def test_the_demo_patient_of_the_sample_notes_has_them_classified_with_their_vital_signs() -> None:
    sample = sample_notes()
    record = next(iter(demo_records(TODAY)))

    patient = record[0]
    documents = [r for r in record if r["resourceType"] == "DocumentReference" and not _synthetic(r)]
    assert patient["name"][0]["family"] == sample["patient"]["family_name"]
    assert patient["identifier"][0]["value"] == sample["patient"]["insurance_no"]
    assert len(documents) == len(sample["notes"]) == 8
    for document, written in zip(documents, sample["notes"], strict=True):
        note = to_domain(document, [], patient["id"], system_base=DEFAULT_SYSTEM_BASE)
        assert note.note_type == written["expected_type"]
        assert note.text == written["content"]
        assert note.taken_at == datetime.fromisoformat(written["taken_at"])
    # The admission note's vital signs (T, HR, BP, RR, SpO2) are five Observations derived from it.
    admission = urn(documents[0]["id"])
    derived = [
        r
        for r in record
        if r["resourceType"] == "Observation" and r.get("derivedFrom", [{}])[0].get("reference") == admission
    ]
    assert len(derived) == 5
    assert {r["subject"]["reference"] for r in derived} == {urn(patient["id"])}


@pytest.mark.anyio
async def test_the_sample_notes_load_and_read_back_through_the_notes_api(store: EmbeddedStore, tmp_path: Path) -> None:
    records = list(demo_records(TODAY))
    bundles = list(outgoing_bundles(records[:1], batch_size=50, name_prefix="demo", report=RunReport()))
    uploader = BundleUploader(BASE, UploadPolicy(failed_dir=tmp_path), transport=httpx.ASGITransport(store.app))

    report = await uploader.upload(bundles)
    await uploader.aclose()

    assert report.failures == []
    patient_id = records[0][0]["id"]
    async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
        documents = await client.search("DocumentReference", {"subject": f"Patient/{patient_id}", "_total": "accurate"})
        first = next(r for r in records[0] if r["resourceType"] == "DocumentReference")
        derived = await client.search("Observation", {"derived-from": f"DocumentReference/{first['id']}"})
    # Her eight notes and the synthetic record of her first visit.
    assert documents["total"] == 9
    assert len(derived.get("entry") or []) == 5


def observation_part(subject: DemoPatient) -> list[Resource]:
    """A stand-in for a later part (notes, visits): one Observation about each patient."""
    return [
        {
            "resourceType": "Observation",
            "id": subject.new_id(),
            "status": "final",
            "code": {"text": "Body weight"},
            "subject": subject.reference,
            "valueQuantity": {"value": 40 + subject.rng.randint(0, 60), "unit": "kg"},
        }
    ]


@pytest.mark.anyio
async def test_a_part_adds_resources_about_each_patient_to_the_same_transaction(
    store: EmbeddedStore, tmp_path: Path
) -> None:
    plain = list(demo_records(TODAY, parts=[]))
    records = list(demo_records(TODAY, parts=[observation_part]))
    bundles = list(outgoing_bundles(records, batch_size=50, name_prefix="demo", report=RunReport()))
    uploader = BundleUploader(BASE, UploadPolicy(failed_dir=tmp_path), transport=httpx.ASGITransport(store.app))

    report = await uploader.upload(bundles)
    await uploader.aclose()

    # The generated records are the same with or without the part; it only adds to them.
    assert [record[:-1] for record in records] == plain
    assert report.failures == []
    # One per patient, the sample notes' patient too, beside her notes' vital signs.
    assert report.resources["Observation"] == 37 + 22
    async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
        patient_id = records[1][0]["id"]
        found = await client.search("Observation", {"subject": f"Patient/{patient_id}"})
    assert found["total"] == 1


def test_demo_if_empty_loads_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = f"sqlite:///{tmp_path / 'fhir.db'}"
    monkeypatch.setenv("EMBEDDED_DATABASE_URL", database)
    runner = CliRunner()

    first = runner.invoke(app, ["demo", "--fhir-url", "embedded", "--if-empty"], catch_exceptions=False)
    second = runner.invoke(app, ["demo", "--fhir-url", "embedded", "--if-empty"], catch_exceptions=False)

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "already holds patients" in second.output
    store = EmbeddedStore(database)
    try:
        assert count(store, "Patient") == 37
        assert count(store, "AllergyIntolerance") == 24
        # The sample patient's eight notes, and one synthetic record per demo patient.
        assert count(store, "DocumentReference") == 8 + 37
    finally:
        store.dispose()


def test_serve_loads_the_demo_into_an_empty_embedded_store_and_fhir_does_not(tmp_path: Path) -> None:
    served, bare = tmp_path / "served.db", tmp_path / "bare.db"
    port = free_port()
    with running(
        "serve", tmp_path, PORT=str(port), FHIR_BASE_URL="embedded", EMBEDDED_DATABASE_URL=f"sqlite:///{served}"
    ) as process:
        wait_for(f"http://127.0.0.1:{port}/health", process)
    fhir_port = free_port()
    with running("fhir", tmp_path, FHIR_PORT=str(fhir_port), EMBEDDED_DATABASE_URL=f"sqlite:///{bare}") as process:
        wait_for(f"http://127.0.0.1:{fhir_port}/fhir/metadata", process)
        untouched = httpx.get(f"http://127.0.0.1:{fhir_port}/fhir/Patient?_summary=count", timeout=10).json()

    assert untouched["total"] == 0
    store = EmbeddedStore(f"sqlite:///{served}")
    try:
        assert count(store, "Patient") == 37
    finally:
        store.dispose()


def test_every_demo_patient_has_clinic_visits_the_api_would_accept() -> None:
    records = list(demo_records(TODAY))

    for record in records:
        patient = patient_to_domain(record[0], system_base=DEFAULT_SYSTEM_BASE)
        visits = [r for r in record if r["resourceType"] == "Encounter"]
        assert 1 <= len(visits) <= 3
        for visit in visits:
            made = [
                r
                for r in record
                if r["resourceType"] == "Observation" and r.get("encounter", {}).get("reference") == urn(visit["id"])
            ]
            interaction = interaction_to_domain(visit, made, system_base=DEFAULT_SYSTEM_BASE)
            assert interaction.ailment_code is not None
            assert interaction.insurance_no == patient.insurance_no
            assert patient.birth_date < interaction.interaction_date.date() < TODAY
            assert interaction.ailment_code == icd10cm.canonical(interaction.ailment_code or "")
            assert interaction.symptoms and interaction.labels and interaction.health_status
            assert vitals.implausible({k: v for k, v in interaction.metrics.items() if k in vitals.VITAL_SIGNS}) == {}
            written = interaction.model_dump(include=set(InteractionIn.model_fields), exclude_none=True)
            # What the API would take from a client, unchanged by its validation.
            assert InteractionIn.model_validate(written).model_dump(exclude_none=True) == written | {
                "interaction_date": interaction.interaction_date
            }


@pytest.mark.anyio
async def test_the_demo_visits_load_and_read_back_through_the_interactions_api(
    store: EmbeddedStore, tmp_path: Path
) -> None:
    records = list(demo_records(TODAY))
    bundles = list(outgoing_bundles(records, batch_size=DEMO_BATCH_SIZE, name_prefix="demo", report=RunReport()))
    uploader = BundleUploader(BASE, UploadPolicy(failed_dir=tmp_path), transport=httpx.ASGITransport(store.app))
    report = await uploader.upload(bundles)
    await uploader.aclose()
    assert report.failures == []

    patient = records[1][0]
    number = patient_to_domain(patient, system_base=DEFAULT_SYSTEM_BASE).insurance_no
    visits = [r for r in records[1] if r["resourceType"] == "Encounter"]
    settings = Settings(_env_file=None, identifier_system_base=DEFAULT_SYSTEM_BASE, home_url=None)
    async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as fhir:
        app = create_app(settings, fhir_client=fhir)
        gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway.test")
        async with app.router.lifespan_context(app), gateway as client:
            listed = (await client.get("/interactions", params={"insurance_no": number})).json()
            read = (await client.get(f"/interactions/{visits[0]['id']}")).json()

    assert listed["total"] == len(visits)
    assert {item["id"] for item in listed["items"]} == {visit["id"] for visit in visits}
    assert read == next(item for item in listed["items"] if item["id"] == visits[0]["id"])
    assert read["patient_id"] == patient["id"] and read["insurance_no"] == number


@pytest.mark.anyio
async def test_the_demo_patient_s_summary_answers_offline_with_her_record(store: EmbeddedStore, tmp_path: Path) -> None:
    records = list(demo_records(TODAY))
    bundles = list(outgoing_bundles(records, batch_size=DEMO_BATCH_SIZE, name_prefix="demo", report=RunReport()))
    uploader = BundleUploader(BASE, UploadPolicy(failed_dir=tmp_path), transport=httpx.ASGITransport(store.app))
    report = await uploader.upload(bundles)
    await uploader.aclose()
    assert report.failures == []

    sample = records[0]
    notes = {r["id"] for r in sample if r["resourceType"] == "DocumentReference"}
    settings = Settings(_env_file=None, identifier_system_base=DEFAULT_SYSTEM_BASE, home_url=None, openai_api_key=None)
    async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as fhir:
        app = create_app(settings, fhir_client=fhir)
        gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway.test")
        async with app.router.lifespan_context(app), gateway as client:
            summary = (await client.get(f"/patients/{sample[0]['id']}/summary")).json()

    assert summary["generator"]["kind"] == "offline"
    assert summary["heading"]["name"] == "Maria Elena Okafor"
    medications = {fact["name"].lower(): fact for fact in summary["key_facts"]["medications"]}
    for drug in ("metformin", "empagliflozin", "lisinopril"):
        assert medications[drug]["source"]["type"] == "note" and medications[drug]["source"]["id"] in notes
    diagnoses = {fact["name"].lower() for fact in summary["key_facts"]["diagnoses"]}
    assert {"community-acquired pneumonia", "diabetes mellitus, type 2"} <= diagnoses
    assert "metformin" in summary["narrative"].lower() or "empagliflozin" in summary["narrative"].lower()


def test_each_demo_patient_s_first_visit_has_its_synthetic_record_as_a_note() -> None:
    for record in demo_records(TODAY):
        kept = [r for r in record if r["resourceType"] == "DocumentReference" and _synthetic(r)]
        first_visit = next(r for r in record if r["resourceType"] == "Encounter")
        code = first_visit["reasonCode"][0]["coding"][0]["code"]

        assert len(kept) == 1
        note = to_domain(kept[0], [], record[0]["id"], system_base=DEFAULT_SYSTEM_BASE)
        assert note.text == synthetic_record.offline_record(
            [(code, icd10cm.description(code) or code)], [("99213", "I")]
        )
        assert note.text.startswith(synthetic_record.LABEL)
        assert note.taken_at > datetime.fromisoformat(first_visit["period"]["start"])
