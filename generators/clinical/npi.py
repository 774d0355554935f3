"""National Provider Identifiers: ten digits, the last a Luhn check digit.

CMS computes the check digit as if the nine-digit body were prefixed with 80840 (the
card issuer prefix of US health applications), so a plain Luhn over ten digits gives the
wrong answer; the prefix adds a constant 24 to the Luhn sum. Real NPIs start with 1 or 2.
"""

# The Luhn sum of the prefix 80840 at the positions it takes in front of nine digits.
_PREFIX_SUM = 24


def npi_check_digit(first_nine: str) -> str:
    """The check digit that completes an NPI starting with `first_nine`."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an NPI check digit needs the first nine digits")
    total = _PREFIX_SUM
    # The digit left of the check digit is doubled, then every second one leftwards:
    # of nine digits, those at even indexes.
    for index, character in enumerate(first_nine):
        digit = int(character)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    """Whether `npi` is ten digits starting with 1 or 2 whose last digit checks."""
    return len(npi) == 10 and npi.isdigit() and npi[0] in "12" and npi_check_digit(npi[:9]) == npi[9]
