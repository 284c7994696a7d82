"""XML read safely: no DTD, no entities, no network, a size limit. Every XML the gateway reads comes here
(inner messages of SOAP dialects; spyne's own envelope parser is configured the same way, and its result is
held to `declares_dtd` too).

"Any DOCTYPE refused" holds in every encoding because it is decided on the parsed document (lxml's docinfo:
libxml2 records the DTD whatever bytes carried it); the marker check before parsing is only the fast path,
made on the head with NUL bytes dropped, so UTF-16 and UTF-32 of ASCII markup are caught before parsing too."""

from __future__ import annotations

import re

from lxml import etree

from gateway.errors import MalformedMessage

MAX_XML = 4 * 1024 * 1024  # an inpatient message with thousands of fee lines fits
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_FORBIDDEN = ("<!DOCTYPE", "<!ENTITY")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")  # UTF-8; UTF-16 and UTF-32 (either order) begin so too


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
        narrow = raw[:65536].replace(b"\x00", b"")  # ASCII markup in UTF-16/32 is itself with NULs between
        if raw.startswith((*_BOMS, b"\x00\x00\xfe\xff")) or (narrow.lstrip().startswith(b"<?xml")
                                                           and b"encoding" in narrow[:200]):
            source, head = raw, narrow.decode("latin-1")  # lxml follows the BOM or the declared encoding
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
    if declares_dtd(root):
        raise MalformedMessage("XML 报文不允许 DTD 或实体声明")
    return root


def declares_dtd(root: etree._Element) -> bool:
    """Whether the document `root` was parsed from had a DOCTYPE (internal subset or external id)."""
    info = root.getroottree().docinfo
    doctype = info.doctype  # type: ignore[attr-defined]  # (absent from lxml-stubs)
    return bool(doctype) or info.internalDTD is not None or info.externalDTD is not None
