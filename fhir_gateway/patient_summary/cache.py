"""Summaries kept by what they were made from: an unchanged record is not summarised twice.

The key is everything a summary depends on: the version of every resource it read (a new,
changed or deleted note or interaction makes another key), the audience and length, the
generator (model and prompt version, or offline) and the day (the age changes with it).
The least recently used summary goes first when the cache is full. Given `lookups`, every
`get` is counted there as a hit or a miss.
"""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Protocol

from fhir_gateway.patient_summary.models import Summary


class Lookups(Protocol):
    """Where the cache's lookups are counted (the app's metrics)."""

    def hit(self) -> None: ...

    def miss(self) -> None: ...


class SummaryCache:
    def __init__(self, size: int, *, lookups: Lookups | None = None) -> None:
        self._size = size
        self._lookups = lookups
        self._held: OrderedDict[Hashable, Summary] = OrderedDict()

    def get(self, key: Hashable) -> Summary | None:
        summary = self._held.get(key)
        if summary is not None:
            self._held.move_to_end(key)
        if self._lookups is not None:
            if summary is None:
                self._lookups.miss()
            else:
                self._lookups.hit()
        return summary

    def put(self, key: Hashable, summary: Summary) -> None:
        if self._size == 0:
            return
        self._held[key] = summary
        self._held.move_to_end(key)
        while len(self._held) > self._size:
            self._held.popitem(last=False)
