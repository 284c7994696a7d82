"""The TCP listener behind the embedded-DLL library (dll/hisgw_dll.c); protocol in dll/PROTOCOL.md.

request frame: u32 length | dialect name [|paasid|timestamp|nonce|signature] | NUL | the HIS's input bytes
answer frame : u32 length | i32 return code | output bytes       (big-endian)
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable, Mapping

import structlog

from gateway.adapters.dialect_call import call_dialect, codec_for
from gateway.adapters.limits import (
    CHUNK,
    BudgetSpent,
    ConnectionGate,
    Held,
    Limits,
    Shared,
    Tally,
    discard,
    read_charged,
)
from gateway.auth.signature import Authenticator
from gateway.errors import GatewayError
from gateway.mapping.codec import status_of
from gateway.mapping.model import Dialect
from gateway.runtime import Gateway

MAX_FRAME = 16 * 1024 * 1024
SYSTEM_ERROR = -1
BUSY_TEXT = "hisgw: 医保网关繁忙，请稍后重试"
LINGER = 5.0  # seconds the rest of a refused frame is read and dropped before the connection closes
log = structlog.get_logger("hisgw.dll")


def frame(rc: int, body: bytes) -> bytes:
    return struct.pack(">Ii", len(body) + 4, rc) + body


async def start_dll_listener(gateway: Gateway, dialects: Callable[[], Mapping[str, Dialect]], host: str,
                             port: int, limits: Limits | None = None,
                             authenticator: Authenticator | None = None, shared: Shared | None = None
                             ) -> asyncio.Server:
    """`dialects` is asked at every frame, so a reload takes effect on the next call. A new connection must send
    its first frame's length within `limits.header_timeout`, the rest of a frame within `limits.read_timeout`;
    a connection over the cap, or when descriptors run short, gets -1 "busy" and is closed (the library then
    reports no answer, and the HIS queries or reverses: dll/PROTOCOL.md). A frame's length is known up front:
    one over MAX_FRAME, or that the bytes-in-flight budget cannot hold, is refused before it is read; the rest
    is read in chunks charged to the budget."""
    limits = limits or Limits()
    shared = shared or Shared.default()
    gate = ConnectionGate(limits)
    refused = Tally("dll_busy")

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, text: str, unread: int | None,
                     linger: float = LINGER) -> None:
        """The -1 answer, then what the peer still sends is read and dropped for a moment (until it has sent
        `unread` bytes, or closes): closing on unread bytes would reset the connection and lose the answer."""
        writer.write(frame(SYSTEM_ERROR, text.encode("gbk")))
        with contextlib.suppress(ConnectionError):
            await writer.drain()
            await discard(reader, count=unread, timeout=linger)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reason = shared.descriptors.refusal(gate.open, limits.max_connections)
        if reason:
            gateway.metrics.busy("dll")
            refused.note(open=gate.open, cap=limits.max_connections, reason=reason)
            await refuse(reader, writer, "hisgw: 医保网关繁忙（连接数已满），请稍后重试", None,
                         0.0 if reason == "descriptors" else 0.3)
            writer.close()
            return
        gate.enter()
        gateway.metrics.opened("dll")
        held = Held(shared.budget)
        try:
            wait = limits.header_timeout
            while True:
                head = await asyncio.wait_for(reader.readexactly(4), wait)
                wait = limits.idle_timeout
                (length,) = struct.unpack(">I", head)
                if length > MAX_FRAME:
                    await refuse(reader, writer, f"hisgw: frame of {length} bytes is too large", length)
                    break
                if not await shared.budget.room_for(length):
                    gateway.metrics.busy("dll")
                    refused.note(reason="bytes in flight", frame=length, in_flight=shared.budget.used)
                    await refuse(reader, writer, BUSY_TEXT, length)
                    break
                try:
                    async with asyncio.timeout(limits.read_timeout):
                        payload = await read_charged(reader, length, held)
                except BudgetSpent:
                    gateway.metrics.busy("dll")
                    refused.note(reason="bytes in flight", frame=length, in_flight=shared.budget.used)
                    await refuse(reader, writer, BUSY_TEXT, length - held.bytes)
                    break
                await answer(payload, writer)
                held.release()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the library closes after each answer; a broken or idle peer is simply dropped
        finally:
            held.release()
            gate.leave()
            gateway.metrics.closed("dll")
            writer.close()

    async def answer(payload: bytes, writer: asyncio.StreamWriter) -> None:
        head_part, separator, raw = payload.partition(b"\0")
        name, *signed = head_part.split(b"|")
        dll_dialects = {key: d for key, d in dialects().items() if d.transport == "dll"}
        dialect = dll_dialects.get(name.decode("ascii", errors="replace"))
        if not separator or dialect is None:
            known = ", ".join(sorted(dll_dialects))
            text = f"hisgw: unknown DLL dialect {name[:64]!r}; configured: {known}"
            writer.write(frame(SYSTEM_ERROR, text.encode("ascii", errors="replace")))
        else:
            try:
                hospital = _caller(authenticator, signed, raw)
            except GatewayError as exc:
                gateway.metrics.refused(dialect.name, dialect.transport, exc)
                writer.write(frame(int(status_of(dialect, exc)), codec_for(dialect).error(dialect, None, raw, exc)))
            else:
                status, body = await call_dialect(gateway, dialect, raw, hospital=hospital)
                writer.write(frame(int(status), body))
        await writer.drain()

    return await asyncio.start_server(connection, host, port, limit=CHUNK)


def _caller(authenticator: Authenticator | None, signed: list[bytes], raw: bytes) -> str | None:
    """The hospital the library signed for (hisgw_dll.ini paasid/secret), when credentials are required."""
    if authenticator is None:
        return None
    parts = [part.decode("ascii", errors="replace") for part in signed]
    return authenticator.hospital_from_parts(parts, raw, "DLL 配置文件缺少 paasid/secret，或库版本过旧")
