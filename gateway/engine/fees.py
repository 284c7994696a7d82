"""Fee classification: what part of a fee line is covered, by catalogue class (甲/乙/丙)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from gateway.canonical.refdata import CLASS_A, CLASS_B, CLASS_C
from gateway.money import ZERO, fen


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """The national per-line split of det_item_fee_sumamt (2301 output)."""

    det_item_fee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal  # 全自费: the whole of a 丙 line
    preselfpay_amt: Decimal  # 先行自付: round(amount × selfpay_prop) of a 乙 line
    inscp_scp_amt: Decimal  # 符合政策范围: the rest
    overlmt_amt: Decimal = ZERO  # 超限价: no price caps in the catalogue yet


def classify_line(amount: Decimal, chrgitm_lv: str, selfpay_prop: Decimal) -> LineAmounts:
    """Split one line. Refund lines (negative amounts) split the same way, so they cancel exactly."""
    if chrgitm_lv == CLASS_C:
        return LineAmounts(amount, amount, ZERO, ZERO)
    if chrgitm_lv == CLASS_B:
        preselfpay = fen(amount * selfpay_prop)
        return LineAmounts(amount, ZERO, preselfpay, amount - preselfpay)
    if chrgitm_lv == CLASS_A:
        return LineAmounts(amount, ZERO, ZERO, amount)
    raise ValueError(f"unknown catalogue class {chrgitm_lv!r}")


@dataclass(frozen=True, slots=True)
class FeeTotals:
    """Per-stay sums; inscp_scp_amt = medfee_sumamt − fulamt_ownpay_amt − overlmt_selfpay − preselfpay_amt."""

    medfee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_selfpay: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal

    @classmethod
    def of(cls, lines: Iterable[LineAmounts]) -> FeeTotals:
        total = fulamt = overlmt = preselfpay = inscp = ZERO
        for line in lines:
            total += line.det_item_fee_sumamt
            fulamt += line.fulamt_ownpay_amt
            overlmt += line.overlmt_amt
            preselfpay += line.preselfpay_amt
            inscp += line.inscp_scp_amt
        return cls(total, fulamt, overlmt, preselfpay, inscp)
