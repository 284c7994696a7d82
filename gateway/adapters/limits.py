"""What a listener grants one peer, and what all listeners share.

Per listener (`Limits`): concurrent connections, how long a new connection may take to start its first message
(an HTTP request head included), how long the rest of a message may take, how long a kept-alive connection may
sit idle. A listener answers the connection over its cap at once, in its own protocol, and closes it: a flood of
peers gets a clear "busy", never a gateway that stops answering everyone.

Shared by every listener (`Shared`):
- one budget of bytes in flight (`ByteBudget`): a listener reads a message in chunks and charges each chunk
  before it keeps it, so the bytes that stalled or slow senders make the gateway hold are bounded as a whole,
  whatever the number of connections. When the budget is spent a reader waits briefly for room, then refuses
  the message in its protocol (busy, HG9002). Outside the budget a connection costs its stream's buffer (what
  one recv() brings, ≤ 256 KB, plus 2 × CHUNK) and its objects, for as long as its timeouts allow.
- freed memory goes back to the system (`give_back_memory`): glibc keeps freed heap otherwise, and a flood of
  connections would leave the process at its peak.
- a reserve of file descriptors (`Descriptors`): a new connection is refused while the process's open
  descriptors are within `reserve` of RLIMIT_NOFILE, so the store (SQLite opens its WAL and temporary files)
  and the other listeners never meet EMFILE.
- refusals and accept errors (`Tally`) are logged once per interval with a count, not once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger("hisgw.limits")

CHUNK = 16 * 1024  # what a listener reads at once; a stream's own buffer (uncharged) stays within twice this
FD_DIR = "/proc/self/fd"
LISTENERS = 3  # HTTP (and SOAP), DLL, MLLP: each gets a third of the descriptors above the reserve


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int = 1024  # per listener
    read_timeout: float = 30.0  # seconds for the rest of a message once it has started
    idle_timeout: float = 120.0  # seconds a kept-alive connection may wait for its next message
    header_timeout: float = 5.0  # seconds a new connection (HTTP: any request head) has to start/finish its head


@dataclass
class ConnectionGate:
    limits: Limits
    open: int = 0

    def enter(self) -> bool:
        if self.open >= self.limits.max_connections:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1


def _malloc_trim() -> Callable[[], None]:
    """glibc's malloc_trim(0): gives free heap pages back to the system (a no-op where there is no glibc)."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]

    def give_back() -> None:
        trim(0)

    return give_back


class ByteBudget:
    """Bytes in flight across every listener: what connections hold of messages not yet answered."""

    def __init__(self, total: int, wait: float) -> None:
        self.total = total
        self.wait = wait  # seconds a reader waits for room before the message is refused
        self.used = 0
        self._freed = asyncio.Event()


    def take_now(self, n: int) -> bool:
        if self.used + n > self.total:
            return False
        self.used += n
        return True

    async def take(self, n: int) -> bool:
        """Charge n bytes, waiting up to `wait` seconds for room; False: refuse the message."""
        return self.take_now(n) or (await self._wait_for(n) and self.take_now(n))

    def fits(self, n: int) -> bool:
        return self.used + n <= self.total

    async def room_for(self, n: int) -> bool:
        """Whether n more bytes fit now or within `wait` (nothing is charged): a message whose length is known up
        front is refused before it is read."""
        return self.fits(n) or await self._wait_for(n)

    async def _wait_for(self, n: int) -> bool:
        if n > self.total:
            return False
        deadline = time.monotonic() + self.wait
        while not self.fits(n):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._freed.wait(), remaining)
        return True

    def release(self, n: int) -> None:
        self.used -= n
        freed, self._freed = self._freed, asyncio.Event()
        freed.set()



@dataclass
class Held:
    """What one connection holds of the budget for the message it is reading or answering."""

    budget: ByteBudget
    bytes: int = 0

    async def grow(self, n: int) -> bool:
        if not await self.budget.take(n):
            return False
        self.bytes += n
        return True

    def release(self) -> None:
        if self.bytes:
            self.budget.release(self.bytes)
            self.bytes = 0


