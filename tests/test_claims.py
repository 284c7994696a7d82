"""Claims (申报 → 初审 → 复审 → 拒付 → 结算 → 拨付), the special account and 附件4 over HTTP: two months of three
hospitals' traffic, four county operators, a refusal in whole and one of a fund, a correction and an explanation
claimed the next month, a reversal after claiming. Every expected figure is summed here from the answers the
hospitals received and the receipts the test made."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from gateway.auth.credentials import HospitalCredential
from gateway.auth.signature import signed_headers
from gateway.county.claim_records import ClaimEvent, ClaimLine
from gateway.county.claims import ClaimState, Step, carried, next_state
from gateway.county.errors import CountyRefusal
from simulators.nhsa_client import NhsaClient
from tests.county_support import County, county_gateway, hospital_secret
from tests.support import PERSONS, Journey, ok
from tests.test_annex4 import Told, expected_row

HOSPITALS = ("T1", "T2", "T3")
PEOPLE = ["poor", "tekun", "rural_dibao", "ordinary", "poor2", "poor3", "urban_dibao", "disabled"]
RECEIPTS = [("basic_fund", "300000.00"), ("insurer_critical", "50000.00"), ("insurer_poverty", "40000.00"),
            ("civil_assistance", "30000.00"), ("civil_other", "5000.00"), ("fiscal", "20000.00"),
            ("prior_interest", "1234.56"), ("prior_carryover", "100000.00")]


def credential(code: str) -> HospitalCredential:
    return HospitalCredential(fixmedins_code=code, paasid=code.lower(), secret=hospital_secret(code), scheme="sm3")


@dataclass
class Booked:
    hospital: str
    setl_id: str
    at: datetime
    medfee: Decimal
    funds: dict[str, Decimal]
    journey: Journey
    reversed_at: datetime | None = None

    @property
    def owed(self) -> Decimal:
        """What the funds owe the hospital: every fund but the hospital's own reduction (630100)."""
        return sum((a for code, a in self.funds.items() if code != "630100"), Decimal(0))


async def settle(county: County, code: str, person_key: str, at: datetime, rng: random.Random,
                 serial: int, lines: tuple[tuple[str, str], ...] = ()) -> Booked:
    his = NhsaClient(county.session, county.url, code, credential=credential(code))
    journey = Journey(his, PERSONS[person_key])
    ok(await journey.admit(f"{at - timedelta(days=3):%Y-%m-%d %H:%M:%S}", ipt_no=f"{code}-{serial}"))
    chosen = lines or tuple((c, f"{rng.randint(5_000, 2_500_000) / 100:.2f}") for c in ("A", "B10", "C"))
    sent = [journey.line(c, a) for c, a in chosen]
    ok(await journey.upload(*sent))
    medfee = sum((Decimal(a) for _c, a in chosen), Decimal(0))
    out = ok(await journey.settle(medfee, inf_time=at))
    funds = {d["fund_pay_type"]: Decimal(str(d["fund_payamt"])) for d in out["setldetail"]}
    return Booked(code, out["setlinfo"]["setl_id"], at, medfee, funds, journey)


async def reverse(booked: Booked, at: datetime) -> None:
    ok(await booked.journey.reverse(booked.setl_id, inf_time=at))
    booked.reversed_at = at


async def month_of_traffic(county: County, first: date, per_hospital: int, rng: random.Random,
                           serial: int) -> list[Booked]:
    booked = []
    for n in range(per_hospital):
        for code in HOSPITALS:
            serial += 1
            at = datetime(first.year, first.month, 1 + (n * 3 + HOSPITALS.index(code)) % 27, 9 + n % 8, 30)
            # The first of T1's is DOMAIN.md's worked example: several funds pay, for a refusal of one of them.
            lines = (("A", "14500"), ("B10", "4000"), ("C", "1500")) if (code, n) == ("T1", 0) else ()
            booked.append(await settle(county, code, "poor" if lines else rng.choice(PEOPLE), at, rng, serial, lines))
    return booked


