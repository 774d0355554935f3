"""What a worker process made, handed to the writing process as a file rather than as bytes.

A shard's output is tens of megabytes; returned through the pool, it is pickled, copied
through a pipe and unpickled, which costs the writing process as much time as a worker
takes to make it, so a second worker gains little. Written to a file in the output's
directory instead, it is appended where it belongs by the kernel (`copy_file_range`),
without passing through this process.
"""

import os
import shutil
from pathlib import Path
from typing import BinaryIO

_COPY_CHUNK = 1 << 20


def spill(directory: Path, name: str, body: bytes) -> Path:
    """`body` kept as the file `name` in `directory`, for `append`."""
    path = directory / name
    path.write_bytes(body)
    return path


def append(stream: BinaryIO, part: Path) -> None:
    """Append the spilled `part` to `stream`, then remove it."""
    stream.flush()
    with part.open("rb") as source:
        remaining = os.fstat(source.fileno()).st_size
        try:
            while remaining > 0:
                copied = os.copy_file_range(source.fileno(), stream.fileno(), remaining)
                if copied == 0:
                    break
                remaining -= copied
        except OSError:
            # A file system that cannot: copied through this process, from where it stopped.
            shutil.copyfileobj(source, stream, _COPY_CHUNK)
    part.unlink()