def _nofile() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Descriptors:
    """Open descriptors against RLIMIT_NOFILE minus a reserve. Counting /proc/self/fd costs a directory read,
    so a count is reused for `resample` seconds, with the connections admitted since added to it."""

    def __init__(self, reserve: int, resample: float = 0.2) -> None:
        self.reserve = reserve
        self.resample = resample
        self._count = 0
        self._since = 0
        self._at = -1e9
        self._available = os.path.isdir(FD_DIR)

    def _sample(self) -> None:
        self._count = len(os.listdir(FD_DIR))
        self._since = 0
        self._at = time.monotonic()

    def low(self) -> bool:
        """True: refuse the connection just accepted (its descriptor is already counted)."""
        if not self._available:
            return False
        limit = _nofile() - self.reserve
        if time.monotonic() - self._at > self.resample:
            self._sample()
        if self._count + self._since >= limit:
            if time.monotonic() - self._at > 0.02:  # confirm with a fresh count before refusing
                self._sample()
            if self._count + self._since >= limit:
                return True
        self._since += 1
        return False

    def refusal(self, open_here: int, cap: int) -> str:
        """Why a connection just accepted is refused ('' to take it): its listener holds `cap` connections, or its
        share of the descriptors (a third of RLIMIT_NOFILE minus the reserve, so that silent sockets on one
        listener cannot take what the others need), or the process is within the reserve of RLIMIT_NOFILE."""
        if open_here >= min(cap, max(16, (_nofile() - self.reserve) // LISTENERS)):
            return "connections"
        return "descriptors" if self.low() else ""


def raise_nofile() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one (many systems start processes at 1,024); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return _nofile()


@dataclass
class Shared:
    """What every listener of one gateway shares."""

    budget: ByteBudget
    descriptors: Descriptors

    @classmethod
    def default(cls) -> Shared:
        return cls(ByteBudget(256 * 1024 * 1024, 2.0), Descriptors(256))


@dataclass
class Tally:
    """An event that can come in floods (refused connections, failed accepts): counted, and logged at most once
    per `interval` with how many happened since the last line."""

    event: str
    interval: float = 10.0
    count: int = 0
    _last: float = -1e9

    def note(self, **fields: Any) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self._last >= self.interval:
            log.warning(self.event, count=self.count, interval_s=self.interval, **fields)
            self.count = 0
            self._last = now


def log_accept_errors(loop: asyncio.AbstractEventLoop, interval: float = 10.0) -> Tally:
    """asyncio's exception handler for 'socket.accept() out of system resource' (EMFILE, ENFILE, ENOBUFS, ENOMEM),
    which asyncio would log once per failed accept: one line per `interval` with a count instead."""
    tally = Tally("accept_failed", interval)
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and str(context.get("message", "")).startswith("socket.accept()"):
            tally.note(error=errno.errorcode.get(exc.errno or 0, str(exc.errno)), nofile=_nofile())
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return tally


async def give_back_memory(interval: float = 2.0, slack: int = 8 * 1024 * 1024) -> None:
    """Every `interval` seconds, while resident memory is `slack` above the lowest it has been after a trim,
    malloc_trim(0): a few milliseconds when there is much to give back, well under one otherwise."""
    trim = _malloc_trim()
    floor = _resident()
    while floor:
        await asyncio.sleep(interval)
        if _resident() > floor + slack:
            trim()
            floor = min(floor, _resident()) or floor


def _resident() -> int:
    """This process's resident bytes (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class BudgetSpent(Exception):
    """The bytes-in-flight budget stayed full for longer than its wait: refuse the message (HG9002)."""


async def read_charged(reader: asyncio.StreamReader, length: int, held: Held) -> bytes:
    """Exactly `length` bytes, read in chunks, each charged to `held` before it is kept (callers bound the time
    with asyncio.timeout). IncompleteReadError when the peer closes first."""
    data = bytearray()
    while len(data) < length:
        chunk = await reader.read(min(CHUNK, length - len(data)))
        if not chunk:
            raise asyncio.IncompleteReadError(bytes(data), length)
        if not await held.grow(len(chunk)):
            raise BudgetSpent
        data += chunk
    return bytes(data)


async def discard(reader: asyncio.StreamReader, *, count: int | None = None, until: bytes = b"",
                  timeout: float, tail: bytes = b"") -> None:
    """Read and drop `count` bytes, or up to and including `until`, for at most `timeout` seconds: the answer
    written before (a refusal) then reaches a peer that is still sending, where closing at once would have the
    kernel reset the connection and the peer lose the answer. Nothing is kept, so nothing is charged. `tail`:
    the last bytes already read, where `until` may have begun."""
    left = count if count is not None else -1
    with contextlib.suppress(TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        async with asyncio.timeout(timeout):
            while left != 0:
                chunk = await reader.read(CHUNK if left < 0 else min(CHUNK, left))
                if not chunk:
                    return
                if left > 0:
                    left -= len(chunk)
                elif until and until in tail + chunk:
                    return
                tail = chunk[-len(until):] if until else b""
