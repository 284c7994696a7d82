"""XML read safely: no DTD, no entities, no network, a size limit. Every XML the gateway reads comes here
(inner messages of SOAP dialects; spyne's own envelope parser is configured the same way)."""

from __future__ import annotations

import re

from lxml import etree

from gateway.errors import MalformedMessage

MAX_XML = 4 * 1024 * 1024  # an inpatient message with thousands of fee lines fits
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_FORBIDDEN = ("<!DOCTYPE", "<!ENTITY")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


_PARSER = _parser()  # used on the event loop thread only (lxml parsers are not shared across threads)


def parse(raw: bytes | str, encoding: str) -> etree._Element:
    """The root element. `str` arrives from a SOAP string argument: any declaration it carries (GB2312 and
    the like) described bytes that no longer exist, so it is dropped. `bytes` without a declaration are in
    the dialect's encoding."""
    if len(raw) > MAX_XML:
        raise MalformedMessage(f"XML 报文超过 {MAX_XML // 1024 // 1024} MB")
    source: bytes | str
    if isinstance(raw, bytes):
        if raw.lstrip().startswith(b"<?xml") and b"encoding" in raw[:200]:
            source, head = raw, raw[:65536].decode("latin-1")  # lxml follows the declared encoding
        else:
            try:
                source = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise MalformedMessage(f"XML 报文不是 {encoding.upper()} 编码（第 {exc.start} 字节）") from exc
            head = source[:65536]
    else:
        source = _DECLARATION.sub("", raw, count=1)
        head = source[:65536]
    if any(marker in head for marker in _FORBIDDEN):
        raise MalformedMessage("XML 报文不允许 DTD 或实体声明")
    try:
        root = etree.fromstring(source, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise MalformedMessage(f"XML 解析失败：{exc.msg}") from exc
    except (ValueError, LookupError) as exc:  # an unknown declared encoding, or a declaration lxml refuses
        raise MalformedMessage(f"XML 解析失败：{exc}") from exc
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise MalformedMessage("XML 报文不允许 DTD 或实体声明")
    return root
