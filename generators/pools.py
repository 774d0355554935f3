"""Names and streets, drawn from Faker's en_CA locale once per seed and sampled from then on.

Faker takes tens of microseconds per value; a record needs a handful of values, and the
generator aims at tens of thousands of records a second. So Faker fills pools once, seeded
from the run's seed (the same seed gives the same pools), and records pick from them.
"""

from dataclasses import dataclass

from faker import Faker

POOL_SIZE = 500


@dataclass(frozen=True)
class NamePools:
    """What a record's name and street are picked from."""

    female_given: tuple[str, ...]
    male_given: tuple[str, ...]
    family: tuple[str, ...]
    streets: tuple[str, ...]


def draw_pools(seed: int, size: int = POOL_SIZE) -> NamePools:
    """Pools of `size` values each, the same for the same seed."""
    faker = Faker("en_CA")
    faker.seed_instance(seed)
    return NamePools(
        female_given=tuple(faker.first_name_female() for _ in range(size)),
        male_given=tuple(faker.first_name_male() for _ in range(size)),
        family=tuple(faker.last_name() for _ in range(size)),
        # A street is named after a person or a place far more often than not.
        streets=tuple(faker.last_name() for _ in range(size)),
    )
