"""附件4: every cell against sums the test makes itself from what hospitals were told and what the account received."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from gateway.canonical import calls as c
from gateway.canonical.answers import AdmissionAnswer, ReversalAnswer, SettlementAnswer
from gateway.county import agency_service
from gateway.county.account_service import annex4_of
from gateway.county.agency import AgencyEntry, EntryLine
from gateway.county.annex4_render import render
from gateway.county.claim_records import AccountEntry
from gateway.county.period import month
from gateway.county.roles import Actor
from tests.support import PERSONS
from tests.test_annex5 import INSURED, ClockedHospital
from tests.test_settlement_properties import lines_strategy, service

APRIL = month("2026-04")
# The seed's departments, written out from the fund codes (DOMAIN.md), independently of gateway/county/annex4.py.
DEPARTMENTS = {"basic": {"390100", "310100"}, "critical": {"390200", "330100"}, "poverty": {"620100"},
               "assistance": {"610100"}, "fiscal": {"640100"}, "hospital": {"630100"}}
FUND_SOURCES = ["basic_fund", "insurer_critical", "insurer_poverty", "civil_assistance", "civil_other", "fiscal"]


def department(code: str) -> str:
    for key, codes in DEPARTMENTS.items():
        if code in codes:
            return key
    return "civil_other" if code.startswith("61") else "other"


class Told:
    """One settlement or reversal as the hospital's answer gave it."""

    def __init__(self, at: datetime, sign: int, medfee: Decimal, funds: list[tuple[str, Decimal]]) -> None:
        self.at, self.sign, self.medfee, self.funds = at, sign, medfee, funds


def expected_row(told: list[Told], receipts: list[tuple[date, str, Decimal]], since: date,
                 until: date) -> dict[str, Any]:
    """Every cell of one row, from the seed's definitions."""
    inside = [t for t in told if since <= t.at.date() <= until]
    got = [(s, a) for on, s, a in receipts if since <= on <= until]
    cells: dict[str, Any] = {
        "account_funds": sum((a for s, a in got if s in FUND_SOURCES), Decimal(0)),
        "prior_interest": sum((a for s, a in got if s == "prior_interest"), Decimal(0)),
        "prior_carryover": sum((a for s, a in got if s == "prior_carryover"), Decimal(0)),
        "medfee": sum((t.sign * t.medfee for t in inside), Decimal(0)),
        "settlements": sum(t.sign for t in inside),
        "settled": sum((t.sign * a for t in inside for code, a in t.funds if code != "630100"), Decimal(0)),
    }
    cells["income_total"] = cells["account_funds"] + cells["prior_interest"] + cells["prior_carryover"]
    for key in [*DEPARTMENTS, "civil_other", "other"]:
        paid = [(t.sign, sum((a for code, a in t.funds if department(code) == key), Decimal(0))) for t in inside]
        cells[f"{key}_times"] = sum(sign for sign, amount in paid if amount > 0)
        cells[f"{key}_amount"] = sum((sign * amount for sign, amount in paid), Decimal(0))
    cells["insurer_subtotal"] = cells["critical_amount"] + cells["poverty_amount"]
    cells["civil_subtotal"] = cells["assistance_amount"] + cells["civil_other_amount"]
    cells["balance"] = cells["income_total"] - cells["settled"]
    return cells


amounts = st.integers(-50_000, 20_000_000).filter(bool).map(lambda fen: Decimal(fen) / 100)
WINDOW_PEOPLE = [key for key in INSURED if PERSONS[key].area != "440106"]
# an agency-window stay: mode, person, 甲 and 丙 amounts (fen), the share of 甲 basic paid there (basic_settled)
window_stays = st.tuples(st.sampled_from(["basic_settled", "self_paid"]), st.sampled_from(WINDOW_PEOPLE),
                         st.integers(1, 5_000_000), st.integers(0, 1_000_000), st.integers(0, 90),
                         st.integers(-80, 40), st.booleans(), st.integers(0, 40))


