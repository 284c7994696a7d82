"""Heyuan's money for the one-stop funds (河源 医疗救助“一站式”结算实施细则 五(二)3-4), pure over ledger rows:

- the medical-assistance prepayment (医疗救助预付款): 25% of last year's actual assistance spending, worked out in
  January per 统筹区; at year end what is left of it is carried to the next year and reduces that year's transfer;
- the 扶贫保险 clearing account (理赔清算专账): a float of 250,000 yuan put in by the insurer; each month's payments
  draw on it, and within 10 working days of the month's close the insurer tops it up to the float again.

Working days here are Monday to Friday; the county's holiday calendar is not known to the gateway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from gateway.money import ZERO, fen
from gateway.store.records import LedgerRow

ASSISTANCE_FUND = "610100"
POVERTY_FUND = "620100"
PREPAYMENT_SHARE = Decimal("0.25")
CLEARING_FLOAT = Decimal("250000")
TOPUP_WORKING_DAYS = 10


@dataclass(frozen=True, slots=True)
class Prepayment:
    insuplc_admdvs: str
    last_year_actual: Decimal  # what assistance really paid last year (settlements less standing reversals)
    prepayment: Decimal  # 25% of it, to the agency's account in January
    carried: Decimal  # last year's year-end balance, reducing this year's transfer
    transfer: Decimal  # prepayment − carried, never below 0
    this_year_actual: Decimal  # spent so far this year
    balance: Decimal  # prepayment − this year's spending: carried forward at year end (negative: a shortfall)


@dataclass(frozen=True, slots=True)
class ClearingMonth:
    month: str  # YYYY-MM
    drawn: Decimal  # the 扶贫保险 payments of the month
    balance_at_close: Decimal  # the float less what was drawn
    topup: Decimal  # what the insurer puts back
    topup_due: date  # 10 working days after the month's close


def fund_paid(rows: Iterable[LedgerRow], code: str) -> dict[str, Decimal]:
    """Per 统筹区: what the fund paid in these rows, reversals netted."""
    paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        for payment in row.record.figures.payments:
            if payment.fund_pay_type == code:
                paid[row.insuplc_admdvs] += row.sign * payment.fund_payamt
    return dict(paid)


def prepayments(before_last: Iterable[LedgerRow], last_year: Iterable[LedgerRow],
                this_year: Iterable[LedgerRow]) -> list[Prepayment]:
    """This year's prepayment per 统筹区, from the ledger of the last three years: the year before last gives last
    year's prepayment, whose balance at last year's end is carried into this one."""
    older, last, now = (fund_paid(rows, ASSISTANCE_FUND) for rows in (before_last, last_year, this_year))
    result = []
    for area in sorted(set(older) | set(last) | set(now)):
        carried = fen(older.get(area, ZERO) * PREPAYMENT_SHARE) - last.get(area, ZERO)
        carried = max(carried, ZERO)  # a shortfall is made good by the fund, not carried as a debt
        prepayment = fen(last.get(area, ZERO) * PREPAYMENT_SHARE)
        spent = now.get(area, ZERO)
        result.append(Prepayment(area, last.get(area, ZERO), prepayment, carried, max(ZERO, prepayment - carried),
                                 spent, prepayment - spent))
    return result


def working_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def clearing_months(rows: Iterable[LedgerRow], year: int, until: date) -> list[ClearingMonth]:
    """The clearing account month by month, for every month of `year` that has closed by `until`."""
    drawn: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        for payment in row.record.figures.payments:
            if payment.fund_pay_type == POVERTY_FUND and row.record.setl_time.year == year:
                drawn[row.record.setl_time.month] += row.sign * payment.fund_payamt
    months = []
    for month in range(1, 13):
        close = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))
        if close >= until:
            break
        used = drawn.get(month, ZERO)
        months.append(ClearingMonth(f"{year}-{month:02d}", used, CLEARING_FLOAT - used, max(used, ZERO),
                                    working_days_after(close, TOPUP_WORKING_DAYS)))
    return months
