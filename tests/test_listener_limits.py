"""Listener limits: a connection over the cap is told "busy" in its own protocol, a sender that stalls is
dropped or answered, and neither holds up anyone else. Raw sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from gateway.adapters.dll_listener import start_dll_listener
from gateway.adapters.limits import Limits
from gateway.app import build_app, build_gateway
from gateway.runtime import Gateway
from gateway.settings import Settings
from tests.conftest import DIALECTS

LIMITS = Limits(max_connections=2, read_timeout=0.3, idle_timeout=5.0)
CALL = "/fsi/api/rsfComIfsService/callService"


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    gateway = build_gateway(Settings(db_path=tmp_path / "hisgw.sqlite"))
    yield gateway
    gateway.close()


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    length, rc = struct.unpack(">Ii", await asyncio.wait_for(reader.readexactly(8), 5))
    return rc, await reader.readexactly(length - 4)


async def test_dll_listener_cap_and_stalled_sender(gateway: Gateway) -> None:
    server = await start_dll_listener(gateway, lambda: DIALECTS, "127.0.0.1", 0, LIMITS)
    port = server.sockets[0].getsockname()[1]
    try:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        rc, text = await read_frame(reader)
        assert rc == -1 and "繁忙" in text.decode("gbk")
        writer.close()
        # one held connection starts a frame and stalls: it is dropped after the read timeout
        stalled_reader, stalled_writer = held[0]
        stalled_writer.write(struct.pack(">I", 100) + b"neusoft-dll\0")
        await stalled_writer.drain()
        assert await asyncio.wait_for(stalled_reader.read(), 3) == b""  # closed by the gateway
        # which frees a place: a new connection is served
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        payload = b"neusoft-dll\0" + "9100^T2^001^C^M1^430521^^1^".encode("gbk")
        writer.write(struct.pack(">I", len(payload)) + payload)
        rc, _ = await read_frame(reader)
        assert rc == -2  # a business answer (unknown hospital): it was served
        writer.close()
        for _, held_writer in held:
            held_writer.close()
    finally:
        server.close()
        await server.wait_closed()


async def test_http_listener_slow_body_and_busy(gateway: Gateway) -> None:
    server = TestServer(build_app(gateway, lambda: DIALECTS, limits=Limits(max_connections=1, read_timeout=0.3)),
                        host="127.0.0.1")
    await server.start_server()
    try:
        head = (f"POST {CALL} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n").encode()
        slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", server.port)
        slow_writer.write(head + b'{"infno": "11')  # and then nothing
        await slow_writer.drain()
        await asyncio.sleep(0.1)
        # while it is in flight, the listener is full: the next caller is told so in the national dialect
        other_reader, other_writer = await asyncio.open_connection("127.0.0.1", server.port)
        other_writer.write(f"POST {CALL} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode())
        busy = await asyncio.wait_for(other_reader.read(4096), 5)
        assert busy.startswith(b"HTTP/1.1 503") and b"HG9002" in busy
        other_writer.close()
        answer = await asyncio.wait_for(slow_reader.read(4096), 5)
        document = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert document["infcode"] == -1 and "HG1001" in document["err_msg"] and "秒内" in document["err_msg"]
        slow_writer.close()
    finally:
        await server.close()