async def signed(county: County, method: str, path: str, code: str, document: dict[str, Any] | None = None
                 ) -> tuple[int, Any]:
    body = json.dumps(document or {}, ensure_ascii=False).encode() if method == "POST" else b""
    headers = {"Content-Type": "application/json", **signed_headers(credential(code), body)}
    async with county.session.request(method, f"{county.url}{path}", data=body, headers=headers) as reply:
        return reply.status, await reply.json()


async def call(county: County, method: str, path: str, operator: str, **kwargs: Any) -> Any:
    status, body = await county.call(method, path, operator, **kwargs)
    assert status < 300, (status, body)
    return body


def line_of(claim: dict[str, Any], setl_id: str, kind: str = "settlement") -> dict[str, Any]:
    found = [line for line in claim["lines"] if line["setl_id"] == setl_id and line["kind"] == kind]
    assert len(found) == 1, (setl_id, kind, claim["lines"])
    return found[0]


def money(value: Decimal) -> str:
    return f"{value:.2f}"


async def review_and_pay(county: County, claim_id: int, paid_on: str, second: str = "fuhe1") -> dict[str, Any]:
    await call(county, "POST", f"/county/v1/claims/{claim_id}/first-review", "shenhe1", json={"accept_rest": True})
    await call(county, "POST", f"/county/v1/claims/{claim_id}/second-review", second, json={"note": "复审通过"})
    await call(county, "POST", f"/county/v1/claims/{claim_id}/refuse", second, json={})
    settled = await call(county, "POST", f"/county/v1/claims/{claim_id}/settle", "caiwu1", json={})
    amount = settled["totals"]["accepted"]
    paid: dict[str, Any] = await call(county, "POST", f"/county/v1/claims/{claim_id}/pay", "caiwu1", json={
        "paid_on": paid_on, "amount": amount, "reference": f"BK{claim_id:06d}"})
    return paid


def annex4_expected(booked: list[Booked], receipts: list[tuple[date, str, Decimal]], since: date,
                    until: date) -> list[dict[str, Any]]:
    told = [Told(b.at, 1, b.medfee, list(b.funds.items())) for b in booked]
    told += [Told(b.reversed_at, -1, b.medfee, list(b.funds.items())) for b in booked if b.reversed_at]
    year = date(since.year, 1, 1)
    rows = []
    for start, end in ((since, until), (year, since - timedelta(days=1)), (year, until)):
        cells = expected_row(told, receipts, start, end)
        rows.append({k: v if isinstance(v, int) else money(v) for k, v in cells.items()})
    return rows


