"""Issue 17: two gateways of two counties, each a real `hisgw serve` with its own SQLite file and settings, on
127.0.0.1. A stay settled in county A, a 2501 referral there, the signed accumulator record carried to county B
(by file with `hisgw referral export/import`, and over HTTP), the second stay settled in B on the cumulative
base; a tampered record refused; a reversal on either side reflected in that side's next record.

Policy (DOMAIN.md, the demo county, both gateways): person "ordinary" (no poor attribute).
Basic per stay: base = in-policy − 转外自付 (10% out of county); deductible by level 1/2/3 = 200/500/1000;
ratio 85/75/60%; annual cap 150,000 minus basic already paid this year (both counties).
Critical illness: base = the year's cumulative 合规自付 (in-policy − basic) of both stays; annual deductible
15,000 once; excess 0–50,000 at 60%, 50,000–100,000 at 70%, above at 80%; annual cap 300,000; this stay pays
round(due on the cumulative base) − critical illness already paid this year (both counties).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.referral import wire
from gateway.referral.partners import Partner
from simulators.nhsa_client import NhsaClient
from tests import support
from tests.processes import free_port, serve_command
from tests.support import PERSONS, Journey, failed, load_reference_data, ok

ROOT = Path(__file__).resolve().parent.parent
A_ID, B_ID = "430521", "430100"
KEY = base64.b64encode(bytes(range(32))).decode("ascii")  # the key the two counties share
PERSON = PERSONS["ordinary"]


def fen(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def critical_due(cumulative: Decimal) -> Decimal:
    """The segments of DOMAIN.md rule 3 for a person who is not poor, on the year's cumulative base."""
    excess = max(Decimal(0), cumulative - Decimal("15000"))
    due = Decimal(0)
    floor = Decimal(0)
    for upto, ratio in ((Decimal("50000"), Decimal("0.60")), (Decimal("100000"), Decimal("0.70")),
                        (None, Decimal("0.80"))):
        top = excess if upto is None else min(excess, upto)
        if top <= floor:
            break
        due += (top - floor) * ratio
        floor = top
    return min(fen(due), Decimal("300000"))


@dataclass
class County:
    gateway_id: str
    folder: Path
    config: Path
    url: str
    process: subprocess.Popen[bytes]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway.cli", "--config", str(self.config), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)


def _write_county(folder: Path, self_id: str, partner_id: str, partner_port: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "partners.toml").write_text(
        f'self = "{self_id}"\n[partners.{partner_id}]\nurl = "http://127.0.0.1:{partner_port}"\nkey = "{KEY}"\n',
        encoding="utf-8")
    config = folder / "hisgw.toml"
    config.write_text('[store]\npath = "hisgw.sqlite"\n[referral]\npartners = "partners.toml"\n'
                      '[backup]\nschedule = false\n[log]\nformat = "console"\n', encoding="utf-8")
    return config


def _start(folder: Path, config: Path, port: int) -> subprocess.Popen[bytes]:
    command = serve_command(folder / "hisgw.sqlite", port, init=True, config=config)
    with (folder / "serve.log").open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    raise AssertionError((folder / "serve.log").read_text(encoding="utf-8", errors="replace"))


@contextmanager
def two_counties(tmp_path: Path) -> Iterator[tuple[County, County]]:
    port_a, port_b = free_port(), free_port()
    config_a = _write_county(tmp_path / "a", A_ID, B_ID, port_b)
    config_b = _write_county(tmp_path / "b", B_ID, A_ID, port_a)
    process_a = _start(tmp_path / "a", config_a, port_a)
    try:
        process_b = _start(tmp_path / "b", config_b, port_b)
        try:
            yield (County(A_ID, tmp_path / "a", config_a, f"http://127.0.0.1:{port_a}", process_a),
                   County(B_ID, tmp_path / "b", config_b, f"http://127.0.0.1:{port_b}", process_b))
        finally:
            process_b.terminate()
            process_b.wait(timeout=20)
    finally:
        process_a.terminate()
        process_a.wait(timeout=20)


@pytest.fixture
async def counties(tmp_path: Path) -> AsyncIterator[tuple[County, County, aiohttp.ClientSession]]:
    with two_counties(tmp_path) as (a, b):
        # A fresh connection per call: the CLI steps between calls outlast the listener's keep-alive idle limit.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            await load_reference_data(session, a.url)
            await load_reference_data(session, b.url)  # the same person, known to B by the ID number
            yield a, b, session


