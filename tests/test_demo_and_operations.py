"""The embedded default as `make serve` runs it: demo data, a real server process, verify, masked logs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from gateway.cli import main
from simulators.nhsa_client import NhsaClient

D = Decimal
DEMO_PERSON = "D0001"  # 0001, the worked example's patient
DEMO_CERTNO = "43052119580312013X"
DEMO_HOSPITAL = "H43052100002"  # level 2, in county


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    db = tmp_path / "hisgw.sqlite"
    assert main(["--db", str(db), "demo", "load"]) == 0
    return db


async def test_demo_county_served_by_the_hisgw_command(demo_db: Path, tmp_path: Path) -> None:
    """hisgw serve in its own process: the worked example with the demo data, then verify and the logs."""
    port = free_port()
    log_path = tmp_path / "hisgw.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "--db", str(demo_db), "serve", "--port", str(port),
             "--dll-port", str(free_port()), "--hl7-port", str(free_port())],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    async with session.get(f"{url}/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    time.sleep(0.05)
            his = NhsaClient(session, url, DEMO_HOSPITAL)
            await his.sign_in()
            person = await his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": DEMO_CERTNO}})
            assert person["output"]["baseinfo"]["psn_no"] == DEMO_PERSON
            admitted = await his.call("2401", {"mdtrtinfo": {"psn_no": DEMO_PERSON, "insutype": "390",
                                                             "begntime": "2026-05-01 09:00:00"}})
            mdtrt_id = admitted["output"]["result"]["mdtrt_id"]
            lines = [("XA01", "14500"), ("XB10", "4000"), ("XC01", "1500")]
            await his.call("2301", {"feedetail": [
                {"feedetl_sn": str(i), "mdtrt_id": mdtrt_id, "psn_no": DEMO_PERSON, "med_list_codg": code,
                 "cnt": D(count), "pric": D("1.00"), "det_item_fee_sumamt": D(count), "fee_ocur_time":
                 "2026-05-02 10:00:00"} for i, (code, count) in enumerate(lines)]})
            settled = await his.call("2304", {"data": {"psn_no": DEMO_PERSON, "mdtrt_id": mdtrt_id,
                                                       "medfee_sumamt": D("20000.00")}})
            setlinfo = settled["output"]["setlinfo"]
            assert (setlinfo["hifp_pay"], setlinfo["maf_pay"], setlinfo["psn_part_amt"]) == (
                D("15172.50"), D("1171.00"), D("2000.00"))
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0  # SIGTERM: in-flight calls finish, the store closes cleanly
    assert main(["--db", str(demo_db), "verify"]) == 0
    events = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    exchanges = [e for e in events if e.get("event") == "exchange"]
    assert [e["infno"] for e in exchanges] == ["9001", "1101", "2401", "2301", "2304"]
    assert all(e["status"] == "0" and e["dialect"] == "nhsa-http" and e["msgid"] for e in exchanges)
    text = log_path.read_text(encoding="utf-8")
    assert DEMO_CERTNO not in text and "周建国" not in text


def test_verify_finds_a_tampered_accumulator(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    with sqlite3.connect(demo_db) as conn:
        conn.execute("INSERT INTO accumulators VALUES ('D0001', 2026, '390100', 100)")
    assert main(["--db", str(demo_db), "verify"]) == 1
    assert "DIFF D0001 2026 390100: stored 1.00, ledger 0.00" in capsys.readouterr().out


def test_import_refuses_a_bad_file_and_writes_nothing(demo_db: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "persons.csv"
    bad.write_text("certno,psn_name,insuplc_admdvs\n430521195803120134,某人,430521\n43052119660520024X,某,430521\n",
                   encoding="utf-8")
    assert main(["--db", str(demo_db), "persons", "import", str(bad)]) == 1
    err = capsys.readouterr().err  # the check characters are X and 8
    assert "第2行 [certno]: 校验位错误" in err and "第3行 [certno]: 校验位错误" in err


def test_serve_reloads_mappings_on_sighup_and_on_change(demo_db: Path, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    folder = tmp_path / "mappings"
    folder.mkdir()
    original = (root / "mappings" / "neusoft-dll.yaml").read_text(encoding="utf-8")
    mapping = folder / "neusoft-dll.yaml"
    mapping.write_text(original, encoding="utf-8")
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "--db", str(demo_db), "serve", "--port", str(free_port()),
             "--dll-port", str(free_port()), "--hl7-port", str(free_port()), "--mappings", str(folder)],
            stdout=log, stderr=subprocess.STDOUT)

    def wait_for(event: str, count: int = 1) -> list[dict[str, object]]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            events = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()
                      if line.startswith("{")]
            found = [e for e in events if e.get("event") == event]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {event} in {log_path.read_text(encoding='utf-8')}")

    try:
        wait_for("listening", 2)
        mapping.write_text(original.replace("transport: dll", "transport: fax"), encoding="utf-8")
        server.send_signal(signal.SIGHUP)
        refused = wait_for("mapping_refused")[0]
        assert refused["line"] == original.splitlines().index("transport: dll") + 1
        assert wait_for("mappings_kept")[0]["dialects"] == ["neusoft-dll"]
        mapping.write_text(original, encoding="utf-8")  # fixed: picked up without a signal
        assert wait_for("mappings_reloaded")[0]["dialects"] == ["neusoft-dll"]
    finally:
        server.terminate()
        assert server.wait(timeout=10) == 0
