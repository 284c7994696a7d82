"""HL7 v2 dialects: a message (ADT, DFT, QRY, Z-messages) ⇄ the national document, every answer an ACK. Sans I/O.

Request: the trade is MSH-9.1^MSH-9.2; envelope fields, parameters and row columns are read by locator
(gateway/mapping/hl7path.py), rows being the repeats of one segment. The character set is MSH-18's (the
mapping's encoding when empty), and the answer is written in the same one with the same separators.

Answer: `MSH` (our application and facility, the sender's as receiver, `ACK^<trigger>^ACK`, a new control id),
`MSA|AA|<MSH-10>`, then the trade's answer segments in the order the mapping first names them, then answer
rows. A failure is `MSA|AE` (business) or `MSA|AR` (the message itself) with MSA-3 the error text and
`ERR||<location>|<HL7 0357 code>^<text>^HL70357|E|<HG code>^<title>^HISGW|||<error text>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.errors import (
    AlreadySettled,
    DuplicateAdmission,
    GatewayError,
    InputError,
    MalformedMessage,
    MissingField,
    NotFoundError,
    UnknownTransaction,
)
from gateway.mapping import paths
from gateway.mapping.codec import Inbound, envelope_value, error_text, fill, national_document, serial, status_of
from gateway.mapping.fields import FieldMap
from gateway.mapping.hl7path import Locator, Where, locate, where_of
from gateway.mapping.hl7text import STANDARD, Builder, Message, Separators, decode
from gateway.mapping.model import Dialect, Hl7, Trade

MSH_TYPE, MSH_EVENT, MSH_CONTROL_ID = Locator("MSH", 9), Locator("MSH", 9, component=2), Locator("MSH", 10)
MSA_STATUS, MSA_CONTROL_ID, MSA_TEXT = Locator("MSA", 1), Locator("MSA", 2), Locator("MSA", 3)


@dataclass(frozen=True, slots=True)
class Header:
    """What the answer takes from the request: separators and charset, and raw (still escaped) MSH fields."""

    separators: Separators
    codec: str  # the Python codec of the exchange
    charset: str  # MSH-18 as sent ("" = the mapping's encoding)
    sender: str  # MSH-3
    facility: str  # MSH-4
    trigger: str  # MSH-9.2
    control_id: str  # MSH-10
    processing_id: str  # MSH-11
    version: str  # MSH-12

    @classmethod
    def of(cls, message: Message, codec: str, charset: str) -> Header:
        def raw(field: int, component: int = 1) -> str:
            return message.raw(Locator("MSH", field, component=component), 0)

        fields = message.fields(0)
        return cls(message.separators, codec, charset, fields[3] if len(fields) > 3 else "",
                   fields[4] if len(fields) > 4 else "", raw(9, 2), raw(10), raw(11), raw(12))


@dataclass(frozen=True, slots=True)
class Hl7Inbound(Inbound):
    header: Header


def _framing(dialect: Dialect) -> Hl7:
    assert isinstance(dialect.framing, Hl7)
    return dialect.framing


def trade_code(message: Message) -> str:
    return f"{message.value(MSH_TYPE)}^{message.value(MSH_EVENT)}"


class Hl7Codec:
    def read(self, dialect: Dialect, raw: Any, action: str) -> Inbound:
        framing = _framing(dialect)
        message, codec, charset = decode(raw, dialect.encoding, framing.charsets)
        code = action or trade_code(message)
        trade = dialect.trades.get(code)
        if trade is None:
            known = "、".join(sorted(dialect.trades))
            raise UnknownTransaction(f"消息类型 {code[:32]!r}（可用 {known}）", field="MSH-9")
        envelope = {name: message.value(locate(where)) for name, where in dialect.request_envelope}
        where_of_name = dict(dialect.request_envelope)
        for key in ("msgid", "fixmedins_code"):
            name = dialect.context[key]
            if not envelope.get(name, "").strip():
                raise MissingField(f"{key} 不能为空", field=where_of_name.get(name, name))
        document = national_document(dialect, trade, envelope)
        for field in trade.params:
            _fill_one(document, field, message.value(locate(field.at)) if field.at else "", field.at)
        if trade.rows is not None:
            paths.put(document, trade.rows.path, _request_rows(trade, message))
        return Hl7Inbound(dialect, envelope, trade, document, Header.of(message, codec, charset))

    def answer(self, inbound: Inbound, output: dict[str, Any]) -> bytes:
        assert isinstance(inbound, Hl7Inbound)
        dialect, trade, header = inbound.dialect, inbound.trade, inbound.header
        builder = _acknowledgement(dialect, header, inbound.envelope, None)
        document = {"output": output}
        for field in trade.answer:
            at = locate(field.at)
            builder.put(builder.first(at.segment), at, field.answer_text(document))
        if trade.answer_rows is not None:
            rows = trade.answer_rows
            for item in paths.get(document, rows.path) or []:
                segment = builder.add(rows.at)
                for field in rows.columns:
                    builder.put(segment, locate(field.at), field.answer_text(item))
        return builder.render().encode(header.codec, errors="replace")

    def error(self, dialect: Dialect, inbound: Inbound | None, raw: Any, error: GatewayError) -> bytes:
        header = inbound.header if isinstance(inbound, Hl7Inbound) else _header_of(dialect, raw)
        builder = _acknowledgement(dialect, header, inbound.envelope if inbound else {}, error)
        text = error_text(dialect, error)
        builder.put(builder.first("MSA"), MSA_TEXT, text)
        err = builder.add("ERR")
        where = _where(inbound.trade if inbound else None, error.field or "")
        if where is not None:
            for n, value in enumerate((where.segment, str(where.sequence), str(where.field), str(where.repetition),
                                       str(where.component), str(where.subcomponent)), start=1):
                builder.put(err, Locator("ERR", 2, component=n), value)
        code, meaning = hl7_error_code(error)
        for n, value in enumerate((code, meaning, "HL70357"), start=1):
            builder.put(err, Locator("ERR", 3, component=n), value)
        builder.put(err, Locator("ERR", 4), "E")
        for n, value in enumerate((error.code, error.title, "HISGW"), start=1):
            builder.put(err, Locator("ERR", 5, component=n), value)
        builder.put(err, Locator("ERR", 8), text)
        return builder.render().encode(header.codec, errors="replace")


def _request_rows(trade: Trade, message: Message) -> list[dict[str, Any]]:
    """One national row per repeat of the rows' segment; a column of another segment (the visit's PV1-50) is
    read from that segment's first occurrence, the same for every row."""
    assert trade.rows is not None
    rows = trade.rows
    result: list[dict[str, Any]] = []
    for sequence, index in enumerate(message.indexes(rows.at), start=1):
        row: dict[str, Any] = {}
        for field in rows.columns:
            at = locate(field.at) if field.at else None
            in_row = at is not None and at.segment == rows.at
            text = "" if at is None else message.value(at, index if in_row else None)
            _fill_one(row, field, text, f"{rows.at}({sequence})-{field.at[4:]}" if in_row else field.at)
        result.append(row)
    return result


