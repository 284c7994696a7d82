"""MLLP transport: HL7 v2 messages over TCP, each in a 0x0B … 0x1C 0x0D frame, through python-hl7's MLLP client
(`hl7.mllp.open_hl7_connection`), as an interface engine at a HIS sends them.

A small pool: a connection carries one message at a time (the sender waits for the ACK before the next, MLLP's
own flow control), so each call takes an idle connection or opens one, up to `connections` at once, and
gives it back when its ACK has arrived. A connection that fails is closed and not reused; the call reports
the failure (no retry: whether to send again is the HIS's decision, by msgid).
"""

from __future__ import annotations

import asyncio
import contextlib

from hl7.mllp import HL7StreamReader, HL7StreamWriter, InvalidBlockError, open_hl7_connection

from gateway.mapping.model import Dialect, Trade
from simulators.drivers.base import Delivery

MAX_ANSWER = 16 * 1024 * 1024  # an ACK to ten thousand FT1 lines fits

Connection = tuple[HL7StreamReader, HL7StreamWriter]


class MllpTransport:
    def __init__(self, dialect: Dialect, host: str, port: int, *, connections: int = 32,
                 timeout: float = 30.0) -> None:
        self.host, self.port = host, port
        self.timeout = timeout
        self._idle: list[Connection] = []
        self._limit = asyncio.Semaphore(connections)

    @property
    def where(self) -> str:
        return f"mllp://{self.host}:{self.port}"

    async def send(self, raw: bytes, trade: Trade) -> Delivery:
        async with self._limit:
            try:
                connection = self._idle.pop() if self._idle else await asyncio.wait_for(
                    open_hl7_connection(self.host, self.port, limit=MAX_ANSWER), self.timeout)
            except (OSError, TimeoutError) as exc:
                return Delivery(body=b"", meta="no connection", failure=f"{self.where}: {type(exc).__name__} {exc}")
            reader, writer = connection
            try:
                writer.writeblock(raw)
                await writer.drain()
                body = await asyncio.wait_for(reader.readblock(), self.timeout)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, InvalidBlockError, ValueError) as exc:
                await _close(writer)
                return Delivery(body=b"", meta="no ACK", failure=f"{self.where}: {type(exc).__name__} {exc}")
            self._idle.append(connection)
            return Delivery(body=body, meta="MLLP")

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_close(writer) for _reader, writer in idle))


async def _close(writer: HL7StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