async def test_two_months_of_claims_the_account_and_annex4(tmp_path: Path) -> None:
    rng = random.Random(20260301)
    async with county_gateway(tmp_path, signed=True, hospitals=HOSPITALS) as county:
        march = await month_of_traffic(county, date(2026, 3, 1), 6, rng, 0)
        for b in march[4::5]:  # reversed in March, before any claim: in no claim
            await reverse(b, b.at + timedelta(hours=5))
        receipts = []
        for source, amount in RECEIPTS:
            await call(county, "POST", "/county/v1/account/receipts", "caiwu1", json={
                "source": source, "amount": amount, "received_on": "2026-03-05", "reference": f"R-{source}"})
            receipts.append((date(2026, 3, 5), source, Decimal(amount)))
        status, _ = await county.call("POST", "/county/v1/account/receipts", "jingban1", json={
            "source": "fiscal", "amount": "1.00", "received_on": "2026-03-05"})
        assert status == 403  # 经办 records no money

        # 申报: T2 over its own signed interface, T1 and T3 by 经办 on their behalf.
        status, t2 = await signed(county, "POST", "/claims/v1/claims", "T2", {"month": "2026-03"})
        assert status == 201, t2
        assert t2["submitted_by"] == "hospital:T2"
        claims = {"T2": t2}
        for code in ("T1", "T3"):
            claims[code] = await call(county, "POST", "/county/v1/claims", "jingban1",
                                      json={"fixmedins_code": code, "month": "2026-03"})
        again = await call(county, "POST", "/county/v1/claims", "jingban1", json={"fixmedins_code": "T1",
                                                                                   "month": "2026-03"})
        assert again["replayed"] and again["claim_id"] == claims["T1"]["claim_id"]
        status, body = await county.call("POST", "/county/v1/claims", "jingban1", json={
            "fixmedins_code": "T1", "since": "2026-03-15", "until": "2026-03-31"})
        assert status == 409, body  # every settlement of that span is in the March claim already
        status, body = await signed(county, "POST", "/claims/v1/claims", "T1", {})  # no period: last month
        last = date.today().replace(day=1) - timedelta(days=1)
        assert status == 409 and f"{last:%Y-%m}-01 至 {last:%Y-%m-%d}" in body["message"], body
        for code, claim in claims.items():
            expected = {b.setl_id: b.owed for b in march if b.hospital == code and b.reversed_at is None}
            assert {line["setl_id"]: Decimal(line["amount"]) for line in claim["lines"]} == expected
            assert Decimal(claim["totals"]["claimed"]) == sum(expected.values(), Decimal(0))

        # 初审 by 审核: T2's line refused whole, one fund of T1's worked example refused.
        x = next(b for b in march if b.hospital == "T2" and b.reversed_at is None)
        y = next(b for b in march if b.hospital == "T1")
        z = next(b for b in march if b.hospital == "T3" and b.reversed_at is None)
        assert {"390100", "620100"} <= set(y.funds)
        x_no, y_no = line_of(claims["T2"], x.setl_id)["line_no"], line_of(claims["T1"], y.setl_id)["line_no"]
        status, body = await county.call("POST", f"/county/v1/claims/{claims['T2']['claim_id']}/lines/{x_no}/decision",
                                         "jingban1", json={"decision": "accept"})
        assert status == 403
        status, body = await county.call("POST", f"/county/v1/claims/{claims['T2']['claim_id']}/lines/{x_no}/decision",
                                         "shenhe1", json={"decision": "refuse", "note": "无诊断证明"})
        assert status == 400 and "reason" in body["message"]
        refusal = {"decision": "refuse", "reason": "R06", "note": "缺疾病诊断证明书"}
        for _ in range(2):  # the same decision twice is one decision
            await call(county, "POST", f"/county/v1/claims/{claims['T2']['claim_id']}/lines/{x_no}/decision",
                       "shenhe1", json=refusal)
        await call(county, "POST", f"/county/v1/claims/{claims['T1']['claim_id']}/lines/{y_no}/decision", "shenhe1",
                   json={"decision": "refuse", "reason": "R02", "funds": ["620100"], "note": "特惠保超范围"})
        t1 = claims["T1"]["claim_id"]
        status, body = await county.call("POST", f"/county/v1/claims/{t1}/first-review", "shenhe1", json={})
        assert status == 409 and body["undecided"]  # every line is decided, or the rest accepted explicitly
        status, body = await county.call("POST", f"/county/v1/claims/{t1}/settle", "caiwu1", json={})
        assert status == 409 and "初审" in body["message"]  # wrong step: a clear error naming what may come next
        for code in HOSPITALS:
            await call(county, "POST", f"/county/v1/claims/{claims[code]['claim_id']}/first-review", "shenhe1",
                       json={"accept_rest": True})
        status, body = await county.call("POST", f"/county/v1/claims/{t1}/second-review", "shenhe1", json={})
        assert status == 403  # 审核's role may not; and never the one who did 初审
        paid_total = Decimal(0)
        for code in HOSPITALS:
            claim_id = claims[code]["claim_id"]
            await call(county, "POST", f"/county/v1/claims/{claim_id}/second-review", "fuhe1", json={})
            await call(county, "POST", f"/county/v1/claims/{claim_id}/refuse", "shenhe1", json={})
            settled = await call(county, "POST", f"/county/v1/claims/{claim_id}/settle", "caiwu1", json={})
            expected = sum((b.owed for b in march if b.hospital == code and b.reversed_at is None), Decimal(0))
            expected -= {"T1": y.funds["620100"], "T2": x.owed, "T3": Decimal(0)}[code]
            assert Decimal(settled["totals"]["accepted"]) == expected
            status, body = await county.call("POST", f"/county/v1/claims/{claim_id}/pay", "caiwu1", json={
                "paid_on": "2026-04-10", "amount": money(expected + Decimal("0.01")), "reference": "BK1"})
            assert status == 409 and "不符" in body["message"]
            payment = {"paid_on": "2026-04-10", "amount": money(expected), "reference": f"BK-{code}-03"}
            paid = await call(county, "POST", f"/county/v1/claims/{claim_id}/pay", "caiwu1", json=payment)
            assert paid["state"] == "paid" and not paid.get("replayed")
            again_written = {**payment, "amount": payment["amount"] + "0"}  # 16536.250: the same payment
            assert (await call(county, "POST", f"/county/v1/claims/{claim_id}/pay", "caiwu1",
                               json=again_written))["replayed"]
            status, body = await county.call("POST", f"/county/v1/claims/{claim_id}/pay", "caiwu1",
                                             json={**payment, "reference": "OTHER"})
            assert status == 409
            paid_total += expected
        audit = await call(county, "GET", f"/county/v1/audit?action=claims.&subject=claim:{t1}", "duzhe1")
        assert {e["operator"] for e in audit["entries"]} == {"jingban1", "fuhe1", "shenhe1", "caiwu1"}
        assert [e["after"]["state"] for e in reversed(audit["entries"]) if "state" in e["after"]] == [
            "first_reviewed", "second_reviewed", "refusals_issued", "settled", "paid"]

        # The hospitals see their refusals; another hospital's claim is unknown to them.
        status, seen = await signed(county, "GET", f"/claims/v1/claims/{claims['T2']['claim_id']}", "T2")
        assert status == 200 and line_of(seen, x.setl_id)["decision"]["reason"] == "R06"
        status, _ = await signed(county, "GET", f"/claims/v1/claims/{claims['T2']['claim_id']}", "T3")
        assert status == 404
        status, own = await signed(county, "GET", "/claims/v1/claims", "T3")
        assert status == 200 and [c["claim_id"] for c in own["claims"]] == [claims["T3"]["claim_id"]]

        # April: T2 explains its refusal, T1 corrects (reverse and settle again), T3 reverses a paid settlement.
        status, body = await signed(county, "POST", f"/claims/v1/claims/{claims['T2']['claim_id']}/lines/{x_no}/"
                                    "explanation", "T2", {"note": "诊断证明已补交"})
        assert status == 200, body
        await reverse(y, datetime(2026, 4, 2, 10, 0))
        y2 = Booked("T1", ok(await y.journey.settle(y.medfee, inf_time=datetime(2026, 4, 3, 10, 0)))["setlinfo"]
                    ["setl_id"], datetime(2026, 4, 3, 10, 0), y.medfee, {}, y.journey)
        detail = await y.journey.his.call("5203", {"data": {"psn_no": y.journey.person.psn_no, "setl_id": y2.setl_id,
                                                            "mdtrt_id": y.journey.mdtrt_id}})
        y2.funds = {d["fund_pay_type"]: Decimal(str(d["fund_payamt"])) for d in ok(detail)["setldetail"]}
        await reverse(z, datetime(2026, 4, 5, 10, 0))
        april = [*await month_of_traffic(county, date(2026, 4, 1), 2, rng, 100), y2]
        status, t2_april = await signed(county, "POST", "/claims/v1/claims", "T2", {"month": "2026-04"})
        assert status == 201, t2_april
        april_claims = {"T2": t2_april}
        for code in ("T1", "T3"):
            april_claims[code] = await call(county, "POST", "/county/v1/claims", "jingban1",
                                            json={"fixmedins_code": code, "month": "2026-04"})
        carried_back = {"T1": {(y.setl_id, "reversal"): -(y.owed - y.funds["620100"])},
                        "T2": {(x.setl_id, "reclaim"): x.owed}, "T3": {(z.setl_id, "reversal"): -z.owed}}
        assert line_of(april_claims["T3"], z.setl_id, "reversal")["setl_time"] == "2026-04-05 10:00:00"
        for code, claim in april_claims.items():
            expected = {(b.setl_id, "settlement"): b.owed for b in april if b.hospital == code}
            expected.update(carried_back[code])
            assert {(line["setl_id"], line["kind"]): Decimal(line["amount"]) for line in claim["lines"]} == expected
            if code == "T3":  # a recovery is never refused: the hospital would keep what the funds paid back
                back = line_of(claim, z.setl_id, "reversal")["line_no"]
                status, body = await county.call("POST", f"/county/v1/claims/{claim['claim_id']}/lines/{back}/decision",
                                                 "shenhe1", json={"decision": "refuse", "reason": "R05"})
                assert status == 400 and "只能审核通过" in body["message"]
            if code == "T1":  # 复审 sends it back once; 初审 closes again, with nothing left undecided
                await call(county, "POST", f"/county/v1/claims/{claim['claim_id']}/first-review", "shenhe1",
                           json={"accept_rest": True})
                back_to = await call(county, "POST", f"/county/v1/claims/{claim['claim_id']}/send-back", "fuhe1",
                                     json={"note": "请核对第 1 行"})
                assert back_to["state"] == "submitted" and back_to["next"] == ["first_review"]
            paid = await review_and_pay(county, claim["claim_id"], "2026-05-10")
            assert Decimal(paid["totals"]["accepted"]) == sum(expected.values(), Decimal(0))
            paid_total += sum(expected.values(), Decimal(0))

        # The special account, to the fen: what came in less what was paid out.
        account = await call(county, "GET", "/county/v1/account?since=2026-03-01&until=2026-05-31", "caiwu1")
        received = sum((a for _on, _s, a in receipts), Decimal(0))
        assert (account["opening_balance"], account["receipts_total"], account["payments_total"]) == (
            "0.00", money(received), money(paid_total))
        assert account["closing_balance"] == money(received - paid_total)
        assert account["entries"][-1]["balance"] == money(received - paid_total)
        april_only = await call(county, "GET", "/county/v1/account?month=2026-05", "caiwu1")
        assert Decimal(april_only["opening_balance"]) == received - sum(
            (Decimal(e["amount"]) for e in account["entries"] if e["kind"] == "payment" and e["on_date"] < "2026-05"),
            Decimal(0))

        # 附件4 for March and for April, every cell.
        everything = march + april
        for month_text, since, until in (("2026-03", date(2026, 3, 1), date(2026, 3, 31)),
                                         ("2026-04", date(2026, 4, 1), date(2026, 4, 30))):
            table = await call(county, "GET", f"/county/v1/reports/annex4?month={month_text}", "caiwu1")
            assert [row["cells"] for row in table["rows"]] == annex4_expected(everything, receipts, since, until)
        status, body = await county.call("GET", "/county/v1/reports/annex4?month=2026-04&format=xlsx", "jingban1")
        assert status == 403


