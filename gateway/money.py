"""Money is Decimal yuan, rounded to the fen with ROUND_HALF_UP where it is computed."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
ZERO = Decimal("0.00")

# Largest amount a single message may carry: far above any real inpatient bill, far below overflow.
MAX_AMOUNT = Decimal("9999999999.99")


def fen(value: Decimal) -> Decimal:
    """Round to the fen, half up (the rule every notice uses)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def to_fen_int(value: Decimal) -> int:
    """Exact integer fen for storage; the value must already be at fen precision."""
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not a whole number of fen")
    return int(scaled)


def from_fen_int(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(FEN)


def parse_decimal(raw: object, *, places: int, allow_negative: bool = False) -> Decimal:
    """Parse a wire value (JSON number already read as Decimal, int or string) into a finite Decimal.

    Refuses NaN, infinities, floats (they have already lost precision), more decimal places than the
    field allows and absurd magnitudes. Raises ValueError with a reason for the caller to wrap.
    """
    if isinstance(raw, bool) or raw is None:
        raise ValueError("不是数值")
    if isinstance(raw, float):
        raise ValueError("数值精度已丢失，请以定点数发送")
    if isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise ValueError("数值为空")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ValueError(f"不是合法数值: {text[:32]!r}") from exc
    else:
        raise ValueError("不是数值")
    if not value.is_finite():
        raise ValueError("数值不能为 NaN 或无穷")
    # copy_abs, never abs(): abs() rounds to the context and raises Overflow on 1e999999999. Nothing below
    # applies the context before the magnitude is known to be sane.
    if value.copy_abs() > MAX_AMOUNT:
        raise ValueError("数值超出范围")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite values have an int exponent
    if -exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"小数位数超过 {places} 位")
    if value < 0 and not allow_negative:
        raise ValueError("数值不能为负")
    if value.is_zero():  # -0 is 0, and 0E-999999999 is 0 at the field's places
        value = Decimal(0).scaleb(-min(places, max(-exponent, 0)))
    return value
