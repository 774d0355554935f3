"""Text folding: the one comparison rule of the fuzzy name search and the FHIR store's strings."""

import pytest

from mappers.text import fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Zoë", "zoe"),
        ("ÉMILE", "emile"),
        ("Straße", "strasse"),
        ("Ğüneş Çelik", "gunes celik"),
        # Letters Unicode does not decompose, lower and upper case.
        ("Søren", "soren"),
        ("ØRJAN", "orjan"),
        ("Łukasz", "lukasz"),
        ("Æsa", "aesa"),
        ("Œuvre", "oeuvre"),
        ("Đorđe", "dorde"),
        ("Þóra Guðmundsdóttir", "thora gudmundsdottir"),
        ("Işık", "isik"),
        # Compatibility forms decompose to letters that are then lowered too.
        ("ℌ", "h"),
        ("ǢRIN", "aerin"),
    ],
)
def test_fold_strips_accents_and_case(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_keeps_spaces_and_punctuation() -> None:
    assert fold("Marie-Ève O'Brien") == "marie-eve o'brien"
