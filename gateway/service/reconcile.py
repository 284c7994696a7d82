"""3201 对总账 and 3202 对明细账: does the hospital's book of a period agree with the gateway's?

The gateway's side is the hospital's own settlement records booked (setl_time) in the period: settlements and
the reversals that stand (a reversal counts as a record of its own with negative amounts, as 2305 answers it);
the agency window's settlements are not the hospital's. Totals are amounts net of reversals and a count of
records. 3202 matches the hospital's list record by record (by setl_id, else by the msgid that made it) and
names each record on one side only (单边账) with its repair:

- gateway_only, a settlement: the gateway settled, the HIS has no record (its call timed out, it gave up):
  `2601` 冲正 its msgid (or 5999 to fetch the answer, if the patient was in fact settled);
- gateway_only, a reversal: the gateway reversed, the HIS still holds the settlement: `5999` on the reversal's
  msgid, and record its answer;
- hospital_only, its msgid answered ok: the gateway did it, but it is not in the period any more (undone since,
  or booked another day): `5999`, what became of it;
- hospital_only, never done (never arrived, failed, outcome unknown: nothing happened at the gateway):
  `resend` the call under its msgid;
- amounts_differ: both have the record, not the same figures: `5999`, the gateway's answer is the record.

A settlement and its reversal both missing from the HIS's list cancel out and are not reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta

from gateway.canonical.answers import OneSided, ReconciliationAnswer, ReconTotals
from gateway.canonical.calls import CallContext, DetailReconciliation, ReconciliationLine, TotalReconciliation
from gateway.county.agency_port import ReconRow
from gateway.errors import InvalidValue
from gateway.money import ZERO
from gateway.service.deps import Deps, hospital_of

MAX_DAYS = 366
REPAIRS = {"2601": "冲正：以原报文ID发 2601（如该患者确已按此结算，改以 5999 取回应答补记）",
           "5999": "以原报文ID发 5999 查询处理结果，按其应答补记",
           "resend": "网关未办理：以原报文ID重发原交易"}
SIDES = {"gateway_only": "中心有、医院无", "hospital_only": "医院有、中心无", "amounts_differ": "双方都有，金额不符"}

# What the journal knows of a msgid of this hospital: (its infno, whether it ended ok at least once).
JournalLookup = Callable[[str], tuple[str, bool]]


def total(deps: Deps, ctx: CallContext, body: TotalReconciliation) -> ReconciliationAnswer:
    rows = _rows(deps, ctx, body.begndate, body.enddate, body.insutype, body.clr_type, body.setl_optins)
    if body.refd_setl_flag == "0":
        rows = [r for r in rows if r.record.kind == "settlement"]
    ours = totals_of(rows)
    theirs = ReconTotals(body.medfee_sumamt, body.fund_pay_sumamt, body.acct_pay, body.fixmedins_setl_cnt)
    differing = differing_totals(ours, theirs)
    return ReconciliationAnswer(setl_optins=body.setl_optins, agrees=not differing,
                                description=_describe(differing, ()), gateway=ours, hospital=theirs)


def detail(deps: Deps, ctx: CallContext, body: DetailReconciliation) -> ReconciliationAnswer:
    rows = _rows(deps, ctx, body.begndate, body.enddate, "", body.clr_type, body.setl_optins)
    listed = lines_totals(body.lines)
    if (listed.medfee_sumamt, listed.fund_pay_sumamt, listed.setl_cnt) != (
            body.medfee_sumamt, body.fund_pay_sumamt, body.fixmedins_setl_cnt):
        raise InvalidValue(f"明细合计（总额 {listed.medfee_sumamt}，基金 {listed.fund_pay_sumamt}，"
                           f"{listed.setl_cnt} 笔）与所报总账（{body.medfee_sumamt}，{body.fund_pay_sumamt}，"
                           f"{body.fixmedins_setl_cnt} 笔）不符",
                           field="input.data.medfee_sumamt")

    def journal(msgid: str) -> tuple[str, bool]:
        found = deps.store.journal_of_msgid(ctx.fixmedins_code, msgid) if msgid else []
        return (found[0].infno if found else ""), any(r.outcome == "ok" for r in found)

    differences = compare(rows, body.lines, journal)
    ours = totals_of(rows)
    return ReconciliationAnswer(setl_optins=body.setl_optins, agrees=not differences,
                                description=_describe(differing_totals(ours, listed), differences), gateway=ours,
                                hospital=listed, differences=differences, detail=True, file_qury_no=body.file_qury_no)


def _rows(deps: Deps, ctx: CallContext, begin: date, end: date, insutype: str, clr_type: str,
          setl_optins: str) -> list[ReconRow]:
    hospital_of(deps, ctx)
    if end < begin:
        raise InvalidValue("对账结束日期早于开始日期", field="input.data.stmt_enddate")
    if (end - begin).days >= MAX_DAYS:
        raise InvalidValue(f"对账期间超过 {MAX_DAYS} 天", field="input.data.stmt_enddate")
    since, until = datetime.combine(begin, time.min), datetime.combine(end + timedelta(days=1), time.min)
    return [row for row in deps.store.recon_rows(ctx.fixmedins_code, since, until)
            if (not insutype or row.insutype == insutype) and (not clr_type or clr_type_of(row.med_type) == clr_type)
            and (not setl_optins or row.setl_optins == setl_optins)]


def clr_type_of(med_type: str) -> str:
    """清算类别 of a stay: 11 门诊 for the outpatient 医疗类别 (11, 12, 14…), else 21 住院."""
    return "11" if med_type.startswith("1") else "21"


def _sign(row: ReconRow) -> int:
    return -1 if row.record.kind == "reversal" else 1


def row_totals(row: ReconRow) -> ReconTotals:
    figures, sign = row.record.figures, _sign(row)
    return ReconTotals(sign * figures.totals.medfee_sumamt, sign * figures.fund_pay_sumamt, ZERO, 1)


def line_totals(line: ReconciliationLine) -> ReconTotals:
    sign = -1 if line.refd_setl_flag == "1" else 1  # a HIS writes a reversal's amounts negative or not: its flag says
    return ReconTotals(sign * abs(line.medfee_sumamt), sign * abs(line.fund_pay_sumamt), sign * abs(line.acct_pay), 1)


def _sum(items: Sequence[ReconTotals]) -> ReconTotals:
    return ReconTotals(sum((t.medfee_sumamt for t in items), ZERO), sum((t.fund_pay_sumamt for t in items), ZERO),
                       sum((t.acct_pay for t in items), ZERO), sum(t.setl_cnt for t in items))


def totals_of(rows: Sequence[ReconRow]) -> ReconTotals:
    return _sum([row_totals(r) for r in rows])


def lines_totals(lines: Sequence[ReconciliationLine]) -> ReconTotals:
    return _sum([line_totals(line) for line in lines])


def differing_totals(ours: ReconTotals, theirs: ReconTotals) -> list[str]:
    names = (("医疗费总额", "medfee_sumamt"), ("基金支付总额", "fund_pay_sumamt"), ("个人账户支付", "acct_pay"),
             ("结算笔数", "setl_cnt"))
    return [f"{title} 医院 {getattr(theirs, key)} / 中心 {getattr(ours, key)}" for title, key in names
            if getattr(theirs, key) != getattr(ours, key)]


def compare(rows: Sequence[ReconRow], lines: Sequence[ReconciliationLine], journal: JournalLookup
            ) -> tuple[OneSided, ...]:
    """Every record on one side only, or with other figures, each with its repair. Pure (journal: a lookup)."""
    by_setl = {r.record.setl_id: r for r in rows}
    by_msgid = {r.record.msgid: r for r in rows}
    matched: set[str] = set()
    found: list[OneSided] = []
    for line in lines:
        row = by_setl.get(line.setl_id) if line.setl_id else None
        row = row if row is not None or not line.msgid else by_msgid.get(line.msgid)
        if row is None or row.record.setl_id in matched:
            infno, done = journal(line.msgid)
            found.append(OneSided("hospital_only", line.setl_id, line.msgid, infno, line.refd_setl_flag, line.psn_no,
                                  line.mdtrt_id, line.medins_setl_id, "5999" if done else "resend", None,
                                  line_totals(line)))
            continue
        matched.add(row.record.setl_id)
        ours, theirs = row_totals(row), line_totals(line)
        if (ours.medfee_sumamt, ours.fund_pay_sumamt, ours.acct_pay) != (
                theirs.medfee_sumamt, theirs.fund_pay_sumamt, theirs.acct_pay):
            found.append(_gateway_side(row, "amounts_differ", "5999", journal, theirs))
    unmatched = [r for r in rows if r.record.setl_id not in matched]
    reversed_ids = {r.record.reverses for r in unmatched if r.record.kind == "reversal"}
    for row in unmatched:
        record = row.record
        if record.setl_id in reversed_ids or (record.kind == "reversal" and any(
                r.record.setl_id == record.reverses for r in unmatched)):
            continue  # a settlement and its reversal, both unknown to the HIS: they cancel out
        found.append(_gateway_side(row, "gateway_only", "2601" if record.kind == "settlement" else "5999", journal,
                                   None))
    return tuple(found)


def _gateway_side(row: ReconRow, side: str, repair: str, journal: JournalLookup,
                  theirs: ReconTotals | None) -> OneSided:
    record = row.record
    infno = journal(record.msgid)[0] or ("2304" if record.kind == "settlement" else "2305")
    return OneSided(side, record.setl_id, record.msgid, infno, "1" if record.kind == "reversal" else "0",
                    record.psn_no, record.mdtrt_id, record.medins_setl_id, repair, row_totals(row), theirs)


def _describe(differing: list[str], differences: Sequence[OneSided]) -> str:
    if not differing and not differences:
        return "平：双方一致"
    parts = list(differing)
    if differences:
        parts.append("；".join(f"{SIDES[d.side]} {d.setl_id or d.msgid}（{d.repair}）" for d in differences))
    return "不平：" + "；".join(parts)
