"""Name pools are what Faker's en_CA locale draws for the seed, without importing Faker to draw them."""

import pytest

from generators.pools import draw_pools, faker_pools


@pytest.mark.parametrize("seed", [1, 42, 20_251_101])
def test_pools_are_the_names_faker_draws_for_the_seed(seed: int) -> None:
    assert draw_pools(seed, 200) == faker_pools(seed, 200)


def test_another_seed_draws_other_pools() -> None:
    assert draw_pools(1).family != draw_pools(2).family
