"""BC PHN and Ontario HCN check digits, on published examples and on every generated number."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mappers import health_numbers
from mappers.health_numbers import (
    bc_phn_check_digit,
    card_number,
    health_number_problem,
    is_valid_bc_phn,
    is_valid_on_hcn,
    normalize,
    on_hcn_check_digit,
    split_on_hcn,
    unplaced_number_problem,
)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@pytest.mark.parametrize("number", ["9698658215", "9253484802"])
def test_known_bc_phns_are_valid(number: str) -> None:
    assert is_valid_bc_phn(number)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("9698658216", "wrong check digit"),
        ("9253484801", "wrong check digit"),
        ("8698658215", "does not start with 9"),
        ("969865821", "nine digits"),
        ("96986582150", "eleven digits"),
        ("96986582A5", "a letter"),
    ],
)
def test_malformed_bc_phns_are_invalid(number: str, why: str) -> None:
    assert not is_valid_bc_phn(number), why


def test_a_bc_remainder_needing_check_digit_10_or_11_has_no_valid_phn() -> None:
    # Remainder 0 would need check digit 11, remainder 1 check digit 10.
    payload_remainder_1 = next(f"9{n:08d}" for n in range(10**8) if _remainder(f"9{n:08d}") == 1)
    payload_remainder_0 = "900000000"

    assert bc_phn_check_digit(payload_remainder_1) is None
    assert bc_phn_check_digit(payload_remainder_0) is None
    assert not any(is_valid_bc_phn(payload_remainder_1 + str(digit)) for digit in range(10))


def _remainder(first_nine: str) -> int:
    return sum(int(d) * w for d, w in zip(first_nine[1:], health_numbers.BC_PHN_WEIGHTS, strict=True)) % 11


@given(nine_digits.map(lambda digits: "9" + digits[1:]))
def test_every_bc_phn_completed_by_its_check_digit_is_valid_and_no_other_digit_is(first_nine: str) -> None:
    check = bc_phn_check_digit(first_nine)
    valid = [digit for digit in range(10) if is_valid_bc_phn(f"{first_nine}{digit}")]

    assert valid == ([] if check is None else [check])


@pytest.mark.parametrize("number", ["9876543217", "9876543217AB", "1234567897"])
def test_known_on_hcns_are_valid(number: str) -> None:
    assert is_valid_on_hcn(number)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("9876543210", "wrong check digit"),
        ("9876543217A", "one-letter version code"),
        ("9876543217ABC", "three-letter version code"),
        ("9876543217ab", "lower-case version code (normalize first)"),
        ("987654321", "nine digits"),
    ],
)
def test_malformed_on_hcns_are_invalid(number: str, why: str) -> None:
    assert not is_valid_on_hcn(number), why


@given(nine_digits)
def test_luhn_catches_every_single_digit_error(first_nine: str) -> None:
    number = f"{first_nine}{on_hcn_check_digit(first_nine)}"
    assert is_valid_on_hcn(number)
    for position in range(10):
        for digit in "0123456789":
            if digit != number[position]:
                assert not is_valid_on_hcn(number[:position] + digit + number[position + 1 :])


def test_split_on_hcn_separates_the_version_code() -> None:
    assert split_on_hcn("9876543217AB") == ("9876543217", "AB")
    assert split_on_hcn("9876543217") == ("9876543217", None)
    assert split_on_hcn("98765432") is None


def test_normalize_drops_spaces_and_hyphens_and_upper_cases() -> None:
    assert normalize(" 9698 658 215 ") == "9698658215"
    assert normalize("9876-543-217-ab") == "9876543217AB"


def test_health_number_problem_names_the_rule_or_passes() -> None:
    assert health_number_problem("BC", "9698658215") is None
    assert "BC PHN" in (health_number_problem("BC", "9698658216") or "")
    assert "Ontario HCN" in (health_number_problem("ON", "9876543210") or "")
    # Provinces without a known rule accept any number.
    assert health_number_problem("QC", "ABCD12345678") is None


def test_check_digit_helpers_refuse_a_payload_that_is_not_nine_digits() -> None:
    with pytest.raises(ValueError):
        bc_phn_check_digit("96986582")
    with pytest.raises(ValueError):
        on_hcn_check_digit("98765432A")


def _with_on_check_digit(first_nine: str) -> str:
    return f"{first_nine}{on_hcn_check_digit(first_nine)}"


def test_a_valid_bc_phn_of_no_province_has_no_problem() -> None:
    assert unplaced_number_problem("9698658215") is None
    assert unplaced_number_problem("9253484802") is None


def test_a_number_of_both_shapes_failing_both_check_digits_names_both() -> None:
    problem = unplaced_number_problem("9698658216")

    assert problem is not None
    assert "9698658216" in problem
    assert "BC PHN" in problem
    assert "Ontario HCN" in problem


def test_ten_digits_not_starting_with_9_failing_luhn_name_the_ontario_hcn_only() -> None:
    assert not is_valid_on_hcn("1234567890")

    problem = unplaced_number_problem("1234567890")

    assert problem is not None
    assert "1234567890" in problem
    assert "Ontario HCN" in problem
    assert "BC PHN" not in problem


def test_a_version_code_makes_it_an_ontario_hcn_only() -> None:
    problem = unplaced_number_problem("9698658216AB")

    assert problem is not None
    assert "Ontario HCN" in problem
    assert "BC PHN" not in problem


@pytest.mark.parametrize("version", ["", "AB", "ZK"])
def test_a_valid_ontario_hcn_of_no_province_has_no_problem(version: str) -> None:
    number = _with_on_check_digit("123456789") + version
    assert is_valid_on_hcn(number)

    assert unplaced_number_problem(number) is None


def test_a_number_passing_one_of_the_check_digits_it_is_shaped_for_has_no_problem() -> None:
    # Starts with 9 and passes Luhn, failing MOD-11: an Ontario HCN.
    on_only = next(
        number for number in (_with_on_check_digit(f"9{n:08d}") for n in range(1000)) if not is_valid_bc_phn(number)
    )
    # A valid BC PHN that fails Luhn.
    bc_only = "9698658215"
    assert not is_valid_on_hcn(bc_only)

    assert unplaced_number_problem(on_only) is None
    assert unplaced_number_problem(bc_only) is None


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("969865821", "nine digits"),
        ("96986582150", "eleven digits"),
        ("96986582A5", "a letter among the digits"),
        ("ABCDEFGHIJ", "letters"),
        ("1234567897A", "a one-letter version code"),
        ("1234567890ABC", "a three-letter version code"),
        ("1234567890ab", "a lower-case version code (not normalised)"),
        ("ABC123", "another province's shape"),
        ("", "empty"),
    ],
)
def test_numbers_of_neither_shape_have_no_problem(number: str, why: str) -> None:
    assert unplaced_number_problem(number) is None, why


@given(nine_digits, st.sampled_from(["", "AB", "XY"]))
def test_an_ontario_shaped_number_has_a_problem_exactly_when_no_check_digit_it_is_shaped_for_passes(
    first_nine: str, version: str
) -> None:
    for digit in "0123456789":
        number = f"{first_nine}{digit}{version}"
        bc_shaped = not version and number.startswith("9")
        passes = is_valid_on_hcn(number) or (bc_shaped and is_valid_bc_phn(number))
        problem = unplaced_number_problem(number)

        assert (problem is None) == passes
        if problem is not None:
            assert "Ontario HCN" in problem
            assert ("BC PHN" in problem) == bc_shaped


@pytest.mark.parametrize(
    ("number", "card"),
    [
        ("1234567897AB", "1234567897"),
        ("1234567897", "1234567897"),
        ("1234567890ZK", "1234567890"),
        ("9698658215", "9698658215"),
        # Not an Ontario HCN's shape: kept as it is.
        ("1234567897A", "1234567897A"),
        ("1234567897ab", "1234567897ab"),
        ("ABC123", "ABC123"),
        ("969865821", "969865821"),
        ("", ""),
    ],
)
def test_the_card_number_drops_an_ontario_version_code_only(number: str, card: str) -> None:
    assert card_number(number) == card


@given(nine_digits, st.sampled_from(["AB", "ZK", "QQ"]))
def test_reissued_cards_share_their_card_number(first_nine: str, version: str) -> None:
    number = _with_on_check_digit(first_nine)

    assert card_number(number + version) == card_number(number) == number
