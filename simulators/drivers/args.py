"""The HIS side of a multi-operation SOAP dialect (NCMS style: one operation per trade, positional string
arguments, out parameters), read from its mapping file the other way round, sans I/O.

An operation's arguments, in the order the HIS passes them: the request envelope's names, then the fields'
`at` names of every trade the operation carries (a record list is one argument: records by `row`, columns by
`column`), then the argument that chooses between trades sharing the operation (a trade code written
`Operation[argument=value]`). The answer's out parameters are placed by the answer envelope: the status, the
message, and the output record joined by `param` (records by `row`, columns by `column`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.mapping import paths
from gateway.mapping.codec import split_trade_code  # the mapping notation Operation[argument=value]
from gateway.mapping.model import Args, Dialect, Trade
from simulators.drivers.base import Decoded, Delivery, Envelope, Refusal
from simulators.drivers.mapped import (
    carried_paths,
    delimited_output,
    error_code,
    outcome_of,
    vendor_text,
)
from simulators.drivers.soap import BAD_BYTES_MARKER, SPOIL_ENCODING, SoapAnswer, SoapCall, fault_decoded, readable
from simulators.drivers.xmlmsg import ENCODING_REFUSAL

TRUNCATE_REFUSAL = Refusal("HG1002", "an argument list has no message to cut short: the call stops after its "
                                     "envelope arguments, and a required argument is missing")
UNKNOWN_CHOICE_REFUSAL = Refusal("HG1003", "the trade is chosen by an argument's value: a value the operation "
                                           "does not have is a wrong argument")


def argument_order(dialect: Dialect) -> dict[str, list[str]]:
    """Each operation's arguments, in the order the HIS passes them."""
    result: dict[str, list[str]] = {}
    for code, trade in dialect.trades.items():
        operation, argument, _value = split_trade_code(code)
        names = result.setdefault(operation, list(dialect.envelope_names()))
        for name in [*(f.at for f in trade.params), trade.rows.at if trade.rows else "", argument]:
            if name and name not in names:
                names.append(name)
    return result


class ArgsCodec:
    def __init__(self, dialect: Dialect, defaults: Mapping[str, str] | None = None) -> None:
        assert isinstance(dialect.framing, Args)
        self.dialect = dialect
        self.framing: Args = dialect.framing
        self.defaults = defaults or {}
        self._context = {name: key for key, name in dialect.context.items()}
        self._order = argument_order(dialect)
        sources = {source: name for name, source in dialect.answer_envelope}
        self._status, self._output, self._message = (sources.get(s, "") for s in ("status", "output", "message"))

    def encode(self, trade: Trade, envelope: Envelope, document: Mapping[str, Any], *, trade_code: str = "") -> bytes:
        operation, argument, choice = split_trade_code(trade.code)
        if trade_code:
            if not argument:
                raise ValueError(f"{self.dialect.name} has one operation per trade: a HIS calling through the WSDL "
                                 f"cannot call an operation {trade_code!r} the service does not have")
            choice = trade_code  # the choosing argument with a value the operation does not have
        national = envelope.national()
        values: dict[str, str] = {}
        for name in self.dialect.envelope_names():
            values[name] = national.get(self._context[name], "") if name in self._context else \
                self.defaults.get(name, "")
        for field in trade.params:
            if field.at:
                values[field.at] = vendor_text(field, document)
        if trade.rows is not None:
            items = paths.get(document, trade.rows.path) or []
            values[trade.rows.at] = self.framing.row.join(
                self.framing.column.join(vendor_text(column, item) for column in trade.rows.columns)
                for item in items)
        if argument:
            values[argument] = choice
        arguments = tuple((name, values.get(name)) for name in self._order[operation])
        return SoapCall(operation, arguments).to_bytes()

    def carried(self, trade: Trade) -> frozenset[str] | None:
        return carried_paths(trade)

    def text(self, raw: bytes) -> str:
        return readable(raw)

    def mangle(self, raw: bytes, how: str) -> bytes:
        call = SoapCall.from_bytes(raw)
        envelope = set(self.dialect.envelope_names())
        if how == "truncate":  # the call stops after its envelope arguments
            return SoapCall(call.operation, tuple((n, v if n in envelope else None) for n, v in call.arguments)
                            ).to_bytes()
        if how == "encoding":  # bytes invalid in UTF-8 in the middle of the longest argument, put in on the wire
            name, value = max(call.arguments, key=lambda pair: len(pair[1] or ""))
            text = value or ""
            spoiled = call.replaced(**{name: text[:len(text) // 2] + BAD_BYTES_MARKER + text[len(text) // 2:]})
            return SoapCall(spoiled.operation, spoiled.arguments, SPOIL_ENCODING).to_bytes()
        raise ValueError(how)

    def refusal(self, trade: Trade, how: str) -> Refusal | None:
        if how == "truncate":
            return TRUNCATE_REFUSAL
        if how == "encoding":
            return ENCODING_REFUSAL
        if how == "unknown_trade" and split_trade_code(trade.code)[1]:
            return UNKNOWN_CHOICE_REFUSAL
        return None

    def decode(self, trade: Trade, sent: bytes, delivery: Delivery) -> Decoded:
        answer = SoapAnswer.from_bytes(delivery.body)
        if answer.fault:
            return fault_decoded(answer)
        if answer.value is not None:
            return Decoded(outcome="system", status=delivery.meta,
                           error_text=f"one return value where {self.dialect.name} has out parameters: "
                                      f"{answer.value[:200]!r}")
        status = answer.outputs.get(self._status, "")
        message = answer.outputs.get(self._message, "")
        if status != self.dialect.errors.ok:
            code = error_code(self.dialect, message)
            return Decoded(outcome=outcome_of(self.dialect, status, code), status=status, error_code=code,
                           error_text=message)
        decoded = Decoded(outcome="ok", status=status)
        if self._message and message != self.dialect.ok_text:
            decoded.notes.append(f"{self._message} should say {self.dialect.ok_text!r} on success, says {message!r}")
        decoded.output = self._output_of(trade, answer.outputs.get(self._output, ""), decoded.notes)
        return decoded

    def _output_of(self, trade: Trade, text: str, notes: list[str]) -> dict[str, Any]:
        framing = self.framing
        return delimited_output(self.dialect, trade, text, (framing.param, framing.row, framing.column), notes,
                                row_label=f"{self._output} record", whole_label=self._output)
