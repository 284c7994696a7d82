"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections, bounded in time and count.

Raw asyncio streams rather than an HTTP client library, so the generator costs little next to the server
it measures; every answer is read whole and checked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

NextBody = Callable[[int], bytes | None]  # connection number → request body, or None when out of work


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, measured requests only
    errors: int = 0
    measured_seconds: float = 0.0
    exhausted: bool = False  # ran out of prepared work before the time was up

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.measured_seconds if self.measured_seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


Exchange = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bytes], Awaitable[bytes]]


async def closed_loop(host: str, port: int, next_body: NextBody, exchange: Exchange, *, concurrency: int,
                      seconds: float, warmup: float, ok: Callable[[bytes], bool]) -> LoadResult:
    """N connections, each sending a request and waiting for its answer before the next; requests sent
    before the warm-up ends are not counted. Shared by the HTTP and MLLP generators."""
    result = LoadResult()
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def connection(number: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                body = next_body(number)
                if body is None:
                    result.exhausted = True
                    return
                sent = time.perf_counter()
                payload = await exchange(reader, writer, body)
                done = time.perf_counter()
                if sent >= measure_from:
                    result.latencies.append(done - sent)
                    if not ok(payload):
                        result.errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection(n) for n in range(concurrency)))
    result.measured_seconds = max(0.0, min(time.perf_counter(), stop_at) - measure_from)
    return result


async def run_load(host: str, port: int, path: str, next_body: NextBody, *, concurrency: int, seconds: float,
                   warmup: float, ok: Callable[[bytes], bool], content_type: str = "application/json") -> LoadResult:
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n".encode()

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> bytes:
        writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        headers = await reader.readuntil(b"\r\n\r\n")
        return await reader.readexactly(_content_length(headers))

    return await closed_loop(host, port, next_body, exchange, concurrency=concurrency, seconds=seconds,
                             warmup=warmup, ok=ok)


def _content_length(headers: bytes) -> int:
    for line in headers.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            return int(line[15:])
    raise ValueError("answer without Content-Length")
