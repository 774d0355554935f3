"""Clinical records: coherent (a diagnosis drives its visits, labs, vital signs and
prescriptions), valid FHIR R4 that loads into the store with its references, the same for
the same seed whatever the shard, and their NDJSON and CSV forms read back."""

import csv
import dataclasses
import io
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from fhir_gateway.embedded import EmbeddedStore
from fhir_gateway.fhir_client import FhirClient
from generators import records as people
from generators import shards
from generators.clinical import catalog, fhir, tables
from generators.clinical import records as clinical_records
from generators.clinical.formats import RESOURCE_TYPES, X12_FILES, Format
from generators.clinical.model import ClinicalRecord
from generators.clinical.npi import npi_check_digit
from generators.clinical.output import Job, write
from generators.clinical.records import ClinicalGenerator
from generators.clinical.x12 import X12Options
from generators.records import RecordGenerator
from generators.shards import SHARD_SIZE
from mappers import icd10cm
from mappers.vitals import VITAL_SIGNS
from tests.generators.conftest import BASE, TODAY
from tests.x12_reading import Read, envelopes_agree

Resource = dict[str, Any]
DIAGNOSES = {diagnosis.icd10: diagnosis for diagnosis in catalog.DIAGNOSES}


def records(province: str = "BC", count: int = 120, seed: int = 7, start: int = 0) -> list[ClinicalRecord]:
    return list(ClinicalGenerator(province, seed, TODAY).records(count, start))


@pytest.fixture(scope="module", params=["BC", "ON"])
def made(request: pytest.FixtureRequest) -> list[ClinicalRecord]:
    return records(request.param)


def by_reference(resources: list[Resource]) -> dict[str, Resource]:
    return {f"{resource['resourceType']}/{resource['id']}": resource for resource in resources}


