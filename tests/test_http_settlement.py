"""The vertical slice end to end: national HTTP on 127.0.0.1 → engine → SQLite, with the demo county policy.

Expected figures are worked by hand in each test from the rules in DOMAIN.md.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.support import PERSONS, Journey, Served, ok

D = Decimal


def funds(output: dict[str, Any]) -> dict[str, Decimal]:
    return {row["fund_pay_type"]: row["fund_payamt"] for row in output["setldetail"]}


def assert_identities(setlinfo: dict[str, Any]) -> None:
    assert setlinfo["inscp_scp_amt"] == (setlinfo["medfee_sumamt"] - setlinfo["fulamt_ownpay_amt"]
                                         - setlinfo["overlmt_selfpay"] - setlinfo["preselfpay_amt"])
    assert setlinfo["medfee_sumamt"] == (setlinfo["fund_pay_sumamt"] + setlinfo["psn_part_amt"]
                                         + setlinfo["hosp_part_amt"])
    assert setlinfo["psn_part_amt"] == setlinfo["acct_pay"] + setlinfo["psn_cash_pay"]


async def test_worked_example_settles_to_the_fen(served: Served) -> None:
    """DOMAIN.md's worked example: 0001, level-2 county hospital, in county."""
    his = served.his("T2")
    await his.sign_in()
    person = PERSONS["poor"]
    info = ok(await his.call("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": person.certno,
                                               "psn_cert_type": "01", "certno": person.certno}}))
    assert info["baseinfo"]["psn_no"] == person.psn_no
    assert [i["psn_idet_type"] for i in info["idetinfo"]] == ["0001"]
    stay = Journey(his, person)
    ok(await stay.admit())
    # Two daily batches, as a HIS uploads them.
    ok(await stay.upload(stay.line("A", "10000.00", cnt="100"), stay.line("B10", "4000.00")))
    lines = ok(await stay.upload(stay.line("A", "4500.00"), stay.line("C", "1500.00", cnt="3")))["result"]
    assert [(r["chrgitm_lv"], r["fulamt_ownpay_amt"], r["inscp_scp_amt"]) for r in lines] == [
        ("01", D("0.00"), D("4500.00")), ("03", D("1500.00"), D("0.00"))]

    trial = ok(await stay.trial("20000.00"))
    settled = ok(await stay.settle("20000.00"))
    setlinfo = settled["setlinfo"]
    assert setlinfo["setl_id"]
    expected = {
        "medfee_sumamt": "20000.00", "fulamt_ownpay_amt": "1500.00", "preselfpay_amt": "400.00",
        "inscp_scp_amt": "18100.00", "act_pay_dedc": "250.00", "hifp_pay": "15172.50", "hifmi_pay": "0.00",
        "maf_pay": "1171.00", "hosp_part_amt": "0.00", "psn_part_amt": "2000.00", "psn_cash_pay": "2000.00",
        "fund_pay_sumamt": "18000.00", "overlmt_selfpay": "0.00", "acct_pay": "0.00",
        # 特惠保 1463.75 + 兜底 192.75 have no field of their own in setlinfo: they are oth_pay.
        "oth_pay": "1656.50",
    }
    assert {k: setlinfo[k] for k in expected} == {k: D(v) for k, v in expected.items()}
    assert funds(settled) == {"390100": D("15172.50"), "620100": D("1463.75"), "610100": D("1171.00"),
                              "640100": D("192.75")}
    assert all(row["setl_proc_info"] and row["fund_pay_type_name"] for row in settled["setldetail"])
    assert_identities(setlinfo)
    # a trial differs only by its setl_id and medins_setl_id (each call's msgid when the HIS sends none)
    assert {k: v for k, v in trial["setlinfo"].items() if k not in ("setl_id", "medins_setl_id")} == {
        k: v for k, v in setlinfo.items() if k not in ("setl_id", "medins_setl_id")}

    ok(await stay.discharge())
    again = ok(await his.call("5203", {"data": {"setl_id": setlinfo["setl_id"], "psn_no": person.psn_no}}))
    assert again["setlinfo"]["hifp_pay"] == D("15172.50") and funds(again) == funds(settled)
    cum = ok(await his.call("5206", {"data": {"psn_no": person.psn_no, "cum_ym": "202603"}}))["cuminfo"]
    by_key = {row["cum_type_code"]: row["cum"] for row in cum}
    assert by_key["390100"] == D("15172.50")
    assert by_key["390200:base"] == D("2927.50")  # the year's compliant self-pay, critical illness's base
    assert by_key["620100"] == D("1463.75")


