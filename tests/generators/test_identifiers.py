"""Resource ids and health numbers depend on the record's index alone, never repeat within a
run, and keep their shape: version-4 UUIDs, valid BC PHNs and Ontario HCNs."""

import re
from functools import cache
from random import Random

import pytest

from generators.identifiers import HealthNumbers, RecordIds
from generators.records import RecordGenerator
from generators.shards import SHARD_SIZE
from mappers import health_numbers
from mappers.patient import PROVINCE_HEALTH_NUMBER_SYSTEMS
from tests.generators.conftest import TODAY

RECORDS = 30_000
UUID_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
VALID_NUMBER = {"BC": health_numbers.is_valid_bc_phn, "ON": health_numbers.is_valid_on_hcn}


@cache
def records(province: str) -> list[list[dict]]:
    # Thirty shards: ids and numbers are checked across shard boundaries.
    return list(RecordGenerator(province, 7, TODAY).records(RECORDS))


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_ids_are_distinct_uuids_naming_the_record_and_the_resource(province: str) -> None:
    ids = [(index, position, resource["id"]) for index, record in enumerate(records(province))
           for position, resource in enumerate(record)]  # fmt: skip

    assert all(UUID_V4.fullmatch(resource_id) for _, _, resource_id in ids)
    assert len({resource_id for _, _, resource_id in ids}) == len(ids)
    assert all(int(resource_id[-12:], 16) == index * 16 + position for index, position, resource_id in ids)
    assert len({resource_id[:-12] for _, _, resource_id in ids}) == 1


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_health_numbers_are_valid_and_distinct_across_shards(province: str) -> None:
    system = PROVINCE_HEALTH_NUMBER_SYSTEMS[province]
    numbers = [
        identifier["value"]
        for record in records(province)
        for identifier in record[0]["identifier"]
        if identifier["system"] == system
    ]

    assert len(numbers) == RECORDS > 20 * SHARD_SIZE
    assert [number for number in numbers if not VALID_NUMBER[province](number)] == []
    assert len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("province", ["BC", "ON"])
def test_a_health_number_is_a_function_of_the_index(province: str) -> None:
    numbers = HealthNumbers(province, Random(5))
    sequence = [numbers() for _ in range(50)]

    again = HealthNumbers(province, Random(5))
    assert [again.at(index) for index in reversed(range(50))] == sequence[::-1]
    with pytest.raises(ValueError):
        again.at(again.capacity)


def test_bc_numbers_whose_own_digit_has_no_check_digit_take_a_spare_one_without_colliding() -> None:
    # Every remainder of the stem's weighted sum occurs among a few thousand stems, so every
    # way a slot's digit can be dead (none, one, two of them; spares dead or not) is met.
    numbers = HealthNumbers("BC", Random(11))
    made = [numbers.at(index) for index in range(100_000)]

    assert all(health_numbers.is_valid_bc_phn(number) for number in made)
    assert len(set(made)) == len(made)
    assert {number[8] for number in made} == set("0123456789")


def test_record_ids_keep_the_uuid_shape_up_to_the_last_index() -> None:
    ids = RecordIds(Random(1))
    assert UUID_V4.fullmatch(f"{ids.stem(0)}0")
    assert UUID_V4.fullmatch(f"{ids.stem(16**11 - 1)}f")
    with pytest.raises(ValueError):
        ids.stem(16**11)
