"""The chronic-visit worked example through a legacy dialect by mapping file alone: the Neusoft-style DLL
(mappings/neusoft-dll.yaml, trades 2510 and 2211–2431), over the DLL listener's real TCP frames, GBK.

Figures as in tests/test_outpatient.py: total 600.00, in-policy 460.00; basic 460.00 × 65% = 299.00; backstop
(600.00 − 299.00) − 20% × 600.00 = 301.00 − 120.00 = 181.00; personal 120.00.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest

from gateway.adapters.dll_listener import start_dll_listener
from tests.conftest import DIALECTS
from tests.support import PERSONS, Served


class Frames:
    """What the drop-in library does for BUSINESS_HANDLE: one frame out, one frame back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.serial = 0

    async def handle(self, trade: str, params: str, hospital: str = "T2") -> tuple[int, list[str]]:
        """(return code, the answer split at ^; an error answer is its text alone)."""
        self.serial += 1
        text = f"{trade}^{hospital}^001^CYC^MZ{self.serial:08d}^430521^{params}^1^"
        payload = b"neusoft-dll\0" + text.encode("gbk")
        self.writer.write(struct.pack(">I", len(payload)) + payload)
        await self.writer.drain()
        length, rc = struct.unpack(">Ii", await asyncio.wait_for(self.reader.readexactly(8), 10))
        body = await self.reader.readexactly(length - 4)
        return rc, body.decode("gbk").split("^")

    async def ok(self, trade: str, params: str) -> list[str]:
        rc, parts = await self.handle(trade, params)
        assert rc == 0, parts
        return parts[2].split("|")


@pytest.fixture
async def dll(served: Served) -> AsyncIterator[Frames]:
    server = await start_dll_listener(served.gateway, lambda: DIALECTS, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield Frames(reader, writer)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


async def test_the_chronic_visit_through_the_neusoft_dll(dll: Frames) -> None:
    person = PERSONS["poor"]
    # 认定: 病种|名称|认定日期|医师1|姓名|职称|医师2|姓名|职称 (233 主治医师, 231 主任医师)
    [recog_id] = await dll.ok("2510", f"{person.psn_no}|I10|高血压病|20260401|D101|甲|233|D102|乙|231")
    assert recog_id.startswith("MB")
    rc, parts = await dll.handle("2510", f"{person.psn_no}|I10|高血压病|20260401|D101|甲|233|D103|丙|234")
    assert rc == -2 and parts[0].startswith("HG3053")  # 234 医师: below attending; shown to the operator

    mdtrt_id, otp_no = await dll.ok("2211", f"{person.psn_no}|20260410090000|MZ0001|A03|内科|D001|医生")
    assert otp_no == "MZ0001"
    await dll.ok("2212", f"{mdtrt_id}|{person.psn_no}|14|I10.x00|高血压")
    rows = "\n".join([
        f"M1|{mdtrt_id}|{person.psn_no}|A|H-A|降压药|3|100|300.00|20260410092000|B1",
        f"M2|{mdtrt_id}|{person.psn_no}|B20|H-B|检查|1|200|200.00|20260410092000|B1",
        f"M3|{mdtrt_id}|{person.psn_no}|C|H-C|自费|1|100|100.00|20260410092000|B1",
    ])
    rc, parts = await dll.handle("2311", rows)
    assert rc == 0, parts
    lines = [row.split("\t") for row in parts[2].split("\n")]
    # 乙 200.00 at 20%: 先行自付 40.00, in-policy 160.00; 丙 wholly self-paid
    assert [(r[0], r[2], r[5], r[6]) for r in lines] == [
        ("M1", "1", "0.00", "300.00"), ("M2", "2", "40.00", "160.00"), ("M3", "3", "0.00", "0.00")]

    # setl_id|总额|全自费|先行自付|范围内|起付|基本|大病|特惠保|救助|减免|兜底|基金合计|医院|个人|时间
    trial = await dll.ok("2421", f"{mdtrt_id}|{person.psn_no}|600.00|14")
    assert trial[0] == ""
    settled = await dll.ok("2411", f"{mdtrt_id}|{person.psn_no}|600.00|14")
    assert settled[1:15] == ["600.00", "100.00", "40.00", "460.00", "0.00", "299.00", "0.00", "0.00", "0.00",
                             "0.00", "181.00", "480.00", "0.00", "120.00"]
    assert trial[1:15] == settled[1:15]
    setl_id = settled[0]
    rc, parts = await dll.handle("2411", f"{mdtrt_id}|{person.psn_no}|600.00|14")
    assert rc == -2 and parts[0].startswith("HG3004")

    reversal, original, amount = await dll.ok("2431", f"{mdtrt_id}|{person.psn_no}|{setl_id}")
    assert original == setl_id and reversal != setl_id and amount == "-600.00"
    # after the reversal, revoke the batch and cancel the registration
    await dll.ok("2321", f"{mdtrt_id}|{person.psn_no}|B1")
    await dll.ok("2241", f"{mdtrt_id}|{person.psn_no}")
