"""The HIS side of an HL7 v2 dialect, read from its mapping file the other way round, sans I/O.

The request is written here, segment by segment, with `|^~\\&` and the mapping's locators (`PID-3.1`,
`PV1-50`, `FT1-11.1`): MSH with the envelope (hospital, time, control id = msgid) and what a HIS puts in
every header (its application, the receiver the mapping names, the type = the trade code, the version, the
character set in MSH-18), EVN with the operator, then the segments the trade's fields name, rows being one
segment each (FT1). Values are escaped (\\F\\ \\S\\ \\R\\ \\T\\ \\E\\) and written in the dialect's encoding.
The answer, an ACK (MSA-1 AA/AE/AR), is read with python-hl7, an implementation apart from the gateway's.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import hl7

from gateway.mapping import paths
from gateway.mapping.fields import NATIONAL_DATETIME
from gateway.mapping.hl7path import Locator, locate  # the mapping file's notation, not the gateway's codec
from gateway.mapping.model import Dialect, Hl7, Trade
from simulators.drivers.base import Decoded, Delivery, Envelope, Refusal
from simulators.drivers.mapped import (
    bad_bytes,
    carried_paths,
    error_code,
    national_value,
    outcome_of,
    put,
    vendor_text,
)

FIELD, COMPONENT, REPETITION, ESCAPE, SUBCOMPONENT = "|", "^", "~", "\\", "&"
_MESSAGE_TYPE = re.compile(r"^[A-Z0-9]{3}\^[A-Z0-9]{3}$")
UNKNOWN_TYPE = "ZZZ^Z99"  # a well-formed message type that no dialect has
# HL7 table 0211 names for the encodings a HIS writes in MSH-18 (the mapping's `charsets` add the vendor's own)
CHARSET_NAMES = {"utf-8": "UNICODE UTF-8", "gb18030": "GB 18030-2000", "ascii": "ASCII", "latin-1": "8859/1",
                 "big5": "BIG-5"}
# Segments in the order a HIS writes them; others (Z-segments) after, in the order the mapping names them.
SEGMENT_ORDER = ("MSH", "EVN", "QRD", "QRF", "PID", "PD1", "NK1", "PV1", "PV2", "DG1", "PR1", "FT1", "IN1")
TRUNCATE_REFUSAL = Refusal("HG1002", "a message cut at a segment end is still HL7: what is cut off are its "
                                     "required fields (MSA|AR, ERR 101)")


def escape(text: str) -> str:
    """HL7 escapes for the separators and the escape character itself (HL7 v2.5 section 2.7.4)."""
    table = {ESCAPE: "\\E\\", FIELD: "\\F\\", COMPONENT: "\\S\\", REPETITION: "\\R\\", SUBCOMPONENT: "\\T\\",
             "\r": "\\X0D\\", "\n": "\\X0A\\"}
    return "".join(table.get(c, c) for c in text)


class Segment:
    """Fields by number, each a list of repetitions of components of subcomponents (escaped text)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[int, list[list[list[str]]]] = {}

    def put(self, at: Locator, text: str, *, raw: bool = False) -> None:
        value = text if raw else escape(text)
        field = self.fields.setdefault(at.field, [])
        while len(field) < at.repetition:
            field.append([])
        repetition = field[at.repetition - 1]
        while len(repetition) < at.component:
            repetition.append([])
        component = repetition[at.component - 1]
        while len(component) < at.subcomponent:
            component.append("")
        component[at.subcomponent - 1] = value

    def render(self) -> str:
        last = max(self.fields, default=0)
        texts = []
        for number in range(1, last + 1):
            repetitions = self.fields.get(number, [])
            texts.append(REPETITION.join(COMPONENT.join(SUBCOMPONENT.join(c).rstrip(SUBCOMPONENT) for c in r)
                                         .rstrip(COMPONENT) for r in repetitions).rstrip(REPETITION))
        while texts and not texts[-1]:  # empty trailing fields are left off
            texts.pop()
        if self.name == "MSH":  # MSH-1 is the field separator itself, MSH-2 the encoding characters
            return "MSH" + FIELD + FIELD.join([COMPONENT + REPETITION + ESCAPE + SUBCOMPONENT, *texts[2:]])
        return FIELD.join([self.name, *texts])


def charset_name(dialect: Dialect) -> str:
    """What the HIS writes in MSH-18 for the dialect's encoding."""
    assert isinstance(dialect.framing, Hl7)
    name = codecs.lookup(dialect.encoding).name
    if name in CHARSET_NAMES:
        return CHARSET_NAMES[name]
    for written, python in dialect.framing.charsets.items():
        if codecs.lookup(python).name == name:
            return written
    return ""  # MSH-18 empty: the mapping's encoding


