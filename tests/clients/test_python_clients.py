"""Unmodified Python FHIR clients against the embedded store over HTTP: what fhirpy and
fhirclient send (fhirpy's `count()` as `_count=0&_totalMethod=count`, fhirclient's `>` date
prefix, chained and reverse-chained searches, paging by following `next` links) must work as
it does against HAPI FHIR."""

from uuid import uuid4

from fhirclient import client as smart_client
from fhirclient.models.patient import Patient as SmartPatient
from fhirpy import SyncFHIRClient

WEIGHT = {"system": "http://loinc.org", "code": "29463-7"}


def _family() -> str:
    return f"Client{uuid4().hex[:10]}"


def test_fhirpy_writes_reads_counts_and_pages(fhir_base: str) -> None:
    fhir = SyncFHIRClient(fhir_base)
    family = _family()
    patients = []
    for index in range(7):
        patient = fhir.resource(
            "Patient",
            name=[{"family": family, "given": [f"G{index}"]}],
            birthDate=f"19{60 + index}-01-01",
            identifier=[{"system": "urn:clients", "value": f"{family}-{index}"}],
        )
        patient.save()
        patients.append(patient)

    assert fhir.resources("Patient").search(family=family).count() == 7
    born_after = fhir.resources("Patient").search(family=family, birthdate__gt="1963-06-01").fetch_all()
    assert {patient.id for patient in born_after} == {patient.id for patient in patients[4:]}
    # fetch_all follows the next links, two patients a page.
    walked = fhir.resources("Patient").search(family=family).limit(2).fetch_all()
    assert sorted(patient.id for patient in walked) == sorted(patient.id for patient in patients)

    patients[0]["active"] = True
    patients[0].save()
    patients[0].refresh()
    assert patients[0]["meta"]["versionId"] == "2"
    assert fhir.resources("Patient").search(identifier=f"urn:clients|{family}-3").get().id == patients[3].id


def test_fhirpy_chains_reverse_chains_and_includes(fhir_base: str) -> None:
    fhir = SyncFHIRClient(fhir_base)
    family = _family()
    patient = fhir.resource("Patient", name=[{"family": family}])
    patient.save()
    other = fhir.resource("Patient", name=[{"family": _family()}])
    other.save()
    for value in (60, 80):
        fhir.resource(
            "Observation",
            status="final",
            code={"coding": [WEIGHT]},
            subject=patient.to_reference(),
            valueQuantity={"value": value, "system": "http://unitsofmeasure.org", "code": "kg"},
        ).save()

    chained = fhir.resources("Observation").search(subject__Patient__family=family).fetch_all()
    assert len(chained) == 2
    heavy = fhir.resources("Observation").search(subject=patient.to_reference().reference, value_quantity="gt70")
    assert len(heavy.fetch_all()) == 1
    weighed = fhir.resources("Patient").has("Observation", "subject", code="http://loinc.org|29463-7")
    ids = {found.id for found in weighed.fetch_all()}
    assert patient.id in ids and other.id not in ids
    bundle = (
        fhir.resources("Observation")
        .search(subject=f"Patient/{patient.id}")
        .include("Observation", "subject")
        .fetch_raw()
    )
    modes = sorted(entry.search.mode for entry in bundle.entry)
    assert modes == ["include", "match", "match"]


def test_fhirclient_sends_old_prefixes_and_follows_pages(fhir_base: str) -> None:
    smart = smart_client.FHIRClient(settings={"app_id": "contract", "api_base": fhir_base})
    family = _family()
    for year in (1950, 1970, 1990):
        SmartPatient({"name": [{"family": family}], "birthDate": f"{year}-05-05"}).create(smart.server)

    search = SmartPatient.where(struct={"family": family, "birthdate": {"$gt": "1965-01-01"}})
    assert "birthdate=>1965-01-01" in search.construct()
    assert sorted(patient.birthDate.isostring for patient in search.perform_resources_iter(smart.server)) == [
        "1970-05-05",
        "1990-05-05",
    ]
    paged = SmartPatient.where(struct={"family": family, "_count": "1"}).perform_resources_iter(smart.server)
    assert sorted(patient.birthDate.isostring for patient in paged) == ["1950-05-05", "1970-05-05", "1990-05-05"]
