"""The seed space of a generator, cut into shards of `SHARD_SIZE` records.

The record at global index n belongs to shard n // SHARD_SIZE. Each shard starts from a
random stream of its own (`shard_random`), so any shard can be made without making the
ones before it: a run gives the same records whether one process makes them all or
several make a shard each. The shard size is fixed, never derived from the number of
workers, or the records would change with it.

`in_order` runs a function over tasks, in this process or in a pool of processes, and
hands the results back in task order, so that what a parallel run writes is what a
sequential one writes, byte for byte.
"""

import gc
import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from random import Random
from typing import TypeVar

# A multiple of every batch size that divides 1000 (the default, 50, among them), so that
# the usual Bundles never straddle two shards; small enough that a shard in flight is a
# few megabytes.
SHARD_SIZE = 1000
# Tasks submitted per worker ahead of the one being consumed: enough to keep every worker
# busy while the consumer writes, few enough to keep memory flat.
_AHEAD_PER_WORKER = 2

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Span:
    """Records [start, start + count) of a run, all inside shard `shard`."""

    shard: int
    start: int
    count: int

    @property
    def stop(self) -> int:
        return self.start + self.count


def spans(count: int, start: int = 0) -> list[Span]:
    """Records [start, start + count), cut at shard boundaries, in order."""
    if count < 0 or start < 0:
        raise ValueError("a range of records starts at 0 or later and holds 0 or more records")
    cut: list[Span] = []
    position, stop = start, start + count
    while position < stop:
        shard = position // SHARD_SIZE
        end = min(stop, (shard + 1) * SHARD_SIZE)
        cut.append(Span(shard, position, end - position))
        position = end
    return cut


def shard_random(seed_text: str, shard: int) -> Random:
    """The random stream shard `shard` of the run seeded by `seed_text` starts from."""
    return Random(f"{seed_text}:{shard}")


def in_order(work: Callable[[T], R], tasks: Iterable[T], workers: int) -> Iterator[R]:
    """`work(task)` for each task, in task order.

    With one worker, in this process. With more, in a pool of `workers` processes, at most
    `2 * workers` tasks ahead of the consumer; `work` must then be a module-level function
    and tasks and results picklable. The pool is shut down when the iterator is exhausted,
    closed early, or the consumer raises.
    """
    if workers < 1:
        raise ValueError("at least one worker")
    if workers == 1:
        yield from map(work, tasks)
        return
    # Fork keeps start-up cheap and lets workers inherit what the parent already built
    # (name pools, prebuilt resource parts); elsewhere, the platform's default.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    # What exists now is shared with the workers and lives as long as they do: frozen, the
    # collector neither walks it again in any process nor, by touching it, makes each
    # worker copy the pages it shares.
    gc.freeze()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    pending: deque[Future[R]] = deque()
    try:
        remaining = iter(tasks)
        for task in remaining:
            pending.append(pool.submit(work, task))
            if len(pending) >= _AHEAD_PER_WORKER * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