def hl7_time(national: str) -> str:
    """yyyy-MM-dd HH:mm:ss → HL7 DTM yyyyMMddHHmmss."""
    try:
        return datetime.strptime(national, NATIONAL_DATETIME).strftime("%Y%m%d%H%M%S")
    except ValueError:
        return national


class Hl7Codec:
    def __init__(self, dialect: Dialect, application: str = "HIS") -> None:
        assert isinstance(dialect.framing, Hl7)
        self.dialect = dialect
        self.framing: Hl7 = dialect.framing
        self.application = application  # MSH-3, the sending application
        self.charset = charset_name(dialect)
        self._context = {name: key for key, name in dialect.context.items()}
        self._envelope = {name: locate(where) for name, where in dialect.request_envelope}

    # ---- the request ------------------------------------------------------------------------------------------

    def encode(self, trade: Trade, envelope: Envelope, document: Mapping[str, Any], *, trade_code: str = "") -> bytes:
        code = trade.code
        if trade_code:
            code = trade_code if _MESSAGE_TYPE.match(trade_code) else UNKNOWN_TYPE
        message_type, _, trigger = code.partition("^")
        national = envelope.national()
        sent_at = hl7_time(envelope.inf_time)
        segments: dict[str, Segment] = {}
        rows: list[Segment] = []
        mapped: set[tuple[str, int, int, int, int]] = set()

        def segment(name: str) -> Segment:
            return segments.setdefault(name, Segment(name))

        def write(at: Locator, text: str) -> None:
            mapped.add((at.segment, at.field, at.repetition, at.component, at.subcomponent))
            segment(at.segment).put(at, text)

        msh = segment("MSH")
        for name, at in self._envelope.items():
            key = self._context.get(name, "")
            value = national.get(key, "") if key else ""
            if key == "inf_time":
                value = sent_at
            if value or at.segment == "MSH":
                write(at, value)
        header = {3: self.application, 5: self.framing.application, 6: self.framing.facility, 7: sent_at,
                  11: "P", 12: self.framing.version, 17: "CHN", 18: self.charset}
        for number, text in header.items():
            if ("MSH", number, 1, 1, 1) not in mapped and text:
                msh.put(Locator("MSH", number), text)
        msh.put(Locator("MSH", 9, component=1), message_type)
        if trigger:
            msh.put(Locator("MSH", 9, component=2), trigger)
        for field in trade.params:
            if field.at:
                write(locate(field.at), vendor_text(field, document))
        if trade.rows is not None:
            for number, item in enumerate(paths.get(document, trade.rows.path) or [], start=1):
                row = Segment(trade.rows.at)
                row.put(Locator(row.name, 1), str(number))  # set id
                for column in trade.rows.columns:
                    if not column.at:
                        continue
                    at = locate(column.at)
                    if at.segment == row.name:
                        row.put(at, vendor_text(column, item))
                    elif number == 1:  # the visit's PV1-50, the patient's PID-3: the same for every row
                        write(at, vendor_text(column, item))
                rows.append(row)
            if trade.rows.at == "FT1":
                for row in rows:
                    row.put(Locator("FT1", 6), "CG")  # transaction type: charge
        self._defaults(segments, mapped, trigger, sent_at, national.get("msgid", ""), message_type)
        ordered = sorted(segments.values(), key=lambda s: self._rank(s.name))
        if rows:
            rank = self._rank(rows[0].name)
            before = [s for s in ordered if self._rank(s.name) <= rank]
            ordered = [*before, *rows, *ordered[len(before):]]
        text = "\r".join(s.render() for s in ordered) + "\r"
        return text.encode(self.dialect.encoding)

    def _rank(self, name: str) -> tuple[int, int]:
        if name in SEGMENT_ORDER:
            return SEGMENT_ORDER.index(name), 0
        return len(SEGMENT_ORDER), 0 if name.startswith("Z") else 1

    def _defaults(self, segments: dict[str, Segment], mapped: set[tuple[str, int, int, int, int]], trigger: str,
                  sent_at: str, msgid: str, message_type: str) -> None:
        """What a HIS writes in the segments it sends beside the mapped fields: set ids, the patient class, the
        event, the query's own fields."""
        defaults: dict[str, dict[int, str]] = {
            "EVN": {1: trigger, 2: sent_at}, "PID": {1: "1"}, "PV1": {1: "1", 2: "I"}, "DG1": {1: "1"},
            "ZSR": {1: "1"}, "QRD": {1: sent_at, 2: "R", 3: "I", 4: msgid, 9: "DEM"},
        }
        if message_type == "QRY":
            segments.pop("EVN", None)  # a query has no event segment
        elif "EVN" not in segments and any(at.segment == "EVN" for at in self._envelope.values()):
            segments["EVN"] = Segment("EVN")
        for name, fields in defaults.items():
            segment = segments.get(name)
            if segment is None:
                continue
            for number, text in fields.items():
                if (name, number, 1, 1, 1) not in mapped and number not in segment.fields and text:
                    segment.put(Locator(name, number), text)
        if "QRD" in segments and 7 not in segments["QRD"].fields:
            segments["QRD"].put(Locator("QRD", 7, component=1), "1")
            segments["QRD"].put(Locator("QRD", 7, component=2), "RD")

    def carried(self, trade: Trade) -> frozenset[str] | None:
        return carried_paths(trade)

    def text(self, raw: bytes) -> str:
        return raw.decode(self._codec(), errors="backslashreplace").replace("\r", "\n")

    def mangle(self, raw: bytes, how: str) -> bytes:
        if how == "truncate":  # the message stops after its header segment
            return raw[:raw.index(b"\r") + 1]
        if how == "encoding":
            middle = len(raw) // 2
            return raw[:middle] + bad_bytes(self._codec()) + raw[middle:]
        raise ValueError(how)

    def refusal(self, trade: Trade, how: str) -> Refusal | None:
        return TRUNCATE_REFUSAL if how == "truncate" else None

    def _codec(self) -> str:
        return self.dialect.encoding

    # ---- the answer -------------------------------------------------------------------------------------------

    def decode(self, trade: Trade, sent: bytes, delivery: Delivery) -> Decoded:
        try:
            text = delivery.body.decode(self._codec())
        except UnicodeDecodeError as exc:
            return Decoded(outcome="system", status=delivery.meta, error_text=f"the ACK is not {self._codec()}: {exc}")
        try:
            message = hl7.parse(text.replace("\n", "\r").strip("\r"))
        except (hl7.HL7Exception, ValueError, IndexError) as exc:
            return Decoded(outcome="system", status=delivery.meta, error_text=f"the answer is not HL7: {exc}")
        notes: list[str] = []
        header = sent.split(b"\r", 1)[0].decode(self._codec(), errors="replace")
        control_id = _value(hl7.parse(header), Locator("MSH", 10))
        echoed = _value(message, Locator("MSA", 2))
        if echoed != control_id:
            notes.append(f"MSA-2 should echo the message control id {control_id!r}, came back {echoed!r}")
        status = _value(message, Locator("MSA", 1))
        if status != self.dialect.errors.ok:
            error = _value(message, Locator("MSA", 3)) or _value(message, Locator("ERR", 8))
            code = error_code(self.dialect, error)
            named = _value(message, Locator("ERR", 5))
            if named and code and named != code:
                notes.append(f"ERR-5 names {named}, the error text {code}")
            return Decoded(outcome=outcome_of(self.dialect, status, code or named), status=status,
                           error_code=code or named, error_text=error, notes=notes)
        decoded = Decoded(outcome="ok", status=status, notes=notes)
        document: dict[str, Any] = {}
        for field in trade.answer:
            if not field.at:
                continue
            value = _value(message, locate(field.at))
            if field.constant is not None and value != field.constant:
                notes.append(f"{field.at} should be {field.constant!r}, came back {value!r}")
            put(document, field.path, national_value(field, value))
        if trade.answer_rows is not None:
            rows = trade.answer_rows
            items = []
            for row in _segments(message, rows.at):
                item: dict[str, Any] = {}
                for column in rows.columns:
                    if column.at:
                        put(item, column.path, national_value(column, _field(row, locate(column.at))))
                items.append(item)
            put(document, rows.path, items)
        output = document.get("output", {})
        decoded.output = output if isinstance(output, dict) else {}
        return decoded


def _segments(message: hl7.Message, name: str) -> list[Any]:
    try:
        return list(message.segments(name))
    except KeyError:
        return []


def _field(segment: Any, at: Locator) -> str:
    try:
        return str(segment.extract_field(1, at.field, at.repetition, at.component, at.subcomponent))
    except IndexError:
        return ""


def _value(message: hl7.Message, at: Locator) -> str:
    """The unescaped text at `at` in the first segment of its id; "" when absent."""
    found = _segments(message, at.segment)
    return _field(found[0], at) if found else ""
