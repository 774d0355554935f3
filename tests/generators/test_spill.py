"""Spilled parts are appended whole, after what the stream already holds, and removed."""

import os
from pathlib import Path

import pytest

from generators.spill import append, spill


@pytest.mark.parametrize("kernel_copy", [True, False], ids=["copy_file_range", "through this process"])
def test_a_spilled_part_is_appended_whole_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel_copy: bool
) -> None:
    if not kernel_copy:

        def unsupported(*arguments: object) -> int:
            raise OSError("not on this file system")

        monkeypatch.setattr(os, "copy_file_range", unsupported)
    body = bytes(range(256)) * 20_000
    part = spill(tmp_path, "0000001-Patient.part", body)

    with (tmp_path / "out.ndjson").open("wb", buffering=1 << 16) as stream:
        stream.write(b"before\n")
        append(stream, part)
        stream.write(b"after\n")

    assert (tmp_path / "out.ndjson").read_bytes() == b"before\n" + body + b"after\n"
    assert not part.exists()
