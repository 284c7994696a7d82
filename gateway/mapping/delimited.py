"""Delimited-string dialects (Neusoft-style `^`/`|`): vendor bytes ⇄ the national document. Sans I/O."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.errors import GatewayError, InternalError, InvalidValue, MalformedMessage, UnknownTransaction
from gateway.mapping import paths
from gateway.mapping.model import Dialect, Rows, Trade

TRADE_FIELD = "trade"  # the request envelope field that carries the vendor's trade code
PARAMS_FIELD = "params"  # the request envelope field that carries the parameters
_serial = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One vendor request, understood: its envelope as sent, its trade, and the national document."""

    dialect: Dialect
    envelope: dict[str, str]
    trade: Trade
    document: dict[str, Any]


def read_request(dialect: Dialect, raw: bytes) -> Inbound:
    try:
        text = raw.decode(dialect.encoding)
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"入参不是 {dialect.encoding} 编码（第 {exc.start} 字节）") from exc
    framing = dialect.framing
    parts = text.split(framing.field)
    if framing.trailing and parts and parts[-1] == "":
        parts.pop()  # the vendor convention ends every field with the separator
    names = dialect.request_envelope
    if names and names[-1] == PARAMS_FIELD and len(parts) > len(names):
        # parameters last, with the envelope's own separator (|-only dialects): they take the rest
        parts = [*parts[:len(names) - 1], framing.field.join(parts[len(names) - 1:])]
    if len(parts) != len(names):
        expected = f"{len(names)} 段（{framing.field} 分隔: {'、'.join(names)}）"
        raise MalformedMessage(f"入参应有 {expected}，实为 {len(parts)} 段")
    envelope = dict(zip(names, parts, strict=True))
    code = envelope.get(TRADE_FIELD, "").strip()
    trade = dialect.trades.get(code)
    if trade is None:
        raise UnknownTransaction(f"业务编号 {code[:16]!r}", field=TRADE_FIELD)
    document: dict[str, Any] = {"infno": trade.infno, "input": {}}
    for key, name in dialect.context.items():
        document[key] = envelope[name].strip()
    params = envelope.get(PARAMS_FIELD, "")
    if trade.rows is not None:
        paths.put(document, trade.rows.path, _request_rows(trade.rows, params, framing.row, framing.request_column))
    else:
        values = params.split(framing.param) if params else []
        if values and values[-1] == "" and len(values) == len(trade.params) + 1:
            values.pop()
        if len(values) > len(trade.params):
            raise InvalidValue(f"入参有 {len(values)} 项，业务 {code} 只接受 {len(trade.params)} 项",
                               field=PARAMS_FIELD)
        for position, field in enumerate(trade.params):
            value = field.request_value(values[position] if position < len(values) else "")
            if value is not None:
                paths.put(document, field.path, value)
    for field in trade.from_envelope:
        value = field.request_value("" if field.source == "const" else envelope[field.source])
        if value is not None:
            paths.put(document, field.path, value)
    return Inbound(dialect, envelope, trade, document)


def _request_rows(rows: Rows, text: str, row_separator: str, column_separator: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for line in (chunk for chunk in text.split(row_separator) if chunk.strip()):
        values = line.split(column_separator)
        if len(values) > len(rows.columns):
            raise InvalidValue(f"第 {len(result) + 1} 条明细有 {len(values)} 列，应为 {len(rows.columns)} 列",
                               field=PARAMS_FIELD)
        row: dict[str, Any] = {}
        for position, field in enumerate(rows.columns):
            value = field.request_value(values[position] if position < len(values) else "")
            if value is not None:
                paths.put(row, field.path, value)
        result.append(row)
    return result


def write_answer(inbound: Inbound, output: dict[str, Any]) -> bytes:
    """The vendor's answer for a success, from the national `output`."""
    dialect, trade, framing = inbound.dialect, inbound.trade, inbound.dialect.framing
    document = {"output": output}
    if trade.answer_rows is not None:
        rows = paths.get(document, trade.answer_rows.path) or []
        text = framing.row.join(framing.column.join(column.answer_text(row) for column in trade.answer_rows.columns)
                                for row in rows)
    else:
        text = framing.param.join(field.answer_text(document) for field in trade.answer)
    return _envelope(dialect, inbound.envelope, text).encode(dialect.encoding, errors="replace")


def write_error(dialect: Dialect, inbound: Inbound | None, error: GatewayError) -> tuple[int, bytes]:
    """(return code, answer bytes) for a failure: -2 business, -1 system, in the vendor's wording."""
    rendering = dialect.errors
    template = rendering.overrides.get(error.code, rendering.text)
    text = template.format(code=error.code, message=error.message, detail=error.detail, field=error.field or "")
    rc = rendering.system_rc if isinstance(error, InternalError) else rendering.business_rc
    return rc, text.encode(dialect.encoding, errors="replace")


def _envelope(dialect: Dialect, request: dict[str, str], output: str) -> str:
    parts = []
    for name in dialect.answer_envelope:
        if name == "output":
            parts.append(output)
        elif name == "serial":
            parts.append(f"{datetime.now():%Y%m%d%H%M%S}{next(_serial) % 1_000_000:06d}")
        elif name.startswith("echo."):
            parts.append(request.get(name[5:], ""))
        else:
            parts.append(name.removeprefix("const:"))
    text = dialect.framing.field.join(parts)
    return text + dialect.framing.field if dialect.framing.trailing else text
