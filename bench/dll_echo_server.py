"""The bare baseline for the DLL path: a listener speaking the library's frame protocol (dll/PROTOCOL.md) that
answers every request with return code 0 and the request's own bytes."""

from __future__ import annotations

import asyncio
import struct
import sys


async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            (length,) = struct.unpack(">I", await reader.readexactly(4))
            _dialect, _, raw = (await reader.readexactly(length)).partition(b"\0")
            writer.write(struct.pack(">Ii", len(raw) + 4, 0) + raw)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(connection, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
