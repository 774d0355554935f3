"""Identifiers of synthetic records: resource ids (UUIDs) and provincial health numbers.

Both are unique within a run and the same for the same seed. Health numbers walk a
permutation of the province's number space (an affine map with a multiplier coprime to
its size), so they never repeat within a run yet look scattered; the check digit comes
from `mappers.health_numbers`, the same code that validates them.
"""

from math import gcd
from random import Random

from mappers.health_numbers import bc_phn_check_digit, on_hcn_check_digit


class UuidSource:
    """Version-4-shaped UUIDs: a random prefix per run, then a counter.

    One draw per run instead of 122 random bits per id; uniqueness within the run comes
    from the counter, across runs from the prefix.
    """

    def __init__(self, rng: Random) -> None:
        bits = f"{rng.getrandbits(80):020x}"
        variant = "89ab"[int(bits[16], 16) % 4]
        self._prefix = f"{bits[:8]}-{bits[8:12]}-4{bits[13:16]}-{variant}{bits[17:20]}-"
        self._next = 0

    def __call__(self) -> str:
        """The next id."""
        count = self._next
        self._next = count + 1
        return f"{self._prefix}{count:012x}"


class HealthNumbers:
    """Distinct, valid health numbers of one province: BC PHNs or Ontario HCNs."""

    def __init__(self, province: str, rng: Random) -> None:
        if province == "BC":
            # "9" then eight digits, then the MOD-11 check digit.
            self._size, self._offset, self._lead = 10**8, 0, "9"
            self._check = bc_phn_check_digit
        elif province == "ON":
            # Nine digits not starting with 0, then the Luhn check digit.
            self._size, self._offset, self._lead = 9 * 10**8, 10**8, ""
            self._check = on_hcn_check_digit
        else:
            raise ValueError(f"no health-number rule for province {province!r}")
        self._width = 9 - len(self._lead)
        self._step = self._coprime(rng)
        self._start = rng.randrange(self._size)
        self._next = 0

    def __call__(self) -> str:
        """The next number; a BC body no check digit can complete is skipped."""
        while True:
            position = (self._start + self._step * self._next) % self._size
            self._next += 1
            body = f"{self._lead}{self._offset + position:0{self._width}d}"
            check = self._check(body)
            if check is not None:
                return f"{body}{check}"

    def _coprime(self, rng: Random) -> int:
        while True:
            step = rng.randrange(self._size // 3, self._size)
            if gcd(step, self._size) == 1:
                return step