def test_the_table_refuses_a_wrong_step_and_names_what_may_come_next() -> None:
    assert next_state(ClaimState.SUBMITTED, Step.FIRST_REVIEW) is ClaimState.FIRST_REVIEWED
    with pytest.raises(CountyRefusal, match=r"已初审.*不能拨付.*复审、退回初审"):
        next_state(ClaimState.FIRST_REVIEWED, Step.PAY)
    with pytest.raises(CountyRefusal, match=r"已拨付.*无（已完成）"):
        next_state(ClaimState.PAID, Step.SETTLE)


def test_a_reversal_waits_for_the_claim_that_holds_it() -> None:
    """Carried back only once the claim holding the settlement is settled, and only what it accepted."""
    at = datetime(2026, 3, 2)
    line = ClaimLine(1, 1, "settlement", "S1", "P", at, Decimal(100), (("390100", Decimal(70)), ("620100", Decimal(9))))
    refused = ClaimEvent(1, 1, "decide", "shenhe1", at, {"decision": "refuse", "funds": ["620100"], "reason": "R02"})
    open_claim = carried([line], [refused], {1: ClaimState.REFUSALS_ISSUED}, {"S1": "reversed"})
    assert open_claim.reversals == ()
    settled = carried([line], [refused], {1: ClaimState.SETTLED}, {"S1": "reversed"})
    assert settled.reversals == (("S1", "1:1", (("390100", Decimal(-70)),)),)
    explained = ClaimEvent(1, 1, "explain", "hospital:T1", at, {"note": "已补材料"})
    valid = carried([line], [refused, explained], {1: ClaimState.PAID}, {"S1": "valid"})
    assert valid.reclaims == (("S1", "1:1", (("620100", Decimal(9)),)),) and valid.reversals == ()


