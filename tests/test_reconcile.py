"""3201 对总账 and 3202 对明细账 through the national interface: a hospital's day against the gateway's books."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.county_support import county_gateway
from tests.support import PERSONS, Journey, Served, ok
from tests.test_dialect_neusoft import Dll

DAY = datetime(2026, 3, 10, 10, 0, 0)


def record(settled: dict[str, Any], msgid: str, *, reversal: bool = False) -> dict[str, Any]:
    """A row of the HIS's own book, from the answer it recorded (a reversal's amounts as 2305 gave them)."""
    info = settled["setlinfo"]
    return {"setl_id": info["setl_id"], "msgid": msgid, "mdtrt_id": info["mdtrt_id"], "psn_no": info["psn_no"],
            "medfee_sumamt": info["medfee_sumamt"], "fund_pay_sumamt": info["fund_pay_sumamt"],
            "acct_pay": info["acct_pay"], "refd_setl_flag": "1" if reversal else "0"}


def header(rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"setl_optins": "", "clr_type": "21", "stmt_begndate": "2026-03-10", "stmt_enddate": "2026-03-10",
            "medfee_sumamt": sum((Decimal(abs(r["medfee_sumamt"])) * (-1 if r["refd_setl_flag"] == "1" else 1)
                                  for r in rows), Decimal(0)),
            "fund_pay_sumamt": sum((Decimal(abs(r["fund_pay_sumamt"])) * (-1 if r["refd_setl_flag"] == "1" else 1)
                                    for r in rows), Decimal(0)),
            "cash_payamt": Decimal(0), "fixmedins_setl_cnt": len(rows), **extra}


async def test_a_day_reconciles_and_each_one_sided_record_gets_its_repair(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=False) as county:
        his = county.his_client("T2")
        settled: dict[str, tuple[dict[str, Any], str]] = {}
        reversed_answer, reversal_msgid = {}, ""
        for key, amount in (("poor", "1000.00"), ("urban_dibao", "2500.00"), ("rural_dibao", "800.00")):
            stay = Journey(his, PERSONS[key])
            ok(await stay.admit())
            ok(await stay.upload(stay.line("A", amount)))
            msgid = his.new_msgid(DAY)
            settled[key] = (ok(await stay.settle(amount, msgid=msgid, inf_time=DAY)), msgid)
            if key == "urban_dibao":
                reversal_msgid = his.new_msgid(DAY)
                reversed_answer = ok(await stay.reverse(settled[key][0]["setlinfo"]["setl_id"], msgid=reversal_msgid,
                                                        inf_time=DAY))
        book = [record(answer, msgid) for answer, msgid in settled.values()]
        book.append(record(reversed_answer, reversal_msgid, reversal=True))

        # 3201: the day's totals, net of the reversal: poor 1,000 + rural 800 (+ 2,500 − 2,500), four records.
        fund = sum((Decimal(a["setlinfo"]["fund_pay_sumamt"]) for a, _ in (settled["poor"], settled["rural_dibao"])),
                   Decimal(0))
        totals = {"insutype": "390", "clr_type": "21", "setl_optins": "430521", "stmt_begndate": "2026-03-10",
                  "stmt_enddate": "2026-03-10", "medfee_sumamt": Decimal("1800.00"), "fund_pay_sumamt": fund,
                  "acct_pay": Decimal(0), "fixmedins_setl_cnt": 4}
        info = ok(await his.call("3201", {"data": totals}))["stmtinfo"]
        assert info["stmt_rslt"] == "0", info
        info = ok(await his.call("3201", {"data": {**totals, "fixmedins_setl_cnt": 3}}))["stmtinfo"]
        assert info["stmt_rslt"] == "1" and "结算笔数 医院 3 / 中心 4" in info["stmt_rslt_dscr"]
        info = ok(await his.call("3201", {"data": {**totals, "refd_setl_flag": "0", "fixmedins_setl_cnt": 3,
                                                   "medfee_sumamt": Decimal("4300.00"),
                                                   "fund_pay_sumamt": fund + Decimal(
                                                       settled["urban_dibao"][0]["setlinfo"]["fund_pay_sumamt"])}}))
        assert info["stmtinfo"]["stmt_rslt"] == "0", info  # without reversals: the three settlements
        info = ok(await his.call("3201", {"data": {**totals, "stmt_begndate": "2026-03-11",
                                                   "stmt_enddate": "2026-03-11"}}))["stmtinfo"]
        assert info["stmt_rslt"] == "1" and info["fixmedins_setl_cnt"] == 0  # another day: nothing there

        out = ok(await his.call("3202", {"data": header(book), "detail": book}))
        assert out["stmtinfo"]["stmt_rslt"] == "0" and out["stmtdetail"] == [], out

        # The HIS lost the answer of the rural stay's 2304, and holds a settlement the gateway never made.
        lost = settled["rural_dibao"]
        ghost = {"setl_id": "", "msgid": his.new_msgid(DAY), "medfee_sumamt": Decimal("99.00"),
                 "fund_pay_sumamt": Decimal("50.00"), "refd_setl_flag": "0"}
        wrong = {**book[0], "fund_pay_sumamt": Decimal(book[0]["fund_pay_sumamt"]) + Decimal("0.01")}
        partial = [wrong, book[1], book[3], ghost]
        out = ok(await his.call("3202", {"data": header(partial, file_qury_no="F1"), "detail": partial}))
        assert out["stmtinfo"]["stmt_rslt"] == "1" and out["stmtinfo"]["dif_cnt"] == 3
        found = {(d["stmt_rslt"], d["setl_id"] or d["msgid"], d["repair"]) for d in out["stmtdetail"]}
        assert found == {("amounts_differ", book[0]["setl_id"], "5999"),
                         ("hospital_only", ghost["msgid"], "resend"),
                         ("gateway_only", lost[0]["setlinfo"]["setl_id"], "2601")}
        gone = next(d for d in out["stmtdetail"] if d["stmt_rslt"] == "gateway_only")
        assert gone["msgid"] == lost[1] and gone["oinfno"] == "2304"
        # its repair works: 2601 of that msgid undoes it, and the day agrees again without it
        ok(await his.call("2601", {"data": {"omsgid": lost[1], "oinfno": "2304"}}, inf_time=DAY))
        fixed = [*book[:2], book[3]]
        out = ok(await his.call("3202", {"data": header(fixed), "detail": fixed}))
        assert out["stmtinfo"]["stmt_rslt"] == "0", out  # the settlement and its 冲正 cancel out

        # a header that disagrees with its own rows is the HIS's mistake, said as such
        answer = await his.call("3202", {"data": header(fixed, fixmedins_setl_cnt=9), "detail": fixed})
        assert answer["infcode"] == -1 and "明细合计" in answer["err_msg"], answer


async def test_the_neusoft_dll_reconciles_by_its_own_trades(served: Served) -> None:
    """9300/9310, declared in mappings/neusoft-dll.yaml alone: a settlement the HIS never recorded is named,
    with its own trade code (2410) and its repair (2601 冲正), and 9300 says the totals differ."""
    dll = Dll(served)
    person = PERSONS["rural_dibao"]
    mdtrt_id, _ = await dll.ok("2210", f"{person.psn_no}|20260301080000|ZY-R1|A03|内科|1|J18.900|肺炎|D01")
    await dll.ok("2310", f"F1|{mdtrt_id}|{person.psn_no}|A|H-A|甲类|1|800|800.00|20260302100000")
    settled = await dll.ok("2410", f"{mdtrt_id}|{person.psn_no}|800.00")
    setl_id, msgid = settled[0], f"HIS{dll.serial:08d}"
    today = served.gateway.now().strftime("%Y%m%d")
    fund = settled[12]  # fund_pay_sumamt (the answer's 13th position)
    out = await dll.ok("9300", f"390|21|430521|{today}|{today}|800.00|{fund}|0.00|1|1")
    assert out[0] == "0" and out[2:] == ["800.00", fund, "1"], out
    out = await dll.ok("9300", f"390|21|430521|{today}|{today}|0.00|0.00|0.00|0|1")
    assert out[0] == "1" and "结算笔数 医院 0 / 中心 1" in out[1], out

    rc, parts = await dll.handle("9310", f"430521|21|{today}|{today}|0.00|0.00|0.00|0")  # the HIS lost it
    assert rc == 0, parts
    header, *rows = parts[2].split("\n")
    assert header.split("|")[:2] == ["1", "1"], header
    assert rows == [f"gateway_only\t{setl_id}\t{msgid}\t2410\t2601\t0\t{person.psn_no}"]
    rc, parts = await dll.handle("9310", f"430521|21|{today}|{today}|800.00|{fund}|0.00|1\n"
                                         f"{setl_id}|{msgid}|800.00|{fund}|0|{person.psn_no}|{mdtrt_id}")
    assert rc == 0 and parts[2] == "0|0|平：双方一致", parts
