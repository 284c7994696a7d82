"""JSON dialects (the national `infno`/`input` interface and its regional variants) ⇄ the national document.

A `copy` trade takes the vendor's document as the national one (the national dialect is the identity mapping);
other trades read each field at a dotted key path under the request key and write the answer the same way.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import simplejson

from gateway.errors import GatewayError, InvalidValue, MalformedMessage
from gateway.mapping import paths
from gateway.mapping.codec import Inbound, envelope_value, error_text, fill, find_trade, national_document
from gateway.mapping.model import Dialect, JsonDoc, Trade

NATIONAL_INPUT = paths.parse_path("input")


def _framing(dialect: Dialect) -> JsonDoc:
    assert isinstance(dialect.framing, JsonDoc)
    return dialect.framing


def parse_json(raw: bytes, encoding: str) -> object:
    """JSON with numbers read as Decimal; NaN and Infinity refused, not turned into floats."""
    try:
        text = raw.decode("utf-8-sig" if encoding.lower().replace("-", "") == "utf8" else encoding)
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"报文不是 {encoding.upper()} 编码（第 {exc.start} 字节）") from exc
    try:
        try:
            parsed = json.loads(text, parse_float=_decimal, parse_constant=_refuse_constant)
        except ValueError as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise
            # int() refuses 4,300 digits: read again with long integers as Decimal (slower, so only then)
            parsed = json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=_refuse_constant)
        lone_surrogate = _SURROGATE_ESCAPE.search(text) is not None and _has_lone_surrogate(parsed)
    except json.JSONDecodeError as exc:
        raise MalformedMessage(f"JSON 解析失败：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg}") from exc
    except RecursionError as exc:
        raise MalformedMessage("JSON 嵌套过深") from exc
    except (ValueError, ArithmeticError) as exc:  # whatever else the parser meets: still the caller's message
        raise MalformedMessage("JSON 解析失败：数值不合法") from exc
    if lone_surrogate:
        # "\ud800" alone is no character: it could be neither journalled (SQLite wants UTF-8) nor answered
        raise MalformedMessage("JSON 字符串含不成对的 \\uD800–\\uDFFF 转义")
    return parsed


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return not value.isascii() and any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(key) or _has_lone_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _refuse_constant(name: str) -> object:
    raise MalformedMessage(f"JSON 中不允许 {name}")


MAX_INT_DIGITS = 64  # on the second reading, longer integers are Decimal: no field holds one


def _integer(text: str) -> int | Decimal:
    """A JSON integer; one longer than any field can hold stays a Decimal, so the field's own check names it."""
    return int(text) if len(text) <= MAX_INT_DIGITS else Decimal(text)


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:  # an exponent beyond what Decimal holds (1e99999999999999999999)
        pass
    mantissa, _, exponent = text.lower().partition("e")
    if not mantissa.strip("-+.0"):
        return Decimal(0)
    # A stand-in with the same sign and the same trouble, so the field's own check names the field: far too
    # large, or far too many decimal places.
    return Decimal((mantissa.startswith("-"), (1,), -999_999_999 if exponent.startswith("-") else 999_999_999))


def dumps(document: object, encoding: str) -> bytes:
    # use_decimal: amounts go out as exact JSON numbers (15172.50), never through float.
    text: str = simplejson.dumps(document, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode(encoding, errors="replace")


class JsonCodec:
    def read(self, dialect: Dialect, raw: Any, action: str) -> Inbound:
        framing = _framing(dialect)
        parsed = parse_json(raw, dialect.encoding)
        if not isinstance(parsed, dict):
            raise InvalidValue(f"报文应为 JSON 对象，实为 {type(parsed).__name__}")
        code = parsed.get(framing.trade)
        if not isinstance(code, str | int) or isinstance(code, bool):
            code = ""
        trade = find_trade(dialect, action or str(code).strip(), framing.trade)
        envelope = {name: _scalar(parsed.get(key)) for name, key in dialect.request_envelope}
        if trade.copy:
            # the national dialect: the vendor's document is the national one, checked by the national decoder;
            # a record the vendor sends flat goes where the national interface nests it (copy: input.data)
            document = {**parsed, "infno": trade.infno}
            if trade.copy_to != NATIONAL_INPUT:
                record = document.pop(framing.request, None)
                if record is not None:
                    document["input"] = {}
                    paths.put(document, trade.copy_to, record)
            return Inbound(dialect, envelope, trade, document)
        document = national_document(dialect, trade, envelope)
        record = parsed.get(framing.request)
        if not isinstance(record, dict):
            raise MalformedMessage(f"{framing.request} 应为 JSON 对象", field=framing.request)
        fill(document, ((field, _scalar(paths.get(record, paths.parse_path(field.at)))) for field in trade.params))
        if trade.rows is not None:
            items = paths.get(record, paths.parse_path(trade.rows.at))
            if not isinstance(items, list):
                raise InvalidValue("应为 JSON 数组", field=f"{framing.request}.{trade.rows.at}")
            rows = []
            for item in items:
                row: dict[str, Any] = {}
                fill(row, ((field, _scalar(item.get(field.at) if isinstance(item, dict) else None))
                           for field in trade.rows.columns))
                rows.append(row)
            paths.put(document, trade.rows.path, rows)
        return Inbound(dialect, envelope, trade, document)

    def answer(self, inbound: Inbound, output: dict[str, Any]) -> bytes:
        dialect = inbound.dialect
        return dumps(self._envelope(dialect, inbound.envelope, _record(inbound.trade, output), None),
                     dialect.encoding)

    def error(self, dialect: Dialect, inbound: Inbound | None, raw: Any, error: GatewayError) -> bytes:
        request = inbound.envelope if inbound else _envelope_of(dialect, raw)
        return dumps(self._envelope(dialect, request, None, error), dialect.encoding)

    def _envelope(self, dialect: Dialect, request: dict[str, str], record: Any,
                  error: GatewayError | None) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for key, source in dialect.answer_envelope:
            if source == "output":
                document[key] = record
            elif source == "error":
                document[key] = error_text(dialect, error) if error else None
            elif source == "null":
                document[key] = None
            elif source == "status":
                status = envelope_value(source, dialect, request, error) or ""
                as_number = _framing(dialect).status == "number" and status.lstrip("-").isdigit()
                document[key] = int(status) if as_number else status
            else:
                document[key] = envelope_value(source, dialect, request, error)
        return document


def _envelope_of(dialect: Dialect, raw: Any) -> dict[str, str]:
    """What of the envelope can be read from a request that failed before it was understood (for echoes)."""
    try:
        parsed = parse_json(raw, dialect.encoding)
    except MalformedMessage:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {name: _scalar(parsed.get(key)) for name, key in dialect.request_envelope}


def _record(trade: Trade, output: dict[str, Any]) -> Any:
    if trade.copy:
        return output
    document = {"output": output}
    record: dict[str, Any] = {}
    for field in trade.answer:
        paths.put(record, paths.parse_path(field.at), field.answer_text(document))
    if trade.answer_rows is not None:
        items = paths.get(document, trade.answer_rows.path) or []
        paths.put(record, paths.parse_path(trade.answer_rows.at),
                  [{field.at: field.answer_text(item) for field in trade.answer_rows.columns} for item in items])
    return record


def _scalar(value: object) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)
