"""Stay lifecycle over HTTP: reversal, re-settlement, discharge order, year boundary, retries by msgid."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.support import PERSONS, Journey, Served, failed, ok

D = Decimal


async def accumulators(served: Served, psn_key: str, year: str) -> dict[str, Decimal]:
    answer = ok(await served.his().call("5206", {"data": {"psn_no": PERSONS[psn_key].psn_no, "cum_ym": year}}))
    assert answer["cuminfo"] == ok(await served.his().call(
        "5206", {"data": {"psn_no": PERSONS[psn_key].psn_no, "cum_ym": f"{year[:4]}-01"}}))["cuminfo"]
    return {row["cum_type_code"]: row["cum"] for row in answer["cuminfo"] if row["cum"]}


def figures(output: dict[str, Any]) -> dict[str, Any]:
    info = {k: v for k, v in output["setlinfo"].items() if k not in ("setl_id", "setl_time", "medins_setl_id")}
    return {"setlinfo": info, "setldetail": output["setldetail"]}


async def test_reversal_restores_accumulators_and_resettles_identically(served: Served) -> None:
    first = Journey(served.his(), PERSONS["poor3"])
    ok(await first.admit())
    ok(await first.upload(first.line("A", "30000.00")))
    settled = ok(await first.settle("30000.00"))
    after_first = await accumulators(served, "poor3", "2026")

    second = Journey(served.his(), PERSONS["poor3"])
    ok(await second.admit(begntime="2026-04-01 08:00:00"))
    ok(await second.upload(second.line("A", "20000.00")))
    second_settled = ok(await second.settle("20000.00"))
    assert await accumulators(served, "poor3", "2026") != after_first

    reversal = ok(await second.reverse(second_settled["setlinfo"]["setl_id"]))
    assert reversal["setlinfo"]["init_setl_id"] == second_settled["setlinfo"]["setl_id"]
    assert reversal["setlinfo"]["medfee_sumamt"] == D("-20000.00")
    assert await accumulators(served, "poor3", "2026") == after_first  # as if it never happened

    again = ok(await second.settle("20000.00"))
    assert again["setlinfo"]["setl_id"] != second_settled["setlinfo"]["setl_id"]
    assert figures(again) == figures(second_settled)
    # Reversing the same settlement twice is refused; the stay's first settlement is unchanged.
    failed(await second.reverse(second_settled["setlinfo"]["setl_id"]), "HG2005")
    # A HIS that only kept the setl_id can reverse with it alone (the settlement names its stay).
    by_id = ok(await second.his.call("2305", {"data": {"setl_id": again["setlinfo"]["setl_id"]}}))
    assert by_id["setlinfo"]["init_setl_id"] == again["setlinfo"]["setl_id"]
    ok(await second.settle("20000.00"))
    query = ok(await served.his().call("5203", {"data": {"setl_id": settled["setlinfo"]["setl_id"]}}))
    assert figures(query) == figures(settled)


async def test_discharge_before_or_after_settlement(served: Served) -> None:
    before = Journey(served.his(), PERSONS["ordinary"])
    ok(await before.admit())
    ok(await before.upload(before.line("A", "1000.00")))
    ok(await before.discharge())
    ok(await before.upload(before.line("A", "500.00")))  # 出院后补录, before settlement
    ok(await before.settle("1500.00"))
    failed(await before.discharge(), "HG3002")

    after = Journey(served.his(), PERSONS["ordinary2"])
    ok(await after.admit())
    ok(await after.upload(after.line("A", "1000.00")))
    setl_id = ok(await after.settle("1000.00"))["setlinfo"]["setl_id"]
    ok(await after.discharge())
    ok(await after.simple("2405"))  # cancel the discharge, then reverse and revoke everything
    ok(await after.reverse(setl_id))
    ok(await after.his.call("2302", {"data": [{"feedetl_sn": "0000", "mdtrt_id": after.mdtrt_id,
                                               "psn_no": after.person.psn_no}]}))
    failed(await after.trial(), "HG3003")
    ok(await after.simple("2404"))
    failed(await after.upload(after.line("A", "1.00")), "HG3002")


async def test_admission_change_and_partial_revoke(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["disabled"])
    ok(await stay.admit(ipt_no="ZY001"))
    failed(await Journey(served.his(), PERSONS["disabled"]).admit(ipt_no="ZY001"), "HG3011")
    ok(await stay.his.call("2403", {"adminfo": {"mdtrt_id": stay.mdtrt_id, "psn_no": stay.person.psn_no,
                                                "adm_bed": "12", "begntime": "2026-03-01 07:30:00"}}))
    ok(await stay.upload(stay.line("A", "100.00", sn="K1"), stay.line("C", "40.00", sn="K2")))
    ok(await stay.his.call("2302", {"data": [{"feedetl_sn": "K2", "mdtrt_id": stay.mdtrt_id}]}))
    failed(await stay.his.call("2302", {"data": [{"feedetl_sn": "K2", "mdtrt_id": stay.mdtrt_id}]}), "HG2006")
    assert ok(await stay.trial())["setlinfo"]["medfee_sumamt"] == D("100.00")


async def test_year_of_discharge_decides_the_accumulator_year(served: Served) -> None:
    # Settled on 2025-12-30 before any discharge: counts in 2025, even though discharged in 2026.
    december = Journey(served.his(), PERSONS["urban_dibao"])
    ok(await december.admit(begntime="2025-12-20 08:00:00"))
    ok(await december.upload(december.line("A", "10000.00")))
    ok(await december.settle("10000.00", inf_time=datetime(2025, 12, 30, 16, 0)))
    ok(await december.discharge(endtime="2026-01-02 09:00:00"))
    # Discharged on 2026-01-03 and settled after: counts in 2026 with a fresh year, whatever the clock says.
    january = Journey(served.his(), PERSONS["urban_dibao"])
    ok(await january.admit(begntime="2025-12-28 08:00:00"))
    ok(await january.upload(january.line("A", "10000.00")))
    ok(await january.discharge(endtime="2026-01-03 09:00:00"))
    out = ok(await january.settle("10000.00", inf_time=datetime(2025, 12, 31, 23, 0)))
    # Level 2, poor: (10000−250)×85% = 8287.50 both times: the 2026 stay saw none of 2025's accumulators.
    assert out["setlinfo"]["hifp_pay"] == D("8287.50")
    assert (await accumulators(served, "urban_dibao", "2025"))["390100"] == D("8287.50")
    assert (await accumulators(served, "urban_dibao", "2026"))["390100"] == D("8287.50")


async def test_retry_with_the_same_msgid_returns_the_first_answer(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["backstop"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "2000.00")))
    document = stay.his.envelope("2304", stay.settle_input("2000.00"))
    body = json.dumps(document, default=str).encode()
    first = await served.session.post(f"{served.url}/fsi/api/rsfComIfsService/callService", data=body)
    second = await served.session.post(f"{served.url}/fsi/api/rsfComIfsService/callService", data=body)
    assert await first.read() == await second.read()  # byte for byte
    assert len(await accumulators(served, "backstop", "2026")) >= 1
    basic = (await accumulators(served, "backstop", "2026"))["390100"]
    assert basic == D("1487.50")  # (2000−250)×85%, once
    # The same msgid for a different request is refused.
    document["input"]["data"]["medfee_sumamt"] = "1.00"
    _status, answer = await stay.his.post_raw(json.dumps(document, default=str).encode())
    failed(answer, "HG3013")
