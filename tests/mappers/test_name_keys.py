"""Name search keys: words one edit apart always share a key; unrelated words rarely do."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mappers.name_keys import PREFIX_LENGTH, name_keys, name_words, shape_keys, shape_probe, word_forms, word_keys

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=12)


@st.composite
def one_edit(draw: st.DrawFn) -> tuple[str, str]:
    """A word and the same word with one typo: a letter changed, dropped, added, or two swapped."""
    word = draw(words)
    position = draw(st.integers(0, len(word) - 1))
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    kind = draw(st.sampled_from(["substitute", "delete", "insert", "transpose"]))
    if kind == "substitute":
        typo = word[:position] + letter + word[position + 1 :]
    elif kind == "delete":
        typo = word[:position] + word[position + 1 :]
    elif kind == "insert":
        typo = word[:position] + letter + word[position:]
    else:
        position = min(position, len(word) - 2)
        typo = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    return word, typo


@given(one_edit())
def test_words_one_edit_apart_share_a_key(pair: tuple[str, str]) -> None:
    word, typo = pair
    assume(len(typo) >= 3)

    assert word_keys(word) & word_keys(typo)


@pytest.mark.parametrize(
    ("word", "typo"),
    [("john", "jonh"), ("smith", "smtih"), ("lovelace", "lovleace"), ("lovelace", "loelace"), ("garcia", "gracia")],
)
def test_common_typos_share_a_key(word: str, typo: str) -> None:
    assert word_keys(word) & word_keys(typo)


def test_unrelated_names_share_no_key() -> None:
    assert not word_keys("smith") & word_keys("jones")
    assert not word_keys("john") & word_keys("mary")


def test_a_typo_past_the_prefix_changes_no_key() -> None:
    assert word_keys("lovelace") == word_keys("lovelaec")
    assert all(len(key) <= PREFIX_LENGTH for key in word_keys("montgomery"))


@st.composite
def two_edits_past_the_start(draw: st.DrawFn) -> tuple[str, str]:
    """A word of 6+ letters and the same word with two letters changed, dropped or added after its third."""
    word = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=6, max_size=12))
    typo = word
    for _ in range(2):
        position = draw(st.integers(3, len(typo) - 1))
        letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
        typo = draw(
            st.sampled_from(
                [
                    typo[:position] + letter + typo[position + 1 :],
                    typo[:position] + typo[position + 1 :],
                    typo[:position] + letter + typo[position:],
                ]
            )
        )
    return word, typo


@given(two_edits_past_the_start())
def test_a_word_two_edits_away_past_its_start_keeps_a_shape(pair: tuple[str, str]) -> None:
    word, typo = pair

    assert shape_keys(word) & shape_probe(typo)


@pytest.mark.parametrize(
    ("word", "typo"), [("bernier", "breneir"), ("jerome", "tvjerome"), ("gonzalez", "gonztez"), ("autumn", "uumn")]
)
def test_common_double_typos_keep_a_shape(word: str, typo: str) -> None:
    assert shape_keys(word) & shape_probe(typo)


def test_shape_keys_are_first_three_last_three_and_first_last_with_length() -> None:
    assert shape_keys("smith") == {"smi*", "*ith", "s*h5"}
    assert shape_keys("ada") == set()
    assert shape_probe("smtih") == {"smt*", "*tih", "s*h4", "s*h5", "s*h6", "s*h7"}
    assert shape_probe("jo") == set()


def test_short_words_are_their_own_only_key() -> None:
    assert word_keys("wu") == {"wu"}
    assert word_keys("j") == {"j"}
    assert word_keys("") == set()


def test_names_are_folded_before_they_are_keyed() -> None:
    assert name_words("SØREN Łukasz-Æsa") == ["soren", "lukasz", "aesa", "lukaszaesa"]


def test_hyphenated_words_count_split_and_joined() -> None:
    assert word_forms("Marie-Ève St-Onge") == (["marie", "eve", "st", "onge"], ["marieeve", "stonge"])
    assert name_words("Marie-Ève St-Onge") == ["marie", "eve", "st", "onge", "marieeve", "stonge"]


def test_apostrophes_vanish() -> None:
    assert name_words("O'Brien D’Arcy") == ["obrien", "darcy"]


def test_name_keys_cover_every_word_of_every_name_sorted() -> None:
    keys = name_keys("Zoë Ann", "Smith")

    assert keys == sorted(keys)
    assert {"zoe", "ann", "smith", "smi*", "*ith", "s*h5"} <= set(keys)
    assert not {key for key in keys if "*" in key and key.startswith(("zo", "an"))}
    assert name_keys(None, "") == []
