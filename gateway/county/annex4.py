"""附件4 《湖南省城乡居民"一站式"结算资金收支财务清算表》: a pure function of the ledger and the special account.

Three rows for a period (inside one calendar year): 本次合计 (the period), 上次累计 (1 January to the day before
the period) and 本年度累计 (1 January to the period's last day), so 上次累计 + 本次合计 = 本年度累计 in every cell.

- Income (一站式专户资金收入): receipts of the account by value date — 专户资金 (基本医保基金, 保险公司, 民政,
  财政), 上年资金利息分割, 上年结转资金, and their 合计 (gateway/county/account.py SOURCES).
- Spending (结算资金支出) from the ledger, counted as 附件5 counts it: a settlement in the period of its booking,
  a standing reversal negated in the period it was made. 医疗总费用 = Σ medfee_sumamt; 结算人次 = settlements −
  reversals; 结算费用 = what the funds paid through the account (fund_pay_sumamt), the money it owes the
  hospitals and, for the agency window's settlements, the patients.
- 附件4 clears the one-stop account (统收统付): only money that goes through 专户 is spending. An agency-window
  settlement with basic settled elsewhere (`basic_settled`) counts its whole stay in 医疗总费用 and once in
  结算人次, but its basic (paid by the out-of-county hospital) is neither in 结算费用 nor in 基本医疗保险's
  报销人次/报销金额; a `self_paid` one counts every fund, as the gateway settled all of them. Why so, from the seed's
  layout: 结算费用 and the 一站式费用构成 columns under it are money (what 专户 pays, set against its income for the
  结余), while 医疗总费用 and 结算人次 describe the one-stop settlements made here — the window did settle that stay,
  as 附件5 counts it — so the stay is counted whole and once, and only the money paid elsewhere is left out.
- 一站式费用构成, per department, 报销人次 (settlements in which the department paid more than 0, less such
  reversals) and 报销金额: 基本医疗保险 (390100, 310100); 保险公司 大病 (390200, 330100) and 特惠保 (620100);
  民政 医疗救助 (610100) and 其它补助 (every other 61xxxx fund); 财政 (640100); 其它 (every fund not named);
  医院减免 (630100: the hospital's own, shown, not paid from the account and not in 结算费用).
- 本年度结算资金累计结余 = income 合计 − 结算费用 of the row (on the 本年度累计 row: the year's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from gateway.county.account import SOURCES
from gateway.county.claim_records import AccountEntry
from gateway.county.claims import paid_elsewhere
from gateway.store.records import LedgerRow

ROW_TITLES = ("本次合计", "上次累计", "本年度累计")

# department column -> (title, fund codes); civil_other and other are the rest (see fund_group)
GROUPS: dict[str, tuple[str, frozenset[str]]] = {
    "basic": ("基本医疗保险", frozenset({"390100", "310100"})),
    "critical": ("大病", frozenset({"390200", "330100"})),
    "poverty": ("特惠保", frozenset({"620100"})),
    "assistance": ("民政医疗救助", frozenset({"610100"})),
    "civil_other": ("其它补助", frozenset()),
    "fiscal": ("财政", frozenset({"640100"})),
    "other": ("其它", frozenset()),
    "hospital": ("医院减免", frozenset({"630100"})),
}
_OF_CODE = {code: key for key, (_t, codes) in GROUPS.items() for code in codes}


def fund_group(code: str) -> str:
    return _OF_CODE.get(code) or ("civil_other" if code.startswith("61") else "other")


# every cell of a row, in the printed order: (key, group title, column title)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("account_funds", "一站式专户资金收入", "一站式专户资金"),
    ("prior_interest", "一站式专户资金收入", "上年资金利息分割"),
    ("prior_carryover", "一站式专户资金收入", "上年结转资金"),
    ("income_total", "一站式专户资金收入", "合计"),
    ("medfee", "结算资金支出", "医疗总费用"),
    ("settlements", "结算资金支出", "结算人次"),
    ("settled", "结算资金支出", "结算费用"),
    ("basic_times", "基本医疗保险", "报销人次"),
    ("basic_amount", "基本医疗保险", "报销金额"),
    ("insurer_subtotal", "保险公司", "小计"),
    ("critical_times", "保险公司", "大病报销人次"),
    ("critical_amount", "保险公司", "大病报销金额"),
    ("poverty_times", "保险公司", "特惠保报销人次"),
    ("poverty_amount", "保险公司", "特惠保报销金额"),
    ("civil_subtotal", "民政", "小计"),
    ("assistance_times", "民政", "医疗救助人次"),
    ("assistance_amount", "民政", "民政医疗救助金额"),
    ("civil_other_times", "民政", "其它补助人次"),
    ("civil_other_amount", "民政", "其它补助金额"),
    ("fiscal_times", "财政", "报销人次"),
    ("fiscal_amount", "财政", "报销金额"),
    ("other_times", "其它", "报销人次"),
    ("other_amount", "其它", "报销金额"),
    ("hospital_times", "医院减免", "减免人次"),
    ("hospital_amount", "医院减免", "医院减免金额"),
    ("balance", "本年度结算资金累计结余", "结余"),
)
COUNTS = frozenset(k for k, _g, _t in COLUMNS if k.endswith("_times") or k == "settlements")


@dataclass(frozen=True, slots=True)
class Annex4Row:
    title: str
    since: date
    until: date  # inclusive; a 上次累计 of a period starting 1 January is empty (until < since)
    cells: dict[str, int | Decimal]  # every COLUMNS key


@dataclass(frozen=True, slots=True)
class Annex4:
    since: date
    until: date
    rows: tuple[Annex4Row, Annex4Row, Annex4Row]


def _row(title: str, since: date, until: date, ledger: list[LedgerRow], entries: list[AccountEntry]) -> Annex4Row:
    start, end = datetime.combine(since, time.min), datetime.combine(until + timedelta(days=1), time.min)
    money: dict[str, Decimal] = {k: Decimal(0) for k, _g, _t in COLUMNS if k not in COUNTS}
    counts: dict[str, int] = {k: 0 for k in COUNTS}
    for entry in entries:
        if entry.kind == "receipt" and since <= entry.on_date <= until:
            money[SOURCES[entry.source][1]] += entry.amount
    for row in ledger:
        if not start <= row.record.setl_time < end:
            continue
        figures, sign = row.record.figures, row.sign
        counts["settlements"] += sign
        money["medfee"] += sign * figures.totals.medfee_sumamt
        paid: dict[str, Decimal] = {key: Decimal(0) for key in GROUPS}
        for payment in figures.payments:
            if paid_elsewhere(payment, row.agency):
                continue  # basic paid by the out-of-county hospital: never in this account
            paid[fund_group(payment.fund_pay_type)] += payment.fund_payamt
            if payment.counts_as_fund:
                money["settled"] += sign * payment.fund_payamt
        for key, amount in paid.items():
            if amount > 0:
                counts[f"{key}_times"] += sign
                money[f"{key}_amount"] += sign * amount
    money["income_total"] = money["account_funds"] + money["prior_interest"] + money["prior_carryover"]
    money["insurer_subtotal"] = money["critical_amount"] + money["poverty_amount"]
    money["civil_subtotal"] = money["assistance_amount"] + money["civil_other_amount"]
    money["balance"] = money["income_total"] - money["settled"]
    cells: dict[str, int | Decimal] = {k: counts[k] if k in COUNTS else money[k] for k, _g, _t in COLUMNS}
    return Annex4Row(title, since, until, cells)


def annex4(ledger: Iterable[LedgerRow], entries: Iterable[AccountEntry], since: date, until: date) -> Annex4:
    """The table for [since, until]; `ledger` and `entries` must cover 1 January of that year to `until`."""
    if since.year != until.year or until < since:
        raise ValueError("清算期间须在同一年度内")
    rows, kept = list(ledger), list(entries)
    first = date(since.year, 1, 1)
    return Annex4(since, until, (_row(ROW_TITLES[0], since, until, rows, kept),
                                 _row(ROW_TITLES[1], first, since - timedelta(days=1), rows, kept),
                                 _row(ROW_TITLES[2], first, until, rows, kept)))
