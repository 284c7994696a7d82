"""A closed-loop MLLP load generator: N connections, each sending a message and waiting for its ACK.

The same shape as bench/httpload.py (raw asyncio streams, bounded in time and count, every answer checked)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.httpload import LoadResult, NextBody

START, END = b"\x0b", b"\x1c\r"


async def run_mllp_load(host: str, port: int, next_message: NextBody, *, concurrency: int, seconds: float,
                        warmup: float, ok: Callable[[bytes], bool]) -> LoadResult:
    result = LoadResult()
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def connection(number: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                message = next_message(number)
                if message is None:
                    result.exhausted = True
                    return
                sent = time.perf_counter()
                writer.write(START + message + END)
                answer = await reader.readuntil(END)
                done = time.perf_counter()
                if sent >= measure_from:
                    result.latencies.append(done - sent)
                    if not ok(answer):
                        result.errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(n) for n in range(concurrency)))
    result.measured_seconds = max(0.0, min(time.perf_counter(), stop_at) - measure_from)
    return result
