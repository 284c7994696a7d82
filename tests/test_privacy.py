"""A full journey through `hisgw serve`, over HTTP and the DLL listener, failures included: neither the log nor
the journal (masked, the default) holds an ID number or a full name in clear."""

from __future__ import annotations

import asyncio
import csv
import re
import sqlite3
import struct
from datetime import date
from decimal import Decimal
from pathlib import Path

import aiohttp

from gateway.cli import DEMO_DIR, main
from simulators.nhsa_client import NhsaClient
from tests.msgids import correct, status
from tests.processes import start_serve

D = Decimal
HOSPITAL = "H43052100002"
PEOPLE = list(csv.DictReader((DEMO_DIR / "persons.csv").read_text(encoding="utf-8").splitlines()))
NOBODY = "430521200001010012"  # a well-formed ID number of no one in the county
ID_LIKE = re.compile(rb"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


async def dll_call(port: int, text: str) -> tuple[int, str]:
    """What the C library does for BUSINESS_HANDLE: one frame out, one frame back (dll/PROTOCOL.md)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = b"neusoft-dll\0" + text.encode("gbk")
    writer.write(struct.pack(">I", len(payload)) + payload)
    await writer.drain()
    length, rc = struct.unpack(">Ii", await reader.readexactly(8))
    out = await reader.readexactly(length - 4)
    writer.close()
    await writer.wait_closed()
    return rc, out.decode("gbk")


async def journey(url: str, dll_port: int) -> None:
    person = PEOPLE[0]
    async with aiohttp.ClientSession() as session:
        his = NhsaClient(session, url, HOSPITAL)
        await his.sign_in()
        found = await his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": person["certno"],
                                                 "psn_name": person["psn_name"]}})
        assert found["output"]["baseinfo"]["psn_name"] == person["psn_name"]  # the HIS gets it in clear
        assert (await his.call("1101", {"data": {"mdtrt_cert_no": person["certno"], "psn_name": "张冠李"}}))[
            "infcode"] == -1
        assert (await his.call("1101", {"data": {"mdtrt_cert_no": NOBODY}}))["infcode"] == -1
        admitted = await his.call("2401", {"mdtrtinfo": {"psn_no": person["psn_no"], "insutype": "390",
                                                         "begntime": "2026-05-01 09:00:00", "mdtrt_cert_type": "02",
                                                         "mdtrt_cert_no": person["certno"], "coner_name": "周小红"}})
        mdtrt_id = admitted["output"]["result"]["mdtrt_id"]
        await his.call("2301", {"feedetail": [
            {"feedetl_sn": str(i), "mdtrt_id": mdtrt_id, "psn_no": person["psn_no"], "med_list_codg": code,
             "cnt": D(amount), "pric": D("1.00"), "det_item_fee_sumamt": D(amount), "fee_ocur_time":
             "2026-05-02 10:00:00", "bilg_dr_name": "王医生"} for i, (code, amount) in
            enumerate([("XA01", "14500"), ("XB10", "4000"), ("XC01", "1500")])]})
        settle = {"data": {"psn_no": person["psn_no"], "mdtrt_id": mdtrt_id, "medfee_sumamt": D("20000.00"),
                           "mdtrt_cert_type": "02", "mdtrt_cert_no": person["certno"]}}
        assert (await his.call("2303", settle))["infcode"] == 0
        msgid = his.new_msgid()
        setl_id = (await his.call("2304", settle, msgid=msgid))["output"]["setlinfo"]["setl_id"]
        await his.call("2304", settle, msgid=msgid)  # a replay
        assert (await status(his, msgid))["stas"] == "ok"
        await his.call("5203", {"data": {"setl_id": setl_id}})
        reversal = his.new_msgid()
        await his.call("2305", {"data": {"setl_id": setl_id, "psn_no": person["psn_no"]}}, msgid=reversal)
        assert (await correct(his, reversal, "2305"))["infcode"] == 0
        await his.call("5206", {"data": {"psn_no": person["psn_no"]}})
        async with session.post(f"{url}/fsi/api/rsfComIfsService/callService",
                                data=f'{{"infno":"1101","input":{{"data":{{"mdtrt_cert_no":"{NOBODY}"'.encode()):
            pass  # unreadable: refused, journalled as received
        async with session.get(f"{url}/journal/v1/exchanges", params={"raw": "1", "limit": "1000"}) as response:
            assert response.status == 200

    other = PEOPLE[1]  # over the DLL: the name comes back by position, with no key to say it is one
    rc, out = await dll_call(dll_port, f"2100^{HOSPITAL}^001^C1^HIS0001^430521^{other['certno']}|1|^1^")
    assert rc == 0 and other["psn_name"] in out
    rc, out = await dll_call(dll_port, f"2210^{HOSPITAL}^001^C1^HIS0002^430521^{other['psn_no']}|20260501090000^1^")
    assert rc == 0


def clear_ids(data: bytes) -> list[bytes]:
    """Every ID number (a valid birth date in positions 7–14) in clear."""
    found = []
    for match in ID_LIKE.finditer(data):
        text = match.group(0)
        try:
            born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
        except ValueError:
            continue
        if 1900 <= born.year <= 2100:
            found.append(text)
    return found


def assert_nothing_personal(where: str, data: bytes) -> None:
    assert clear_ids(data) == [], where
    for text in (data.decode("utf-8", errors="ignore"), data.decode("gbk", errors="ignore")):
        for name in [p["psn_name"] for p in PEOPLE] + ["周小红", "张冠李"]:
            assert name not in text, f"{where}: {name}"


async def test_a_full_journey_leaves_no_id_number_or_name_in_clear(tmp_path: Path) -> None:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    log = tmp_path / "hisgw.log"
    server, url, dll_port = start_serve(db, log)
    try:
        await journey(url, dll_port)
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
    text = log.read_bytes()
    assert text.count(b'"event": "exchange"') == 17  # the whole journey is in the log, masked
    assert_nothing_personal("log", text)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT j.id, j.request, j.call, o.answer, o.err_msg FROM journal j "
                            "JOIN journal_outcomes o ON o.id = j.id").fetchall()
    assert len(rows) == 17
    for entry_id, *bodies in rows:
        for body in bodies:
            assert_nothing_personal(f"journal row {entry_id}", body if isinstance(body, bytes) else body.encode())
