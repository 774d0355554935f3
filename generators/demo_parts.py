"""What a part of the demo dataset is given about each demo patient, and what it returns."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from random import Random

from generators.bundles import Resource, urn


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
