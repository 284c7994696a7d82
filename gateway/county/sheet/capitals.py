"""Amounts in Chinese capitals (大写金额) with cn2an's rmb mode: 15172.50 → 壹万伍仟壹佰柒拾贰元伍角, 0 → 零元整.

cn2an writes 整 after 元 when there are no 角 and 分, leaves it out after 角 and never writes it after 分; a 0
in the 元 place before non-zero 分 is written 零 (10.01 → 壹拾元零壹分); an amount under one yuan starts at its
角 or 分 (0.50 → 伍角). That is the financial convention of DOMAIN.md ("Amounts in Chinese capitals").
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from gateway.money import fen


@cache
def _converter() -> Any:
    import cn2an  # half a second to import: only when a sheet is first made

    return cn2an


def capitals(amount: Decimal) -> str:
    """The amount rounded to the fen, in capitals; a negative amount (never on a sheet) starts with 负."""
    text = format(fen(amount), "f")
    return str(_converter().an2cn(text, "rmb"))
