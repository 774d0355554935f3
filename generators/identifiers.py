"""Identifiers of synthetic records: resource ids (UUIDs) and provincial health numbers.

Both are unique within a run, the same for the same seed, and a function of the record's
index alone, so that a record made in any shard, by any process, carries the same ones.
Health numbers walk a permutation of the province's number space (an affine map with a
multiplier coprime to its size), so they never repeat within a run yet look scattered;
the check digit comes from `mappers.health_numbers`, the same code that validates them.
"""

from functools import cache
from math import gcd
from random import Random

from mappers.health_numbers import BC_PHN_WEIGHTS

# The last 12 hex digits of a record's resource ids: 11 for the record's index, 1 for the
# resource's position within the record.
_INDEX_DIGITS = 11
MAX_RESOURCES_PER_RECORD = 16
MAX_RECORDS = 16**_INDEX_DIGITS


def uuid_prefix(rng: Random) -> str:
    """The first 20 hex digits of a version-4-shaped UUID, with its dashes."""
    bits = f"{rng.getrandbits(80):020x}"
    variant = "89ab"[int(bits[16], 16) % 4]
    return f"{bits[:8]}-{bits[8:12]}-4{bits[13:16]}-{variant}{bits[17:20]}-"


class UuidSource:
    """Version-4-shaped UUIDs: a random prefix per run, then a counter.

    One draw per run instead of 122 random bits per id; uniqueness within the run comes
    from the counter, across runs from the prefix.
    """

    def __init__(self, rng: Random) -> None:
        self._prefix = uuid_prefix(rng)
        self._next = 0

    def __call__(self) -> str:
        """The next id."""
        count = self._next
        self._next = count + 1
        return f"{self._prefix}{count:012x}"


class RecordIds:
    """Version-4-shaped UUIDs of the resources of record n: a random prefix per run, then
    the record's index and the resource's position within the record."""

    def __init__(self, rng: Random) -> None:
        self._prefix = uuid_prefix(rng)

    def stem(self, index: int) -> str:
        """All of record `index`'s ids but their last hex digit, the resource's position."""
        if not 0 <= index < MAX_RECORDS:
            raise ValueError(f"a record index is between 0 and {MAX_RECORDS - 1}")
        return f"{self._prefix}{index:0{_INDEX_DIGITS}x}"


# A BC body is "9", a seven-digit stem from the permutation, then a last digit. The
# weighted sum of the last digit (weight 3, coprime to 11) takes ten distinct remainders
# over the ten digits, so at most two of them (the remainders 0 and 1) leave no check
# digit: at least eight always do. A slot 0-7 names the last digit; when that one has no
# check digit, it takes one of the spare digits 8 and 9 instead, which no slot names, so
# no two indexes ever share a number.
_BC_SLOTS = 8
_BC_SPARES = (8, 9)
_BC_LAST_WEIGHT = BC_PHN_WEIGHTS[-1]


@cache
def _digit_sums(width: int, weights: tuple[int, ...]) -> tuple[int, ...]:
    """sum(digit * weight) over the `width` digits of every number below 10**width."""
    sums = [0]
    for weight in weights[:width]:
        sums = [previous + digit * weight for previous in sums for digit in range(10)]
    return tuple(sums)


@cache
def _luhn_sums(width: int, doubled_first: bool) -> tuple[int, ...]:
    """The Luhn sum of the `width` digits of every number below 10**width, doubling the
    first digit and every second one after it when `doubled_first`, else the others."""
    sums = [0]
    for position in range(width):
        doubled = (position % 2 == 0) == doubled_first
        values = [(2 * digit - 9 if digit > 4 else 2 * digit) if doubled else digit for digit in range(10)]
        sums = [previous + value for previous in sums for value in values]
    return tuple(sums)


class HealthNumbers:
    """Distinct, valid health numbers of one province: BC PHNs or Ontario HCNs.

    `at(n)` is the number of record n; calling the object gives the numbers of 0, 1, 2...
    The check digits follow `mappers.health_numbers` (BC's MOD-11 with its weights, Ontario's
    Luhn), summed from tables of three- and four-digit groups: its functions take several
    microseconds a number, as much as the rest of a patient. Tests validate every number
    with that module.
    """

    def __init__(self, province: str, rng: Random) -> None:
        if province == "BC":
            self._size = 10**7 * _BC_SLOTS
            self._high, self._low = _digit_sums(3, BC_PHN_WEIGHTS), _digit_sums(4, BC_PHN_WEIGHTS[3:])
        elif province == "ON":
            # Nine digits not starting with 0, then the Luhn check digit.
            self._size = 9 * 10**8
            # Luhn doubles the first, third, ... of the nine digits: groups of three at
            # offsets 0, 3 and 6 start doubled, undoubled and doubled.
            self._high, self._low = _luhn_sums(3, True), _luhn_sums(3, False)
        else:
            raise ValueError(f"no health-number rule for province {province!r}")
        self._bc = province == "BC"
        self._step = self._coprime(rng)
        self._start = rng.randrange(self._size)
        self._next = 0

    @property
    def capacity(self) -> int:
        """How many distinct numbers there are: records 0 to capacity - 1 have one each."""
        return self._size

    def __call__(self) -> str:
        """The next number."""
        number = self.at(self._next)
        self._next += 1
        return number

    def at(self, index: int) -> str:
        """The number of record `index`."""
        if not 0 <= index < self._size:
            raise ValueError(f"only {self._size} distinct health numbers: no number for record {index}")
        position = (self._start + self._step * index) % self._size
        high, low = self._high, self._low
        if not self._bc:
            body = 10**8 + position
            total = high[body // 10**6] + low[body // 1000 % 1000] + high[body % 1000]
            return f"{body}{-total % 10}"
        stem, slot = divmod(position, _BC_SLOTS)
        partial = high[stem // 10**4] + low[stem % 10**4]
        remainder = (partial + _BC_LAST_WEIGHT * slot) % 11
        if remainder < 2:
            # No check digit for this slot's digit: the slot's rank among such slots
            # picks one of the spare digits that has one.
            dead = [digit for digit in range(_BC_SLOTS) if (partial + _BC_LAST_WEIGHT * digit) % 11 < 2]
            spares = [digit for digit in _BC_SPARES if (partial + _BC_LAST_WEIGHT * digit) % 11 >= 2]
            slot = spares[dead.index(slot)]
            remainder = (partial + _BC_LAST_WEIGHT * slot) % 11
        return f"9{stem:07d}{slot}{11 - remainder}"

    def _coprime(self, rng: Random) -> int:
        while True:
            step = rng.randrange(self._size // 3, self._size)
            if gcd(step, self._size) == 1:
                return step
