"""Delimited-string dialects (Neusoft/Yunnan-style `^`/`|`): vendor bytes ⇄ the national document. Sans I/O."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gateway.errors import GatewayError, InvalidValue, MalformedMessage
from gateway.mapping import paths
from gateway.mapping.codec import Inbound, envelope_value, error_text, fill, find_trade, national_document
from gateway.mapping.fields import FieldMap
from gateway.mapping.model import Delimited, Dialect, Rows

TRADE_FIELD = "trade"  # the request envelope field that carries the vendor's trade code
PARAMS_FIELD = "params"  # the request envelope field that carries the parameters


def _framing(dialect: Dialect) -> Delimited:
    assert isinstance(dialect.framing, Delimited)
    return dialect.framing


class DelimitedCodec:
    def read(self, dialect: Dialect, raw: Any, action: str) -> Inbound:
        text = decode(raw, dialect.encoding)
        framing = _framing(dialect)
        parts = text.split(framing.field)
        if framing.trailing and parts and parts[-1] == "":
            parts.pop()  # the vendor convention ends every field with the separator
        names = dialect.envelope_names()
        if names and names[-1] == PARAMS_FIELD and len(parts) > len(names):
            # parameters last, with the envelope's own separator (|-only dialects): they take the rest
            parts = [*parts[:len(names) - 1], framing.field.join(parts[len(names) - 1:])]
        if names and names[-1] == PARAMS_FIELD and len(parts) == len(names) - 1 and not framing.trailing:
            parts.append("")  # no parameters at all (签到): the vendor sends no empty last field either
        if len(parts) != len(names):
            expected = f"{len(names)} 段（{framing.field} 分隔: {'、'.join(names)}）"
            raise MalformedMessage(f"入参应有 {expected}，实为 {len(parts)} 段")
        envelope = dict(zip(names, parts, strict=True))
        trade = find_trade(dialect, action or envelope.get(TRADE_FIELD, "").strip(), TRADE_FIELD)
        document = national_document(dialect, trade, envelope)
        params = envelope.get(PARAMS_FIELD, "")
        if trade.rows is not None:
            if trade.params:  # a header record first (`header:`), then the rows
                header, _, params = params.partition(framing.row)
                fill(document, positional(trade.params, header.split(framing.param) if header else []))
            paths.put(document, trade.rows.path,
                      request_rows(trade.rows, params, framing.row, framing.request_column, PARAMS_FIELD))
        else:
            values = params.split(framing.param) if params else []
            if values and values[-1] == "" and len(values) == len(trade.params) + 1:
                values.pop()
            if len(values) > len(trade.params):
                raise InvalidValue(f"入参有 {len(values)} 项，业务 {trade.code} 只接受 {len(trade.params)} 项",
                                   field=PARAMS_FIELD)
            fill(document, positional(trade.params, values))
        return Inbound(dialect, envelope, trade, document)

    def answer(self, inbound: Inbound, output: dict[str, Any]) -> bytes:
        framing = _framing(inbound.dialect)
        text = answer_text(inbound, output, framing.param, framing.row, framing.column)
        return self._envelope(inbound.dialect, inbound.envelope, text, None).encode(inbound.dialect.encoding,
                                                                                    errors="replace")

    def error(self, dialect: Dialect, inbound: Inbound | None, raw: Any, error: GatewayError) -> bytes:
        # the DLL convention: the output holds the error text alone, the return code says it is one
        return error_text(dialect, error).encode(dialect.encoding, errors="replace")

    def _envelope(self, dialect: Dialect, request: dict[str, str], output: str, error: GatewayError | None) -> str:
        framing = _framing(dialect)
        parts = [output if source == "output" else envelope_value(source, dialect, request, error) or ""
                 for _, source in dialect.answer_envelope]
        text = framing.field.join(parts)
        return text + framing.field if framing.trailing else text


def decode(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"入参不是 {encoding} 编码（第 {exc.start} 字节）") from exc


def request_rows(rows: Rows, text: str, row_separator: str, column_separator: str, where: str) -> list[dict[str, Any]]:
    """Records of a many-record parameter: records by one separator, columns by another, in column order."""
    result: list[dict[str, Any]] = []
    for line in (chunk for chunk in text.split(row_separator) if chunk.strip()):
        values = line.split(column_separator)
        if len(values) > len(rows.columns):
            raise InvalidValue(f"第 {len(result) + 1} 条明细有 {len(values)} 列，应为 {len(rows.columns)} 列",
                               field=where)
        row: dict[str, Any] = {}
        fill(row, positional(rows.columns, values))
        result.append(row)
    return result


def positional(fields: tuple[FieldMap, ...], values: list[str]) -> Iterator[tuple[FieldMap, str]]:
    """Fields by position; a value the vendor left off reads as empty."""
    for position, field in enumerate(fields):
        yield field, values[position] if position < len(values) else ""


def answer_text(inbound: Inbound, output: dict[str, Any], param: str, row: str, column: str) -> str:
    """The answer's fields joined by `param`, or its rows by `row` with columns by `column`."""
    trade = inbound.trade
    document = {"output": output}
    if trade.answer_rows is not None:
        rows = paths.get(document, trade.answer_rows.path) or []
        header = [param.join(field.answer_text(document) for field in trade.answer)] if trade.answer else []
        return row.join([*header, *(column.join(field.answer_text(item) for field in trade.answer_rows.columns)
                                    for item in rows)])
    return param.join(field.answer_text(document) for field in trade.answer)