def window_entry(mode: str, person_key: str, class_a: Decimal, class_c: Decimal, share: int, n: int,
                 discharged: date) -> AgencyEntry:
    """A stay at an out-of-county level-3 hospital not in the registry (area 440106)."""
    lines = [EntryLine("09", "01", class_a)] + ([EntryLine("08", "03", class_c)] if class_c else [])
    basic = (class_a * share / 100).quantize(Decimal("0.01")) if mode == "basic_settled" else None
    return AgencyEntry(mode=mode, psn_no=PERSONS[person_key].psn_no, fixmedins_code="G440106001",
                       fixmedins_name="某省外三甲医院", hosp_lv=3, admdvs="440106",
                       begndate=discharged - timedelta(days=3 + n), enddate=discharged, lines=tuple(lines),
                       hifp_pay=basic)


def through_account(mode: str, funds: list[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    """What of a window settlement went through 专户: with basic settled elsewhere, every fund but basic (the
    other hospital paid it); fully self-paid, every fund."""
    return [(code, a) for code, a in funds if not (mode == "basic_settled" and code in DEPARTMENTS["basic"])]


@settings(max_examples=20, deadline=None)
@given(stays=st.lists(st.tuples(st.sampled_from(INSURED), st.sampled_from(["T1", "T2", "T3", "TX"]), lines_strategy,
                                st.integers(-80, 40), st.booleans(), st.integers(0, 40)), min_size=1, max_size=6),
       receipts=st.lists(st.tuples(st.integers(0, 150), st.sampled_from([*FUND_SOURCES, "prior_interest",
                                                                         "prior_carryover"]), amounts), max_size=6),
       windows=st.lists(window_stays, max_size=4))
def test_every_cell_is_the_sum_of_what_was_told_and_received(
        stays: list[tuple[str, str, list[tuple[str, Decimal]], int, bool, int]],
        receipts: list[tuple[int, str, Decimal]],
        windows: list[tuple[str, str, int, int, int, int, bool, int]]) -> None:
    """Settlements and reversals before, inside and after April, at hospitals and at the agency window (only what
    went through 专户 counted); receipts from January to May."""
    with service() as deps:
        told: list[Told] = []
        operator = Actor("jingban1", "operator")
        for n, (mode, person_key, class_a, class_c, share, day_offset, reverse, reverse_after) in enumerate(windows):
            at = datetime(2026, 4, 15, 14, 0) + timedelta(days=day_offset)
            entry = window_entry(mode, person_key, Decimal(class_a) / 100, Decimal(class_c) / 100, share, n,
                                 at.date() - timedelta(days=1))
            with deps.store.transaction():
                result = agency_service.settle(deps.store, deps.policies, operator, entry, f"w{n}", at)
            funds = through_account(mode, [(p.fund_pay_type, p.fund_payamt) for p in result.figures.payments])
            medfee = sum((line.amount for line in entry.lines), Decimal(0))
            told.append(Told(at, 1, medfee, funds))
            if reverse:
                with deps.store.transaction():
                    agency_service.reverse(deps.store, operator, result.setl_id, f"w{n}r",
                                           at + timedelta(days=reverse_after))
                told.append(Told(at + timedelta(days=reverse_after), -1, medfee, funds))
        for person_key, hospital, lines, day_offset, reverse, reverse_after in stays:
            person = PERSONS[person_key]
            at = datetime(2026, 4, 15, 10, 0) + timedelta(days=day_offset)
            call = ClockedHospital(deps, hospital)
            call.at = at
            admitted = call(c.Admission(psn_no=person.psn_no, insutype=person.insutype, begntime=at - timedelta(5)))
            assert isinstance(admitted, AdmissionAnswer)
            call(c.FeeUpload(admitted.mdtrt_id, person.psn_no, tuple(
                c.FeeLine(feedetl_sn=str(i), mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, med_list_codg=code,
                          cnt=Decimal(1), pric=amount, det_item_fee_sumamt=amount, fee_ocur_time=at)
                for i, (code, amount) in enumerate(lines))))
            answer = call(c.Settle(mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, trial=False))
            assert isinstance(answer, SettlementAnswer)
            funds = [(p.fund_pay_type, p.fund_payamt) for p in answer.figures.payments]
            told.append(Told(at, 1, answer.figures.totals.medfee_sumamt, funds))
            if reverse:
                call.at = at + timedelta(days=reverse_after)
                reversal = call(c.SettleReverse(setl_id=answer.setl_id, mdtrt_id=admitted.mdtrt_id,
                                                psn_no=person.psn_no))
                assert isinstance(reversal, ReversalAnswer)
                told.append(Told(call.at, -1, answer.figures.totals.medfee_sumamt, funds))
        given_in: list[tuple[date, str, Decimal]] = []
        with deps.store.transaction():
            for day, source, amount in receipts:
                on = date(2026, 1, 1) + timedelta(days=day)
                deps.store.account_add(AccountEntry(on, "receipt", source, amount, "B1", "caiwu1", datetime.now()))
                given_in.append((on, source, amount))
        table = annex4_of(deps.store, APRIL)
        spans = [(APRIL.since, APRIL.until), (date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 1, 1), APRIL.until)]
        for row, (since, until) in zip(table.rows, spans, strict=True):
            assert (row.since, row.until) == (since, until)
            assert row.cells == expected_row([t for t in told if t.at.year == 2026], given_in, since, until), row.title
        for key, value in table.rows[2].cells.items():  # 上次累计 + 本次合计 = 本年度累计, cell by cell
            assert value == table.rows[0].cells[key] + table.rows[1].cells[key], key


def test_every_format_carries_the_same_figures() -> None:
    """JSON, CSV, .xlsx (read back with openpyxl) and HTML of one table; PDF opens as a PDF."""
    with service() as deps:
        call = ClockedHospital(deps, "T2")
        call.at = datetime(2026, 4, 3, 9, 0)
        person = PERSONS["poor"]
        admitted = call(c.Admission(psn_no=person.psn_no, insutype=person.insutype, begntime=call.at))
        assert isinstance(admitted, AdmissionAnswer)
        call(c.FeeUpload(admitted.mdtrt_id, person.psn_no, tuple(
            c.FeeLine(feedetl_sn=str(i), mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, med_list_codg=code,
                      cnt=Decimal(1), pric=Decimal(a), det_item_fee_sumamt=Decimal(a), fee_ocur_time=call.at)
            for i, (code, a) in enumerate((("A", "14500"), ("B10", "4000"), ("C", "1500"))))))
        answer = call(c.Settle(mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, trial=False))
        assert isinstance(answer, SettlementAnswer)
        with deps.store.transaction():
            deps.store.account_add(AccountEntry(date(2026, 4, 1), "receipt", "basic_fund", Decimal("30000.00"), "B",
                                                "caiwu1", datetime.now()))
        table = annex4_of(deps.store, APRIL)
    # DOMAIN.md's worked example: basic 15,172.50; 特惠保 1,463.75; assistance 1,171.00; backstop 192.75.
    paid = Decimal("15172.50") + Decimal("1463.75") + Decimal("1171.00") + Decimal("192.75")
    this = table.rows[0].cells
    assert (this["settled"], this["basic_amount"], this["poverty_amount"], this["insurer_subtotal"]) == (
        paid, Decimal("15172.50"), Decimal("1463.75"), Decimal("1463.75"))
    assert (this["assistance_times"], this["fiscal_amount"], this["balance"]) == (
        1, Decimal("192.75"), Decimal("30000.00") - paid)
    import json

    document = json.loads(render(table, "json", unit_name="测试县医保局"))
    assert document["rows"][0]["cells"]["settled"] == f"{paid:.2f}" and document["rows"][0]["title"] == "本次合计"
    rows = list(csv.reader(io.StringIO(render(table, "csv").decode("utf-8-sig"))))
    assert rows[1][0] == "本次合计" and rows[1][7] == f"{paid:.2f}" and len(rows) == 4
    book = load_workbook(io.BytesIO(render(table, "xlsx", unit_name="测试县医保局")))
    sheet = book.active
    assert sheet is not None
    assert sheet.cell(5, 1).value == "本次合计" and Decimal(str(sheet.cell(5, 8).value)) == paid
    assert sheet.cell(4, 8).value == "结算费用" and "结算资金支出" in [sheet.cell(3, n).value for n in range(1, 10)]
    page = render(table, "html", unit_name="测试县医保局").decode("utf-8")
    assert f"{paid:.2f}" in page and "本年度结算资金累计结余" in page
    import subprocess

    printed = render(table, "pdf")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=printed, capture_output=True, check=True).stdout
    rows_read = [line.split() for line in text.decode("utf-8").splitlines() if line.strip().startswith("本次合计")]
    assert rows_read and rows_read[0][7] == f"{paid:.2f}", text.decode("utf-8")  # 结算费用, never wrapped
