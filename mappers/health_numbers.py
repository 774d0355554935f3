"""Canadian provincial health numbers: check digits, validation and normalisation.

- British Columbia PHN: 10 digits, the first a 9; the last is a MOD-11 check digit over
  digits 2-9 weighted 2, 4, 8, 5, 10, 9, 7, 3 (11 minus the remainder; a remainder of
  0 or 1 would need a check digit of 11 or 10, so no valid PHN has those).
- Ontario HCN: 10 digits whose last is a Luhn check digit over the first nine, then an
  optional two-letter version code that changes when a card is reissued.

The generators make valid numbers with `bc_phn_check_digit` and `on_hcn_check_digit`.
"""

import re

BC_PHN_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3)

_TEN_DIGITS = re.compile(r"\d{10}")
_ON_HCN = re.compile(r"(?P<number>\d{10})(?P<version>[A-Z]{2})?")
# People write health numbers in groups ("9698 658 215", "1234-567-890-AB").
_SEPARATORS = re.compile(r"[\s-]+")


def normalize(number: str) -> str:
    """The number without spaces or hyphens, letters upper-cased."""
    return _SEPARATORS.sub("", number).upper()


def bc_phn_check_digit(first_nine: str) -> int | None:
    """The check digit that completes a BC PHN starting with `first_nine`, or None when
    no digit can (the remainder leaves 10 or 11)."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("a BC PHN check digit needs the first nine digits")
    remainder = sum(int(digit) * weight for digit, weight in zip(first_nine[1:], BC_PHN_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return None if check >= 10 else check


def is_valid_bc_phn(number: str) -> bool:
    """Whether `number` (already normalised) is a well-formed BC PHN with a correct check digit."""
    if not _TEN_DIGITS.fullmatch(number) or number[0] != "9":
        return False
    return bc_phn_check_digit(number[:9]) == int(number[9])


def on_hcn_check_digit(first_nine: str) -> int:
    """The Luhn check digit that completes an Ontario HCN starting with `first_nine`."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an Ontario HCN check digit needs the first nine digits")
    total = 0
    # Luhn doubles every second digit counting leftwards from the check digit, which for
    # nine payload digits means the first, third, ... (even indexes).
    for index, digit in enumerate(int(character) for character in first_nine):
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def split_on_hcn(number: str) -> tuple[str, str | None] | None:
    """(the ten digits, the version code or None) of a well-formed Ontario HCN, else None."""
    match = _ON_HCN.fullmatch(number)
    return (match["number"], match["version"]) if match else None


def is_valid_on_hcn(number: str) -> bool:
    """Whether `number` (already normalised) is a well-formed Ontario HCN, version code
    optional, with a correct check digit."""
    parts = split_on_hcn(number)
    if parts is None:
        return False
    digits = parts[0]
    return on_hcn_check_digit(digits[:9]) == int(digits[9])


def card_number(number: str) -> str:
    """The number without an Ontario version code: one card holder's numbers all have it."""
    parts = split_on_hcn(number)
    return parts[0] if parts else number


# What a province's number must look like, for the provinces whose check digit is known.
_VALIDATORS = {"BC": is_valid_bc_phn, "ON": is_valid_on_hcn}
_SHAPES = {"BC": re.compile(r"9\d{9}"), "ON": _ON_HCN}
_NAMES = {"BC": "a BC PHN", "ON": "an Ontario HCN"}
_EXPECTED = {
    "BC": "a BC PHN is 10 digits starting with 9, the last a MOD-11 check digit",
    "ON": "an Ontario HCN is 10 digits, the last a Luhn check digit, then an optional 2-letter version code",
}


def unplaced_number_problem(number: str) -> str | None:
    """What is wrong with `number` (normalised), of no known province, when it is shaped like
    a BC PHN or an Ontario HCN but passes neither check digit: most likely a mistyped one."""
    candidates = [province for province, shaped in _SHAPES.items() if shaped.fullmatch(number)]
    if not candidates or any(_VALIDATORS[province](number) for province in candidates):
        return None
    return f"{number!r} fails the check digit of {' and of '.join(_NAMES[province] for province in candidates)}"


def health_number_problem(province: str, number: str) -> str | None:
    """What is wrong with `number` (normalised) as `province`'s health number, or None if
    it passes (provinces without a known rule accept any number)."""
    validator = _VALIDATORS.get(province)
    if validator is None or validator(number):
        return None
    return f"{number!r} is not a valid {province} health number: {_EXPECTED[province]}"
