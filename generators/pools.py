"""Names and streets, drawn from Faker's name lists once per seed and sampled from then on.

Faker takes tens of microseconds per value; a record needs a handful of values, and the
generator aims at tens of thousands of records a second. So pools are filled once, seeded
from the run's seed, and records pick from them.

The pools are exactly what `Faker("en_CA")` seeded with the seed draws (its en_CA names
are the en_US person provider's weighted lists), without importing Faker: the `faker`
package imports every locale and provider on start-up, a third of a second, for three
lists of literals. So those lists are read from the provider's source, and drawn from as
Faker draws: `random.choices` with the lists' weights, from a `Random` seeded with the seed.
"""

import ast
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from random import Random

POOL_SIZE = 500
# The provider module Faker's en_CA locale takes its person names from.
NAMES_PROVIDER = ("providers", "person", "en_US", "__init__.py")
_NAME_LISTS = ("first_names_female", "first_names_male", "last_names")


@dataclass(frozen=True)
class NamePools:
    """What a record's name and street are picked from."""

    female_given: tuple[str, ...]
    male_given: tuple[str, ...]
    family: tuple[str, ...]
    streets: tuple[str, ...]


@dataclass(frozen=True)
class WeightedNames:
    names: tuple[str, ...]
    cumulative_weights: tuple[float, ...]

    def draw(self, rng: Random, count: int) -> tuple[str, ...]:
        # What Faker's random_element does for a weighted list, `count` times over.
        return tuple(rng.choices(self.names, cum_weights=self.cumulative_weights, k=count))


@cache
def draw_pools(seed: int, size: int = POOL_SIZE) -> NamePools:
    """Pools of `size` values each, the same for the same seed (and shared: read-only)."""
    female, male, family = (name_list(name) for name in _NAME_LISTS)
    rng = Random(seed)
    return NamePools(
        female_given=female.draw(rng, size),
        male_given=male.draw(rng, size),
        family=family.draw(rng, size),
        # A street is named after a person or a place far more often than not.
        streets=family.draw(rng, size),
    )


def faker_pools(seed: int, size: int = POOL_SIZE) -> NamePools:
    """The pools as Faker itself draws them: what `draw_pools` must equal (slow to import)."""
    from faker import Faker

    faker = Faker("en_CA")
    faker.seed_instance(seed)
    return NamePools(
        female_given=tuple(faker.first_name_female() for _ in range(size)),
        male_given=tuple(faker.first_name_male() for _ in range(size)),
        family=tuple(faker.last_name() for _ in range(size)),
        streets=tuple(faker.last_name() for _ in range(size)),
    )


@cache
def name_list(name: str) -> WeightedNames:
    """One of Faker's weighted name lists (`first_names_female`, ...), as names and cumulative weights."""
    lists = _provider_lists()
    if name not in lists:
        raise LookupError(f"Faker's name provider has no list {name!r}")
    names = tuple(lists[name])
    total = 0.0
    cumulative = []
    # Summed as random.choices sums weights (itertools.accumulate), so draws agree to the bit.
    for weight in lists[name].values():
        total += weight
        cumulative.append(total)
    return WeightedNames(names, tuple(cumulative))


@cache
def _provider_lists() -> dict[str, dict[str, float]]:
    """The provider's `NAME = OrderedDict(((name, weight), ...))` class attributes we use."""
    spec = find_spec("faker")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("faker is not installed")
    source = Path(next(iter(spec.submodule_search_locations)), *NAMES_PROVIDER)
    lists: dict[str, dict[str, float]] = {}
    for node in ast.walk(ast.parse(source.read_bytes(), filename=str(source))):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        target = node.targets[0].id
        value = node.value
        if target in _NAME_LISTS and isinstance(value, ast.Call) and len(value.args) == 1:
            lists[target] = dict(ast.literal_eval(value.args[0]))
    return lists