async def settle_one(served: Served, person_key: str, hospital: str, lines: list[tuple[str, str]],
                     **times: str) -> dict[str, Any]:
    stay = Journey(served.his(hospital), PERSONS[person_key])
    ok(await stay.admit())
    ok(await stay.upload(*(stay.line(code, amount) for code, amount in lines)))
    total = sum(D(amount) for _code, amount in lines)
    output = ok(await stay.settle(total))
    assert_identities(output["setlinfo"])
    return output


async def test_ordinary_resident_level3_reaches_critical_illness(served: Served) -> None:
    # total 40000; 乙 10000×20% → 先行自付 2000; in-policy 38000; deductible 1000; basic 37000×60% = 22200;
    # compliant 15800 − 15000 = 800 × 60% = 480 critical illness; personal 17320.
    out = await settle_one(served, "ordinary", "T3", [("A", "30000.00"), ("B20", "10000.00")])
    assert funds(out) == {"390100": D("22200.00"), "390200": D("480.00")}
    assert out["setlinfo"]["psn_part_amt"] == D("17320.00")
    assert out["setlinfo"]["pool_prop_selfpay"] == D("14800.00")


async def test_out_of_county_stay_pays_referral_share_and_no_hospital_reduction(served: Served) -> None:
    # 0001 at a level-3 hospital outside the county: referral 10% of 10000 = 1000; base 9000; deductible 500;
    # basic 8500×70% = 5950; compliant 4050 (< 7500); 特惠保 2025; assistance 80% of 2025 = 1620;
    # personal so far 405 ≤ 10% of total → no backstop; no hospital reduction out of county.
    out = await settle_one(served, "poor", "TX", [("A", "10000.00")])
    assert funds(out) == {"390100": D("5950.00"), "620100": D("2025.00"), "610100": D("1620.00")}
    assert out["setlinfo"]["psn_part_amt"] == D("405.00")


async def test_tekun_gets_full_assistance_at_a_township_hospital(served: Served) -> None:
    # 0004 at level 1: deductible 100, ratio 95%: basic 4900×95% = 4655; compliant 345, assistance pays all of it.
    out = await settle_one(served, "tekun", "T1", [("A", "5000.00")])
    assert funds(out) == {"390100": D("4655.00"), "610100": D("345.00")}
    assert out["setlinfo"]["psn_part_amt"] == D("0.00")


async def test_hospital_reduction_takes_catalogue_excess_over_ten_percent(served: Served) -> None:
    # 0001 level 2 in county: 甲 8000, 丙 2000 → total 10000, 全自费 2000, hospital takes 2000 − 1000 = 1000.
    # basic (8000−250)×85% = 6587.50; compliant 1412.50; 特惠保 706.25; assistance 80% of 706.25 = 565.00;
    # personal so far 10000−6587.50−706.25−565−1000 = 1141.25 → backstop 141.25; personal 1000.00.
    out = await settle_one(served, "poor2", "T2", [("A", "8000.00"), ("C", "2000.00")])
    assert funds(out) == {"390100": D("6587.50"), "620100": D("706.25"), "610100": D("565.00"),
                          "630100": D("1000.00"), "640100": D("141.25")}
    assert out["setlinfo"]["hosp_part_amt"] == D("1000.00")
    assert out["setlinfo"]["psn_part_amt"] == D("1000.00")


async def test_basic_annual_cap_and_critical_illness_across_stays(served: Served) -> None:
    # Stay 1 (level 1): basic (150000−200)×85% = 127330; compliant 22670 → critical (22670−15000)×60% = 4602.
    first = await settle_one(served, "ordinary2", "T1", [("A", "150000.00")])
    assert funds(first) == {"390100": D("127330.00"), "390200": D("4602.00")}
    # Stay 2: basic due 25330 but only 150000−127330 = 22670 left of the cap; compliant 7330, cumulative 30000,
    # critical due (30000−15000)×60% = 9000 − 4602 already paid = 4398; personal 30000−22670−4398 = 2932.
    second = await settle_one(served, "ordinary2", "T1", [("A", "30000.00")])
    assert funds(second) == {"390100": D("22670.00"), "390200": D("4398.00")}
    assert second["setlinfo"]["psn_part_amt"] == D("2932.00")


async def test_critical_illness_segments_and_basic_cap_in_one_stay(served: Served) -> None:
    # Level 3, 300000 甲: basic 299000×60% = 179400 capped at 150000; compliant 150000; excess over 15000 =
    # 135000: 50000×60% + 50000×70% + 35000×80% = 30000 + 35000 + 28000 = 93000.
    out = await settle_one(served, "ordinary", "T3", [("A", "300000.00")])
    assert funds(out) == {"390100": D("150000.00"), "390200": D("93000.00")}
    assert out["setlinfo"]["psn_part_amt"] == D("57000.00")
