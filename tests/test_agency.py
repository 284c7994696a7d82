"""The agency window (Hunan 三(二)3): out-of-county stays settled by a county operator, over the county API.

Every expected figure is worked out here by hand from DOMAIN.md's reference policy (the demo county's), with the
arithmetic written beside it, never by the engine.

The rules these cases rest on:
- in-policy = total − 全自费 (丙) − 先行自付 (乙 × selfpay_prop, or what the hospital's settlement split off);
- basic already settled there (mode basic_settled): basic is what that hospital paid, taken as it is; the compliant
  self-pay the later funds work on is in-policy − that basic (the 10% 转外自付 sits inside it);
- fully self-paid (mode self_paid): the whole chain with the out-of-county rules: 转外自付 = round(10% × in-policy),
  basic base = in-policy − 转外自付, then deductible and ratio by level (poor: halved, +10 points);
- critical illness on the year's cumulative compliant self-pay above 7,500 (poor), segments at 65/75/85%;
- 特惠保 (0001) 50% of what is left, assistance 80% (0004: 100%) of what is left then;
- hospital reduction is the in-county rule only: never out of county;
- backstop (0001) = max(0, personal so far − round(10% × total)).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.county.agency import AgencyEntry, EntryLine, fee_lines, settle_entry, totals_of
from gateway.engine.policy import default_policy_path, load_policy
from gateway.engine.types import StayFacts
from gateway.errors import InvalidValue
from gateway.journal.model import JournalQuery
from gateway.money import fen
from gateway.service.verify import verify_accumulators
from tests.county_support import County, county_gateway

D = Decimal


def paid(body: dict[str, Any]) -> dict[str, Decimal]:
    return {row["fund_pay_type"]: D(str(row["fund_payamt"])) for row in body["setldetail"]}


def money(body: dict[str, Any], key: str) -> Decimal:
    return D(str(body["setlinfo"][key]))


async def post(county: County, path: str, name: str, request_id: str, payload: Any = None) -> tuple[int, Any]:
    return await county.call("POST", path, name, json=payload, headers={"X-Request-Id": request_id})


# TP0001 (0001 建档立卡), level-3 hospital TX of another area: basic already settled there at 9,800.00.
STAY_A = {
    "mode": "basic_settled", "psn_no": "TP0001", "fixmedins_code": "TX", "begndate": "2026-03-02",
    "enddate": "2026-03-12", "invoice_no": "TX-JS-0001", "medfee_sumamt": "20000.00", "hifp_pay": "9800.00",
    "act_pay_dedc": "500.00",
    "lines": [
        {"med_chrgitm_type": "09", "chrgitm_lv": "01", "det_item_fee_sumamt": "8000.00"},
        {"med_chrgitm_type": "03", "chrgitm_lv": "01", "det_item_fee_sumamt": "4000.00"},
        {"med_chrgitm_type": "09", "chrgitm_lv": "02", "det_item_fee_sumamt": "5000.00", "preselfpay_amt": "500.00"},
        {"med_chrgitm_type": "08", "chrgitm_lv": "03", "det_item_fee_sumamt": "3000.00"},
    ],
}
# total 20,000.00; 全自费 3,000.00; 先行自付 500.00 (as TX split it); in-policy 16,500.00
# basic 9,800.00 (TX's); compliant 16,500 − 9,800 = 6,700.00: below 7,500 → critical 0 (year base 6,700.00)
# 特惠保 50% × 6,700 = 3,350.00; left 3,350.00; assistance 80% × 3,350 = 2,680.00
# hospital reduction: in county only → none; personal so far 20,000 − 9,800 − 3,350 − 2,680 = 4,170.00
# backstop 4,170 − round(10% × 20,000) = 4,170 − 2,000 = 2,170.00; personal 2,000.00
EXPECTED_A = {"390100": D("9800.00"), "620100": D("3350.00"), "610100": D("2680.00"), "640100": D("2170.00")}

# The same person again in the year, basic settled at 5,000.00: 甲 10,000.00, 丙 1,000.00.
STAY_A2 = {
    "mode": "basic_settled", "psn_no": "TP0001", "fixmedins_code": "TX", "begndate": "2026-06-01",
    "enddate": "2026-06-05", "hifp_pay": "5000.00",
    "lines": [{"med_chrgitm_type": "05", "chrgitm_lv": "01", "det_item_fee_sumamt": "10000.00"},
              {"med_chrgitm_type": "08", "chrgitm_lv": "03", "det_item_fee_sumamt": "1000.00"}],
}
# in-policy 10,000.00; compliant 10,000 − 5,000 = 5,000.00; year base 6,700 + 5,000 = 11,700.00
# critical (11,700 − 7,500) × 65% = 2,730.00, paid before 0 → 2,730.00; left 5,000 − 2,730 = 2,270.00
# 特惠保 50% × 2,270 = 1,135.00; assistance 80% × 1,135 = 908.00
# personal so far 11,000 − 5,000 − 2,730 − 1,135 − 908 = 1,227.00; backstop 1,227 − 1,100 = 127.00; personal 1,100.00
EXPECTED_A2 = {"390100": D("5000.00"), "390200": D("2730.00"), "620100": D("1135.00"), "610100": D("908.00"),
               "640100": D("127.00")}

# TP0002 (0002 城镇低保), fully self-paid at a level-3 hospital not in the registry; the invoice's fee list.
STAY_B = {
    "mode": "self_paid", "psn_no": "TP0002", "fixmedins_code": "G440106001", "fixmedins_name": "某省外三甲医院",
    "hosp_lv": 3, "admdvs": "440106", "begndate": "2026-04-01", "enddate": "2026-04-20", "invoice_no": "FP0099",
    "lines": [
        {"med_chrgitm_type": "06", "chrgitm_lv": "01", "det_item_fee_sumamt": "30000.00", "med_list_name": "手术"},
        {"med_list_codg": "B20", "det_item_fee_sumamt": "20000.00", "cnt": "100", "pric": "200"},
        {"med_chrgitm_type": "09", "chrgitm_lv": "02", "selfpay_prop": "0.15", "det_item_fee_sumamt": "1234.56"},
        {"med_list_codg": "C", "det_item_fee_sumamt": "8765.44"},
    ],
}
# total 60,000.00; 全自费 8,765.44; 先行自付 round(20,000 × 20%) + round(1,234.56 × 15% = 185.184) = 4,000 + 185.18
# = 4,185.18; in-policy 60,000 − 8,765.44 − 4,185.18 = 47,049.38
# 转外自付 round(10% × 47,049.38 = 4,704.938) = 4,704.94; basic base 47,049.38 − 4,704.94 = 42,344.44
# basic level 3 poor: (42,344.44 − 500) × 70% = 29,291.108 → 29,291.11
# compliant 47,049.38 − 29,291.11 = 17,758.27; critical (17,758.27 − 7,500) × 65% = 6,667.8755 → 6,667.88
# left 17,758.27 − 6,667.88 = 11,090.39; no 特惠保 (not 0001); assistance 80% × 11,090.39 = 8,872.312 → 8,872.31
# no hospital reduction (out of county), no backstop (not 0001); personal 60,000 − 29,291.11 − 6,667.88 − 8,872.31
# = 15,168.70
EXPECTED_B = {"390100": D("29291.11"), "390200": D("6667.88"), "610100": D("8872.31")}


async def test_the_two_window_cases_settle_to_the_fen(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=True) as county:
        status, a = await post(county, "/county/v1/agency/settlements", "jingban1", "win-a", STAY_A)
        assert status == 200, a
        assert paid(a) == EXPECTED_A
        assert money(a, "psn_part_amt") == D("2000.00") and money(a, "hosp_part_amt") == 0
        assert money(a, "inscp_scp_amt") == D("16500.00") and money(a, "act_pay_dedc") == D("500.00")
        assert money(a, "referral_selfpay_amt") == D("1650.00")  # 10% × 16,500, inside TX's basic: shown only
        assert money(a, "medfee_sumamt") == money(a, "fund_pay_sumamt") + money(a, "psn_part_amt")

        status, a2 = await post(county, "/county/v1/agency/settlements", "jingban2", "win-a2", STAY_A2)
        assert status == 200, a2
        assert paid(a2) == EXPECTED_A2 and money(a2, "psn_part_amt") == D("1100.00")

        status, b = await post(county, "/county/v1/agency/settlements", "jingban1", "win-b", STAY_B)
        assert status == 200, b
        assert paid(b) == EXPECTED_B
        assert money(b, "referral_selfpay_amt") == D("4704.94") and money(b, "act_pay_dedc") == D("500.00")
        assert money(b, "preselfpay_amt") == D("4185.18") and money(b, "psn_part_amt") == D("15168.70")

        store = county.gateway.deps.store
        ytd = await county.gateway.run(lambda: store.year_to_date("TP0001", 2026))
        assert ytd["390200:base"] == D("11700.00")  # 6,700 + 5,000
        assert ytd["390100"] == D("14800.00") and ytd["620100"] == D("4485.00")

        # Reversal: every accumulator loses exactly what stay A added; A2 is not recomputed.
        status, r = await post(county, f"/county/v1/agency/settlements/{a['setl_id']}/reverse", "shenhe1", "rev-a")
        assert status == 200, r
        assert r["status"] == "reversal" and money(r, "medfee_sumamt") == D("-20000.00")
        ytd = await county.gateway.run(lambda: store.year_to_date("TP0001", 2026))
        assert ytd["390200:base"] == D("5000.00") and ytd["390200"] == D("2730.00")
        assert ytd["390100"] == D("5000.00") and ytd["640100"] == D("127.00") and ytd["610100"] == D("908.00")
        status, again = await post(county, f"/county/v1/agency/settlements/{a['setl_id']}/reverse", "shenhe1",
                                   "rev-a-2")
        assert status == 409, again
        count, differences = await county.gateway.run(lambda: verify_accumulators(store))
        assert count == 2 and differences == []  # hisgw verify: the ledger and the accumulators agree


async def test_retries_duplicates_and_refusals(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=True) as county:
        first = await county.session.post(f"{county.url}/county/v1/agency/settlements", json=STAY_A,
                                          headers={**county.headers("jingban1"), "X-Request-Id": "same-1"})
        body = await first.read()
        retry = await county.session.post(f"{county.url}/county/v1/agency/settlements", json=STAY_A,
                                          headers={**county.headers("jingban1"), "X-Request-Id": "same-1"})
        assert first.status == retry.status == 200
        assert await retry.read() == body and retry.headers["X-Replayed"] == "1"  # the first answer, byte for byte
        store = county.gateway.deps.store
        counts = await county.gateway.run(store.counts)
        assert counts["settlements"] == 1

        status, other = await post(county, "/county/v1/agency/settlements", "jingban1", "same-1",
                                   {**STAY_A, "hifp_pay": "9000.00"})
        assert status == 409 and other["code"] == "HG3013"
        status, twice = await post(county, "/county/v1/agency/settlements", "jingban1", "other-id", STAY_A)
        assert status == 409 and twice["code"] == "HG3004", twice  # the same stay under a new id: not paid twice
        status, none = await county.call("POST", "/county/v1/agency/settlements", "jingban1", json=STAY_A2)
        assert status == 400 and "X-Request-Id" in none["message"]
        status, _ = await post(county, "/county/v1/agency/settlements", "duzhe1", "r-1", STAY_A2)
        assert status == 403
        status, _ = await post(county, "/county/v1/agency/settlements", "shenhe1", "r-2", STAY_A2)
        assert status == 403  # a reviewer reverses, never settles

        for n, (change, field, code) in enumerate((
                ({"fixmedins_code": "T2"}, "", "HG3000"),  # in county: the hospital's own window
                ({"hifp_pay": "10000.01", "lines": STAY_A2["lines"]}, "hifp_pay", "HG1003"),  # > in-policy
                ({"mode": "self_paid"}, "hifp_pay", "HG1003"),
                ({"medfee_sumamt": "11000.01"}, "medfee_sumamt", "HG3005"),
                ({"enddate": "2026-05-01"}, "enddate", "HG1003"),
                ({"lines": [{"med_chrgitm_type": "09", "chrgitm_lv": "02", "det_item_fee_sumamt": "10"}]},
                 "lines[0].selfpay_prop", "HG1002"),
                ({"lines": [{"med_list_codg": "B10", "chrgitm_lv": "01", "det_item_fee_sumamt": "10"}]},
                 "lines[0].chrgitm_lv", "HG1003"),
                ({"lines": [{"med_chrgitm_type": "09", "chrgitm_lv": "01", "det_item_fee_sumamt": "10", "cnt": "2",
                             "pric": "6"}]}, "lines[0].det_item_fee_sumamt", "HG1003"),  # 2 × 6 ≠ 10
                ({"fixmedins_code": "NEW1"}, "fixmedins_code", "HG1003"),
                ({"psn_no": "TP0012"}, "psn_no", "HG3001"))):
            entry = {**STAY_A2, "medfee_sumamt": None, **change}
            status, wrong = await post(county, "/county/v1/agency/settlements", "jingban1", f"bad-{n}",
                                       {k: v for k, v in entry.items() if v is not None})
            assert status in (400, 404, 409) and wrong["code"] == code, (change, wrong)
            assert field in wrong["message"], (change, wrong)

        status, audit = await county.call("GET", "/county/v1/audit?action=agency.", "duzhe1")
        entries = audit["entries"]
        assert [(e["action"], e["request_id"]) for e in entries if "refused" not in e["after"]] == [
            ("agency.settle", "same-1")]
        assert {e["operator"] for e in entries if "refused" in e["after"]} == {"duzhe1", "shenhe1"}
        rows = await county.gateway.run(lambda: store.journal_search(JournalQuery(hospital="county", limit=100)))
        outcomes = sorted(r.outcome for r in rows if r.msgid == "same-1")
        assert outcomes == ["error", "ok", "replayed"]  # the attempt with another body was journalled too


async def test_a_window_settlement_is_in_the_reports_and_has_a_sheet(tmp_path: Path) -> None:
    async with county_gateway(tmp_path, signed=True) as county:
        status, b = await post(county, "/county/v1/agency/settlements", "jingban1", "win-b", STAY_B)
        assert status == 200, b
        month = b["setlinfo"]["setl_time"][:7]
        status, table = await county.call("GET", f"/county/v1/reports/annex5?month={month}&unit=yuan", "duzhe1")
        assert status == 200
        out, inside = table["total"]["out_of_county"], table["total"]["in_county"]
        assert inside["persons"] == 0 and out["persons"] == 1 and out["medfee"] == "60000.00"
        assert out["reimbursed"] == "44831.30"  # 29,291.11 + 6,667.88 + 8,872.31
        assert {f["key"]: (f["times"], f["amount"]) for f in out["funds"] if f["times"]} == {
            "basic": (1, "29291.11"), "critical": (1, "6667.88"), "assistance": (1, "8872.31")}
        status, sheet = await county.call("GET", f"/sheet/v1/{b['setl_id']}.json", "duzhe1")
        assert status == 200, sheet
        assert "某省外三甲医院" in str(sheet) and "29291.11" in str(sheet)
        rows = await county.gateway.run(lambda: list(county.gateway.deps.store.ledger(
            datetime(2000, 1, 1), datetime(2100, 1, 1))))
        assert [(r.agency, r.in_county, r.sign) for r in rows] == [("self_paid", False, 1)]


async def test_the_cli_twin_settles_retries_and_reverses(tmp_path: Path) -> None:
    import json

    from tests.test_county_cli import hisgw

    async with county_gateway(tmp_path, signed=True) as county:
        entry = tmp_path / "stay-b.json"
        entry.write_text(json.dumps(STAY_B, ensure_ascii=False), encoding="utf-8")
        code, out, err = await hisgw(county, "jingban1", "agency", "settle", str(entry), "--request-id", "cli-b")
        assert code == 0, err
        assert "390100 城乡居民基本医疗保险基金: 29291.11" in out and "个人自付 15168.70" in out, out
        setl_id = out.split()[1]
        code, again, err = await hisgw(county, "jingban1", "agency", "settle", str(entry), "--request-id", "cli-b")
        assert code == 0 and again == out  # the retry is the first answer
        code, out, err = await hisgw(county, "jingban1", "agency", "settle", str(entry))
        assert code == 1 and "HG3004" in err
        code, out, err = await hisgw(county, "shenhe1", "agency", "reverse", setl_id)
        assert code == 0 and out.startswith("reversal ") and "-29291.11" in out, (out, err)
        code, out, err = await hisgw(county, "duzhe1", "agency", "show", setl_id)
        assert code == 0 and out.startswith(f"reversed {setl_id}"), out


async def test_a_what_if_keeps_the_basic_paid_elsewhere(tmp_path: Path) -> None:
    draft = default_policy_path().read_text(encoding="utf-8")
    draft = draft.replace("ratio = { 1 = 0.95, 2 = 0.85, 3 = 0.70 }", "ratio = { 1 = 0.95, 2 = 0.85, 3 = 0.80 }")
    draft = draft.replace('when = { attributes_any = ["0001"] }\nratio = 0.50', 'when = { attributes_any = ["0001"] }\n'
                          'ratio = 0.60')
    async with county_gateway(tmp_path, signed=True) as county:
        status, a = await post(county, "/county/v1/agency/settlements", "jingban1", "win-a", STAY_A)
        assert status == 200
        status, _ = await county.call("POST", "/county/v1/policies", "jingban1", data=draft.encode("utf-8"))
        assert status == 201
        day = a["setlinfo"]["setl_time"][:10]
        status, body = await county.call("POST", "/county/v1/policies/1/whatif", "duzhe1",
                                         json={"since": day, "until": day})
        assert status == 200, body
        change = {f["fund_pay_type"]: D(str(f["difference"])) for f in body["funds"]}
        # basic stays 9,800.00 (paid at TX, whatever the draft's level-3 ratio); 特惠保 60% × 6,700 = 4,020 (+670);
        # assistance 80% × (6,700 − 4,020) = 2,144 (−536); backstop (20,000 − 9,800 − 4,020 − 2,144) − 2,000 = 2,036
        # (−134)
        assert change.get("390100", D(0)) == 0
        assert (change["620100"], change["610100"], change["640100"]) == (D("670.00"), D("-536.00"), D("-134.00"))


# ---- properties of the window's chain, over drawn entries (pure: the engine and the demo policy) -------------

POLICY = load_policy(default_policy_path())
CENTS = st.integers(min_value=0, max_value=5_000_000).map(lambda n: Decimal(n) / 100)


@settings(max_examples=150, deadline=None)
@given(a=CENTS, b=CENTS, c=CENTS, prop=st.sampled_from(["0.05", "0.10", "0.20"]), level=st.sampled_from([1, 2, 3]),
       share=st.integers(min_value=0, max_value=100), attrs=st.sampled_from(["0001", "0002", "0004", "0001,0004", ""]),
       base_before=CENTS, mode=st.sampled_from(["basic_settled", "self_paid"]))
def test_every_window_settlement_adds_up_on_the_right_base(a: Decimal, b: Decimal, c: Decimal, prop: str, level: int,
                                                          share: int, attrs: str, base_before: Decimal,
                                                          mode: str) -> None:
    lines = (EntryLine("09", "01", a), EntryLine("09", "02", b, selfpay_prop=Decimal(prop)), EntryLine("08", "03", c))
    entry = AgencyEntry(mode=mode, psn_no="P", fixmedins_code="X", fixmedins_name="x", hosp_lv=level, admdvs="",
                        begndate=date(2026, 1, 1), enddate=date(2026, 1, 5), lines=lines)
    totals = totals_of(fee_lines(entry, {}))
    if totals.medfee_sumamt <= 0:
        return
    basic = fen(totals.inscp_scp_amt * share / 100)  # what the other hospital paid: any share of the in-policy
    if mode == "basic_settled":
        entry = AgencyEntry(**{**{f: getattr(entry, f) for f in entry.__dataclass_fields__}, "hifp_pay": basic})
    facts = StayFacts(insutype="390", hosp_lv=level, in_county=False,
                      attributes=frozenset(x for x in attrs.split(",") if x), totals=totals, on=date(2026, 1, 5))
    result = settle_entry(POLICY, facts, {"390200:base": base_before}, entry)
    paid = {p.fund_pay_type: p.fund_payamt for p in result.payments}
    assert all(amount >= 0 for amount in paid.values()) and result.psn_part_amt >= 0
    assert result.fund_pay_sumamt + result.hosp_part_amt + result.psn_part_amt == totals.medfee_sumamt
    assert "630100" not in paid  # hospital reduction is the in-county rule only
    if mode == "basic_settled":
        assert paid["390100"] == basic
    else:  # 转外自付 10% off the basic base, then the level's deductible and ratio (poor: halved, +10 points)
        poor = bool(attrs)
        base = totals.inscp_scp_amt - fen(totals.inscp_scp_amt * Decimal("0.10"))
        line = {1: Decimal(200), 2: Decimal(500), 3: Decimal(1000)}[level] / (2 if poor else 1)
        ratio = {1: Decimal("0.85"), 2: Decimal("0.75"), 3: Decimal("0.60")}[level] + (Decimal("0.10") if poor else 0)
        assert paid["390100"] == (fen((base - line) * ratio) if base > line else 0)
    # critical illness works on the year's base plus this stay's compliant self-pay: in-policy − basic
    assert result.deltas["390200:base"] == totals.inscp_scp_amt - paid["390100"]
    if "0001" in attrs:  # the backstop leaves the registered poor at most 10% of the total
        assert result.psn_part_amt <= fen(totals.medfee_sumamt * Decimal("0.10"))


def test_basic_paid_elsewhere_above_the_in_policy_amount_is_refused() -> None:
    entry = AgencyEntry(mode="basic_settled", psn_no="P", fixmedins_code="X", fixmedins_name="x", hosp_lv=2,
                        admdvs="", begndate=date(2026, 1, 1), enddate=date(2026, 1, 2),
                        lines=(EntryLine("09", "01", Decimal("100.00")),), hifp_pay=Decimal("100.01"))
    totals = totals_of(fee_lines(entry, {}))
    facts = StayFacts("390", 2, False, frozenset({"0001"}), totals, date(2026, 1, 2))
    try:
        settle_entry(POLICY, facts, {}, entry)
    except InvalidValue as exc:
        assert exc.field == "hifp_pay"
    else:
        raise AssertionError("accepted")
