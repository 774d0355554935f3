"""Records grouped into FHIR transaction Bundles, and written out as Bundle JSON and NDJSON.

Every entry is a PUT to the resource's own id, and its fullUrl is `urn:uuid:<id>` (the ids
are UUIDs), which is what references inside the Bundle point at. A PUT to a known id with
the same content changes nothing, so sending a Bundle again, whether the first answer was
lost or the whole run is repeated with the same seed, creates no second copy of anything.
"""

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

import orjson

from generators.spill import append

Resource = dict[str, Any]
Record = list[Resource]
Bundle = dict[str, Any]

DEFAULT_BATCH_SIZE = 50
# A transaction Bundle's bytes around its comma-separated entries: `orjson.dumps` of
# `transaction(...)` is exactly BUNDLE_HEAD + b",".join(entries) + BUNDLE_TAIL, so Bundles
# can be assembled from entries serialized elsewhere (in another process, a shard at a time).
BUNDLE_HEAD = b'{"resourceType":"Bundle","type":"transaction","entry":['
BUNDLE_TAIL = b"]}"
# Large writes: NDJSON output is written at tens of megabytes a second.
_WRITE_BUFFER = 1 << 20


def urn(resource_id: str) -> str:
    """The `urn:uuid:` fullUrl of the resource with this (UUID) id, which references inside a Bundle use."""
    return f"urn:uuid:{resource_id}"


def transaction(resources: Iterable[Resource]) -> Bundle:
    """A transaction Bundle that PUTs each resource at its id."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"},
            }
            for resource in resources
        ],
    }


def entry_bytes(resource: Resource, body: bytes) -> bytes:
    """The serialized Bundle entry of `transaction` for a resource whose serialization is
    `body`: the resource is serialized once, for its entry and its NDJSON line alike."""
    resource_id = resource["id"]
    return b"".join(
        (
            b'{"fullUrl":',
            orjson.dumps(f"urn:uuid:{resource_id}"),
            b',"resource":',
            body,
            b',"request":{"method":"PUT","url":',
            orjson.dumps(f"{resource['resourceType']}/{resource_id}"),
            b"}}",
        )
    )


def bundle_bytes(entries: Iterable[bytes]) -> bytes:
    """The serialized transaction Bundle of serialized entries (`entry_bytes`)."""
    return b"".join((BUNDLE_HEAD, b",".join(entries), BUNDLE_TAIL))


def batched(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """Consecutive groups of `size` records (the last one may be smaller)."""
    if size < 1:
        raise ValueError("a batch holds at least one record")
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def bundle_of(batch: list[Record]) -> Bundle:
    """The transaction Bundle of a batch of records, each record's resources in order (patient first)."""
    return transaction(resource for record in batch for resource in record)


class OutputWriter:
    """Writes Bundles as JSON files under `bundles/` and resources as one NDJSON file per type.

    Either can be switched off. Output is byte-for-byte the same for the same input.
    """

    def __init__(self, directory: Path, *, bundles: bool = True, ndjson: bool = True) -> None:
        self.directory = directory
        self._bundle_dir = directory / "bundles" if bundles else None
        self._ndjson = ndjson
        self._streams: dict[str, BinaryIO] = {}
        directory.mkdir(parents=True, exist_ok=True)
        if self._bundle_dir is not None:
            self._bundle_dir.mkdir(exist_ok=True)

    def write_bundle(self, name: str, body: bytes) -> None:
        """Keep one serialized Bundle as `bundles/<name>.json`."""
        if self._bundle_dir is not None:
            (self._bundle_dir / f"{name}.json").write_bytes(body)

    @property
    def bundles(self) -> bool:
        """Whether Bundles are kept."""
        return self._bundle_dir is not None

    @property
    def ndjson(self) -> bool:
        """Whether resources are written as NDJSON."""
        return self._ndjson

    def write_resources(self, resources: Iterable[Resource]) -> None:
        """Append resources to `<ResourceType>.ndjson`, one JSON document a line."""
        if not self._ndjson:
            return
        for resource in resources:
            self._stream(resource["resourceType"]).write(orjson.dumps(resource, option=orjson.OPT_APPEND_NEWLINE))

    def write_lines(self, lines: Mapping[str, list[bytes] | Path]) -> None:
        """Append chunks of serialized NDJSON lines (newlines included), or a file of them
        a worker spilled (`generators.spill`), to `<ResourceType>.ndjson`, per type."""
        if not self._ndjson:
            return
        for resource_type, chunks in lines.items():
            stream = self._stream(resource_type)
            if isinstance(chunks, Path):
                append(stream, chunks)
                continue
            for chunk in chunks:
                stream.write(chunk)

    def _stream(self, resource_type: str) -> BinaryIO:
        stream = self._streams.get(resource_type)
        if stream is None:
            path = self.directory / f"{resource_type}.ndjson"
            stream = self._streams[resource_type] = path.open("wb", buffering=_WRITE_BUFFER)
        return stream

    def close(self) -> None:
        for stream in self._streams.values():
            stream.close()
        self._streams.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
