"""Fuzzy patient search by name, on any FHIR server, without reading every patient.

FHIR string search only matches prefixes (or, on some servers, substrings), so a typo
defeats it. Every Patient the gateway writes carries typo-tolerant keys of its name
words in `meta.tag` (see `mappers.name_keys`): edit keys, shared by words one edit
apart, and shape keys (first three letters, last three, first and last with the
length), which a word two edits away usually keeps one of. A search is two
steps:

1. **Candidates**, by standard token search on `_tag`, in passes; a pass runs only when
   the ones before found no good enough match:
   - a pair of query words must both match by edit keys
     (`_tag=<edit keys of a>&_tag=<edit keys of b>`): a word one typo away is found
     whatever the name order, and the pair keeps the set small even for common names.
     The first and last words are tried first, then the other pairs; enough when a
     candidate scores `NEAR_CERTAIN`;
   - a word two typos away is reached through another word: that word's edit keys and
     the mangled word's shape keys; enough at `LIKELY`;
   - last, each word's edit keys alone, up to `BROAD_CANDIDATES` Patients each.
   A search reads at most `PAIR_CANDIDATES` Patients in the first passes and
   `SHAPE_CANDIDATES` in the shape pass; the list filters narrow every search.
2. **Ranking** with rapidfuzz: each query word is paired with its most similar name word
   (optimal string alignment, so a swap of two letters is one edit; a lone letter
   matches as an initial); the score is the length-weighted similarity, lowered by name
   words the query left out. Matches under `MIN_SCORE` are dropped; the rest come best
   first, ties by id.

Limits: a word two typos away whose shape changed too, next to a common name, is found
only if it is among the first `BROAD_CANDIDATES` of that name; a query of one common word
returns the best of its first `BROAD_CANDIDATES` candidates, not every patient of that
name; keys are only as fresh as the Patient (ones written around the gateway have none
until the gateway writes them again).
"""

from dataclasses import dataclass
from itertools import combinations, permutations
from typing import Any

import anyio
from rapidfuzz.distance import OSA

from fhir_gateway.fhir_client import FhirClient
from mappers.name_keys import name_words, shape_probe, word_forms, word_keys
from mappers.patient import full_name, name_key_system

PAIR_CANDIDATES = 100
SHAPE_CANDIDATES = 50
BROAD_CANDIDATES = 500
# Good enough matches to stop looking: about a typo in each word; two typos in one.
NEAR_CERTAIN = 0.8
LIKELY = 0.75
MIN_SCORE = 0.6
# The longest words of a long query are enough to find it; more only multiply searches.
MAX_QUERY_WORDS = 4
# How much a name word the query left out counts against a match, per letter.
UNMATCHED_NAME_WEIGHT = 0.15

Params = list[tuple[str, str]]


@dataclass(frozen=True)
class Match:
    """A Patient the query matched, and how well (0 to 1)."""

    score: float
    resource: dict[str, Any]


@dataclass(frozen=True)
class _Pass:
    searches: list[Params]
    # Patients read per search.
    limit: int
    # A best score at least this ends the search after this pass.
    enough: float


async def search(*, client: FhirClient, text: str, filters: Params, system_base: str) -> list[Match]:
    """Patients whose names match `text` despite typos, best first."""
    candidates: dict[str, Match] = {}
    for candidate_pass in _passes(query_words(text), name_key_system(system_base)):
        searches = [[*params, *filters] for params in candidate_pass.searches]
        for resource in await _run(client, searches, candidate_pass.limit):
            resource_id = resource.get("id")
            if isinstance(resource_id, str) and resource_id not in candidates:
                candidates[resource_id] = Match(name_score(text, full_name(resource)), resource)
        if max((match.score for match in candidates.values()), default=0.0) >= candidate_pass.enough:
            break
    matches = [match for match in candidates.values() if match.score >= MIN_SCORE]
    return sorted(matches, key=lambda match: (-match.score, match.resource["id"]))


