"""kill -9 in the middle of a load of settlements from several clients, then a restart on the same file.

Every settlement whose answer reached a client is there, as answered; nothing is half-written; what the
crash cut off is in the journal as 'unknown' and absent from the ledger; 5999 tells each client the truth
about the calls it got no answer to; `hisgw verify` finds no difference.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import simplejson

from gateway.cli import main
from simulators.nhsa_client import CALL_PATH, NhsaClient
from tests.msgids import status
from tests.processes import start_serve

D = Decimal
HOSPITAL = "H43052100002"
PERSONS = ("D0001", "D0002", "D0003", "D0004", "D0005", "D0006", "D0007", "D0008", "D0009", "D0014")
CLIENTS = 8
BIG = 10_000  # fee lines of the upload the kill is aimed at: it keeps the store thread busy long enough


class Load:
    """What the clients were told, and what they sent without an answer."""

    def __init__(self) -> None:
        self.answered: dict[str, tuple[str, dict[str, Any]]] = {}  # msgid → (infno, answer)
        self.unanswered: dict[str, str] = {}  # msgid → infno
        self.settled = 0

    async def call(self, his: NhsaClient, infno: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        msgid = his.new_msgid()
        try:
            answer = await his.call(infno, payload, msgid=msgid)
        except (TimeoutError, aiohttp.ClientError):
            self.unanswered[msgid] = infno
            return None
        self.answered[msgid] = (infno, answer)
        assert answer["infcode"] == 0, answer
        return answer


async def journeys(load: Load, his: NhsaClient, psn_no: str) -> None:
    """Admit, upload, settle, again and again, until the gateway is gone."""
    for n in range(10_000):
        admitted = await load.call(his, "2401", {"mdtrtinfo": {"psn_no": psn_no, "insutype": "390",
                                                               "begntime": "2026-05-01 09:00:00"}})
        if admitted is None:
            return
        mdtrt_id = admitted["output"]["result"]["mdtrt_id"]
        lines = [{"feedetl_sn": f"{mdtrt_id}-{i}", "mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_list_codg": "XA01",
                  "cnt": D(1), "pric": D(100 + n % 7), "det_item_fee_sumamt": D(100 + n % 7),
                  "fee_ocur_time": "2026-05-02 10:00:00"} for i in range(3)]
        if await load.call(his, "2301", {"feedetail": lines}) is None:
            return
        medfee = 3 * D(100 + n % 7)
        settled = await load.call(his, "2304", {"data": {"psn_no": psn_no, "mdtrt_id": mdtrt_id,
                                                         "medfee_sumamt": medfee}})
        if settled is None:
            return
        load.settled += 1


async def big_upload(load: Load, his: NhsaClient, mdtrt_id: str) -> str:
    msgid = his.new_msgid()
    lines = [{"feedetl_sn": f"BIG{i:05d}", "mdtrt_id": mdtrt_id, "psn_no": "D0009", "med_list_codg": "XA01",
              "cnt": D(1), "pric": D("1.00"), "det_item_fee_sumamt": D("1.00"), "fee_ocur_time": "2026-05-02 10:00:00"}
             for i in range(BIG)]
    load.unanswered[msgid] = "2301"

    body = simplejson.dumps(his.envelope("2301", {"feedetail": lines}, msgid=msgid), use_decimal=True).encode()

    async def send() -> None:
        try:  # a stream, as aiohttp wants for a body this size
            async with his.session.post(f"{his.base_url}{CALL_PATH}", data=io.BytesIO(body)) as response:
                answer = json.loads(await response.read())
        except (TimeoutError, aiohttp.ClientError):
            return
        load.answered[msgid] = ("2301", answer)
        del load.unanswered[msgid]

    asyncio.get_running_loop().create_task(send())
    return msgid


def attempt_committed(db: Path, msgid: str) -> bool:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT 1 FROM journal WHERE msgid = ?", (msgid,)).fetchone() is not None


async def load_then_kill(db: Path, pid: int, url: str) -> tuple[Load, str]:
    """Clients settling, then a 10,000-line upload; kill -9 as soon as its attempt is journalled."""
    load = Load()
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=CLIENTS + 2)) as session:
        his = NhsaClient(session, url, HOSPITAL)
        target = await load.call(his, "2401", {"mdtrtinfo": {"psn_no": "D0009", "insutype": "390",
                                                             "begntime": "2026-05-01 09:00:00"}})
        assert target is not None
        clients = [asyncio.get_running_loop().create_task(journeys(load, NhsaClient(session, url, HOSPITAL), psn))
                   for psn in PERSONS[:CLIENTS]]
        while load.settled < 40:  # the load is under way
            await asyncio.sleep(0.01)
        big = await big_upload(load, his, target["output"]["result"]["mdtrt_id"])
        deadline = time.monotonic() + 20
        while not attempt_committed(db, big):  # its attempt is in the journal: it is running now
            assert time.monotonic() < deadline, "the big upload never started"
            await asyncio.sleep(0.002)
        os.kill(pid, signal.SIGKILL)
        await asyncio.wait_for(asyncio.gather(*clients), 30)
    return load, big


async def test_kill_9_mid_load_keeps_every_answer_and_half_writes_nothing(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    server, url, _ = start_serve(db, tmp_path / "first.log")
    try:
        load, big = await load_then_kill(db, server.pid, url)
    finally:
        server.kill()
    assert server.wait(timeout=10) == -signal.SIGKILL
    settlements = {msgid: answer for msgid, (infno, answer) in load.answered.items() if infno == "2304"}

    server, url, _ = start_serve(db, tmp_path / "second.log")  # the same file, after the crash
    try:
        async with aiohttp.ClientSession() as session:
            his = NhsaClient(session, url, HOSPITAL)
            async with session.get(f"{url}/journal/v1/exchanges", params={"outcome": "unknown",
                                                                          "limit": "1000"}) as response:
                unknown = {row["msgid"]: row for row in (await response.json())["exchanges"]}
            assert big in unknown
            for msgid in unknown:  # the truth a HIS gets for a call the crash cut off: nothing happened
                assert (await status(his, msgid))["stas"] == "unknown"
            told: dict[str, str] = {}
            for msgid in load.unanswered:
                told[msgid] = (await status(his, msgid))["stas"]
            assert set(told.values()) <= {"ok", "unknown", "none"}
            for msgid, answer in settlements.items():  # what a client was told is what the ledger says
                setlinfo = answer["output"]["setlinfo"]
                query = await his.call("5203", {"data": {"setl_id": setlinfo["setl_id"]}})
                assert query["infcode"] == 0, (msgid, query)
                for field in ("medfee_sumamt", "fund_pay_sumamt", "psn_part_amt", "hosp_part_amt", "hifp_pay"):
                    assert query["output"]["setlinfo"][field] == setlinfo[field]
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
    warning = [json.loads(line) for line in (tmp_path / "second.log").read_text(encoding="utf-8").splitlines()
               if '"journal_unknown"' in line]
    assert warning and warning[0]["count"] == len(unknown)

    with sqlite3.connect(db) as conn:
        answers = set(conn.execute("SELECT msgid FROM answers WHERE fixmedins_code = ?", (HOSPITAL,)))
        for msgid, row in unknown.items():  # an attempt without outcome committed nothing
            assert (msgid,) not in answers
            assert conn.execute("SELECT count(*) FROM settlements WHERE msgid = ?", (msgid,)).fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM stays WHERE created_msgid = ?", (msgid,)).fetchone()[0] == 0
            call = json.loads(conn.execute("SELECT call FROM journal WHERE id = ?", (row["id"],)).fetchone()[0])
            if call["call"] == "FeeUpload":
                sns = [line["feedetl_sn"] for line in call["body"]["lines"]]
                marks = ",".join("?" * len(sns))
                assert conn.execute(f"SELECT count(*) FROM fee_lines WHERE mdtrt_id = ? AND feedetl_sn IN ({marks})",
                                    (call["body"]["mdtrt_id"], *sns)).fetchone()[0] == 0
        for msgid, stas in told.items():  # 5999's 'ok' and the ledger agree
            assert ((msgid,) in answers) == (stas == "ok"), msgid
        # no effect without its answer, no answer without its journal outcome
        assert conn.execute("SELECT count(*) FROM settlements s LEFT JOIN answers a ON a.msgid = s.msgid "
                            "WHERE a.msgid IS NULL").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM stays s LEFT JOIN answers a ON a.msgid = s.created_msgid "
                            "WHERE a.msgid IS NULL").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM answers a WHERE NOT EXISTS (SELECT 1 FROM journal j JOIN "
                            "journal_outcomes o ON o.id = j.id WHERE j.msgid = a.msgid AND o.outcome = 'ok')"
                            ).fetchone()[0] == 0
        in_ledger = conn.execute("SELECT count(*) FROM settlements").fetchone()[0]
    assert main(["--db", str(db), "verify"]) == 0
    assert main(["--db", str(db), "journal", "--outcome", "unknown", "--msgid", big]) == 0
    assert f"{big}  2301→2301  unknown" in capsys.readouterr().out
    print(f"\nkill -9 after {len(settlements)} settlements answered ({in_ledger} in the ledger), "
          f"{len(load.unanswered)} calls unanswered ({sorted(told.values())}), {len(unknown)} journal rows unknown")
