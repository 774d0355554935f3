"""What the benchmarks share: sending requests a few at a time, and reading their latencies."""

import asyncio
import time
from collections.abc import Awaitable, Callable


async def measure(send: Callable[[int], Awaitable[None]], count: int, concurrency: int) -> tuple[float, list[float]]:
    """Requests per second and the latencies of `count` sends, `concurrency` at a time."""
    latencies: list[float] = []
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            started = time.perf_counter()
            await send(index)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started), latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
