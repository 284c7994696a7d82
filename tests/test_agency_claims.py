"""Money after the agency window (Hunan 三(二)3 and 三(二)4), end to end over HTTP on a real SQLite file.

The county agency pays a poor person treated outside the county at its own window, so its settlements form
claims of their own: claimant AGENCY, only the funds paid here (basic already settled by the out-of-county
hospital never went through 专户), reviewed by 审核, confirmed by a different 复核, settled and paid by 财务 out
of 专户. A reversal after claiming comes back in the next AGENCY claim as a negative line.

Every expected figure is worked out here from the demo county's policy (DOMAIN.md's rules, restated in
tests/test_agency.py's header), with the arithmetic written out as code, never read off the engine:
- in-policy = total − 全自费 (丙) − 先行自付;
- basic_settled: basic is what the other hospital paid; compliant self-pay = in-policy − that basic;
- self_paid: 转外自付 = round(10% × in-policy), basic = (in-policy − 转外自付 − 500) × 70% (level 3, poor);
- critical = (year's compliant − 7,500) × 65% (first segment), less what it paid before in the year;
- 特惠保 (0001 only) 50% of what is left; assistance 80% of what is left then;
- backstop (0001 only) = max(0, personal so far − round(10% × total)); no hospital reduction out of county.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.refdata.idcard import mask_certno, mask_name
from gateway.refdata.parse import RefdataRejected, parse_hospitals
from tests.county_support import County, county_gateway
from tests.support import PERSONS
from tests.test_agency import STAY_A, STAY_B
from tests.test_county_cli import hisgw

D = Decimal
BASIC, CRITICAL, POVERTY, ASSISTANCE, FISCAL = "390100", "390200", "620100", "610100", "640100"


def fen(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def critical_of(compliant_year: Decimal) -> Decimal:
    """The first stay of the year: nothing paid before; the first segment (to 50,000) at 65%."""
    return max(D(0), fen((compliant_year - D("7500")) * D("0.65")))


def rest_for_poor(total: Decimal, compliant: Decimal, basic: Decimal) -> dict[str, Decimal]:
    """The chain after basic for a 0001 person out of county (first stay of the year): critical, 特惠保,
    assistance, backstop."""
    critical = critical_of(compliant)
    left = compliant - critical
    poverty = fen(left * D("0.5"))
    assistance = fen((left - poverty) * D("0.8"))
    personal = total - basic - critical - poverty - assistance
    backstop = max(D(0), personal - fen(total * D("0.1")))
    paid = {CRITICAL: critical, POVERTY: poverty, ASSISTANCE: assistance, FISCAL: backstop}
    return {code: amount for code, amount in paid.items() if amount}


# STAY_A (TP0001, 0001): total 20,000.00 = 8,000 + 4,000 + 5,000 + 3,000; 丙 3,000.00; 先行自付 500.00 (as TX split
# it); basic 9,800.00 paid by TX, out of county.
A_TOTAL, A_IN_POLICY = D("20000.00"), D("20000.00") - D("3000.00") - D("500.00")  # 16,500.00
A_HERE = rest_for_poor(A_TOTAL, A_IN_POLICY - D("9800.00"), D("9800.00"))
# compliant 6,700 → critical 0; 特惠保 3,350; assistance 80% × 3,350 = 2,680; personal 20,000 − 9,800 − 3,350 −
# 2,680 = 4,170; backstop 4,170 − 2,000 = 2,170 → here 3,350 + 2,680 + 2,170 = 8,200.00
A_ALL = {BASIC: D("9800.00"), **A_HERE}

# STAY_B (TP0002, 0002, no 特惠保 nor backstop), fully self-paid: total 60,000.00; 全自费 8,765.44; 先行自付
# round(20,000 × 20%) + round(1,234.56 × 15%) = 4,000.00 + 185.18.
B_TOTAL = D("60000.00")
B_IN_POLICY = B_TOTAL - D("8765.44") - (fen(D("20000") * D("0.20")) + fen(D("1234.56") * D("0.15")))  # 47,049.38
B_BASIC = fen((B_IN_POLICY - fen(B_IN_POLICY * D("0.10")) - D("500")) * D("0.70"))  # 29,291.11
B_CRITICAL = critical_of(B_IN_POLICY - B_BASIC)  # (17,758.27 − 7,500) × 65% = 6,667.88
B_ASSISTANCE = fen((B_IN_POLICY - B_BASIC - B_CRITICAL) * D("0.8"))  # 80% × 11,090.39 = 8,872.31
B_ALL = {BASIC: B_BASIC, CRITICAL: B_CRITICAL, ASSISTANCE: B_ASSISTANCE}  # all through 专户: 44,831.30

# The correction of STAY_A: TX's papers said basic 8,800.00, mistyped 9,800.00 at first. Reversed and settled again:
# compliant 16,500 − 8,800 = 7,700 → critical (7,700 − 7,500) × 65% = 130.00; left 7,570; 特惠保 3,785.00;
# assistance 80% × 3,785 = 3,028.00; personal 20,000 − 8,800 − 130 − 3,785 − 3,028 = 4,257; backstop 2,257.00.
STAY_A_FIXED = {**STAY_A, "hifp_pay": "8800.00", "invoice_no": "TX-JS-0001-R"}
A2_HERE = rest_for_poor(A_TOTAL, A_IN_POLICY - D("8800.00"), D("8800.00"))
A2_ALL = {BASIC: D("8800.00"), **A2_HERE}
RECEIPT = D("100000.00")


def total(funds: dict[str, Decimal]) -> Decimal:
    return sum(funds.values(), D(0))


def paid(body: dict[str, Any]) -> dict[str, Decimal]:
    return {row["fund_pay_type"]: D(str(row["fund_payamt"])) for row in body["setldetail"]}


def texts(funds: dict[str, Decimal], sign: int = 1) -> dict[str, str]:
    return {code: f"{sign * amount:.2f}" for code, amount in funds.items()}


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 5, 6, 10, 0)

    def __call__(self) -> datetime:
        return self.at


async def ask(county: County, method: str, path: str, name: str, expect: int = 200, **kwargs: Any) -> Any:
    status, body = await county.call(method, path, name, **kwargs)
    assert status == expect, (path, status, body)
    return body


async def window(county: County, path: str, request_id: str, entry: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = await ask(county, "POST", path, "jingban1", json=entry,
                                     headers={"X-Request-Id": request_id})
    return body


async def review_and_pay(county: County, claim_id: int, paid_on: str, amount: Decimal) -> dict[str, Any]:
    base = f"/county/v1/claims/{claim_id}"
    await ask(county, "POST", f"{base}/first-review", "shenhe1", json={"accept_rest": True})
    # 复核 is another operator of another role: 审核 who did 初审 is refused it
    refused = await ask(county, "POST", f"{base}/second-review", "shenhe1", 403, json={})
    assert "shenhe1" in refused["message"] and "不能复审" in refused["message"]
    await ask(county, "POST", f"{base}/second-review", "fuhe1", json={"note": "复核通过"})
    await ask(county, "POST", f"{base}/refuse", "fuhe1", json={})  # nothing refused: 拒付告知 of none
    settled = await ask(county, "POST", f"{base}/settle", "caiwu1", json={})
    assert settled["totals"]["accepted"] == f"{amount:.2f}"
    done: dict[str, Any] = await ask(county, "POST", f"{base}/pay", "caiwu1", json={
        "paid_on": paid_on, "amount": f"{amount:.2f}", "reference": f"BK-AG-{claim_id}"})
    assert done["state"] == "paid"
    return done


def annex4_cells(settled: list[tuple[int, Decimal, dict[str, Decimal]]], income: Decimal) -> dict[str, Any]:
    """One 附件4 row from (sign, 医疗总费用, the funds paid through 专户) of the settlements and reversals in it."""
    groups = {"basic": BASIC, "critical": CRITICAL, "poverty": POVERTY, "assistance": ASSISTANCE, "fiscal": FISCAL}
    cells: dict[str, Any] = {
        "account_funds": income, "prior_interest": D(0), "prior_carryover": D(0), "income_total": income,
        "medfee": sum((s * m for s, m, _f in settled), D(0)), "settlements": sum(s for s, _m, _f in settled),
        "settled": sum((s * total(f) for s, _m, f in settled), D(0))}
    for key, code in groups.items():
        cells[f"{key}_times"] = sum(s for s, _m, f in settled if f.get(code, D(0)) > 0)
        cells[f"{key}_amount"] = sum((s * f.get(code, D(0)) for s, _m, f in settled), D(0))
    for key in ("civil_other", "other", "hospital"):
        cells[f"{key}_times"], cells[f"{key}_amount"] = 0, D(0)
    cells["insurer_subtotal"] = cells["critical_amount"] + cells["poverty_amount"]
    cells["civil_subtotal"] = cells["assistance_amount"] + cells["civil_other_amount"]
    cells["balance"] = cells["income_total"] - cells["settled"]
    return {k: v if isinstance(v, int) else f"{v:.2f}" for k, v in cells.items()}


async def test_agency_claims_the_account_and_annex4(tmp_path: Path) -> None:
    clock = Clock()
    async with county_gateway(tmp_path, signed=True, hospitals=("TX",), now=clock) as county:
        # May: the two window settlements
        a = await window(county, "/county/v1/agency/settlements", "win-a", STAY_A)
        assert paid(a) == A_ALL
        clock.at = datetime(2026, 5, 7, 11, 0)
        b = await window(county, "/county/v1/agency/settlements", "win-b", STAY_B)
        assert paid(b) == B_ALL

        # the listing: what went through 专户 and what was paid elsewhere, names and ID numbers masked
        listed = await ask(county, "GET", "/county/v1/agency/settlements?month=2026-05", "duzhe1")
        assert listed["total"] == 2 and [r["setl_id"] for r in listed["settlements"]] == [a["setl_id"], b["setl_id"]]
        first, second = listed["settlements"]
        assert first["paid_here"] == texts(A_HERE) and first["paid_elsewhere"] == {BASIC: "9800.00"}
        assert first["paid_here_total"] == f"{total(A_HERE):.2f}" and first["claim_id"] is None
        assert second["paid_here"] == texts(B_ALL) and second["paid_elsewhere"] == {}
        poor = PERSONS["poor"]
        assert (first["psn_name"], first["certno"]) == (mask_name("测试poor"), mask_certno(poor.certno))
        assert "测试poor" not in str(listed) and poor.certno not in str(listed)
        page = await ask(county, "GET", "/county/v1/agency/settlements?month=2026-05&limit=1&offset=1", "duzhe1")
        assert (page["total"], [r["setl_id"] for r in page["settlements"]]) == (2, [b["setl_id"]])
        await ask(county, "GET", "/county/v1/agency/settlements?month=2026-05&status=gone", "duzhe1", 400)

        # 财务 books 100,000.00 into 专户
        clock.at = datetime(2026, 5, 20, 15, 0)
        await ask(county, "POST", "/county/v1/account/receipts", "caiwu1", 201, json={
            "source": "fiscal", "amount": f"{RECEIPT:.2f}", "received_on": "2026-05-20", "reference": "BK-IN-1"})

        # June: the AGENCY claim for May — only what was paid here: 8,200.00 + 44,831.30 = 53,031.30
        clock.at = datetime(2026, 6, 3, 9, 0)
        claim1_amount = total(A_HERE) + total(B_ALL)
        assert claim1_amount == D("8200.00") + D("44831.30") == D("53031.30")  # the earlier plan, as a cross-check
        claim1 = await ask(county, "POST", "/county/v1/claims", "jingban1", 201,
                           json={"fixmedins_code": "AGENCY", "month": "2026-05"})
        assert [(ln["kind"], ln["setl_id"], ln["funds"]) for ln in claim1["lines"]] == [
            ("settlement", a["setl_id"], texts(A_HERE)), ("settlement", b["setl_id"], texts(B_ALL))]
        assert claim1["totals"]["claimed"] == f"{claim1_amount:.2f}"
        assert claim1["payees"] == [{"psn_no": "TP0001", "amount": f"{total(A_HERE):.2f}"},
                                    {"psn_no": "TP0002", "amount": f"{total(B_ALL):.2f}"}]
        # the hospital TX advanced nothing: it has nothing to claim
        await ask(county, "POST", "/county/v1/claims", "jingban1", 409,
                  json={"fixmedins_code": "TX", "month": "2026-05"})
        clock.at = datetime(2026, 6, 5, 10, 0)
        await review_and_pay(county, claim1["claim_id"], "2026-06-05", claim1_amount)
        listed = await ask(county, "GET", "/county/v1/agency/settlements?month=2026-05", "duzhe1")
        assert [r["claim_id"] for r in listed["settlements"]] == [claim1["claim_id"]] * 2

        # June 10: A is reversed (basic was mistyped) and settled again
        clock.at = datetime(2026, 6, 10, 9, 0)
        reversal = await window(county, f"/county/v1/agency/settlements/{a['setl_id']}/reverse", "win-a-rev")
        assert reversal["status"] == "reversal"
        clock.at = datetime(2026, 6, 10, 9, 30)
        a2 = await window(county, "/county/v1/agency/settlements", "win-a-fixed", STAY_A_FIXED)
        assert paid(a2) == A2_ALL
        reversed_only = await ask(county, "GET", "/county/v1/agency/settlements?since=2026-05-01&until=2026-06-30"
                                                 "&status=reversed", "duzhe1")
        assert [r["setl_id"] for r in reversed_only["settlements"]] == [a["setl_id"]]

        # July: the June claim carries the reversal as a negative line: 9,200.00 − 8,200.00 = 1,000.00
        clock.at = datetime(2026, 7, 2, 9, 0)
        claim2_amount = total(A2_HERE) - total(A_HERE)
        assert total(A2_HERE) == D("130.00") + D("3785.00") + D("3028.00") + D("2257.00") == D("9200.00")
        assert claim2_amount == D("1000.00")
        claim2 = await ask(county, "POST", "/county/v1/claims", "jingban1", 201,
                           json={"fixmedins_code": "AGENCY", "month": "2026-06"})
        assert [(ln["kind"], ln["setl_id"], ln["funds"]) for ln in claim2["lines"]] == [
            ("settlement", a2["setl_id"], texts(A2_HERE)), ("reversal", a["setl_id"], texts(A_HERE, -1))]
        assert claim2["lines"][1]["amount"] == f"{-total(A_HERE):.2f}"
        assert claim2["totals"]["claimed"] == f"{claim2_amount:.2f}"
        assert claim2["payees"] == [{"psn_no": "TP0001", "amount": f"{claim2_amount:.2f}"}]
        clock.at = datetime(2026, 7, 6, 10, 0)
        await review_and_pay(county, claim2["claim_id"], "2026-07-06", claim2_amount)

        # 专户: 100,000.00 − 53,031.30 = 46,968.70, then − 1,000.00 = 45,968.70
        account = await ask(county, "GET", "/county/v1/account?since=2026-05-01&until=2026-07-31", "caiwu1")
        after_claim1, after_claim2 = RECEIPT - claim1_amount, RECEIPT - claim1_amount - claim2_amount
        assert (after_claim1, after_claim2) == (D("46968.70"), D("45968.70"))
        assert [(e["kind"], e["source"], e["amount"], e["balance"]) for e in account["entries"]] == [
            ("receipt", "fiscal", f"{RECEIPT:.2f}", f"{RECEIPT:.2f}"),
            ("payment", "AGENCY", f"{claim1_amount:.2f}", f"{after_claim1:.2f}"),
            ("payment", "AGENCY", f"{claim2_amount:.2f}", f"{after_claim2:.2f}")]
        assert account["entries"][1]["source_name"] == "拨付 经办窗口（付患者）"
        assert account["closing_balance"] == f"{after_claim2:.2f}"

        # 附件4: only money through 专户. A's basic (9,800.00 paid by TX) is in no cell but its stay's 医疗总费用
        # (20,000.00) and its one 结算人次 are, as the one-stop settlement of the stay was made here.
        may = await ask(county, "GET", "/county/v1/reports/annex4?month=2026-05", "caiwu1")
        may_rows = [(1, A_TOTAL, A_HERE), (1, B_TOTAL, B_ALL)]
        assert may["rows"][0]["cells"] == annex4_cells(may_rows, RECEIPT)
        assert may["rows"][0]["cells"]["settled"] == "53031.30" and may["rows"][0]["cells"]["basic_amount"] == \
            f"{B_BASIC:.2f}" and may["rows"][0]["cells"]["basic_times"] == 1
        june = await ask(county, "GET", "/county/v1/reports/annex4?month=2026-06", "caiwu1")
        june_rows = [(-1, A_TOTAL, A_HERE), (1, A_TOTAL, A2_HERE)]
        assert june["rows"][0]["cells"] == annex4_cells(june_rows, D(0))
        assert june["rows"][1]["cells"] == annex4_cells(may_rows, RECEIPT)  # 上次累计: January to May
        year = annex4_cells(may_rows + june_rows, RECEIPT)
        assert june["rows"][2]["cells"] == year
        # the year's 结余 is the account's balance once both claims are paid: every payout went through 专户
        assert year["balance"] == f"{after_claim2:.2f}"
        assert date(2026, 7, 6) <= clock.at.date()

        # the same listing from the command line
        code, out, err = await hisgw(county, "duzhe1", "agency", "list", "--since", "2026-05-01",
                                     "--until", "2026-06-30")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0] == "2026-05-01 ~ 2026-06-30: 3 window settlements (showing 1–3)"
        shown = {line.split()[2]: line for line in lines[1:]}
        assert set(shown) == {a["setl_id"], b["setl_id"], a2["setl_id"]}
        assert " reversed " in shown[a["setl_id"]] and f"他处基本 9800.00  claim {claim1['claim_id']}" in \
            shown[a["setl_id"]] and f"付患者 {total(A_HERE):.2f}" in shown[a["setl_id"]]
        assert f"付患者 {total(B_ALL):.2f}" in shown[b["setl_id"]] and "他处基本" not in shown[b["setl_id"]]
        assert f"claim {claim2['claim_id']}" in shown[a2["setl_id"]] and mask_name("测试poor") in shown[a2["setl_id"]]
        assert "测试poor" not in out
        code, out, err = await hisgw(county, "duzhe1", "agency", "list", "--month", "2026-06", "--status", "valid",
                                     "--json")
        assert code == 0 and [r["setl_id"] for r in json.loads(out)["settlements"]] == [a2["setl_id"]], err


def test_no_hospital_may_be_registered_under_the_agency_claimant_code() -> None:
    """AGENCY names the agency window's claims: a hospital of that code would mix its claims with the window's."""
    with pytest.raises(RefdataRejected, match="经办窗口申报单的代码"):
        parse_hospitals([{"fixmedins_code": "agency", "fixmedins_name": "某医院", "hosp_lv": "2",
                          "admdvs": "430521"}])