async def test_a_finance_month_from_the_command_line(tmp_path: Path) -> None:
    """The README's finance month with the CLI twins, on DOMAIN.md's worked example (funds 390100 15,172.50,
    620100 1,463.75, 610100 1,171.00, 640100 192.75: 18,000.00 owed; 620100 refused: 16,536.25 paid)."""
    import asyncio
    import sys

    from tests.county_support import token

    hisgw = str(Path(sys.executable).parent / "hisgw")

    async def run(who: str, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            hisgw, *args, "--url", county.url, "--token", token(who),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), timeout=40)
        return int(process.returncode or 0), out.decode(), err.decode()

    async with county_gateway(tmp_path, signed=True, hospitals=HOSPITALS) as county:
        worked = await settle(county, "T2", "poor", datetime(2026, 3, 9, 10, 0), random.Random(1), 1,
                              (("A", "14500"), ("B10", "4000"), ("C", "1500")))
        assert worked.owed == Decimal("18000.00")
        code, out, err = await run("caiwu1", "account", "receive", "--source", "basic_fund", "--amount", "20000.00",
                                   "--received-on", "2026-03-05", "--reference", "BK0305")
        assert code == 0 and "基本医保基金 20000.00 BK0305" in out, err
        code, out, err = await run("jingban1", "claims", "submit", "T2", "--month", "2026-03")
        assert code == 0 and "1 lines, claimed 18000.00" in out, err
        claim_id = out.split()[1]
        code, out, err = await run("shenhe1", "claims", "refuse-line", claim_id, "1", "--reason", "R02", "--funds",
                                   "620100", "--note", "特惠保超范围")
        assert code == 0 and "accepted 16536.25, refused 1463.75" in out, err
        code, out, err = await run("shenhe1", "claims", "second-review", claim_id)
        assert code == 1 and "不能复审" in err  # 初审 comes first, and 审核 may not 复审 anyway
        for who, step in (("shenhe1", "first-review"), ("fuhe1", "second-review"), ("fuhe1", "refuse"),
                          ("caiwu1", "settle")):
            code, out, err = await run(who, "claims", step, claim_id, *(["--accept-rest"] if step == "first-review"
                                                                        else []))
            assert code == 0, (step, err)
        assert "已结算 (settled)" in out and "accepted 16536.25" in out
        code, out, err = await run("caiwu1", "claims", "pay", claim_id, "--paid-on", "2026-04-10", "--amount",
                                   "16536.25", "--reference", "BK0410")
        assert code == 0 and "已拨付 (paid)" in out, err
        code, out, err = await run("duzhe1", "claims", "show", claim_id)
        assert "拒付 R02 超出医保目录或政策范围 620100 特惠保超范围" in out and "拨付 by caiwu1" in out, out
        code, out, err = await run("caiwu1", "account", "show", "--since", "2026-03-01", "--until", "2026-04-30")
        assert "in 20000.00, out 16536.25, closing 3463.75" in out, out
        db = county.gateway.deps.store.path  # type: ignore[attr-defined]
        csv_file = tmp_path / "annex4.csv"
        process = await asyncio.create_subprocess_exec(
            hisgw, "--db", str(db), "report", "annex4", "--month", "2026-03", "--out", str(csv_file),
            stderr=asyncio.subprocess.PIPE)
        _out, report_err = await asyncio.wait_for(process.communicate(), timeout=40)
        assert process.returncode == 0, report_err
        rows = csv_file.read_text(encoding="utf-8-sig").splitlines()
        # 本次合计: income 20,000.00; 结算费用 18,000.00 (the ledger's: refusals are the claim's); 结余 2,000.00
        assert rows[1].startswith("本次合计,20000.00,0.00,0.00,20000.00,20000.00,1,18000.00,1,15172.50,")
        assert rows[1].endswith(",2000.00")


