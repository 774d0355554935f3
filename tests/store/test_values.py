"""Date ranges and text folding: what every date and string search compares."""

from datetime import datetime

import pytest

from fhir_gateway.embedded.values import LATEST, date_range, fold, instant
from mappers.text import fold as fold_text


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("1980", datetime(1980, 1, 1), datetime(1980, 12, 31, 23, 59, 59, 999999)),
        ("1980-02", datetime(1980, 2, 1), datetime(1980, 2, 29, 23, 59, 59, 999999)),
        ("1980-12", datetime(1980, 12, 1), datetime(1980, 12, 31, 23, 59, 59, 999999)),
        ("1980-12-10", datetime(1980, 12, 10), datetime(1980, 12, 10, 23, 59, 59, 999999)),
        ("2020-01-01T10:00", datetime(2020, 1, 1, 10), datetime(2020, 1, 1, 10, 0, 59, 999999)),
        ("2020-01-01T10:00:05Z", datetime(2020, 1, 1, 10, 0, 5), datetime(2020, 1, 1, 10, 0, 5, 999999)),
        ("2020-01-01T10:00:05.25Z", datetime(2020, 1, 1, 10, 0, 5, 250000), datetime(2020, 1, 1, 10, 0, 5, 250000)),
        # Offsets are folded into UTC.
        ("2020-01-01T02:00:00-08:00", datetime(2020, 1, 1, 10), datetime(2020, 1, 1, 10, 0, 0, 999999)),
        ("2020-01-01T23:30:00+05:30", datetime(2020, 1, 1, 18), datetime(2020, 1, 1, 18, 0, 0, 999999)),
        ("9999", datetime(9999, 1, 1), LATEST),
    ],
)
def test_date_range_covers_the_precision_given(text: str, low: datetime, high: datetime) -> None:
    assert date_range(text) == (low, high)


@pytest.mark.parametrize("text", ["", "80-12-10", "1980-1-1", "1980-12-10T10", "yesterday", "1980-12-10 10:00"])
def test_date_range_refuses_what_is_not_a_fhir_date(text: str) -> None:
    with pytest.raises(ValueError):
        date_range(text)


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Zoë") == fold("ZOE") == "zoe"
    assert fold("Ğüneş Çelik") == "gunes celik"
    assert fold("Straße") == "strasse"


@pytest.mark.parametrize("text", ["Søren", "ŁUKASZ", "Æsa", "Þóra", "Marie-Ève O'Brien"])
def test_fold_is_the_name_search_folding(text: str) -> None:
    assert fold(text) == fold_text(text)


def test_fold_truncates_to_the_indexed_length() -> None:
    assert fold("Ø" * 500) == "o" * 200


def test_instant_has_millisecond_precision_and_utc_offset() -> None:
    assert instant(datetime(2026, 1, 2, 3, 4, 5, 678901)) == "2026-01-02T03:04:05.678+00:00"