async def admitted(session: aiohttp.ClientSession, url: str, hospital: str, amount: str, begin: str, end: str,
                   person: support.TestPerson = PERSON) -> Journey:
    journey = Journey(NhsaClient(session, url, hospital), person)
    ok(await journey.admit(f"{begin} 08:00:00"))
    ok(await journey.upload(journey.line("A", amount)))  # 甲类: all of it in policy
    ok(await journey.discharge(f"{end} 09:00:00"))
    return journey


async def stay(session: aiohttp.ClientSession, url: str, hospital: str, amount: str, begin: str, end: str,
               person: support.TestPerson = PERSON) -> tuple[Journey, dict[str, Any]]:
    journey = await admitted(session, url, hospital, amount, begin, end, person)
    return journey, ok(await journey.settle(amount))


def funds(output: dict[str, Any]) -> dict[str, Decimal]:
    return {row["fund_pay_type"]: Decimal(str(row["fund_payamt"])) for row in output["setldetail"]}


async def refer(session: aiohttp.ClientSession, url: str, hospital: str, to: str,
                person: support.TestPerson = PERSON) -> str:
    answer = ok(await NhsaClient(session, url, hospital).call("2501", {"refmedin": {
        "psn_no": person.psn_no, "insutype": "390", "begndate": "2026-04-01", "enddate": "2026-12-31",
        "dise_codg": "C34.900", "dise_name": "肺恶性肿瘤", "reflin_medins_name": "对方县人民医院",
        "mdtrtarea_admdvs": to, "refl_rea": "病情需要", "hosp_agre_refl_flag": "1"}}))
    sn: str = answer["result"]["trt_dcla_detl_sn"]
    assert answer["result"]["vali_flag"] == "1"
    return sn


def as_partner(caller: str, method: str, target: str, body: bytes = b"") -> dict[str, str]:
    """The headers of a request signed by partner gateway `caller` with the shared key, as wire.fetch/push do."""
    return wire.signed_headers(Partner(caller, "", base64.b64decode(KEY)), caller, method, target, body,
                               time.time())


async def pushed(session: aiohttp.ClientSession, url: str, data: bytes, by: str) -> tuple[int, dict[str, Any]]:
    """POST a record to /referral/v1/records, signed by partner `by`: (status, answer)."""
    target = wire.PATH.rstrip("/")
    async with session.post(url + target, data=data, headers=as_partner(by, "POST", target, data)) as response:
        return response.status, await response.json()


def export(county: County, sn: str, to: str, out: Path) -> dict[str, Any]:
    done = county.cli("referral", "export", sn, "--to", to, "--out", str(out))
    assert done.returncode == 0, done.stderr
    record: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return record


