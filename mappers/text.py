"""Folding text for comparison: the one rule for matching and ordering names and strings.

Both the fuzzy name search (`mappers.name_keys`) and the embedded FHIR store's string index
fold with `fold`, so that a name the one finds the other matches and orders alike. The store
keeps folded text in its index rows: a change to what `fold` returns must come with a new
index version in `fhir_gateway/embedded/indexing.py`, so that existing databases are
reindexed when opened.
"""

import unicodedata

# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSABLE = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})


def fold(text: str) -> str:
    """Text with accents stripped and case folded: "Zoë", "ZOE" and "zoe" fold alike, "Søren"
    to "soren", "Łukasz" to "lukasz", "Æsa" to "aesa", "Straße" to "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(character for character in decomposed if not unicodedata.combining(character))
    # Case folding after decomposition, so that compatibility forms ("ℌ" -> "H") are lowered
    # too; the table after it, so that it sees the lower-case letters only.
    return stripped.casefold().translate(_UNDECOMPOSABLE)
