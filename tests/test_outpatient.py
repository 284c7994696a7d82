"""Outpatient visits (2201–2208), Guangxi's 门诊特殊慢性病 for the registered poor (先享受待遇、后备案, the 20%
personal cap in county), over real HTTP through the national interface.

The worked example (the demo policy's illustrative outpatient figures, gateway/data/demo/policy.toml):
0001 person, level-2 county hospital T2, recognised for I10 高血压病 on 2026-04-01; a 14 门诊慢特病 visit on
2026-04-10 with 甲 300.00, 乙 200.00 at selfpay_prop 0.20, 丙 100.00:
  total 600.00; 全自费 100.00; 先行自付 200 × 0.20 = 40.00; in-policy 600 − 100 − 40 = 460.00
  basic (chronic, level 2: no deductible, 65%): 460.00 × 0.65 = 299.00
  personal so far 600.00 − 299.00 = 301.00; cap 20% × 600.00 = 120.00 → backstop 301.00 − 120.00 = 181.00
  personal 120.00 (= 20% of the total); funds 299.00 + 181.00 = 480.00
The same visit once the agency has cancelled the recognition is an ordinary visit (普通门诊, 50%):
  basic 460.00 × 0.50 = 230.00; no backstop for an ordinary visit; personal 600.00 − 230.00 = 370.00
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from tests import support
from tests.support import PERSONS, Served, failed, ok

D = Decimal
VISIT_DAY = datetime(2026, 4, 10, 9, 30)


def funds(output: dict[str, Any]) -> dict[str, Decimal]:
    return {row["fund_pay_type"]: row["fund_payamt"] for row in output["setldetail"]}


class Visit:
    """One outpatient visit through the national 22xx trades, as a HIS sends them."""

    def __init__(self, served: Served, person: support.TestPerson, hospital: str = "T2") -> None:
        self.his = served.his(hospital)
        self.person = person
        self.mdtrt_id = ""
        self._sn = 0

    async def call(self, infno: str, payload: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("inf_time", VISIT_DAY)
        return await self.his.call(infno, payload, **kwargs)

    async def register(self, otp_no: str = "") -> dict[str, Any]:
        answer = await self.call("2201", {"mdtrtinfo": {
            "psn_no": self.person.psn_no, "insutype": "390", "mdtrt_cert_type": "02",
            "mdtrt_cert_no": self.person.certno, "begntime": "2026-04-10 09:00:00", "ipt_otp_no": otp_no,
            "dept_code": "A03", "dept_name": "内科", "atddr_no": "D001", "dr_name": "医生", "caty": "A03"}})
        if answer["infcode"] == 0:
            self.mdtrt_id = answer["output"]["data"]["mdtrt_id"]
        return answer

    async def info(self, med_type: str = "14", dise_codg: str = "I10.x00") -> dict[str, Any]:
        return await self.call("2203", {
            "mdtrtinfo": {"mdtrt_id": self.mdtrt_id, "psn_no": self.person.psn_no, "med_type": med_type,
                          "begntime": "2026-04-10 09:00:00", "dise_codg": dise_codg, "dise_name": "高血压"},
            "diseinfo": [{"diag_type": "1", "diag_srt_no": "1", "diag_code": dise_codg, "diag_name": "高血压",
                          "diag_dept": "内科", "dise_dor_no": "D001", "dise_dor_name": "医生",
                          "diag_time": "2026-04-10 09:10:00", "vali_flag": "1"}]})

    def line(self, code: str, amount: str, batch: str) -> dict[str, Any]:
        self._sn += 1
        return {"feedetl_sn": f"{batch}-{self._sn}", "mdtrt_id": self.mdtrt_id, "psn_no": self.person.psn_no,
                "chrg_bchno": batch, "dise_codg": "I10", "rxno": "", "rx_circ_flag": "0",
                "fee_ocur_time": "2026-04-10 09:20:00", "med_list_codg": code, "medins_list_codg": f"H-{code}",
                "det_item_fee_sumamt": D(amount), "cnt": D(1), "pric": D(amount), "bilg_dept_codg": "A03",
                "bilg_dept_name": "内科", "bilg_dr_codg": "D001", "bilg_dr_name": "医生"}

    async def upload(self, batch: str, *lines: tuple[str, str]) -> dict[str, Any]:
        return await self.call("2204", {"feedetail": [self.line(code, amount, batch) for code, amount in lines]})

    def settle_data(self, medfee: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {"psn_no": self.person.psn_no, "mdtrt_cert_type": "02",
                                "mdtrt_cert_no": self.person.certno, "med_type": "14", "psn_setlway": "01",
                                "mdtrt_id": self.mdtrt_id, "chrg_bchno": "B1", "insutype": "390",
                                "acct_used_flag": "0"}
        if medfee is not None:
            data["medfee_sumamt"] = D(medfee)
        return {"data": data}

    async def trial(self, medfee: str | None = None) -> dict[str, Any]:
        return await self.call("2206", self.settle_data(medfee))

    async def settle(self, medfee: str, **kwargs: Any) -> dict[str, Any]:
        return await self.call("2207", self.settle_data(medfee), **kwargs)

    async def reverse(self, setl_id: str, **kwargs: Any) -> dict[str, Any]:
        return await self.call("2208", {"data": {"setl_id": setl_id, "mdtrt_id": self.mdtrt_id,
                                                 "psn_no": self.person.psn_no}}, **kwargs)


async def recognise(served: Served, person: support.TestPerson, *, hospital: str = "T2", code: str = "I10",
                    titles: tuple[str, str] = ("233", "232"), doctors: tuple[str, str] = ("D101", "D102"),
                    on: str = "2026-04-01") -> dict[str, Any]:
    data = {"psn_no": person.psn_no, "insutype": "390", "opsp_dise_code": code, "opsp_dise_name": "高血压病",
            "tel": "", "addr": "", "insu_optins": "430521", "ide_fixmedins_no": hospital, "ide_fixmedins_name": "",
            "hosp_ide_date": on, "diag_dr_codg": doctors[0], "diag_dr_name": "甲医师", "diag_dr_prfs": titles[0],
            "diag_dr2_codg": doctors[1], "diag_dr2_name": "乙医师", "diag_dr2_prfs": titles[1],
            "begndate": on, "enddate": ""}
    return await served.his(hospital).call("2503", {"data": data}, inf_time=datetime(2026, 4, 1, 15, 0))


async def county(served: Served, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with served.session.request(method, f"{served.url}{path}", **kwargs) as response:
        return response.status, await response.json()


async def worked_visit(served: Served, person: support.TestPerson) -> Visit:
    visit = Visit(served, person)
    ok(await visit.register())
    ok(await visit.info())
    ok(await visit.upload("B1", ("A", "300.00"), ("B20", "200.00"), ("C", "100.00")))
    return visit


async def test_the_worked_example_of_a_chronic_visit_settles_to_the_fen(served: Served) -> None:
    person = PERSONS["poor"]
    recognised = ok(await recognise(served, person))["result"]["trt_dcla_detl_sn"]
    assert recognised.startswith("MB")
    visit = await worked_visit(served, person)
    trial = ok(await visit.trial("600.00"))
    settled = ok(await visit.settle("600.00"))
    setlinfo = settled["setlinfo"]
    expected = {"medfee_sumamt": "600.00", "fulamt_ownpay_amt": "100.00", "preselfpay_amt": "40.00",
                "inscp_scp_amt": "460.00", "act_pay_dedc": "0.00", "hifp_pay": "299.00", "oth_pay": "181.00",
                "fund_pay_sumamt": "480.00", "hosp_part_amt": "0.00", "psn_part_amt": "120.00",
                "psn_cash_pay": "120.00"}
    assert {k: setlinfo[k] for k in expected} == {k: D(v) for k, v in expected.items()}
    assert setlinfo["med_type"] == "14" and setlinfo["setl_id"]
    assert funds(settled) == {"390100": D("299.00"), "640100": D("181.00")}
    assert setlinfo["psn_part_amt"] == (D("0.20") * setlinfo["medfee_sumamt"]).quantize(D("0.01"))
    assert "门诊特殊慢性病" in settled["setldetail"][0]["setl_proc_info"]
    assert {k: trial["setlinfo"][k] for k in expected} == {k: setlinfo[k] for k in expected}
    assert trial["setlinfo"]["setl_id"] is None
    # the visit is settled: a second 2207 is refused, and its reversal names 2208
    message = failed(await visit.settle("600.00"), "HG3004")
    assert "2208" in message


async def test_an_ordinary_visit_and_an_unrecognised_chronic_visit_get_no_backstop(served: Served) -> None:
    """No recognition: the 14 visit settles as 普通门诊 — basic 460.00 × 50% = 230.00, personal 370.00."""
    visit = await worked_visit(served, PERSONS["poor2"])
    settled = ok(await visit.settle("600.00"))
    assert funds(settled) == {"390100": D("230.00")}
    assert settled["setlinfo"]["psn_part_amt"] == D("370.00")
    # out of the 0001 group, a recognised chronic visit gets the chronic basic ratio but no backstop:
    # 460.00 × 65% = 299.00, personal 600.00 − 299.00 = 301.00
    ordinary = PERSONS["ordinary"]
    ok(await recognise(served, ordinary, code="E11", titles=("主治医师", "231")))
    other = Visit(served, ordinary)
    ok(await other.register())
    ok(await other.info(dise_codg="E11.900"))
    ok(await other.upload("B1", ("A", "300.00"), ("B20", "200.00"), ("C", "100.00")))
    paid = ok(await other.settle("600.00"))
    assert funds(paid) == {"390100": D("299.00")} and paid["setlinfo"]["psn_part_amt"] == D("301.00")


async def test_the_agency_cancels_a_recognition_and_later_visits_lose_the_benefit(served: Served) -> None:
    person = PERSONS["poor3"]
    recog_id = ok(await recognise(served, person))["result"]["trt_dcla_detl_sn"]
    first = await worked_visit(served, person)
    assert funds(ok(await first.settle("600.00")))["640100"] == D("181.00")

    status, filed = await county(served, "GET", "/county/v1/chronic/filings?month=2026-04&fixmedins_code=T2")
    assert status == 200
    [hospital] = filed["hospitals"]
    assert hospital["fixmedins_code"] == "T2" and hospital["count"] == 1
    [row] = hospital["items"]
    assert (row["recog_id"], row["psn_no"], row["dise_codg"], row["recog_date"], row["status"]) == (
        recog_id, person.psn_no, "I10", "2026-04-01", "active")
    assert [d["dr_codg"] for d in row["doctors"]] == ["D101", "D102"]
    status, other_month = await county(served, "GET", "/county/v1/chronic/filings?month=2026-05")
    assert status == 200 and other_month["hospitals"] == []

    status, refused = await county(served, "POST", f"/county/v1/chronic/recognitions/{recog_id}/cancel", json={})
    assert status == 400 and refused["code"] == "HG1003"  # a reason is required
    status, cancelled = await county(served, "POST", f"/county/v1/chronic/recognitions/{recog_id}/cancel",
                                     json={"reason": "复核不符合认定条件"})
    assert status == 200 and cancelled["recognition"]["status"] == "cancelled"
    assert cancelled["recognition"]["cancel_reason"] == "复核不符合认定条件"
    status, missing = await county(served, "POST", "/county/v1/chronic/recognitions/MB0/cancel", json={"reason": "x"})
    assert status == 404 and missing["code"] == "HG2052"

    second = await worked_visit(served, person)
    settled = ok(await second.settle("600.00"))
    assert funds(settled) == {"390100": D("230.00")} and settled["setlinfo"]["psn_part_amt"] == D("370.00")
    # the settlement made before the cancellation stands as it was
    status, listed = await county(served, "GET", "/county/v1/chronic/filings?month=2026-04")
    assert listed["hospitals"][0]["items"][0]["status"] == "cancelled"


async def test_a_recognition_is_refused_unless_hospital_doctors_and_disease_qualify(served: Served) -> None:
    person = PERSONS["rural_dibao"]
    failed(await recognise(served, person, hospital="T1"), "HG3052")  # level-1 hospital
    failed(await recognise(served, person, titles=("233", "234")), "HG3053")  # 234 医师: below attending
    failed(await recognise(served, person, doctors=("D101", "D101")), "HG3053")  # one doctor twice
    failed(await recognise(served, person, code="K29"), "HG2051")  # not on the county's list of 29
    failed(await recognise(served, person, on="2026-04-02"), "HG1003")  # after the day it is sent
    ok(await recognise(served, person, code="E11.900"))  # a subcode of a listed disease: filed under E11
    failed(await recognise(served, person, code="E11"), "HG3054")  # already recognised


async def test_reversal_correction_and_idempotency_of_outpatient_settlements(served: Served) -> None:
    person = PERSONS["poor"]
    ok(await recognise(served, person))
    visit = await worked_visit(served, person)
    msgid = visit.his.new_msgid(VISIT_DAY)
    settled = ok(await visit.settle("600.00", msgid=msgid))
    again = ok(await visit.settle("600.00", msgid=msgid))  # the same msgid: the same answer, one settlement
    assert again == settled
    setl_id = settled["setlinfo"]["setl_id"]

    async def basic_this_year() -> Decimal:
        cum = ok(await visit.call("5206", {"data": {"psn_no": person.psn_no, "cum_ym": "2026"}}))["cuminfo"]
        return next((row["cum"] for row in cum if row["cum_type_code"] == "390100"), D(0))

    assert await basic_this_year() == D("299.00")
    reversal_msgid = visit.his.new_msgid(VISIT_DAY)
    reversed_ = ok(await visit.reverse(setl_id, msgid=reversal_msgid))["setlinfo"]
    assert reversed_["init_setl_id"] == setl_id and reversed_["psn_part_amt"] == D("-120.00")
    assert reversed_["hifp_pay"] == D("-299.00")
    assert await basic_this_year() == D("0.00")
    # 2601 of the 2208: the settlement stands again, its accumulators back
    ok(await visit.call("2601", {"data": {"omsgid": reversal_msgid, "oinfno": "2208", "psn_no": person.psn_no}}))
    assert await basic_this_year() == D("299.00")
    # 2601 of the 2207: reversed as 2208 would
    undone = ok(await visit.call("2601", {"data": {"omsgid": msgid, "oinfno": "2207", "psn_no": person.psn_no}}))
    assert undone["result"]["mdtrt_id"] == visit.mdtrt_id
    assert await basic_this_year() == D("0.00")
    # after the reversal the visit settles again
    assert ok(await visit.settle("600.00"))["setlinfo"]["psn_part_amt"] == D("120.00")


async def test_charge_batches_and_the_visit_lifecycle(served: Served) -> None:
    person = PERSONS["disabled"]
    visit = Visit(served, person)
    ok(await visit.register("MZ001"))
    failed(await Visit(served, person).register("MZ001"), "HG3011")  # 门诊号 with an open visit
    ok(await visit.upload("B1", ("A", "100.00")))
    ok(await visit.upload("B2", ("A", "50.00"), ("C", "20.00")))
    assert ok(await visit.trial())["setlinfo"]["medfee_sumamt"] == D("170.00")
    ok(await visit.call("2205", {"data": {"mdtrt_id": visit.mdtrt_id, "chrg_bchno": "B2",
                                          "psn_no": person.psn_no}}))
    # B2 gone: 100.00 left; 普通门诊 50% → basic 50.00
    trial = ok(await visit.trial("100.00"))
    assert trial["setlinfo"]["medfee_sumamt"] == D("100.00") and funds(trial) == {"390100": D("50.00")}
    failed(await visit.call("2205", {"data": {"mdtrt_id": visit.mdtrt_id, "chrg_bchno": "B9"}}), "HG2006")
    failed(await visit.call("2202", {"data": {"mdtrt_id": visit.mdtrt_id, "psn_no": person.psn_no}}), "HG3002")
    # inpatient trades on an outpatient visit, and the other way round, are refused
    failed(await visit.call("2301", {"feedetail": [visit.line("A", "1.00", "B3")]}), "HG3051")
    failed(await visit.call("2303", {"data": {"mdtrt_id": visit.mdtrt_id, "psn_no": person.psn_no}}), "HG3051")
    failed(await visit.call("2402", {"dscginfo": {"mdtrt_id": visit.mdtrt_id, "endtime": "2026-04-10 12:00:00"}}),
           "HG3051")
    stay = Visit(served, person)
    admitted = ok(await stay.call("2401", {"mdtrtinfo": {"psn_no": person.psn_no, "begntime": "2026-04-10 08:00:00",
                                                         "med_type": "21"}}))
    stay.mdtrt_id = admitted["result"]["mdtrt_id"]
    failed(await stay.upload("B1", ("A", "1.00")), "HG3051")
    failed(await stay.trial(), "HG3051")
    # revoke everything, then the registration can be cancelled
    ok(await visit.call("2205", {"data": {"mdtrt_id": visit.mdtrt_id, "chrg_bchno": "0000"}}))
    ok(await visit.call("2202", {"data": {"mdtrt_id": visit.mdtrt_id, "psn_no": person.psn_no}}))
    failed(await visit.upload("B4", ("A", "1.00")), "HG3002")