async def test_second_stay_in_another_county_settles_on_the_cumulative_base(
        counties: tuple[County, County, aiohttp.ClientSession], tmp_path: Path) -> None:
    a, b, session = counties

    # Stay 1 in county A, T2 (level 2, in county): 甲 60,000.00, all in policy.
    in1 = Decimal("60000.00")
    basic1 = fen((in1 - Decimal("500")) * Decimal("0.75"))  # (60,000 − 500) × 75% = 44,625.00
    compliant1 = in1 - basic1  # 15,375.00
    critical1 = critical_due(compliant1)  # (15,375 − 15,000) × 60% = 225.00
    _j1, first = await stay(session, a.url, "T2", "60000.00", "2026-03-01", "2026-03-10")
    assert funds(first) == {"390100": basic1, "390200": critical1}
    assert (basic1, critical1) == (Decimal("44625.00"), Decimal("225.00"))

    sn = await refer(session, a.url, "T2", B_ID)

    # The record, by file: A exports it for B, B imports it.
    record = export(a, sn, B_ID, tmp_path / "record.json")
    assert (record["issuer"], record["audience"], record["trt_dcla_detl_sn"]) == (A_ID, B_ID, sn)
    assert (Decimal(record["cum_cmpl_fee"]), Decimal(record["cum_basic_pay"]), Decimal(record["cum_crit_pay"]),
            Decimal(record["cum_crit_base"]), record["setl_cnt"]) == (in1, basic1, critical1, compliant1, 1)

    # A tampered record (the carried base lowered) is refused with HG3050, and nothing is kept.
    tampered = dict(record, cum_crit_base="1.00")
    (tmp_path / "tampered.json").write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    refused = b.cli("referral", "import", str(tmp_path / "tampered.json"))
    assert refused.returncode == 1 and "[HG3050]" in refused.stderr, refused
    assert b.cli("referral", "list").stdout == ""
    status, answer = await pushed(session, b.url, json.dumps(tampered).encode(), A_ID)
    assert (status, answer["code"]) == (400, "HG3050"), answer

    imported = b.cli("referral", "import", str(tmp_path / "record.json"))
    assert imported.returncode == 0 and imported.stdout.startswith("imported"), imported

    # Stay 2 in county B at TX (level 3, out of county for the person): 甲 40,000.00.
    in2 = Decimal("40000.00")
    referral2 = fen(in2 * Decimal("0.10"))  # 转外自付 4,000.00
    base2 = in2 - referral2  # 36,000.00
    basic2 = min(fen((base2 - Decimal("1000")) * Decimal("0.60")), Decimal("150000") - basic1)  # 21,000.00
    compliant2 = in2 - basic2  # 19,000.00
    cumulative = compliant1 + compliant2  # 34,375.00: both stays, as if in one county
    critical2 = max(Decimal(0), critical_due(cumulative) - critical1)  # (34,375 − 15,000) × 60% − 225 = 11,400
    alone = critical_due(compliant2)  # what B alone would have paid: (19,000 − 15,000) × 60% = 2,400.00
    assert (basic2, critical2, alone) == (Decimal("21000.00"), Decimal("11400.00"), Decimal("2400.00"))
    j2, second = await stay(session, b.url, "TX", "40000.00", "2026-04-05", "2026-04-20")
    assert funds(second) == {"390100": basic2, "390200": critical2}
    setl = second["setlinfo"]
    assert Decimal(str(setl["psn_part_amt"])) == in2 - basic2 - critical2  # 7,600.00
    assert Decimal(str(setl["fund_pay_sumamt"])) + Decimal(str(setl["psn_part_amt"])) == in2

    # The NCMS sheet at B: 起付线 1,000 (level 3), 封顶线 150,000, and the year's line with A's stay carried in.
    sheet = ok(await j2.his.call("5998", {"data": {"setl_id": setl["setl_id"], "sheet_type": "ncms",
                                                   "file_type": "html"}}))
    html = base64.b64decode(sheet["html"]).decode("utf-8")
    for label, figure in (("基本农合起付线", "1,000.00"), ("基本农合封顶线", "150,000.00"),
                          ("转入累计合规费用", "60,000.00"), ("转入基本农合累计补偿", "44,625.00"),
                          ("转入大病累计补偿", "225.00"), ("大病累计可补费用", "34,375.00"),
                          ("基本农合累计补偿", "65,625.00")):  # 44,625 carried in + 21,000 here
        assert label in html and figure in html.split(label, 1)[1][:200], label

    # Over HTTP: B fetches A's record (signed request); an unchanged record is stale, not counted twice.
    fetched = b.cli("referral", "fetch", A_ID, sn)
    assert fetched.returncode == 0 and fetched.stdout.startswith("replaced"), fetched

    # Reversal in A: A's next record no longer carries stay 1; pushed to B over HTTP it replaces the one held.
    j1 = _j1
    ok(await j1.reverse(first["setlinfo"]["setl_id"]))
    after = export(a, sn, B_ID, tmp_path / "after.json")
    assert (Decimal(after["cum_cmpl_fee"]), Decimal(after["cum_basic_pay"]), Decimal(after["cum_crit_pay"]),
            Decimal(after["cum_crit_base"]), after["setl_cnt"]) == (0, 0, 0, 0, 0)
    status, answer = await pushed(session, b.url, (tmp_path / "after.json").read_bytes(), A_ID)
    assert (status, answer["outcome"]) == (200, "replaced"), answer
    listed = b.cli("referral", "list").stdout
    assert "合规0.00" in listed and "大病基数0.00" in listed, listed
    trail = b.cli("audit", "--url", b.url, "--action", "referral.import")  # every record taken in is in B's audit trail
    # file, fetch, push taken in; the tampered one refused by file and by push
    assert trail.returncode == 0 and trail.stdout.count("referral.import") == 5, trail
    assert trail.stdout.count("refused") == 2, trail
    assert f"partner:{A_ID}" in trail.stdout, trail

    # Reversal in B: B refers the person back to A; B's record carries stay 2, and after 2305 it does not.
    back = await refer(session, b.url, "TX", A_ID)
    held = export(b, back, A_ID, tmp_path / "back.json")
    assert (Decimal(held["cum_cmpl_fee"]), Decimal(held["cum_basic_pay"]), Decimal(held["cum_crit_pay"]),
            Decimal(held["cum_crit_base"])) == (in2, basic2, critical2, compliant2)  # B's own only, never A's
    ok(await j2.reverse(setl["setl_id"]))
    back_after = export(b, back, A_ID, tmp_path / "back-after.json")
    assert (Decimal(back_after["cum_cmpl_fee"]), Decimal(back_after["cum_crit_pay"]), back_after["setl_cnt"]) == (
        0, 0, 0)
    assert a.cli("referral", "import", str(tmp_path / "back-after.json")).returncode == 0

    # 2502 cancels the referral at A; its next record says so and B drops what it held.
    ok(await NhsaClient(session, a.url, "T2").call("2502", {"data": {"trt_dcla_detl_sn": sn,
                                                                     "psn_no": PERSON.psn_no}}))
    cancelled = export(a, sn, B_ID, tmp_path / "cancelled.json")
    assert cancelled["refl_stas"] == "0"
    dropped = b.cli("referral", "import", str(tmp_path / "cancelled.json"))
    assert dropped.stdout.startswith("dropped"), dropped
    assert b.cli("referral", "list").stdout == ""
    unknown = await NhsaClient(session, a.url, "T3").call("2502", {"data": {"trt_dcla_detl_sn": sn}})
    failed(unknown, "HG2050")  # another hospital's referral is unknown to it


