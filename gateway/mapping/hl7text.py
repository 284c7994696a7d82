"""HL7 v2 text, sans I/O: the character set (MSH-18), separators (MSH-1/2), escaping, reading fields by locator
and building answers.

Parsing is lazy: a message is split into segments once, and a segment into fields only when a locator reads it.
python-hl7's `hl7.parse` builds the whole tree (about 0.9 ms for a 1 KB DFT^P03); a mapping reads a few dozen
fields, so this reads what it needs and nothing else.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

from gateway.errors import InvalidValue, MalformedMessage
from gateway.mapping.hl7path import Locator

# HL7 table 0211 (alternate character sets) → Python codec; a mapping may add the names its vendor writes.
CHARSETS: Mapping[str, str] = {
    "ASCII": "ascii", "8859/1": "latin-1", "8859/2": "iso8859-2", "8859/5": "iso8859-5", "8859/7": "iso8859-7",
    "8859/15": "iso8859-15", "UNICODE UTF-8": "utf-8", "GB 18030-2000": "gb18030", "BIG-5": "big5",
    "KS X 1001": "euc-kr", "ISO IR87": "iso2022-jp",
}
_SEGMENT_BREAK = re.compile(r"\r\n|\r|\n")
_SEPARATOR_CHARACTERS = frozenset(string.punctuation)  # printable ASCII, neither letter nor digit nor space


@dataclass(frozen=True, slots=True)
class Separators:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    @property
    def encoding_characters(self) -> str:
        return self.component + self.repetition + self.escape + self.subcomponent


STANDARD = Separators()
_ESCAPES: dict[Separators, dict[int, str]] = {}
_UNESCAPES: dict[Separators, re.Pattern[str]] = {}


def escape(text: str, seps: Separators) -> str:
    """Text as a field value: separators and the escape character become \\F\\ \\S\\ \\R\\ \\T\\ \\E\\, and a line
    break (which would end the segment) becomes \\X0D\\ or \\X0A\\."""
    table = _ESCAPES.get(seps)
    if table is None:
        e = seps.escape
        table = {ord(seps.escape): f"{e}E{e}", ord(seps.field): f"{e}F{e}", ord(seps.component): f"{e}S{e}",
                 ord(seps.repetition): f"{e}R{e}", ord(seps.subcomponent): f"{e}T{e}", ord("\r"): f"{e}X0D{e}",
                 ord("\n"): f"{e}X0A{e}"}
        _ESCAPES[seps] = table
    return text.translate(table)


def unescape(text: str, seps: Separators) -> str:
    if seps.escape not in text:
        return text
    pattern = _UNESCAPES.get(seps)
    if pattern is None:
        e = re.escape(seps.escape)
        pattern = re.compile(f"{e}([FSRTE]|X[0-9A-Fa-f]*|\\.br|[HN]){e}")
        _UNESCAPES[seps] = pattern
    plain = {"F": seps.field, "S": seps.component, "R": seps.repetition, "T": seps.subcomponent, "E": seps.escape,
             ".br": "\n", "H": "", "N": ""}

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] == "X":
            digits = code[1:]
            if len(digits) % 2:
                return match.group(0)
            return bytes.fromhex(digits).decode("ascii", errors="replace")
        return plain[code]

    return pattern.sub(replace, text)


def charset_of(raw: bytes, default: str, extra: Mapping[str, str]) -> tuple[str, str]:
    """(Python codec, MSH-18) guessed from the bytes, before anything is decoded. A GBK/GB 18030 character in
    MSH-3..17 may hold a 0x7C byte that reads as `|` and shifts the count, so the first known name from MSH-18
    on is taken; `decode` checks the guess against the decoded MSH-18."""
    end = len(raw)
    for stop in (raw.find(b"\r"), raw.find(b"\n")):
        if 0 <= stop < end:
            end = stop
    head = raw[:end]
    if not head.startswith(b"MSH") or len(head) < 8:
        raise MalformedMessage("不是 HL7 v2 报文：应以 MSH 段开头", field="MSH")
    for part in head.split(head[3:4])[17:]:
        name = part.split(head[5:6])[0].decode("latin-1").strip()
        codec = extra.get(name) or CHARSETS.get(name.upper())
        if codec is not None:
            return codec, name
    return default, ""


def codec_for_charset(name: str, default: str, extra: Mapping[str, str]) -> str:
    if not name:
        return default
    codec = extra.get(name) or CHARSETS.get(name.upper())
    if codec is None:
        known = "、".join([*CHARSETS, *extra])
        raise InvalidValue(f"不支持的字符集 {name[:32]!r}（可用 {known}）", field="MSH-18")
    return codec


def decode(raw: bytes, default: str, extra: Mapping[str, str]) -> tuple[Message, str, str]:
    """(message, codec, MSH-18): the bytes decoded in the character set MSH-18 names (else `default`)."""
    codec, name = charset_of(raw, default, extra)
    message = Message(_decode(raw, codec))
    said = message.value(_MSH18)
    if said != name:  # MSH-18 empty, or a name we do not know (refused here)
        codec, name = codec_for_charset(said, default, extra), said
        message = Message(_decode(raw, codec))
    return message, codec, name


def _decode(raw: bytes, codec: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"报文不是 {codec} 编码（第 {exc.start} 字节），请检查 MSH-18", field="MSH-18") from exc


class Message:
    """A decoded message. Fields are read by locator; each segment is split into fields the first time."""

    def __init__(self, text: str) -> None:
        segments = [s for s in _SEGMENT_BREAK.split(text.lstrip("\ufeff")) if s.strip()]
        if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
            raise MalformedMessage("不是 HL7 v2 报文：应以 MSH 段开头", field="MSH")
        head = segments[0]
        field = head[3]
        encoding = head[4:].split(field, 1)[0][:4]
        chosen = field + encoding + ("&" if len(encoding) == 3 else "")
        if len(chosen) != 5 or len(set(chosen)) != 5 or not all(c in _SEPARATOR_CHARACTERS for c in chosen):
            raise MalformedMessage(f"MSH-1/MSH-2 分隔符不合法: {head[3:8]!r}", field="MSH-2")
        self.separators = Separators(*chosen)
        self.segments = segments
        self._split: dict[int, list[str]] = {}
        self._first: dict[str, int] | None = None

    def fields(self, index: int) -> list[str]:
        """Segment `index` split into fields, so that item n is field n (MSH-1 is the field separator itself)."""
        fields = self._split.get(index)
        if fields is None:
            fields = self.segments[index].split(self.separators.field)
            if index == 0:
                fields.insert(1, self.separators.field)
            self._split[index] = fields
        return fields

    def indexes(self, segment: str) -> list[int]:
        return [i for i, text in enumerate(self.segments) if text.startswith(segment)
                and (len(text) == 3 or text[3] == self.separators.field)]

    def first(self, segment: str) -> int | None:
        if self._first is None:
            first: dict[str, int] = {}
            for i, text in enumerate(self.segments):
                first.setdefault(text[:3], i)
            self._first = first
        return self._first.get(segment)

    def value(self, at: Locator, index: int | None = None) -> str:
        """The unescaped text at `at`, in segment `index` (default: the first segment of its id); "" if absent."""
        if index is None:
            index = self.first(at.segment)
            if index is None:
                return ""
        return self.unescaped(self.raw(at, index))

    def raw(self, at: Locator, index: int) -> str:
        """The text at `at` as it is in the message (still escaped); MSH-2 whole."""
        fields = self.fields(index)
        if at.field >= len(fields):
            return ""
        text = fields[at.field]
        if index == 0 and at.field <= 2:
            return text
        seps = self.separators
        if seps.repetition in text or at.repetition > 1:
            text = _part(text, seps.repetition, at.repetition)
        if seps.component in text or at.component > 1:
            text = _part(text, seps.component, at.component)
        if seps.subcomponent in text or at.subcomponent > 1:
            text = _part(text, seps.subcomponent, at.subcomponent)
        return text

    def unescaped(self, text: str) -> str:
        return unescape(text, self.separators) if self.separators.escape in text else text


def _part(text: str, separator: str, position: int) -> str:
    parts = text.split(separator)
    return parts[position - 1] if position <= len(parts) else ""


_MSH18 = Locator("MSH", 18)


class Builder:
    """An answer under construction: segments as lists of already-escaped fields, item n being field n."""

    def __init__(self, seps: Separators) -> None:
        self.seps = seps
        self.segments: list[list[str]] = []

    def add(self, segment: str) -> list[str]:
        fields = [segment, self.seps.field, self.seps.encoding_characters] if segment == "MSH" else [segment]
        self.segments.append(fields)
        return fields

    def first(self, segment: str) -> list[str]:
        for fields in self.segments:
            if fields[0] == segment:
                return fields
        return self.add(segment)

    def put(self, fields: list[str], at: Locator, text: str, *, escaped: bool = False) -> None:
        """Write `text` (escaped here unless it already is) at the field, repetition, component, subcomponent."""
        value = text if escaped else escape(text, self.seps)
        while len(fields) <= at.field:
            fields.append("")
        if at.repetition == at.component == at.subcomponent == 1 and not fields[at.field]:
            fields[at.field] = value
            return
        seps = self.seps
        repetitions = _padded(fields[at.field], seps.repetition, at.repetition)
        components = _padded(repetitions[at.repetition - 1], seps.component, at.component)
        subcomponents = _padded(components[at.component - 1], seps.subcomponent, at.subcomponent)
        subcomponents[at.subcomponent - 1] = value
        components[at.component - 1] = seps.subcomponent.join(subcomponents).rstrip(seps.subcomponent)
        repetitions[at.repetition - 1] = seps.component.join(components).rstrip(seps.component)
        fields[at.field] = seps.repetition.join(repetitions).rstrip(seps.repetition)

    def render(self) -> str:
        """Segments end with CR (HL7 2.x); empty trailing fields are left off."""
        lines = []
        for fields in self.segments:
            end = len(fields)
            while end > 1 and fields[end - 1] == "":
                end -= 1
            if fields[0] == "MSH":
                lines.append("MSH" + self.seps.field + self.seps.field.join(fields[2:max(end, 3)]))
            else:
                lines.append(self.seps.field.join(fields[:end]))
        return "\r".join(lines) + "\r"


def _padded(text: str, separator: str, count: int) -> list[str]:
    parts = text.split(separator)
    if len(parts) < count:
        parts += [""] * (count - len(parts))
    return parts
