"""The MLLP listener: HL7 v2 messages over TCP (python-hl7's asyncio server), each down the one road.

Frame: 0x0B message 0x1C 0x0D. One connection carries any number of messages, one at a time: the sender waits
for the ACK before the next (MLLP's own flow control), so a connection's messages are answered in order.

Which dialect: every mapping with `transport: hl7`. With one, it answers everything; with several, the one
whose `framing.application` is the message's MSH-5 (receiving application), else the configured default.

Limits: a message is read in chunks, each charged to the gateway's bytes-in-flight budget (gateway/adapters/
limits.py). A message larger than `max_message`, or one the budget cannot hold, is answered MSA|AR (HG1001 /
HG9002); what the sender still sends of it is read and dropped up to the frame's end, so the ACK reaches a sender
that writes the whole message before it reads, then the connection is closed. A message must arrive whole within
`read_timeout` of its first byte; a connection with nothing to say for `idle_timeout` is closed (MLLP senders
reconnect). Bytes outside a frame (a stray CR/LF between frames is tolerated) are answered MSA|AR once the frame
end arrives; nothing a peer sends stops the listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog
from hl7.mllp import HL7StreamReader, HL7StreamWriter, start_hl7_server

from gateway.adapters.dialect_call import call_dialect, codec_for
from gateway.adapters.limits import CHUNK, BudgetSpent, Held, Shared, Tally, discard
from gateway.auth.signature import Authenticator
from gateway.errors import Busy, GatewayError, MalformedMessage
from gateway.mapping.model import Dialect, Hl7
from gateway.runtime import Gateway

START, END = b"\x0b", b"\x1c\r"
BETWEEN_FRAMES = b"\r\n \t"
log = structlog.get_logger("hisgw.mllp")

Dialects = Callable[[], Mapping[str, Dialect]]


@dataclass(frozen=True, slots=True)
class Limits:
    max_message: int = 8 * 1024 * 1024  # ten thousand FT1 lines fit
    read_timeout: float = 30.0
    idle_timeout: float = 600.0
    stop_grace: float = 10.0  # on stop, a message being answered gets this long to finish
    max_connections: int = 1024  # the one over the cap is answered MSA|AR HG9002 and closed


def pick_dialect(dialects: Mapping[str, Dialect], message: bytes, default: str) -> Dialect | None:
    served = {name: d for name, d in dialects.items() if d.transport == "hl7" and isinstance(d.framing, Hl7)}
    if len(served) <= 1:
        return next(iter(served.values()), None)
    receiver = _receiving_application(message)
    for dialect in served.values():
        assert isinstance(dialect.framing, Hl7)
        if receiver and dialect.framing.application == receiver:
            return dialect
    return served.get(default)


def _receiving_application(message: bytes) -> str:
    """MSH-5.1, read from the bytes without decoding the message (an ASCII name in practice)."""
    head = message[:message.find(b"\r")] if b"\r" in message else message[:512]
    if not head.startswith(b"MSH") or len(head) < 8:
        return ""
    parts = head.split(head[3:4])
    return parts[4].split(head[4:5])[0].decode("latin-1").strip() if len(parts) > 4 else ""


def signed_caller(authenticator: Authenticator | None, message: bytes) -> str | None:
    """The hospital whose credentials sign the message in MSH-8 (Security): paasid^timestamp^nonce^signature,
    the national scheme (README: Authentication); None when the gateway runs without credentials."""
    if authenticator is None:
        return None
    head = message[:message.find(b"\r")] if b"\r" in message else message[:1024]
    fields = head.split(head[3:4]) if head.startswith(b"MSH") and len(head) > 8 else []
    security = fields[7].decode("ascii", errors="replace") if len(fields) > 7 else ""
    values = security.split(head[4:5].decode("ascii", errors="replace")) if security else []
    return authenticator.hospital_from_parts(values, message, "MSH-8 应为 paasid^timestamp^nonce^signature")


class MllpListener:
    def __init__(self, gateway: Gateway, dialects: Dialects, *, default: str = "", limits: Limits = Limits(),
                 authenticator: Authenticator | None = None, shared: Shared | None = None) -> None:
        self.authenticator = authenticator
        self.shared = shared or Shared.default()
        self._refused = Tally("mllp_busy")
        self.gateway = gateway
        self.dialects = dialects
        self.default = default
        self.limits = limits
        self.server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], bool] = {}  # handler → busy answering a message
        self._stopping = False

    async def start(self, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> asyncio.Server:
        """`ssl_context`: MLLP over TLS (the same certificate as the HTTP listener's, `[hl7] tls = true`)."""
        self.server = await start_hl7_server(self._connection, host, port, limit=CHUNK, ssl=ssl_context)
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """No new connections; idle ones closed at once, a message being answered finishes first."""
        self._stopping = True
        if self.server is not None:
            self.server.close()
        handlers = list(self._connections.items())
        for task, busy in handlers:
            if not busy:
                task.cancel()
        if handlers:
            _done, pending = await asyncio.wait([task for task, _ in handlers], timeout=self.limits.stop_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*(task for task, _ in handlers), return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()

    async def _connection(self, reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = writer.get_extra_info("peername")
        reason = self.shared.descriptors.refusal(len(self._connections), self.limits.max_connections)
        if reason:
            self.gateway.metrics.busy("hl7")
            self._refused.note(open=len(self._connections), cap=self.limits.max_connections, reason=reason)
            await self._refuse(reader, writer, Busy(), b"", linger=0.0 if reason == "descriptors" else 0.3)
            writer.close()
            return
        self._connections[task] = False
        self.gateway.metrics.opened("hl7")
        held = Held(self.shared.budget)
        pending = bytearray()  # bytes read past the end of the last message
        try:
            while True:
                block, framed = await self._next_block(reader, pending, held)
                self._connections[task] = True
                dialect = pick_dialect(self.dialects(), block, self.default)
                if dialect is None:
                    log.warning("mllp_dropped", peer=str(peer), reason="no hl7 dialect for this message")
                    break
                if framed:
                    try:
                        hospital = signed_caller(self.authenticator, block)
                    except GatewayError as exc:
                        self.gateway.metrics.refused(dialect.name, dialect.transport, exc)
                        body = codec_for(dialect).error(dialect, None, block, exc)
                    else:
                        _status, body = await call_dialect(self.gateway, dialect, block, hospital=hospital)
                else:
                    body = codec_for(dialect).error(dialect, None, block,
                                                    MalformedMessage("不是 MLLP 帧：应以 0x0B 开始，以 0x1C 0x0D 结束"))
                del block
                held.release()
                writer.writeblock(body)
                await writer.drain()
                if self._stopping:
                    break
                self._connections[task] = False
        except _TooLarge:
            log.warning("mllp_dropped", peer=str(peer), reason=f"message over {self.limits.max_message} bytes")
            held.release()
            await self._refuse(reader, writer, MalformedMessage(f"报文超过 {self.limits.max_message} 字节"), pending,
                               linger=None if pending else 0.0)
        except BudgetSpent:
            self.gateway.metrics.busy("hl7")
            self._refused.note(reason="bytes in flight", in_flight=self.shared.budget.used)
            held.release()
            await self._refuse(reader, writer, Busy(), pending)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the peer closed, stalled mid-message, or said nothing for too long
        finally:
            held.release()
            self._connections.pop(task, None)
            self.gateway.metrics.closed("hl7")
            writer.close()

    async def _refuse(self, reader: HL7StreamReader, writer: HL7StreamWriter, error: GatewayError,
                      pending: bytearray | bytes, linger: float | None = None) -> None:
        """MSA|AR, then the rest of the message read and dropped up to its frame's end (closing on unread bytes
        would reset the connection, and a sender that writes its whole message first would lose the ACK)."""
        dialect = pick_dialect(self.dialects(), bytes(pending[:1024]), self.default)
        if dialect is not None:
            writer.writeblock(codec_for(dialect).error(dialect, None, b"", error))
        tail = bytes(pending[-1:])
        if isinstance(pending, bytearray):
            pending.clear()
        with contextlib.suppress(ConnectionError):
            await writer.drain()
            await discard(reader, until=END, tail=tail,
                          timeout=self.limits.read_timeout if linger is None else linger)

    async def _next_block(self, reader: HL7StreamReader, pending: bytearray, held: Held) -> tuple[bytes, bool]:
        """(the bytes of the next message, whether it came in a proper frame), read in chunks charged to `held`;
        `pending` keeps what was read past the message's end for the next one."""
        while True:
            while pending and pending[0] in BETWEEN_FRAMES:
                del pending[0]
            if pending:
                break
            chunk = await asyncio.wait_for(reader.read(CHUNK), self.limits.idle_timeout)
            if not chunk:
                raise asyncio.IncompleteReadError(b"", None)
            pending += chunk
        async with asyncio.timeout(self.limits.read_timeout):
            scanned = 0
            while (end := pending.find(END, scanned)) < 0:
                if len(pending) > self.limits.max_message + len(START):
                    raise _TooLarge
                scanned = max(0, len(pending) - len(END) + 1)
                chunk = await reader.read(CHUNK)
                if not chunk:
                    raise asyncio.IncompleteReadError(bytes(pending), None)
                if not await held.grow(len(chunk)):
                    raise BudgetSpent
                pending += chunk
        if end > self.limits.max_message + len(START):
            del pending[:end + len(END)]  # whole, but too large: nothing of it is left to drop
            raise _TooLarge
        block = bytes(pending[:end])
        del pending[:end + len(END)]
        if block[:1] == START:
            return block[1:], True
        return block, False


class _TooLarge(Exception):
    """A message grew past `max_message` before its frame ended."""