async def test_basic_cap_counts_both_counties_and_the_record_travels_over_http(
        counties: tuple[County, County, aiohttp.ClientSession]) -> None:
    a, b, session = counties
    person = PERSONS["ordinary2"]

    # Stay 1 in A at T3 (level 3, in county): 甲 250,000.00.
    basic1 = fen((Decimal("250000") - Decimal("1000")) * Decimal("0.60"))  # 149,400.00: 600.00 of the cap left
    compliant1 = Decimal("250000") - basic1  # 100,600.00
    critical1 = critical_due(compliant1)  # 50,000 × 60% + 35,600 × 70% = 54,920.00
    _j1, first = await stay(session, a.url, "T3", "250000.00", "2026-02-01", "2026-02-20", person)
    assert funds(first) == {"390100": basic1, "390200": critical1} and critical1 == Decimal("54920.00")
    sn = await refer(session, a.url, "T3", B_ID, person)

    # Stay 2 in B at TX (level 3, out of county): 甲 10,000.00. Before B holds A's record, B alone would pay
    # basic (10,000 − 1,000 转外自付 − 1,000) × 60% = 4,800.00 and no critical illness (5,200 < 15,000).
    j2 = await admitted(session, b.url, "TX", "10000.00", "2026-03-01", "2026-03-09", person)
    alone = ok(await j2.trial("10000.00"))
    assert funds(alone) == {"390100": Decimal("4800.00")}  # a fund paying 0 is not listed

    # The record over HTTP: an unsigned request is refused; B's signed fetch imports it.
    async with session.get(f"{a.url}/referral/v1/records/{sn}") as response:
        assert response.status == 401 and (await response.json())["code"] == "HG4002"
    fetched = b.cli("referral", "fetch", A_ID, sn)
    assert fetched.returncode == 0 and fetched.stdout.startswith("imported"), fetched

    due2 = fen((Decimal("9000") - Decimal("1000")) * Decimal("0.60"))  # 4,800.00 before the cap
    basic2 = min(due2, Decimal("150000") - basic1)  # the annual cap across both counties: 600.00
    compliant2 = Decimal("10000") - basic2  # 9,400.00
    # cumulative 110,000: excess 95,000 → 50,000 × 60% + 45,000 × 70% = 61,500.00, less A's 54,920.00
    critical2 = min(critical_due(compliant1 + compliant2) - critical1, compliant2)
    assert (basic2, critical2) == (Decimal("600.00"), Decimal("6580.00"))
    settled = ok(await j2.settle("10000.00"))
    assert funds(settled) == {"390100": basic2, "390200": critical2}
    assert Decimal(str(settled["setlinfo"]["psn_part_amt"])) == Decimal("10000") - basic2 - critical2  # 2,820.00
