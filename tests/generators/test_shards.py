"""Shards cut a run at fixed boundaries, each from a stream of its own, and `in_order` gives
results in task order whether it runs them here or in worker processes."""

import os
from collections.abc import Iterator

import pytest

from generators.shards import SHARD_SIZE, Span, in_order, shard_random, spans


def test_spans_cut_a_range_at_shard_boundaries() -> None:
    assert spans(0) == []
    assert spans(3) == [Span(0, 0, 3)]
    assert spans(SHARD_SIZE + 5, start=SHARD_SIZE - 2) == [
        Span(0, SHARD_SIZE - 2, 2),
        Span(1, SHARD_SIZE, SHARD_SIZE),
        Span(2, 2 * SHARD_SIZE, 3),
    ]
    cut = spans(10 * SHARD_SIZE + 17, start=123)
    assert sum(span.count for span in cut) == 10 * SHARD_SIZE + 17
    assert all(span.start // SHARD_SIZE == span.shard == (span.stop - 1) // SHARD_SIZE for span in cut)
    assert all(before.stop == after.start for before, after in zip(cut, cut[1:], strict=False))
    with pytest.raises(ValueError):
        spans(-1)


def test_each_shard_has_a_stream_of_its_own_the_same_every_time() -> None:
    assert shard_random("BC:1", 3).random() == shard_random("BC:1", 3).random()
    assert shard_random("BC:1", 3).random() != shard_random("BC:1", 4).random()
    assert shard_random("BC:1", 3).random() != shard_random("ON:1", 3).random()


def square_and_pid(number: int) -> tuple[int, int]:
    return number * number, os.getpid()


def test_in_order_runs_in_this_process_with_one_worker() -> None:
    assert list(in_order(square_and_pid, range(5), 1)) == [(number * number, os.getpid()) for number in range(5)]


def test_in_order_keeps_task_order_across_worker_processes() -> None:
    results = list(in_order(square_and_pid, range(40), 2))

    assert [square for square, _ in results] == [number * number for number in range(40)]
    assert os.getpid() not in {pid for _, pid in results}


def test_in_order_never_runs_far_ahead_of_its_consumer() -> None:
    pulled: list[int] = []

    def tasks() -> Iterator[int]:
        for number in range(1000):
            pulled.append(number)
            yield number

    results = in_order(square_and_pid, tasks(), 2)
    assert next(results)[0] == 0
    assert len(pulled) <= 2 * 2 + 1
    results.close()


def test_workers_stop_when_the_consumer_stops_early_or_raises() -> None:
    results = in_order(square_and_pid, range(100), 2)
    _, worker_pid = next(results)
    results.close()
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)

    results = in_order(square_and_pid, range(100), 2)
    with pytest.raises(RuntimeError):
        for _ in results:
            raise RuntimeError("the consumer failed")
    results.close()


def fail_on_three(number: int) -> int:
    if number == 3:
        raise ValueError("three")
    return number


def test_a_failing_task_raises_in_the_consumer() -> None:
    with pytest.raises(ValueError, match="three"):
        list(in_order(fail_on_three, range(10), 2))
    with pytest.raises(ValueError, match="three"):
        list(in_order(fail_on_three, range(10), 1))