def test_whoever_took_part_in_the_first_review_never_confirms_it() -> None:
    """On a gateway without credentials every role may act, but not the same person twice (audited refusal)."""
    from gateway.canonical import calls as c
    from gateway.canonical.answers import AdmissionAnswer, SettlementAnswer
    from gateway.county import claim_service
    from gateway.county.period import month
    from gateway.county.records import AuditQuery
    from gateway.county.claims import STEP_ACTIONS
    from gateway.county.roles import Actor
    from gateway.runtime import CountyAnswer, CountyCommand, Gateway
    from tests.test_annex5 import ClockedHospital
    from tests.test_settlement_properties import service

    later = datetime(2027, 1, 5)
    with service() as deps:
        hospital = ClockedHospital(deps, "T1")
        hospital.at = datetime(2026, 3, 3, 9, 0)
        person = PERSONS["poor"]
        admitted = hospital(c.Admission(psn_no=person.psn_no, insutype=person.insutype, begntime=hospital.at))
        assert isinstance(admitted, AdmissionAnswer)
        hospital(c.FeeUpload(admitted.mdtrt_id, person.psn_no, (c.FeeLine(
            feedetl_sn="1", mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, med_list_codg="A", cnt=Decimal(1),
            pric=Decimal(3000), det_item_fee_sumamt=Decimal(3000), fee_ocur_time=hospital.at),)))
        assert isinstance(hospital(c.Settle(mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, trial=False)),
                          SettlementAnswer)
        alice, bob = Actor("alice", "demo"), Actor("bob", "demo")
        claim = claim_service.submit(deps.store, alice, "T1", month("2026-03"), "r1", later)
        claim_service.decide(deps.store, bob, claim["claim_id"], 1, {"decision": "accept"}, "r2", later)
        claim_service.step(deps.store, alice, claim["claim_id"], Step.FIRST_REVIEW, {}, "r3", later)
        road = Gateway(deps)  # the refusals go on the trail by the county's road for writes, as over HTTP

        def through_road(actor: Actor, done: Step, request_id: str) -> None:
            work = partial(claim_service.step, deps.store, actor, claim["claim_id"], done, {}, request_id, later)
            asyncio.run(road.command(CountyCommand(
                STEP_ACTIONS[done], actor, request_id, f"claim:{claim['claim_id']}", b"", {}, lambda: CountyAnswer(
                    200, json.dumps(work()).encode()))))

        with pytest.raises(CountyRefusal, match="bob 参与了该申报单的初审"):
            through_road(bob, Step.SECOND_REVIEW, "r4")
        with pytest.raises(CountyRefusal, match="alice 参与了该申报单的初审"):
            through_road(alice, Step.SEND_BACK, "r5")
        refused = deps.store.audit_search(AuditQuery(action="claims.confirm"))
        assert [(e.operator, "refused" in e.after) for e in refused] == [("alice", True), ("bob", True)]
        carol = Actor("carol", "demo")
        done = claim_service.step(deps.store, carol, claim["claim_id"], Step.SECOND_REVIEW, {}, "r6", later)
        assert done["state"] == "second_reviewed"


async def test_a_settlement_made_at_the_agency_window_is_in_no_hospital_claim(tmp_path: Path) -> None:
    """The agency paid it (Hunan 三(二)3): the hospital advanced nothing, so only its window settlement is claimed."""
    from gateway.county import claim_service
    from gateway.county.period import month
    from gateway.county.roles import Actor
    from tests.test_agency import STAY_A

    async with county_gateway(tmp_path, signed=True, hospitals=("TX",)) as county:
        status, agency = await county.call("POST", "/county/v1/agency/settlements", "jingban1", json=STAY_A,
                                           headers={"X-Request-Id": "win-1"})
        assert status == 200, agency
        now = datetime.now()
        window = await settle(county, "TX", "ordinary", now, random.Random(3), 1)
        store = county.gateway.deps.store
        claim = await county.gateway.run(lambda: claim_service.submit(
            store, Actor("jingban1", "operator"), "TX", month(f"{now:%Y-%m}"), "r", datetime(now.year + 1, 1, 5)))
        assert [line["setl_id"] for line in claim["lines"]] == [window.setl_id] != [agency["setl_id"]]