def references(value: Any) -> list[str]:
    """Every `reference` inside a resource."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in references(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references(item)]
    return []


def test_every_resource_validates_as_fhir_r4b(made: list[ClinicalRecord]) -> None:
    kinds: Counter[str] = Counter()
    for record in made:
        for resource in fhir.resources(record):
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            kinds[resource["resourceType"]] += 1
    assert set(kinds) >= set(RESOURCE_TYPES) - {"AllergyIntolerance"}
    assert kinds["Patient"] == len(made)


def test_every_reference_points_at_an_earlier_resource_of_the_same_record(made: list[ClinicalRecord]) -> None:
    for record in made:
        seen: set[str] = set()
        for resource in fhir.resources(record):
            assert set(references(resource)) <= seen, resource["resourceType"]
            seen.add(f"{resource['resourceType']}/{resource['id']}")


def test_ids_are_distinct_uuids_across_shards() -> None:
    made = records(count=40, start=SHARD_SIZE - 20)
    ids = [resource["id"] for record in made for resource in fhir.resources(record)]
    assert len(ids) == len(set(ids))
    assert all(len(value) == 36 and value[14] == "4" for value in ids)


def test_a_record_is_the_same_whatever_the_range_it_is_made_in() -> None:
    longer = records(count=30, start=SHARD_SIZE - 10)
    alone = records(count=5, start=SHARD_SIZE + 3)
    assert alone == longer[13:18]
    assert [fhir.resources(r) for r in alone] == [fhir.resources(r) for r in longer[13:18]]
    assert records(count=5, seed=8) != records(count=5)


def test_enrolment_parts_are_the_same_without_the_care() -> None:
    full = records(count=30)
    enrolment = list(ClinicalGenerator("BC", 7, TODAY).records(30, care=False))
    assert [(r.person, r.coverage, r.provider) for r in enrolment] == [(r.person, r.coverage, r.provider) for r in full]
    assert all(not record.visits for record in enrolment)


def test_without_fhir_records_hold_the_same_patient_and_care() -> None:
    full = records(count=30, start=SHARD_SIZE - 10)
    lean = list(ClinicalGenerator("BC", 7, TODAY).records(30, SHARD_SIZE - 10, fhir=False))
    assert [(r.person, r.visits, r.problems) for r in lean] == [(r.person, r.visits, r.problems) for r in full]
    assert all(not record.resources for record in lean)


@pytest.mark.parametrize(("vitals", "results"), [(False, False), (True, False), (False, True)])
def test_visits_made_without_vital_signs_or_results_are_the_same_visits(vitals: bool, results: bool) -> None:
    full = records(count=30, start=SHARD_SIZE - 10)
    lean = ClinicalGenerator("BC", 7, TODAY).records(30, SHARD_SIZE - 10, fhir=False, vitals=vitals, results=results)
    lean_records = list(lean)
    assert [r.problems for r in lean_records] == [r.problems for r in full]
    visits = [visit for record in full for visit in record.visits]
    assert any(visit.labs for visit in visits)
    assert all(visit.panels == tuple(report.panel for report in visit.labs) for visit in visits)
    assert [visit for record in lean_records for visit in record.visits] == [
        dataclasses.replace(visit, vitals=visit.vitals if vitals else (), labs=visit.labs if results else ())
        for visit in visits
    ]


def test_the_person_of_a_record_is_its_patient(made: list[ClinicalRecord]) -> None:
    for record in made:
        patient, person = record.resources[0], record.person
        name, address = patient["name"][0], patient["address"][0]
        assert (person.patient_id, person.member_id, person.gender) == (
            patient["id"],
            patient["identifier"][0]["value"],
            patient["gender"],
        )
        assert (person.given, person.family) == (" ".join(name["given"]), name["family"])
        assert person.birth_date.isoformat() == patient["birthDate"]
        assert dataclasses.astuple(person.address) == (
            address["line"][0],
            address["city"],
            address["state"],
            address["postalCode"],
            address["country"],
        )
        assert [item["value"] for item in patient["telecom"] if item["system"] == "phone"] == [person.phone]


def test_patients_as_drawn_are_the_patients_of_the_records() -> None:
    generator = RecordGenerator("BC", 7, TODAY)
    pairs = list(generator.people_and_records(30, SHARD_SIZE - 10))
    assert [record for _, record in pairs] == list(generator.records(30, SHARD_SIZE - 10))
    assert [person for person, _ in pairs] == list(generator.people(30, SHARD_SIZE - 10))
    for person, record in pairs:
        assert record[0]["id"] == person.patient_id
        assert record[0]["birthDate"] == date.fromordinal(person.birth_day).isoformat()


def test_diagnoses_are_released_icd10cm_codes_diagnosed_at_an_age_they_allow(made: list[ClinicalRecord]) -> None:
    for record in made:
        assert 1 <= len(record.problems) <= 3
        assert len({problem.code for problem in record.problems}) == len(record.problems)
        for problem in record.problems:
            assert icd10cm.canonical(problem.code) == problem.code
            age = (problem.onset - record.person.birth_date).days / 365.25
            assert age >= DIAGNOSES[problem.code].min_age
            assert problem.onset <= TODAY
            assert problem.abatement is None if problem.chronic else True
    conditions = [r for record in made for r in fhir.resources(record) if r["resourceType"] == "Condition"]
    for condition in conditions:
        coding = condition["code"]["coding"][0]
        assert coding["system"] == icd10cm.SYSTEM
        assert coding["display"] == icd10cm.description(coding["code"])


def test_visits_follow_their_diagnosis_and_bill_what_was_done(made: list[ClinicalRecord]) -> None:
    for record in made:
        problems = {problem.condition_id: problem for problem in record.problems}
        for visit in record.visits:
            principal = problems[visit.condition_ids[0]]
            assert principal.onset <= visit.day <= TODAY
            assert visit.diagnoses == tuple(problems[i].code for i in visit.condition_ids)
            billed = [line.cpt for line in visit.lines]
            drawn = [catalog.PANELS[report.panel].cpt for report in visit.labs]
            assert billed[1:] == ([catalog.VENIPUNCTURE, *drawn] if drawn else [])
            assert all(
                1 <= pointer <= len(visit.diagnoses) for line in visit.lines for pointer in line.diagnosis_pointers
            )
            assert set(report.panel for report in visit.labs) <= set(DIAGNOSES[principal.code].panels)
        # Each problem is first seen on its onset, and an acute one once.
        for problem in record.problems:
            days = [v.day for v in record.visits if v.condition_ids[0] == problem.condition_id]
            assert days[0] == problem.onset
            assert problem.chronic or len(days) == 1


def test_a_diagnosis_moves_its_vital_signs_and_lab_values() -> None:
    made = records(count=600, seed=3)
    seen: Counter[str] = Counter()
    for record in made:
        for visit in record.visits:
            principal = DIAGNOSES[visit.diagnoses[0]]
            measured = {name: value for name, value, _ in visit.vitals}
            for name, value in measured.items():
                assert VITAL_SIGNS[name].low <= value <= VITAL_SIGNS[name].high
            for name, (low, high) in principal.vitals.items():
                assert low <= measured[name] <= high, (principal.icd10, name)
                seen[f"vital {name}"] += 1
            for report in visit.labs:
                tests = catalog.PANELS[report.panel].tests
                for test, value in zip(tests, report.values, strict=True):
                    if test.loinc in principal.labs:
                        low, high = principal.labs[test.loinc]
                        assert low <= value <= high
                        seen[f"lab {test.loinc}"] += 1
    # Hypertension raises the pressure, diabetes the HbA1c, hypothyroidism the TSH.
    assert seen["vital bp_systolic"] and seen["lab 4548-4"] and seen["lab 3016-3"]


def test_prescriptions_treat_the_visit_s_diagnosis(made: list[ClinicalRecord]) -> None:
    prescribed = 0
    for record in made:
        problems = {problem.condition_id: problem for problem in record.problems}
        for visit in record.visits:
            for item in visit.prescriptions:
                assert item.condition_id == visit.condition_ids[0]
                assert DIAGNOSES[problems[item.condition_id].code].medication == item.medication
                assert item.active == problems[item.condition_id].chronic
                prescribed += 1
    assert prescribed


def test_lab_reports_hold_their_panel_s_results_with_interpretations(made: list[ClinicalRecord]) -> None:
    for record in made:
        resources = fhir.resources(record)
        index = by_reference(resources)
        for report in (r for r in resources if r["resourceType"] == "DiagnosticReport"):
            panel = catalog.PANELS[report["code"]["coding"][0]["code"]]
            results = [index[ref["reference"]] for ref in report["result"]]
            assert [r["code"]["coding"][0]["code"] for r in results] == [test.loinc for test in panel.tests]
            for result, test in zip(results, panel.tests, strict=True):
                value = result["valueQuantity"]["value"]
                expected = "L" if value < test.low else "H" if value > test.high else "N"
                assert result["interpretation"][0]["coding"][0]["code"] == expected
                assert result["valueQuantity"]["code"] == test.unit
                assert result["encounter"] == report["encounter"]


def test_a_cbc_report_is_loinc_58410_2_with_its_counts_as_results() -> None:
    for record in records(count=600, seed=3):
        for resource in fhir.resources(record):
            if resource["resourceType"] == "DiagnosticReport" and resource["code"]["coding"][0]["code"] == "58410-2":
                assert len(resource["result"]) == 6
                assert resource["category"][0]["coding"][0]["code"] == "LAB"
                return
    pytest.fail("no CBC in 600 records")


def test_bundles_load_into_the_store_with_referential_integrity(store: EmbeddedStore, tmp_path: Path) -> None:
    job = Job(Format.FHIR, "ON", 11, TODAY, batch_size=5)
    written = write(job, 12, tmp_path)
    bundles = sorted((tmp_path / "bundles").glob("*.json"))
    assert len(bundles) == 3

    async def load() -> dict[str, int]:
        async with FhirClient(BASE, transport=httpx.ASGITransport(store.app)) as client:
            for path in bundles:
                answer = await client.transaction(orjson.loads(path.read_bytes()))
                assert all(entry["response"]["status"].startswith("201") for entry in answer["entry"])
            # A second time changes nothing: every entry is a PUT to its own id.
            answer = await client.transaction(orjson.loads(bundles[0].read_bytes()))
            assert {entry["response"]["status"][:3] for entry in answer["entry"]} == {"200"}
            return {kind: (await client.search(kind, {"_summary": "count"}))["total"] for kind in written.counts}

    assert anyio.run(load) == dict(written.counts)


def test_ndjson_has_one_file_per_type_of_valid_lines(tmp_path: Path) -> None:
    written = write(Job(Format.NDJSON, "BC", 5, TODAY), 50, tmp_path)
    assert written.files == {f"{kind}.ndjson" for kind in written.counts}
    for kind, number in written.counts.items():
        lines = (tmp_path / f"{kind}.ndjson").read_bytes().splitlines()
        assert len(lines) == number
        for line in lines:
            resource = orjson.loads(line)
            assert resource["resourceType"] == kind
            assert all(
                ref.startswith(("Patient/", "Condition/", "Encounter/", "Observation/")) for ref in references(resource)
            )
    assert written.records == 50


def test_csv_tables_read_back_with_their_headers_and_join(tmp_path: Path) -> None:
    made = records(count=50, seed=5)
    written = write(Job(Format.CSV, "BC", 5, TODAY), 50, tmp_path)
    read = {
        table: list(csv.DictReader(io.StringIO((tmp_path / f"{table}.csv").read_text(), newline="")))
        for table in tables.TABLES
    }
    for table, columns in tables.TABLES.items():
        assert tuple(read[table][0]) == columns
        assert written.counts[f"{table}.csv"] == len(read[table])
    assert [row["patient_id"] for row in read["patients"]] == [r.person.patient_id for r in made]
    assert [row["member_id"] for row in read["patients"]] == [r.person.member_id for r in made]
    visits = [visit for record in made for visit in record.visits]
    assert [row["encounter_id"] for row in read["encounters"]] == [visit.encounter_id for visit in visits]
    claims = {row["claim_id"]: row for row in read["encounters"]}
    totals: Counter[str] = Counter()
    for line in read["claim_lines"]:
        assert line["claim_id"] in claims
        totals[line["claim_id"]] += round(float(line["charge"]) * 100)
    assert all(round(float(claims[claim]["total_charge"]) * 100) == total for claim, total in totals.items())


def test_names_with_commas_and_quotes_survive_csv() -> None:
    record = records(count=1)[0]
    tricky = dataclasses.replace(record, person=dataclasses.replace(record.person, family='O"Neil, Jr'))

    made = tables.rows(["patients"], [tricky])

    body, count = made["patients"]
    row = next(csv.reader(io.StringIO(body.decode(), newline="")))
    assert count == 1 and row[3] == 'O"Neil, Jr'


def test_records_are_made_as_of_the_reference_date() -> None:
    early = list(ClinicalGenerator("BC", 7, date(2001, 1, 1)).records(50))
    for record in early:
        assert all(visit.day <= date(2001, 1, 1) for visit in record.visits)
        assert record.person.birth_date < date(2001, 1, 1)


def test_the_catalog_holds_together() -> None:
    for diagnosis in catalog.DIAGNOSES:
        assert icd10cm.canonical(diagnosis.icd10) == diagnosis.icd10
        assert diagnosis.medication is None or diagnosis.medication in catalog.DOSAGES
        assert set(diagnosis.panels) <= set(catalog.PANELS)
        assert set(diagnosis.vitals) <= set(VITAL_SIGNS)
        panel_tests = {test.loinc for panel in diagnosis.panels for test in catalog.PANELS[panel].tests}
        assert set(diagnosis.labs) <= panel_tests
    assert {panel.cpt for panel in catalog.PANELS.values()} <= set(catalog.FEES)
    for province in ("BC", "ON"):
        for provider in catalog.clinic_providers(province):
            assert provider.address.province == province
            assert len(provider.npi) == 10


def test_npis_pass_the_luhn_check_with_the_80840_prefix() -> None:
    # 1234567893 is the example NPI of the CMS check-digit description.
    assert npi_check_digit("123456789") == "3"
    for provider in catalog.clinic_providers("BC") + catalog.clinic_providers("ON"):
        digits = [int(c) for c in "80840" + provider.npi]
        # Luhn: every second digit from the right, the check digit excepted, is doubled.
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
        assert total % 10 == 0


X12_OPTIONS = X12Options(sender_id="GATEWAY", receiver_id="PAYER", created=datetime(2026, 11, 1, 12))
SMALL_SHARD = 25


@pytest.fixture
def small_shards(monkeypatch: pytest.MonkeyPatch) -> int:
    """Shards of a few records, so that a run of several is quick to make and to check;
    forked workers inherit the size."""
    for module in (shards, people, clinical_records):
        monkeypatch.setattr(module, "SHARD_SIZE", SMALL_SHARD)
    return SMALL_SHARD


@pytest.mark.parametrize(
    ("output", "loop", "segment"), [(Format.X12_834, "2000", "INS"), (Format.X12_837, "2300", "CLM")]
)
def test_x12_files_are_one_valid_interchange_of_a_set_per_shard(
    read_x12: Callable[[bytes], Read], tmp_path: Path, output: Format, loop: str, segment: str, small_shards: int
) -> None:
    count = 2 * small_shards + 5
    made = records(count=count, seed=9)
    written = write(Job(output, "BC", 9, TODAY, x12=X12_OPTIONS), count, tmp_path)

    parsed = read_x12((tmp_path / X12_FILES[output]).read_bytes())

    assert parsed.valid and parsed.errors == []
    envelopes_agree(parsed, expected_sets=3)
    assert [st.get_value("ST02") for st in parsed.find("ST")] == ["0001", "0002", "0003"]
    loops = parsed.find(segment, loop)
    if output is Format.X12_834:
        assert [ref.get_value("REF02") for ref in parsed.find("REF", "2000") if ref.get_value("REF01") == "0F"] == [
            record.person.member_id for record in made
        ]
        assert len(loops) == written.counts["members"] == count
    else:
        visits = [visit for record in made for visit in record.visits]
        assert [clm.get_value("CLM01") for clm in loops] == [visit.claim_id for visit in visits]
        charges = [round(float(clm.get_value("CLM02")) * 100) for clm in loops]
        assert charges == [visit.total_cents for visit in visits]
        hi = [seg.get_value("HI01-2") for seg in parsed.find("HI", "2300")]
        assert hi == [visit.diagnoses[0].replace(".", "") for visit in visits]
        assert len(loops) == written.counts["claims"]


@pytest.mark.parametrize("output", list(Format))
def test_two_workers_write_the_same_bytes_as_one(tmp_path: Path, output: Format, small_shards: int) -> None:
    job = Job(output, "ON", 4, TODAY, batch_size=7, x12=X12_OPTIONS)
    one, two = tmp_path / "one", tmp_path / "two"
    written = write(job, 5 * small_shards + 17, one)
    again = write(job, 5 * small_shards + 17, two, workers=2)

    assert written == again
    for name in written.files:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    # What the workers spilled was moved into place, and nothing else is left.
    assert sorted(p.relative_to(two) for p in two.rglob("*")) == sorted(p.relative_to(one) for p in one.rglob("*"))


def test_a_shard_s_claims_fit_one_837_transaction_set() -> None:
    limit = X12_OPTIONS.max_per_transaction
    assert limit >= clinical_records.MAX_VISITS * SHARD_SIZE
    assert max(len(record.visits) for record in records(count=400, seed=2)) <= clinical_records.MAX_VISITS