def _fill_one(target: dict[str, Any], field: FieldMap, text: str, where: str) -> None:
    """Fill one field; an error names where it is in the message ("FT1(3)-10 (cnt)") for ERR-2."""
    try:
        fill(target, ((field, text),))
    except InputError as exc:
        raise type(exc)(exc.detail, field=f"{where} ({_path_text(field.path)})" if where else exc.field) from exc


def _acknowledgement(dialect: Dialect, header: Header, envelope: dict[str, str],
                     error: GatewayError | None) -> Builder:
    framing = _framing(dialect)
    builder = Builder(header.separators)
    msh = builder.add("MSH")
    for field, text in ((3, framing.application), (4, framing.facility), (7, f"{datetime.now():%Y%m%d%H%M%S}"),
                        (10, serial()), (18, header.charset)):
        builder.put(msh, Locator("MSH", field), text)
    for field, raw in ((5, header.sender), (6, header.facility), (11, header.processing_id or "P"),
                       (12, header.version or framing.version)):  # the sender's own text, already escaped
        builder.put(msh, Locator("MSH", field), raw, escaped=True)
    builder.put(msh, MSH_TYPE, "ACK")
    if header.trigger:
        builder.put(msh, MSH_EVENT, header.trigger, escaped=True)
        builder.put(msh, Locator("MSH", 9, component=3), "ACK")
    msa = builder.add("MSA")
    builder.put(msa, MSA_STATUS, status_of(dialect, error))
    builder.put(msa, MSA_CONTROL_ID, header.control_id, escaped=True)
    for where, source in dialect.answer_envelope:
        value = envelope_value(source, dialect, envelope, error)
        if value is not None:
            at = locate(where)
            builder.put(builder.first(at.segment), at, value)
    return builder


def _header_of(dialect: Dialect, raw: Any) -> Header:
    """For an error answer to a request that was not understood: as much of its MSH as can be read."""
    if isinstance(raw, bytes | bytearray):
        try:
            return Header.of(*decode(bytes(raw), dialect.encoding, _framing(dialect).charsets))
        except GatewayError:
            pass
        try:  # not in the character set it names: the control id is ASCII, echo what can be read
            return Header.of(Message(bytes(raw).decode(dialect.encoding, errors="replace")), dialect.encoding, "")
        except GatewayError:
            pass
    return Header(STANDARD, dialect.encoding, "", "", "", "", "", "", "")


def _where(trade: Trade | None, field: str) -> Where | None:
    """The HL7 location of an error: named by the codec ("FT1(3)-10", "MSH-10"), or the national path the
    decoder named ("input.feedetail[2].cnt"), found back through the trade's fields."""
    where = where_of(field)
    if where is not None or trade is None or not field:
        return where
    for mapped in trade.params:
        if mapped.at and _path_text(mapped.path) == field:
            return where_of(mapped.at)
    rows = trade.rows
    if rows is not None and field.startswith(_path_text(rows.path) + "["):
        index, _, rest = field[len(_path_text(rows.path)) + 1:].partition("].")
        for column in rows.columns:
            if column.at and index.isdigit() and _path_text(column.path) == rest:
                found = where_of(column.at)
                if found is not None and found.segment == rows.at:
                    return Where(found.segment, int(index) + 1, found.field, found.repetition, found.component,
                                 found.subcomponent)
                return found
    return None


def _path_text(path: paths.Path) -> str:
    return ".".join(step.key + (f"[{step.select_field}={step.select_value}]" if step.select_field else "")
                    for step in path)


def hl7_error_code(error: GatewayError) -> tuple[str, str]:
    """HL7 table 0357 (message error condition codes) for a gateway error."""
    if isinstance(error, UnknownTransaction):
        return "200", "Unsupported message type"
    if isinstance(error, MissingField):
        return "101", "Required field missing"
    if isinstance(error, MalformedMessage):
        return "100", "Segment sequence error"
    if isinstance(error, InputError):
        return "102", "Data type error"
    if isinstance(error, NotFoundError):
        return "204", "Unknown key identifier"
    if isinstance(error, AlreadySettled | DuplicateAdmission):
        return "205", "Duplicate key identifier"
    return "207", "Application internal error"  # a business rule refused it, or our fault (HG9001)
