"""The bare baseline for HL7: python-hl7's asyncio MLLP server parsing each message and answering its ACK."""

from __future__ import annotations

import asyncio
import sys

from hl7.mllp import HL7StreamReader, HL7StreamWriter, start_hl7_server


async def acknowledge(reader: HL7StreamReader, writer: HL7StreamWriter) -> None:
    try:
        while True:
            message = await reader.readmessage()  # hl7.parse of the whole message
            writer.writemessage(message.create_ack())
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await start_hl7_server(acknowledge, "127.0.0.1", port, encoding="utf-8", limit=16 * 1024 * 1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
