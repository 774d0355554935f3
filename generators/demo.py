"""The demo dataset: a few dozen patients with immunizations, allergies and clinic visits,
and one patient with the notes of a hospital stay and its follow-up, so the API shows real
data on its first start.

Patients come from the same generator as the bulk records (so through the gateway's own
Patient mapping), from a fixed seed. The patient with notes is the one of the sample
notes (`data/soap_notes.json`): her notes go through the gateway's own note mapping, so
they are classified and their vital signs stored as Observations, as the API would.

Further kinds of data join through `DemoPart`s (`demo_parts.py`): a part is given each
demo patient and returns more resources about them, which go into the same transaction as
the patient. Adding one is adding it to `DEFAULT_PARTS`; nothing else here changes. The
clinic visits (`visits.py`) are one.
"""

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from random import Random
from typing import Any

from generators.bundles import Record, urn
from generators.demo_parts import DemoPart, DemoPatient
from generators.identifiers import UuidSource
from generators.records import DEFAULT_SYSTEM_BASE, SYNTHETIC_TAG, RecordGenerator
from generators.visits import demo_interactions
from mappers import note as note_mapper
from mappers import patient as patient_mapper

SAMPLE_NOTES = Path(__file__).parent / "data" / "soap_notes.json"

DEMO_SEED = 2025
# Patients per province: British Columbia's records carry allergies, Ontario's do not.
DEMO_COUNTS = {"BC": 24, "ON": 12}


DEFAULT_PARTS: tuple[DemoPart, ...] = (demo_interactions,)
# Records per Bundle: a demo record with its visits is a few dozen resources.
DEMO_BATCH_SIZE = 10


def demo_records(
    today: date,
    *,
    system_base: str = DEFAULT_SYSTEM_BASE,
    parts: Sequence[DemoPart] = DEFAULT_PARTS,
    seed: int = DEMO_SEED,
) -> Iterator[Record]:
    """Every demo record: the patient of the sample notes with her notes, then generated
    patients with their immunizations and allergy; each followed by what each part adds.

    The same `today` gives the same records.
    """
    sample_rng = Random(f"demo-sample:{seed}")
    new_sample_id = UuidSource(sample_rng)
    sample = sample_notes()
    record = sample_patient_record(sample, system_base=system_base, new_id=new_sample_id)
    yield _with_parts(record, sample["patient"]["province"], today, system_base, sample_rng, new_sample_id, parts)
    for province, count in DEMO_COUNTS.items():
        generator = RecordGenerator(province, seed, today, system_base=system_base)
        # Parts draw from a stream of their own: adding one leaves the generated records as they were.
        part_rng = Random(f"demo-parts:{province}:{seed}")
        new_id = UuidSource(part_rng)
        for record in generator.records(count):
            yield _with_parts(record, province, today, system_base, part_rng, new_id, parts)


def _with_parts(
    record: Record,
    province: str,
    today: date,
    system_base: str,
    rng: Random,
    new_id: Callable[[], str],
    parts: Sequence[DemoPart],
) -> Record:
    """`record` (its patient first) with what each part adds about the patient."""
    patient = record[0]
    subject = DemoPatient(
        patient=patient,
        province=province,
        birth_date=date.fromisoformat(patient["birthDate"]),
        today=today,
        system_base=system_base,
        rng=rng,
        new_id=new_id,
    )
    for part in parts:
        record.extend(part(subject))
    return record


def sample_notes() -> dict[str, Any]:
    """The sample notes: `patient` (her fields) and `notes` (each `taken_at`, `content` and
    the `expected_type` a careful reader gives it)."""
    return json.loads(SAMPLE_NOTES.read_text(encoding="utf-8"))


def sample_patient_record(sample: dict[str, Any], *, system_base: str, new_id: Callable[[], str]) -> Record:
    """The patient of the sample notes, then each note's DocumentReference and the
    vital-sign Observations derived from it."""
    patient_id = new_id()
    patient = patient_mapper.to_fhir(
        patient_mapper.Patient.model_validate({"id": patient_id, **sample["patient"]}), system_base=system_base
    )
    patient.setdefault("meta", {}).setdefault("tag", []).append(SYNTHETIC_TAG)
    record: Record = [patient]
    for written in sample["notes"]:
        text = written["content"]
        taken_at = datetime.fromisoformat(written["taken_at"])
        draft = note_mapper.new_note(
            patient_id=patient_id,
            taken_at=taken_at,
            content=text.encode("utf-8"),
            content_type="text/plain",
            text=text,
            text_source="typed",
        )
        # Stored, as far as the record says, when it was written: the same run gives the same record.
        document = note_mapper.to_fhir(draft, system_base=system_base, stored_at=taken_at, subject=urn(patient_id))
        document["id"] = new_id()
        record.append(document)
        for observation in note_mapper.vital_observations(draft, urn(document["id"]), subject=urn(patient_id)):
            record.append({"id": new_id(), **observation})
    return record
