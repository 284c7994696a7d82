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
from gateway.adapters.limits import ConnectionGate, Limits
from gateway.auth.signature import Authenticator
from gateway.errors import GatewayError
from gateway.mapping.codec import status_of
from gateway.mapping.model import Dialect
from gateway.runtime import Gateway

MAX_FRAME = 16 * 1024 * 1024
SYSTEM_ERROR = -1
log = structlog.get_logger("hisgw.dll")


def frame(rc: int, body: bytes) -> bytes:
    return struct.pack(">Ii", len(body) + 4, rc) + body


async def start_dll_listener(gateway: Gateway, dialects: Callable[[], Mapping[str, Dialect]], host: str,
                             port: int, limits: Limits | None = None,
                             authenticator: Authenticator | None = None) -> asyncio.Server:
    """`dialects` is asked at every frame, so a reload takes effect on the next call. A sender that stalls
    mid-frame is dropped after `limits.read_timeout`; a connection over the cap gets -1 "busy" and is closed
    (the library then reports no answer, and the HIS queries or reverses: dll/PROTOCOL.md)."""
    limits = limits or Limits()
    gate = ConnectionGate(limits)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not gate.enter():
            gateway.metrics.busy("dll")
            log.warning("dll_busy", open=gate.open, cap=limits.max_connections)
            writer.write(frame(SYSTEM_ERROR, "hisgw: 医保网关繁忙（连接数已满），请稍后重试".encode("gbk")))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            writer.close()
            return
        gateway.metrics.opened("dll")
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(4), limits.idle_timeout)
                (length,) = struct.unpack(">I", head)
                if length > MAX_FRAME:
                    writer.write(frame(SYSTEM_ERROR, f"hisgw: frame of {length} bytes is too large".encode()))
                    break
                payload = await asyncio.wait_for(reader.readexactly(length), limits.read_timeout)
                head_part, separator, raw = payload.partition(b"\0")
                name, *signed = head_part.split(b"|")
                dll_dialects = {key: d for key, d in dialects().items() if d.transport == "dll"}
                dialect = dll_dialects.get(name.decode("ascii", errors="replace"))
                if not separator or dialect is None:
                    known = ", ".join(sorted(dll_dialects))
                    text = f"hisgw: unknown DLL dialect {name[:64]!r}; configured: {known}"
                    writer.write(frame(SYSTEM_ERROR, text.encode("ascii", errors="replace")))
                    await writer.drain()
                    continue
                try:
                    hospital = _caller(authenticator, signed, raw)
                except GatewayError as exc:
                    gateway.metrics.refused(dialect.name, dialect.transport, exc)
                    writer.write(frame(int(status_of(dialect, exc)), codec_for(dialect).error(dialect, None, raw, exc)))
                    await writer.drain()
                    continue
                status, body = await call_dialect(gateway, dialect, raw, hospital=hospital)
                writer.write(frame(int(status), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the library closes after each answer; a broken or idle peer is simply dropped
        finally:
            gate.leave()
            gateway.metrics.closed("dll")
            writer.close()

    return await asyncio.start_server(connection, host, port)


def _caller(authenticator: Authenticator | None, signed: list[bytes], raw: bytes) -> str | None:
    """The hospital the library signed for (hisgw_dll.ini paasid/secret), when credentials are required."""
    if authenticator is None:
        return None
    parts = [part.decode("ascii", errors="replace") for part in signed]
    return authenticator.hospital_from_parts(parts, raw, "DLL 配置文件缺少 paasid/secret，或库版本过旧")
