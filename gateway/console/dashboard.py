"""The dashboard's figures, pure functions of journal and ledger rows: per dialect and trade, calls, errors by HG
code and latency percentiles over a window; what to do about each exchange whose outcome is unknown (单边账
candidates); refusals by HG code; and settlements and money per day and per fund, with the chart's bars.

Percentiles are nearest-rank over the answered rows' `ms` (the journal's own timing), so a reader can recompute
any figure from `hisgw journal` output."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from gateway.errortable import error_classes
from gateway.store.records import LedgerRow

WINDOWS = {"15m": ("最近15分钟", 15), "1h": ("最近1小时", 60), "24h": ("最近24小时", 1440)}
MAX_ROWS = 200_000  # a window's rows read at most (newest first): the page stays quick on a busy day

# infno → what an operator does with an exchange that has no committed outcome (an attempt the gateway wrote
# before running it, then crashed or lost its store). The call's effects were rolled back with its batch.
UNKNOWN_ADVICE = {
    "2304": "结算未落账：请医院用同一 msgid 重发 2304（幂等，不会重复结算），或用 5999 查询该 msgid；"
            "如 HIS 已按成功处理，须与医院核对后重新结算（单边账）",
    "2305": "撤销未落账：结算仍有效。请医院用同一 msgid 重发 2305，或 5203 查询结算状态后再处理",
    "2601": "冲正未落账：原交易仍有效。请医院重发 2601 或 5999 查询原 msgid",
    "2401": "入院未落账：请医院重发 2401（同一 msgid），或 5999 查询后重新办理入院",
    "2301": "费用明细未落账：请医院重新上传（同一 msgid 幂等）",
}
DEFAULT_ADVICE = "未提交结果：调用的效果已随批次回滚。请医院用同一 msgid 重发，或用 5999 查询该 msgid"


def listener_figures(sample: Callable[[str, dict[str, str]], float | None]) -> list[dict[str, Any]]:
    """Per listener, since the gateway started, from its own /metrics registry (`registry.get_sample_value`):
    connections accepted, open now, refused over the cap or the memory budget."""
    rows = []
    for listener in ("http", "dll", "hl7"):
        labels = {"listener": listener}
        rows.append({"listener": listener,
                     "accepted": int(sample("hisgw_listener_connections_total", labels) or 0),
                     "open": int(sample("hisgw_listener_open_connections", labels) or 0),
                     "refused": int(sample("hisgw_listener_refusals_total", labels) or 0)})
    return rows


def advice(infno: str) -> str:
    return UNKNOWN_ADVICE.get(infno, DEFAULT_ADVICE)


@dataclass
class TradeFigures:
    dialect: str
    infno: str
    calls: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    unknown: int = 0
    p50: float | None = None
    p99: float | None = None

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(rows: Iterable[tuple[str, str, str, str, str, float | None]]) -> list[TradeFigures]:
    """rows: (dialect, infno, outcome, err_code, fixmedins_code, ms) as the store's journal_window gives."""
    by_trade: dict[tuple[str, str], TradeFigures] = {}
    timings: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    for dialect, infno, outcome, err_code, _hospital, ms in rows:
        key = (dialect, infno)
        entry = by_trade.setdefault(key, TradeFigures(dialect, infno))
        entry.calls += 1
        if outcome == "unknown":
            entry.unknown += 1
        elif err_code:
            entry.errors[err_code] += 1
        if ms is not None:
            timings[key].append(ms)
    for key, entry in by_trade.items():
        entry.p50, entry.p99 = percentile(timings[key], 0.50), percentile(timings[key], 0.99)
    return sorted(by_trade.values(), key=lambda f: (f.dialect, f.infno))


# ---- money per day and per fund, from the ledger ---------------------------------------------------------------

DAYS = 14  # the chart's days, ending today
CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM, CHART_LEFT = 720, 260, 16, 40, 80
CHART = {"width": CHART_WIDTH, "height": CHART_HEIGHT, "top": CHART_TOP, "bottom": CHART_BOTTOM, "left": CHART_LEFT}
PALETTE = ("#1f4e79", "#2e75b6", "#9dc3e6", "#c55a11", "#f4b183", "#548235", "#a9d18e", "#7030a0", "#bfbfbf")


@dataclass(frozen=True, slots=True)
class Day:
    on: date
    settlements: int  # settlements made that day (a later reversal does not unmake them)
    reversals: int  # reversals that stand, made that day
    funds: Mapping[str, Decimal]  # fund code → net amount that day: settlements less reversals


@dataclass(frozen=True, slots=True)
class Bar:
    on: date
    fund: str
    amount: Decimal
    x: float
    y: float
    width: float
    height: float
    color: str


def daily(rows: Iterable[LedgerRow], first: date, last: date) -> list[Day]:
    """Per day from `first` through `last`: settlements, reversals and Σ sign × fund_payamt per fund code."""
    counted: dict[date, list[int]] = {first + timedelta(days=n): [0, 0] for n in range((last - first).days + 1)}
    money: dict[date, dict[str, Decimal]] = {on: {} for on in counted}
    for row in rows:
        on = row.record.setl_time.date()
        if on not in counted:
            continue
        counted[on][0 if row.sign > 0 else 1] += 1
        for payment in row.record.figures.payments:
            money[on][payment.fund_pay_type] = (money[on].get(payment.fund_pay_type, Decimal("0.00"))
                                                + row.sign * payment.fund_payamt)
    return [Day(on, s, r, dict(sorted(money[on].items()))) for on, (s, r) in counted.items()]


def fund_totals(days: Sequence[Day]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for day in days:
        for code, amount in day.funds.items():
            totals[code] = totals.get(code, Decimal("0.00")) + amount
    return dict(sorted(totals.items()))


def bars(days: Sequence[Day]) -> tuple[list[Bar], Decimal]:
    """Stacked bars, one column a day, one block per fund (positive net amounts), scaled to the largest day;
    and that day's total (the axis' top)."""
    codes = list(fund_totals(days))
    colors = {code: PALETTE[n % len(PALETTE)] for n, code in enumerate(codes)}
    top = max((sum((a for a in day.funds.values() if a > 0), Decimal(0)) for day in days), default=Decimal(0))
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    step = (CHART_WIDTH - CHART_LEFT) / max(len(days), 1)
    out: list[Bar] = []
    for n, day in enumerate(days):
        base = float(CHART_HEIGHT - CHART_BOTTOM)
        for code in codes:
            amount = day.funds.get(code, Decimal(0))
            if amount <= 0 or top <= 0:
                continue
            height = float(amount / top) * plot
            base -= height
            out.append(Bar(day.on, code, amount, CHART_LEFT + n * step + step * 0.15, round(base, 2), step * 0.7,
                           round(height, 2), colors[code]))
    return out, top


def refusals(rows: Iterable[tuple[str, str, str, str, str, float | None]]) -> list[tuple[str, str, int]]:
    """(HG code, its title, calls answered with it) over the window's rows, most first."""
    titles = {cls.code: cls.title for cls in error_classes()}
    counted = Counter(err_code for _d, _i, outcome, err_code, _h, _ms in rows if outcome == "error" and err_code)
    return [(code, titles.get(code, ""), n) for code, n in sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))]
