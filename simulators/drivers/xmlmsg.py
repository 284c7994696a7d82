"""The HIS side of an XML-message SOAP dialect (DHC style: HIPMessageServer(action, message)), read from its
mapping file the other way round, sans I/O.

The request is the mapping's `request_root` with the envelope fields at their element paths from the root
(`Header/MessageID`) and the trade's fields at their paths under `body`; it travels as the message argument
beside the trade code in the action argument. The answer (the operation's return value) is `answer_root` with
the status, the message and the echoes where the answer envelope puts them and the trade's answer fields under
`body`, read back into national terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from gateway.mapping import paths
from gateway.mapping.model import Dialect, SoapService, Trade, XmlDoc
from simulators.drivers.base import Decoded, Delivery, Envelope, Refusal
from simulators.drivers.mapped import carried_paths, error_code, national_value, outcome_of, put, vendor_text
from simulators.drivers.soap import (
    BAD_BYTES_MARKER,
    SPOIL_ENCODING,
    SoapAnswer,
    SoapCall,
    fault_decoded,
    readable,
)

TRADE_FIELD = "trade"  # the request envelope field that carries the trade code inside the message
# Envelope fields the national envelope has no value for, as a DHC HIS fills them.
HIS_DEFAULTS = {"source": "HIS"}
ENCODING_REFUSAL = Refusal("Fault:Client", "a SOAP string argument is text: bytes invalid in UTF-8 break the SOAP "
                                           "envelope itself, which the service refuses with a SOAP Fault")


def place(parent: ET.Element, where: str) -> ET.Element:
    """The element at `where` under `parent`, made (with the ones on the way) when absent."""
    node = parent
    for name in where.split("/"):
        child = node.find(name)
        node = child if child is not None else ET.SubElement(node, name)
    return node


class XmlMessageCodec:
    def __init__(self, dialect: Dialect, defaults: Mapping[str, str] = HIS_DEFAULTS) -> None:
        assert isinstance(dialect.framing, XmlDoc) and dialect.soap is not None and dialect.soap.operation
        self.dialect = dialect
        self.framing: XmlDoc = dialect.framing
        self.soap: SoapService = dialect.soap
        self.defaults = defaults
        self._context = {name: key for key, name in dialect.context.items()}

    def encode(self, trade: Trade, envelope: Envelope, document: Mapping[str, Any], *, trade_code: str = "") -> bytes:
        code = trade_code or trade.code
        national = envelope.national()
        root = ET.Element(self.framing.request_root)
        for name, where in self.dialect.request_envelope:
            if name == TRADE_FIELD:
                value = code
            elif name in self._context:
                value = national.get(self._context[name], "")
            else:
                value = self.defaults.get(name, "")
            place(root, where).text = value
        body = place(root, self.framing.body)
        for field in trade.params:
            if field.at:
                place(body, field.at).text = vendor_text(field, document)
        if trade.rows is not None:
            parent_path, _, name = trade.rows.at.rpartition("/")
            parent = place(body, parent_path) if parent_path else body
            for item in paths.get(document, trade.rows.path) or []:
                element = ET.SubElement(parent, name)
                for column in trade.rows.columns:
                    if column.at:
                        place(element, column.at).text = vendor_text(column, item)
        message = ET.tostring(root, encoding="unicode")
        arguments = ((self.soap.action_arg, code), (self.soap.message_arg, message))
        return SoapCall(self.soap.operation, arguments).to_bytes()

    def carried(self, trade: Trade) -> frozenset[str] | None:
        return carried_paths(trade)

    def text(self, raw: bytes) -> str:
        return readable(raw, self.soap.message_arg)

    def mangle(self, raw: bytes, how: str) -> bytes:
        call = SoapCall.from_bytes(raw)
        message = call.argument(self.soap.message_arg) or ""
        middle = len(message) // 2
        if how == "truncate":  # the message stops half way: not XML any more
            return call.replaced(**{self.soap.message_arg: message[:middle]}).to_bytes()
        if how == "encoding":  # bytes invalid in UTF-8 in the middle of the message, put in on the wire
            spoiled = call.replaced(**{self.soap.message_arg: message[:middle] + BAD_BYTES_MARKER + message[middle:]})
            return SoapCall(spoiled.operation, spoiled.arguments, SPOIL_ENCODING).to_bytes()
        raise ValueError(how)

    def refusal(self, trade: Trade, how: str) -> Refusal | None:
        return ENCODING_REFUSAL if how == "encoding" else None

    def decode(self, trade: Trade, sent: bytes, delivery: Delivery) -> Decoded:
        answer = SoapAnswer.from_bytes(delivery.body)
        if answer.fault:
            return fault_decoded(answer)
        try:
            root = ET.fromstring(answer.value or "")
        except ET.ParseError as exc:
            return Decoded(outcome="system", status=delivery.meta,
                           error_text=f"{self.soap.result} is not an XML message: {exc}")
        notes = []
        if root.tag != self.framing.answer_root:
            notes.append(f"the answer's root is <{root.tag}>, {self.dialect.name} answers <{self.framing.answer_root}>")
        request = self._request_envelope(sent)
        status = message = ""
        for where, source in self.dialect.answer_envelope:
            value = root.findtext(where)
            if source == "status":
                status = value or ""
            elif source == "message":
                message = value or ""
            elif source.startswith("echo.") and (value or "") != request.get(source[5:], ""):
                notes.append(f"{where} should echo {request.get(source[5:], '')!r}, came back {value!r}")
            elif source.startswith("const:") and value != source[6:]:
                notes.append(f"{where} should be {source[6:]!r}, came back {value!r}")
        if status != self.dialect.errors.ok:
            code = error_code(self.dialect, message)
            return Decoded(outcome=outcome_of(self.dialect, status, code), status=status, error_code=code,
                           error_text=message, notes=notes)
        decoded = Decoded(outcome="ok", status=status, notes=notes)
        body = root.find(self.framing.body)
        document: dict[str, Any] = {}
        if body is None:
            notes.append(f"the answer has no <{self.framing.body}>")
        else:
            for field in trade.answer:
                if field.at:
                    value = body.findtext(field.at) or ""
                    if field.constant is not None and value != field.constant:
                        notes.append(f"{field.at} should be {field.constant!r}, came back {value!r}")
                    put(document, field.path, national_value(field, value))
            if trade.answer_rows is not None:
                items = []
                for element in body.findall(trade.answer_rows.at):
                    item: dict[str, Any] = {}
                    for column in trade.answer_rows.columns:
                        if column.at:
                            put(item, column.path, national_value(column, element.findtext(column.at) or ""))
                    items.append(item)
                put(document, trade.answer_rows.path, items)
        output = document.get("output", {})
        decoded.output = output if isinstance(output, dict) else {}
        return decoded

    def _request_envelope(self, sent: bytes) -> dict[str, str]:
        message = SoapCall.from_bytes(sent).argument(self.soap.message_arg) or ""
        try:
            root = ET.fromstring(message.replace(BAD_BYTES_MARKER, ""))
        except ET.ParseError:
            return {}
        return {name: root.findtext(where) or "" for name, where in self.dialect.request_envelope}
