"""A closed-loop MLLP load generator: N connections, each sending a message and waiting for its ACK.

The loop is bench/httpload.py's (raw asyncio streams, bounded in time and count, every answer checked)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bench.httpload import LoadResult, NextBody, closed_loop

START, END = b"\x0b", b"\x1c\r"


async def run_mllp_load(host: str, port: int, next_message: NextBody, *, concurrency: int, seconds: float,
                        warmup: float, ok: Callable[[bytes], bool]) -> LoadResult:
    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes) -> bytes:
        writer.write(START + message + END)
        return await reader.readuntil(END)

    return await closed_loop(host, port, next_message, exchange, concurrency=concurrency, seconds=seconds,
                             warmup=warmup, ok=ok)
