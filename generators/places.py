"""Where synthetic patients live: real cities, postal codes that belong to their province, phones.

A Canadian postal code reads `A1A 1A1`. Its first letter names the region, so it fixes the
province: V for British Columbia; K, L, M, N or P for Ontario. D, F, I, O, Q and U are
never used, and W and Z never come first. Each city below carries the first letter its
postal codes start with, so the city, the province and the postal code always agree.
"""

from dataclasses import dataclass
from random import Random

# Letters Canada Post uses after the first position.
POSTAL_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"


@dataclass(frozen=True)
class City:
    name: str
    province: str
    postal_letter: str
    area_codes: tuple[str, ...]


_BC_COAST = ("604", "778", "236")
_BC_INTERIOR = ("250", "778", "236")
_TORONTO = ("416", "647", "437")
_GOLDEN_HORSESHOE = ("905", "289", "365")
_EASTERN_ON = ("613", "343")
_SOUTHWESTERN_ON = ("519", "226", "548")
_NORTHERN_ON = ("705", "249")

CITIES: dict[str, tuple[City, ...]] = {
    "BC": tuple(
        City(name, "BC", "V", codes)
        for name, codes in (
            ("Vancouver", _BC_COAST),
            ("Surrey", _BC_COAST),
            ("Burnaby", _BC_COAST),
            ("Richmond", _BC_COAST),
            ("Coquitlam", _BC_COAST),
            ("Abbotsford", _BC_COAST),
            ("Langley", _BC_COAST),
            ("Chilliwack", _BC_COAST),
            ("Victoria", _BC_INTERIOR),
            ("Nanaimo", _BC_INTERIOR),
            ("Kelowna", _BC_INTERIOR),
            ("Kamloops", _BC_INTERIOR),
            ("Vernon", _BC_INTERIOR),
            ("Penticton", _BC_INTERIOR),
            ("Prince George", _BC_INTERIOR),
        )
    ),
    "ON": tuple(
        City(name, "ON", letter, codes)
        for name, letter, codes in (
            ("Toronto", "M", _TORONTO),
            ("Toronto", "M", _TORONTO),
            ("Ottawa", "K", _EASTERN_ON),
            ("Kingston", "K", _EASTERN_ON),
            ("Belleville", "K", _EASTERN_ON),
            ("Mississauga", "L", _GOLDEN_HORSESHOE),
            ("Brampton", "L", _GOLDEN_HORSESHOE),
            ("Hamilton", "L", _GOLDEN_HORSESHOE),
            ("Oakville", "L", _GOLDEN_HORSESHOE),
            ("Oshawa", "L", _GOLDEN_HORSESHOE),
            ("Markham", "L", _GOLDEN_HORSESHOE),
            ("London", "N", _SOUTHWESTERN_ON),
            ("Windsor", "N", _SOUTHWESTERN_ON),
            ("Kitchener", "N", _SOUTHWESTERN_ON),
            ("Guelph", "N", _SOUTHWESTERN_ON),
            ("Greater Sudbury", "P", _NORTHERN_ON),
            ("Sault Ste. Marie", "P", _NORTHERN_ON),
            ("North Bay", "P", _NORTHERN_ON),
            ("Thunder Bay", "P", ("807",)),
        )
    ),
}

STREET_TYPES = ("Street", "Avenue", "Road", "Drive", "Crescent", "Boulevard", "Way", "Court", "Place", "Lane")


def postal_code(rng: Random, city: City) -> str:
    """A postal code of `city`'s region: its first letter, then digit, letter, space, digit, letter, digit."""
    # One draw split into the five positions: far cheaper than five calls into the generator.
    n = rng.getrandbits(32)
    letters = POSTAL_LETTERS
    forward_sortation_area = f"{city.postal_letter}{1 + n % 9}{letters[n // 9 % 20]}"
    return f"{forward_sortation_area} {n // 180 % 10}{letters[n // 1800 % 20]}{n // 36000 % 10}"


def phone_number(rng: Random, city: City) -> str:
    """A number in the city's area codes from the 555-01XX block, which is reserved for fiction."""
    n = rng.getrandbits(16)
    codes = city.area_codes
    return f"+1 {codes[n % len(codes)]} 555 01{n // 8 % 100:02d}"
