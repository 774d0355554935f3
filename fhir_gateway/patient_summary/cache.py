"""Summaries kept by what they were made from: an unchanged record is not summarised twice.

The key is everything a summary depends on: the version of every resource it read (a new,
changed or deleted note or interaction makes another key), the audience and length, the
generator (model and prompt version, or offline) and the day (the age changes with it).
The least recently used summary goes first when the cache is full.
"""

from collections import OrderedDict
from collections.abc import Hashable

from fhir_gateway.patient_summary.models import Summary


class SummaryCache:
    def __init__(self, size: int) -> None:
        self._size = size
        self._held: OrderedDict[Hashable, Summary] = OrderedDict()

    def get(self, key: Hashable) -> Summary | None:
        summary = self._held.get(key)
        if summary is not None:
            self._held.move_to_end(key)
        return summary

    def put(self, key: Hashable, summary: Summary) -> None:
        if self._size == 0:
            return
        self._held[key] = summary
        self._held.move_to_end(key)
        while len(self._held) > self._size:
            self._held.popitem(last=False)