def query_words(text: str) -> list[str]:
    """The words candidates are searched by: the longest few, in query order."""
    words = name_words(text)
    longest = set(sorted(words, key=len, reverse=True)[:MAX_QUERY_WORDS])
    return [word for word in words if word in longest]


def _passes(words: list[str], tag_system: str) -> list[_Pass]:
    def tags(keys: set[str]) -> tuple[str, str]:
        return "_tag", ",".join(f"{tag_system}|{key}" for key in sorted(keys))

    def pairs(chosen: list[tuple[str, str]]) -> _Pass:
        searches = [[tags(word_keys(a)), tags(word_keys(b))] for a, b in chosen]
        return _Pass(searches, PAIR_CANDIDATES, enough=NEAR_CERTAIN)

    alone = _Pass([[tags(word_keys(word))] for word in words], BROAD_CANDIDATES, enough=0.0)
    if len(words) <= 1:
        return [alone]
    # The outer words are most often the given and the family name: tried first, alone.
    outer = (words[0], words[-1])
    inner = [pair for pair in combinations(words, 2) if pair != outer]
    shapes = [[tags(word_keys(a)), tags(shape_probe(b))] for a, b in permutations(words, 2) if shape_probe(b)]
    return [
        pairs([outer]),
        *([pairs(inner)] if inner else []),
        _Pass(shapes, SHAPE_CANDIDATES, enough=LIKELY),
        alone,
    ]


async def _run(client: FhirClient, searches: list[Params], limit: int) -> list[dict[str, Any]]:
    """The first `limit` Patients of each search, the searches run concurrently."""
    found: list[dict[str, Any]] = []

    async def run_one(params: Params) -> None:
        page: dict[str, Any] | None = await client.search("Patient", [*params, ("_count", str(limit))])
        read: list[dict[str, Any]] = []
        # A server whose pages are smaller than `limit` is followed page by page.
        while page is not None and len(read) < limit:
            read += [
                entry["resource"]
                for entry in page.get("entry") or []
                if (entry.get("resource") or {}).get("resourceType") == "Patient"
            ]
            page = await client.next_page(page) if len(read) < limit else None
        found.extend(read[:limit])

    try:
        async with anyio.create_task_group() as group:
            for params in searches:
                group.start_soon(run_one, params)
    except ExceptionGroup as failures:
        # One failed search fails the whole search, with that search's own error.
        raise failures.exceptions[0] from None
    return found


def name_score(query: str, name: str) -> float:
    """How well `name` matches `query`, from 0 to 1 (1: the same words, in any order).

    Hyphenated words are compared both split and joined, whichever matches better.
    """
    query_forms = _distinct(word_forms(query))
    name_forms = _distinct(word_forms(name))
    return max(_words_score(q, n) for q in query_forms for n in name_forms)


def _distinct(forms: tuple[list[str], list[str]]) -> list[list[str]]:
    split, joined = forms
    return [split] if split == joined else [split, joined]


def _words_score(query: list[str], name: list[str]) -> float:
    if not query or not name:
        return 0.0
    pairs = sorted(
        ((_word_similarity(q, n), qi, ni) for qi, q in enumerate(query) for ni, n in enumerate(name)),
        reverse=True,
    )
    used_query: set[int] = set()
    used_name: set[int] = set()
    matched = weight = 0.0
    for similarity, qi, ni in pairs:
        if qi in used_query or ni in used_name:
            continue
        used_query.add(qi)
        used_name.add(ni)
        pair_weight = max(len(query[qi]), len(name[ni]))
        matched += similarity * pair_weight
        weight += pair_weight
    weight += sum(len(word) for qi, word in enumerate(query) if qi not in used_query)
    weight += UNMATCHED_NAME_WEIGHT * sum(len(word) for ni, word in enumerate(name) if ni not in used_name)
    return matched / weight


def _word_similarity(query_word: str, name_word: str) -> float:
    if len(query_word) == 1 or len(name_word) == 1:
        # An initial matches the words it begins.
        short, long = sorted((query_word, name_word), key=len)
        return 1.0 if long.startswith(short) else 0.0
    return OSA.normalized_similarity(query_word, name_word)
