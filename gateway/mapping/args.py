"""Positional-argument dialects (multi-operation SOAP, NCMS style): the operation is the trade, its string
arguments are the envelope then the trade's fields; a many-record argument holds records by `row` and
columns by `column`. The answer is the output record joined by `param` (sResult); the status and message
travel beside it (see gateway/adapters/soap.py). Sans I/O.

A trade code `Operation[argument=value]` shares its operation with other trades and is chosen by the value
of one argument (NCMS InpatientCalculate: sCalcType 0 pre-settles, 1 settles)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import GatewayError, InvalidValue, UnknownTransaction
from gateway.mapping import paths
from gateway.mapping.codec import Inbound, error_text, fill, national_document, split_trade_code
from gateway.mapping.delimited import answer_text, request_rows
from gateway.mapping.model import Args, Dialect, Trade

Arguments = Mapping[str, str | None]


def _framing(dialect: Dialect) -> Args:
    assert isinstance(dialect.framing, Args)
    return dialect.framing


def operations(dialect: Dialect) -> dict[str, list[str]]:
    """Each operation with its arguments in order: the envelope's names, then every trade's fields' places,
    then the argument that chooses between trades sharing the operation."""
    result: dict[str, list[str]] = {}
    for code, trade in dialect.trades.items():
        operation, argument, _value = split_trade_code(code)
        names = result.setdefault(operation, list(dialect.envelope_names()))
        extra = [field.at for field in trade.params] + ([trade.rows.at] if trade.rows else []) + [argument]
        names.extend(name for name in extra if name and name not in names)
    return result


def choose_trade(dialect: Dialect, operation: str, arguments: Arguments) -> Trade:
    trade = dialect.trades.get(operation)
    if trade is not None:
        return trade
    choices: dict[str, list[str]] = {}
    for code, candidate in dialect.trades.items():
        name, argument, value = split_trade_code(code)
        if name == operation and argument:
            choices.setdefault(argument, []).append(value)
            if (arguments.get(argument) or "").strip() == value:
                return candidate
    for argument, values in choices.items():
        raise InvalidValue(f"应为 {'、'.join(sorted(values))} 之一", field=argument)
    raise UnknownTransaction(f"操作 {operation[:40]!r}", field="operation")


class ArgsCodec:
    def read(self, dialect: Dialect, raw: Any, action: str) -> Inbound:
        """`raw`: the operation's arguments by name (None for an argument the caller left out)."""
        arguments: Arguments = raw
        framing = _framing(dialect)
        trade = choose_trade(dialect, action, arguments)
        envelope = {name: (arguments.get(name) or "") for name in dialect.envelope_names()}
        document = national_document(dialect, trade, envelope)
        fill(document, ((field, arguments.get(field.at) or "") for field in trade.params))
        if trade.rows is not None:
            paths.put(document, trade.rows.path, request_rows(trade.rows, arguments.get(trade.rows.at) or "",
                                                              framing.row, framing.column, trade.rows.at))
        return Inbound(dialect, envelope, trade, document)

    def answer(self, inbound: Inbound, output: dict[str, Any]) -> bytes:
        framing = _framing(inbound.dialect)
        text = answer_text(inbound, output, framing.param, framing.row, framing.column)
        return text.encode(inbound.dialect.encoding, errors="replace")

    def error(self, dialect: Dialect, inbound: Inbound | None, raw: Any, error: GatewayError) -> bytes:
        return error_text(dialect, error).encode(dialect.encoding, errors="replace")
