"""附件5 《湖南省城乡居民"一站式"就医结算统计表》: a pure function of ledger rows.

One row per 统筹区 (the person's insurance area) and a 合计 row; each row has a 县域内 and a 县域外 side
(the stay's in_county flag) with 结算人数, 医疗总费用, 报销总金额 and, per fund, 报销人次 and 报销金额 —
the seed's 35 numbered columns (column 1 is the 统筹区).

How the ledger is counted, so that any figure can be recomputed from settlements and reversals:
- A settlement counts in the period of its own setl_time; a reversal (2305, or 2601 of a 2304) counts,
  negated, in the period of the reversal. Over any run of periods the sums are those of the settlements
  still valid at its end.
- 报销人次 of a fund: settlements in which that fund paid more than 0, less reversals of such settlements.
- 报销总金额: what every fund paid, hospital reduction included (= 医疗总费用 − the patients' own part).
- 结算人数: persons whose settlements in the period outnumber their reversals in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.store.records import LedgerRow

TOTAL_AREA = "合计"
WAN = Decimal(10000)
WAN_PLACES = Decimal("0.000001")  # 万元 to the fen: the table never rounds a figure away


@dataclass(frozen=True, slots=True)
class FundColumn:
    key: str
    title: str
    fund_codes: frozenset[str]  # empty: every fund no other column claims


# The seed's order. Employees' funds fall into the resident columns they correspond to.
FUND_COLUMNS: tuple[FundColumn, ...] = (
    FundColumn("basic", "基本医保", frozenset({"390100", "310100"})),
    FundColumn("critical", "大病保险", frozenset({"390200", "330100"})),
    FundColumn("poverty_insurance", "扶贫特惠保", frozenset({"620100"})),
    FundColumn("assistance", "医疗救助", frozenset({"610100"})),
    FundColumn("hospital_reduction", "医院减免", frozenset({"630100"})),
    FundColumn("backstop", "政府兜底", frozenset({"640100"})),
    FundColumn("other", "其它", frozenset()),
)
_COLUMN_OF_FUND = {code: index for index, column in enumerate(FUND_COLUMNS) for code in column.fund_codes}
_OTHER = len(FUND_COLUMNS) - 1


def fund_column(fund_pay_type: str) -> int:
    """Index into FUND_COLUMNS of the column a fund's payments are reported in."""
    return _COLUMN_OF_FUND.get(fund_pay_type, _OTHER)


@dataclass(frozen=True, slots=True)
class FundFigures:
    times: int  # 报销人次
    amount: Decimal  # 报销金额, yuan


@dataclass(frozen=True, slots=True)
class Side:
    """县域内 or 县域外 of one row."""

    persons: int  # 结算人数
    medfee: Decimal  # 医疗总费用, yuan
    reimbursed: Decimal  # 报销总金额, yuan
    funds: tuple[FundFigures, ...]  # one per FUND_COLUMNS entry


@dataclass(frozen=True, slots=True)
class Annex5Row:
    area: str  # 统筹区 code, or TOTAL_AREA
    in_county: Side
    out_of_county: Side


@dataclass(frozen=True, slots=True)
class Annex5:
    since: date
    until: date  # inclusive
    rows: tuple[Annex5Row, ...]  # one per 统筹区, by code
    total: Annex5Row


class _Tally:
    def __init__(self) -> None:
        self.net_by_person: dict[str, int] = defaultdict(int)
        self.medfee = Decimal(0)
        self.times = [0] * len(FUND_COLUMNS)
        self.amounts = [Decimal(0)] * len(FUND_COLUMNS)

    def add(self, row: LedgerRow) -> None:
        figures = row.record.figures
        self.net_by_person[row.record.psn_no] += row.sign
        self.medfee += row.sign * figures.totals.medfee_sumamt
        paid = [Decimal(0)] * len(FUND_COLUMNS)
        for payment in figures.payments:
            paid[fund_column(payment.fund_pay_type)] += payment.fund_payamt
        for index, amount in enumerate(paid):
            if amount > 0:
                self.times[index] += row.sign
                self.amounts[index] += row.sign * amount

    def side(self) -> Side:
        return Side(
            persons=sum(1 for net in self.net_by_person.values() if net > 0), medfee=self.medfee,
            reimbursed=sum(self.amounts, Decimal(0)),
            funds=tuple(FundFigures(t, a) for t, a in zip(self.times, self.amounts, strict=True)),
        )


def annex5(ledger: Iterable[LedgerRow], since: date, until: date) -> Annex5:
    """The table of the ledger rows given (the caller reads those booked from `since` to `until`)."""
    tallies: dict[tuple[str, bool], _Tally] = defaultdict(_Tally)
    for row in ledger:
        tallies[(row.insuplc_admdvs, row.in_county)].add(row)
        tallies[(TOTAL_AREA, row.in_county)].add(row)

    def row_of(area: str) -> Annex5Row:
        return Annex5Row(area, tallies[(area, True)].side(), tallies[(area, False)].side())

    areas = sorted({area for area, _side in tallies} - {TOTAL_AREA})
    return Annex5(since, until, tuple(row_of(area) for area in areas), row_of(TOTAL_AREA))


def in_wan(amount: Decimal) -> Decimal:
    """Yuan in 万元, the table's unit, exact to the fen."""
    return (amount / WAN).quantize(WAN_PLACES)


def side_columns(side: Side, *, wan: bool = True) -> list[int | Decimal]:
    """The 17 numbered columns of one side, in the seed's order (amounts in 万元 unless wan=False)."""
    money = in_wan if wan else (lambda amount: amount)
    values: list[int | Decimal] = [side.persons, money(side.medfee), money(side.reimbursed)]
    for fund in side.funds:
        values += [fund.times, money(fund.amount)]
    return values


def numbered_columns(row: Annex5Row, *, wan: bool = True) -> list[str | int | Decimal]:
    """Columns 1–35 of a row: 统筹区, then 县域内 (2–18), then 县域外 (19–35)."""
    return [row.area, *side_columns(row.in_county, wan=wan), *side_columns(row.out_of_county, wan=wan)]


def column_titles() -> list[str]:
    """A one-line title for each of the 35 columns, e.g. 县域内·基本医保·报销人次."""
    titles = ["统筹区"]
    for side in ("县域内", "县域外"):
        titles += [f"{side}·结算人数", f"{side}·医疗总费用", f"{side}·报销总金额"]
        for column in FUND_COLUMNS:
            titles += [f"{side}·{column.title}·报销人次", f"{side}·{column.title}·报销金额"]
    return titles
