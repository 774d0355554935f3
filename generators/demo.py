"""The demo dataset: a few dozen patients with immunizations and allergies, so the API shows
real data on its first start.

Patients come from the same generator as the bulk records (so through the gateway's own
Patient mapping), from a fixed seed. Further kinds of data join through `DemoPart`s: a
part is given each demo patient and returns more resources about them (notes, visits),
which go into the same transaction as the patient. Adding one is adding it to
`DEFAULT_PARTS`; nothing else here changes.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from random import Random

from generators.bundles import Record, Resource, urn
from generators.identifiers import UuidSource
from generators.records import DEFAULT_SYSTEM_BASE, RecordGenerator

DEMO_SEED = 2025
# Patients per province: British Columbia's records carry allergies, Ontario's do not.
DEMO_COUNTS = {"BC": 24, "ON": 12}


@dataclass(frozen=True)
class DemoPatient:
    """A demo patient, as a part sees them: what it needs to write resources about them."""

    patient: Resource
    province: str
    birth_date: date
    today: date
    system_base: str
    rng: Random
    new_id: Callable[[], str]

    @property
    def reference(self) -> dict[str, str]:
        """The reference to this patient from another resource of the same Bundle."""
        return {"reference": urn(self.patient["id"])}


DemoPart = Callable[[DemoPatient], list[Resource]]

DEFAULT_PARTS: tuple[DemoPart, ...] = ()


def demo_records(
    today: date,
    *,
    system_base: str = DEFAULT_SYSTEM_BASE,
    parts: Sequence[DemoPart] = DEFAULT_PARTS,
    seed: int = DEMO_SEED,
) -> Iterator[Record]:
    """Every demo record: a patient, their immunizations and allergy, then what each part adds.

    The same `today` gives the same records.
    """
    for province, count in DEMO_COUNTS.items():
        generator = RecordGenerator(province, seed, today, system_base=system_base)
        # Parts draw from a stream of their own: adding one leaves the generated records as they were.
        part_rng = Random(f"demo-parts:{province}:{seed}")
        new_id = UuidSource(part_rng)
        for record in generator.records(count):
            patient = record[0]
            subject = DemoPatient(
                patient=patient,
                province=province,
                birth_date=date.fromisoformat(patient["birthDate"]),
                today=today,
                system_base=system_base,
                rng=part_rng,
                new_id=new_id,
            )
            for part in parts:
                record.extend(part(subject))
            yield record
