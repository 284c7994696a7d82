"""XML-message dialects (DHC-style `<Request><Header/><Body/></Request>` strings) ⇄ the national document.

Envelope fields are element paths from the root (`Header/MessageID`); a trade's fields and rows are element
paths under the body element (`PatientNo`, `FeeList/Fee` with columns relative to one `Fee`). Sans I/O.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from gateway.errors import GatewayError, MalformedMessage
from gateway.mapping import paths, safexml
from gateway.mapping.codec import Inbound, envelope_value, fill, find_trade, national_document
from gateway.mapping.model import Dialect, XmlDoc


def _framing(dialect: Dialect) -> XmlDoc:
    assert isinstance(dialect.framing, XmlDoc)
    return dialect.framing


def _text(element: etree._Element, where: str) -> str:
    return element.findtext(where) or ""


class XmlCodec:
    def read(self, dialect: Dialect, raw: Any, action: str) -> Inbound:
        framing = _framing(dialect)
        root = safexml.parse(raw, dialect.encoding)
        if root.tag != framing.request_root:
            raise MalformedMessage(f"根元素应为 <{framing.request_root}>，实为 <{str(root.tag)[:40]}>")
        envelope = {name: _text(root, where).strip() for name, where in dialect.request_envelope}
        trade = find_trade(dialect, action.strip() or envelope.get("trade", ""), "trade")
        body = root.find(framing.body)
        if body is None:
            raise MalformedMessage(f"缺少 <{framing.body}>")
        document = national_document(dialect, trade, envelope)
        fill(document, ((field, _text(body, field.at)) for field in trade.params))
        if trade.rows is not None:
            rows = []
            for element in body.findall(trade.rows.at):
                row: dict[str, Any] = {}
                fill(row, ((field, _text(element, field.at)) for field in trade.rows.columns))
                rows.append(row)
            paths.put(document, trade.rows.path, rows)
        return Inbound(dialect, envelope, trade, document)

    def answer(self, inbound: Inbound, output: dict[str, Any]) -> bytes:
        dialect, trade = inbound.dialect, inbound.trade
        root = self._envelope(dialect, inbound.envelope, None)
        body = _place(root, _framing(dialect).body)
        document = {"output": output}
        for field in trade.answer:
            _place(body, field.at).text = field.answer_text(document)
        if trade.answer_rows is not None:
            parent_path, _, name = trade.answer_rows.at.rpartition("/")
            parent = _place(body, parent_path) if parent_path else body
            for item in paths.get(document, trade.answer_rows.path) or []:
                element = etree.SubElement(parent, name)
                for field in trade.answer_rows.columns:
                    _place(element, field.at).text = field.answer_text(item)
        return self._bytes(dialect, root)

    def error(self, dialect: Dialect, inbound: Inbound | None, raw: Any, error: GatewayError) -> bytes:
        request = inbound.envelope if inbound else _envelope_of(dialect, raw)
        return self._bytes(dialect, self._envelope(dialect, request, error))

    def _envelope(self, dialect: Dialect, request: dict[str, str], error: GatewayError | None) -> etree._Element:
        root = etree.Element(_framing(dialect).answer_root)
        for where, source in dialect.answer_envelope:
            _place(root, where).text = envelope_value(source, dialect, request, error) or ""
        return root

    def _bytes(self, dialect: Dialect, root: etree._Element) -> bytes:
        text = etree.tostring(root, encoding=dialect.encoding, xml_declaration=_framing(dialect).declaration)
        assert isinstance(text, bytes)
        return text


def _place(parent: etree._Element, where: str) -> etree._Element:
    """The element at `where` under `parent`, created (with the elements on the way) when absent."""
    node = parent
    for name in where.split("/"):
        child = node.find(name)
        node = child if child is not None else etree.SubElement(node, name)
    return node


def _envelope_of(dialect: Dialect, raw: Any) -> dict[str, str]:
    """What of the envelope a request that failed before it was understood still tells (for echoes)."""
    try:
        root = safexml.parse(raw, dialect.encoding)
    except MalformedMessage:
        return {}
    return {name: _text(root, where).strip() for name, where in dialect.request_envelope}
