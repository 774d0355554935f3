"""Records to Bundles to files and the FHIR server: the one path every command takes.

Records are generated lazily, a Bundle at a time, as the uploader asks for the next one,
so memory stays flat however many records a run makes.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from generators.bundles import OutputWriter, Record, batched, bundle_of
from generators.uploader import Outgoing, UploadReport


@dataclass
class RunReport:
    """What a run made and what became of it."""

    records: int = 0
    bundles: int = 0
    resources: Counter[str] = field(default_factory=Counter)
    upload: UploadReport | None = None
    elapsed: float = 0.0

    @property
    def failed(self) -> bool:
        return self.upload is not None and bool(self.upload.failures)


def outgoing_bundles(
    records: Iterable[Record],
    *,
    batch_size: int,
    name_prefix: str,
    report: RunReport,
    writer: OutputWriter | None = None,
) -> Iterator[Outgoing]:
    """Serialized transaction Bundles of `batch_size` records each, named `<prefix>-000001`, ...

    Each is written to `writer` (when given) as it is made, and counted in `report`.
    """
    for index, batch in enumerate(batched(records, batch_size), start=1):
        name = f"{name_prefix}-{index:06d}"
        bundle = bundle_of(batch)
        body = orjson.dumps(bundle)
        counts = Counter(entry["resource"]["resourceType"] for entry in bundle["entry"])
        if writer is not None:
            writer.write_bundle(name, body)
            writer.write_resources(entry["resource"] for entry in bundle["entry"])
        report.records += len(batch)
        report.bundles += 1
        report.resources.update(counts)
        yield Outgoing(name, body, dict(counts))
