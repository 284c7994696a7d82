"""The dashboard's figures, a pure function of journal rows: per dialect and trade, calls, errors by HG code and
latency percentiles over a window; and what to do about each exchange whose outcome is unknown (单边账 candidates).

Percentiles are nearest-rank over the answered rows' `ms` (the journal's own timing), so a reader can recompute
any figure from `hisgw journal` output."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
