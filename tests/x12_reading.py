"""Reading X12 back with pyx12, an X12 parser independent of the writers, which validates
each interchange against the 005010 implementation guide its GS08 names."""

import functools
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import pyx12.map_if  # type: ignore[import-untyped]
import pyx12.params  # type: ignore[import-untyped]
import pyx12.segment  # type: ignore[import-untyped]
from pyx12.x12n_document import x12n_document  # type: ignore[import-untyped]

PARAMS = pyx12.params.params()


@dataclass
class Read:
    """An interchange as pyx12 read it: its segments, each with its map path, and every
    error its validation found, at any level."""

    valid: bool
    segments: list[tuple[str, pyx12.segment.Segment]]
    errors: list[str]

    def find(self, seg_id: str, loop: str | None = None) -> list[pyx12.segment.Segment]:
        """The segments `seg_id`, of the loop `loop` if given (its own or an enclosing one)."""
        inside = f"/{loop}/"
        return [seg for path, seg in self.segments if seg.get_seg_id() == seg_id and (not loop or inside in path)]

    def values(self, element: str, loop: str | None = None) -> list[str | None]:
        """The values of `element` (a segment id and two digits: "CLM01") in the segments found."""
        return [seg.get_value(element) for seg in self.find(element[:-2], loop)]


def _errors(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "errors":
                yield from (f"{error['err_cde']}: {error['err_str']}" for error in value)
            else:
                yield from _errors(value)
    elif isinstance(node, list):
        for item in node:
            yield from _errors(item)


@contextmanager
def maps_loaded_once() -> Iterator[Callable[[bytes], Read]]:
    # pyx12 parses its XML map again for every document (most of a second for the 837P);
    # a map is only read while validating, so one load per map serves the whole run.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pyx12.map_if, "load_map_file", functools.cache(pyx12.map_if.load_map_file))
        yield read


def read(data: bytes) -> Read:
    """`data` as pyx12 reads and validates it against its implementation guide."""
    segments: list[tuple[str, pyx12.segment.Segment]] = []

    def keep(segment: pyx12.segment.Segment, src: object, node: Any, valid: bool) -> None:
        segments.append((node.get_path(), segment))

    report = io.StringIO()
    valid = x12n_document(PARAMS, io.StringIO(data.decode("ascii")), None, None, fd_json=report, callback=keep)
    return Read(valid, segments, list(_errors(json.loads(report.getvalue()))))


def envelopes_agree(parsed: Read, expected_sets: int) -> None:
    """Control numbers pair up and every trailer counts what it closes."""
    (isa,), (iea,) = parsed.find("ISA"), parsed.find("IEA")
    (gs,), (ge,) = parsed.find("GS"), parsed.find("GE")
    assert isa.get_value("ISA13") == iea.get_value("IEA02") and iea.get_value("IEA01") == "1"
    assert gs.get_value("GS06") == ge.get_value("GE02") and ge.get_value("GE01") == str(expected_sets)
    sts, ses = parsed.find("ST"), parsed.find("SE")
    assert len(sts) == len(ses) == expected_sets
    ids = [seg.get_seg_id() for _, seg in parsed.segments]
    starts = [n for n, seg_id in enumerate(ids) if seg_id == "ST"]
    for start, st, se in zip(starts, sts, ses, strict=True):
        assert st.get_value("ST02") == se.get_value("SE02")
        assert se.get_value("SE01") == str(ids.index("SE", start) - start + 1)
