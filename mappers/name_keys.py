"""Typo-tolerant search keys for personal names, kept on the FHIR resource itself.

A FHIR server can only match name strings by prefix (or `:contains`); these keys let a
plain token search find names despite typos. Each word of a name is folded (case,
accents) and gets two kinds of keys, which a search asks for with
`_tag=system|key1,system|key2,...`:

- **edit keys**: the word cut to its first `PREFIX_LENGTH` letters, and that prefix less
  any one letter. Two words within one edit of each other (a letter wrong, missing,
  extra, or two neighbours swapped) share at least one: "Jonh" and "John" share "jon"
  and "joh"; "Smtih" and "Smith" share "smth" and "smih".
- **shape keys** (words of `SHAPED_LENGTH` letters or more): the first three letters
  ("smi*"), the last three ("*ith"), and the first and last with the length ("s*h5").
  A word two edits away usually keeps one of them; they are too common to search
  alone, but narrow down the patients that another word of the query already found.
"""

import re
from functools import lru_cache

from mappers.text import fold

# Long enough to keep keys selective, short enough that the key set stays small; a typo
# past the prefix does not change the keys at all.
PREFIX_LENGTH = 6
SHAPED_LENGTH = 4

_APOSTROPHES = re.compile(r"['’`ʼ]")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def word_forms(text: str) -> tuple[list[str], list[str]]:
    """The folded words of a name two ways: hyphenated words split, and joined.

    Apostrophes vanish ("O'Brien" -> "obrien"); "Marie-Ève St-Onge" is
    (["marie", "eve", "st", "onge"], ["marieeve", "stonge"]), since people type it either way.
    """
    split: list[str] = []
    joined: list[str] = []
    for chunk in _APOSTROPHES.sub("", fold(text)).split():
        parts = [part for part in _NOT_ALPHANUMERIC.split(chunk) if part]
        split += parts
        if parts:
            joined.append("".join(parts))
    return split, joined


def name_words(text: str) -> list[str]:
    """Every folded word of a name in either form of `word_forms`, each once, in order."""
    split, joined = word_forms(text)
    return list(dict.fromkeys([*split, *joined]))


def word_keys(word: str) -> set[str]:
    """The keys of one folded word: its prefix and the prefix less any one letter."""
    prefix = word[:PREFIX_LENGTH]
    if len(prefix) < 3:
        # One- and two-letter keys of short words would match half the index.
        return {prefix} if prefix else set()
    return {prefix} | {prefix[:index] + prefix[index + 1 :] for index in range(len(prefix))}


def shape_keys(word: str) -> set[str]:
    """The shape keys a stored word carries (from `SHAPED_LENGTH` letters on): its first
    three letters, its last three, and its first and last letters with its length."""
    if len(word) < SHAPED_LENGTH:
        return set()
    return {f"{word[:3]}*", f"*{word[-3:]}", f"{word[0]}*{word[-1]}{len(word)}"}


def shape_probe(word: str) -> set[str]:
    """The shape keys to search for a word that may be two edits away from a stored one:
    its own, with every length two edits can reach."""
    if len(word) < 3:
        return set()
    lengths = range(max(SHAPED_LENGTH, len(word) - 2), len(word) + 3)
    return {f"{word[:3]}*", f"*{word[-3:]}"} | {f"{word[0]}*{word[-1]}{length}" for length in lengths}


def name_keys(*names: str | None) -> list[str]:
    """Every key (edit and shape) of every word of the given names, sorted."""
    keys: set[str] = set()
    for name in names:
        keys |= _keys_of(name or "")
    return sorted(keys)


@lru_cache(maxsize=65536)
def _keys_of(name: str) -> frozenset[str]:
    # Names repeat (generators draw from pools; clinics see the same surnames), and a
    # name's keys are a pure function of it.
    keys: set[str] = set()
    for word in name_words(name):
        keys |= word_keys(word) | shape_keys(word)
    return frozenset(keys)
