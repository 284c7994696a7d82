"""The HIS side of a mapping file: a compiled Dialect read the other way round.

The gateway reads a vendor's request into the national document and writes the national answer in the
vendor's shape; the simulator does the opposite with the same declarations: it writes the national request in
the vendor's shape and reads the vendor's answer back into national terms. Sans I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import simplejson

from gateway.mapping import paths
from gateway.mapping.delimited import PARAMS_FIELD, TRADE_FIELD
from gateway.mapping.fields import NATIONAL_DATE, NATIONAL_DATETIME, FieldMap
from gateway.mapping.model import Delimited, Dialect, JsonDoc, Trade
from simulators.drivers.base import Decoded, Delivery, Envelope, Refusal

# Envelope fields of vendor strings that the national envelope has no value for, as a HIS fills them.
HIS_DEFAULTS = {"cycle_no": "SIM0001", "center_code": "430521", "online_flag": "1"}
_SKIP = object()


def path_text(path: paths.Path) -> str:
    return ".".join(f"{s.key}[{s.select_field}={s.select_value}]" if s.select_field else s.key for s in path)


def carried_paths(trade: Trade) -> frozenset[str] | None:
    """The national paths a trade's answer carries (rows as `output.result[].<column>`); None: all of them."""
    if trade.copy:
        return None
    found = {path_text(f.path) for f in trade.answer if f.path}
    if trade.answer_rows is not None:
        base = path_text(trade.answer_rows.path)
        found |= {f"{base}[].{path_text(c.path)}" for c in trade.answer_rows.columns if c.path}
    return frozenset(found)


def written_paths(trade: Trade) -> frozenset[str] | None:
    """The national request paths the HIS has a place for in the trade's request (rows as
    `input.feedetail[].<column>`); None: all of them."""
    if trade.copy:
        return None

    def writes(field: FieldMap) -> bool:
        return bool(field.path) and not field.source and field.constant is None

    found = {path_text(f.path) for f in trade.params if writes(f)}
    if trade.rows is not None:
        base = path_text(trade.rows.path)
        found |= {f"{base}[].{path_text(c.path)}" for c in trade.rows.columns if writes(c)}
    return frozenset(found)


def vendor_text(field: FieldMap, document: Mapping[str, Any]) -> str:
    """A request field's value as the vendor writes it: its format, then its code table back to front."""
    if field.source or not field.path:
        return ""  # constants and envelope-borne fields are the gateway's to fill
    value = paths.get(document, field.path)
    if value is None:
        return ""
    text = field.fmt.to_vendor(value)
    if field.reverse is not None:
        text = field.reverse.get(text, text)
    return text


def national_value(field: FieldMap, text: str) -> Any:
    """An answer value read back: vendor code → national code, amounts as Decimal, times in national form."""
    if field.constant is not None or not field.path:
        return _SKIP
    if text == "":
        return _SKIP if any(step.select_field for step in field.path) else ""
    if field.table is not None:
        text = field.table.get(text, text)
    kind = field.fmt.kind
    if kind in ("amount", "decimal"):
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    if kind in ("datetime", "date"):
        try:
            moment = datetime.strptime(text, field.fmt.pattern)
        except ValueError:
            return text
        return moment.strftime(NATIONAL_DATETIME if kind == "datetime" else NATIONAL_DATE)
    return text


def put(document: dict[str, Any], path: paths.Path, value: Any) -> None:
    """Like gateway.mapping.paths.put, but a step that selects a list element finds or adds that element."""
    if value is _SKIP:
        return
    node: Any = document
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if step.select_field:
            items = node.setdefault(step.key, [])
            if not isinstance(items, list):
                return
            element = next((e for e in items if isinstance(e, dict)
                            and str(e.get(step.select_field)) == step.select_value), None)
            if element is None:
                element = {step.select_field: step.select_value}
                items.append(element)
            if last:
                return
            node = element
        elif last:
            node[step.key] = value
        else:
            child = node.setdefault(step.key, {})
            if not isinstance(child, dict):
                return
            node = child


def error_patterns(dialect: Dialect) -> list[tuple[str, re.Pattern[str]]]:
    """How to find the gateway's error code in the dialect's error text: its overrides first, then `text`."""
    result = [(code, _template_pattern(text, code)) for code, text in dialect.errors.overrides.items()]
    result.append(("", _template_pattern(dialect.errors.text, "")))
    return result


def _template_pattern(template: str, fixed_code: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    code = r"(?P<code>[A-Z]{2}\d{4})" if not fixed_code else re.escape(fixed_code)
    pattern = pattern.replace(re.escape("{code}"), code, 1).replace(re.escape("{code}"), r"[A-Z]{2}\d{4}")
    pattern = pattern.replace(re.escape("{message}"), r"(?P<message>.*)", 1)
    for name in ("{message}", "{detail}", "{field}"):
        pattern = pattern.replace(re.escape(name), ".*?")
    return re.compile(pattern, re.DOTALL)


def error_code(dialect: Dialect, text: str) -> str:
    for code, pattern in error_patterns(dialect):
        match = pattern.search(text)
        if match:
            return code or match.groupdict().get("code") or ""
    return ""


def outcome_of(dialect: Dialect, status: str, code: str) -> str:
    errors = dialect.errors
    if status == errors.ok:
        return "ok"
    if code.startswith("HG9") or (status == errors.system and status not in (errors.business, errors.rejected)):
        return "system"
    if status in (errors.business, errors.rejected):
        return "business"
    return "system"


def bad_bytes(encoding: str) -> bytes:
    """Bytes that cannot be read in `encoding` (what a mis-encoded HIS sends)."""
    for candidate in (b"\xff\xfe", b"\xff\xff", b"\x80", b"\xc3\x28"):
        try:
            candidate.decode(encoding)
        except UnicodeDecodeError:
            return candidate
    return b"\xff\xfe"


class DelimitedCodec:
    """Neusoft/Yunnan-style strings: envelope fields, parameters and rows by separators."""

    def __init__(self, dialect: Dialect, defaults: Mapping[str, str] = HIS_DEFAULTS) -> None:
        assert isinstance(dialect.framing, Delimited)
        self.dialect = dialect
        self.framing: Delimited = dialect.framing
        self.defaults = defaults
        self._names = dialect.envelope_names()
        self._context = {name: key for key, name in dialect.context.items()}  # envelope field → national key

    def encode(self, trade: Trade, envelope: Envelope, document: Mapping[str, Any], *, trade_code: str = "") -> bytes:
        national = envelope.national()
        values = []
        for name in self._names:
            if name == TRADE_FIELD:
                values.append(trade_code or trade.code)
            elif name == PARAMS_FIELD:
                values.append(self._params(trade, document))
            elif name in self._context:
                values.append(national.get(self._context[name], ""))
            else:
                values.append(self.defaults.get(name, ""))
        field = self.framing.field
        text = field.join(values) + (field if self.framing.trailing else "")
        return text.encode(self.dialect.encoding)

    def _params(self, trade: Trade, document: Mapping[str, Any]) -> str:
        framing = self.framing
        if trade.rows is not None:
            items = paths.get(document, trade.rows.path) or []
            header = [framing.param.join(vendor_text(f, document) for f in trade.params)] if trade.params else []
            return framing.row.join([*header, *(framing.request_column.join(vendor_text(c, item)
                                                                            for c in trade.rows.columns)
                                                for item in items)])
        return framing.param.join(vendor_text(f, document) for f in trade.params)

    def carried(self, trade: Trade) -> frozenset[str] | None:
        return carried_paths(trade)

    def text(self, raw: bytes) -> str:
        return raw.decode(self.dialect.encoding, errors="backslashreplace")

    def mangle(self, raw: bytes, how: str) -> bytes:
        field = self.framing.field.encode(self.dialect.encoding)
        if how == "truncate":  # the string stops after the hospital code: too few fields
            return field.join(raw.split(field)[:2])
        if how == "encoding":
            middle = len(raw) // 2
            return raw[:middle] + bad_bytes(self.dialect.encoding) + raw[middle:]
        raise ValueError(how)

    def refusal(self, trade: Trade, how: str) -> Refusal | None:
        return None  # a cut string and bad bytes are malformed messages (HG1001), an unknown code HG1004

    def _split(self, text: str, sources: list[str]) -> list[str]:
        field = self.framing.field
        parts = text.split(field)
        if self.framing.trailing and parts and parts[-1] == "":
            parts.pop()
        if sources and sources[-1] in ("output", PARAMS_FIELD) and len(parts) > len(sources):
            parts = [*parts[:len(sources) - 1], field.join(parts[len(sources) - 1:])]
        return parts

    def decode(self, trade: Trade, sent: bytes, delivery: Delivery) -> Decoded:
        text = delivery.body.decode(self.dialect.encoding, errors="replace")
        status = str(delivery.rc)
        if status != self.dialect.errors.ok:
            code = error_code(self.dialect, text)
            return Decoded(outcome=outcome_of(self.dialect, status, code), status=status, error_code=code,
                           error_text=text)
        sources = [source for _, source in self.dialect.answer_envelope]
        parts = self._split(text, sources)
        decoded = Decoded(outcome="ok", status=status)
        if len(parts) != len(sources):
            decoded.notes.append(f"the answer has {len(parts)} fields separated by {self.framing.field!r}; "
                                 f"{self.dialect.name} has {len(sources)} ({', '.join(sources)})")
        request = dict(zip(self._names, self._split(self.text(sent), list(self._names)), strict=False))
        output = ""
        for source, part in zip(sources, parts, strict=False):
            if source == "output":
                output = part
            elif source.startswith("echo.") and part != request.get(source[5:], ""):
                decoded.notes.append(f"{source[5:]} should be echoed as {request.get(source[5:], '')!r}, "
                                     f"came back {part!r}")
        decoded.output = self._output(trade, output, decoded.notes)
        return decoded

    def _output(self, trade: Trade, text: str, notes: list[str]) -> dict[str, Any]:
        framing = self.framing
        return delimited_output(self.dialect, trade, text, (framing.param, framing.row, framing.column), notes,
                                row_label="answer row", whole_label="the output")


# The national envelope's other keys, as a national HIS sends them.
NATIONAL_ENVELOPE = {"insuplc_admdvs": "", "recer_sys_code": "HISGW", "dev_no": "", "dev_safe_info": "",
                     "cainfo": "", "signtype": "", "infver": "V1.0", "opter_type": "1", "fixmedins_name": ""}


class JsonCodec:
    """JSON dialects: the national interface itself (`copy` trades) and regional variants with `at:` keys."""

    def __init__(self, dialect: Dialect, defaults: Mapping[str, str] = HIS_DEFAULTS) -> None:
        assert isinstance(dialect.framing, JsonDoc)
        self.dialect = dialect
        self.framing: JsonDoc = dialect.framing
        self.defaults = defaults
        self._context = {name: key for key, name in dialect.context.items()}
        sources = {source: key for key, source in dialect.answer_envelope}
        self._status_key = sources.get("status", "")
        self._error_key = sources.get("error", sources.get("message", ""))
        self._output_key = sources.get("output", "")

    def encode(self, trade: Trade, envelope: Envelope, document: Mapping[str, Any], *, trade_code: str = "") -> bytes:
        framing = self.framing
        national = envelope.national()
        body: dict[str, Any] = {framing.trade: trade_code or trade.code}
        if trade.copy:
            body.update({"msgid": envelope.msgid, "mdtrtarea_admvs": envelope.mdtrtarea_admvs, **NATIONAL_ENVELOPE})
        for name, key in self.dialect.request_envelope:
            national_key = self._context.get(name, "")
            body[key or name] = national.get(national_key, "") if national_key else self.defaults.get(name, "")
        if trade.copy:  # the national input, or the object at copy_to sent flat (request: {copy: input.data})
            body[framing.request] = paths.get(document, trade.copy_to) or {}
        else:
            record: dict[str, Any] = {}
            for field in trade.params:
                if field.at:
                    put(record, paths.parse_path(field.at), vendor_text(field, document))
            if trade.rows is not None:
                items = paths.get(document, trade.rows.path) or []
                put(record, paths.parse_path(trade.rows.at),
                    [{c.at: vendor_text(c, item) for c in trade.rows.columns} for item in items])
            body[framing.request] = record
        text: str = simplejson.dumps(body, use_decimal=True, ensure_ascii=False)
        return text.encode(self.dialect.encoding)

    def carried(self, trade: Trade) -> frozenset[str] | None:
        return carried_paths(trade)

    def text(self, raw: bytes) -> str:
        return raw.decode(self.dialect.encoding, errors="backslashreplace")

    def mangle(self, raw: bytes, how: str) -> bytes:
        if how == "truncate":  # cut in the middle of the document: not JSON any more
            return raw[:len(raw) // 2]
        if how == "encoding":
            middle = len(raw) // 2
            return raw[:middle] + bad_bytes(self.dialect.encoding) + raw[middle:]
        raise ValueError(how)

    def refusal(self, trade: Trade, how: str) -> Refusal | None:
        return None  # half a document and bad bytes are malformed messages (HG1001), an unknown infno HG1004

    def _status_type(self, written: object) -> list[str]:
        """The status's JSON type, as the HIS tests it: a client reading "0".equals(infcode) fails on the number
        0, one reading infcode == 0 on the string "0" (framing `status:`)."""
        if self.framing.status == "string":
            wrong = not isinstance(written, str)
        else:
            wrong = str(written).lstrip("-").isdigit() and type(written) is not int
        if not wrong:
            return []
        return [f"{self._status_key} should be a JSON {self.framing.status}, came back {json.dumps(written)}"]

    def decode(self, trade: Trade, sent: bytes, delivery: Delivery) -> Decoded:
        try:
            answer = json.loads(delivery.body.decode(self.dialect.encoding), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError) as exc:
            return Decoded(outcome="system", status=delivery.meta, error_text=f"the answer is not JSON: {exc}")
        if not isinstance(answer, dict):
            return Decoded(outcome="system", status=delivery.meta, error_text="the answer is not a JSON object")
        written = answer.get(self._status_key, "")
        status = str(written)
        if status != self.dialect.errors.ok:
            text = str(answer.get(self._error_key) or "")
            code = error_code(self.dialect, text)
            failed = Decoded(outcome=outcome_of(self.dialect, status, code), status=status, error_code=code,
                             error_text=text)
            failed.notes.extend(self._status_type(written))
            return failed
        record = answer.get(self._output_key)
        decoded = Decoded(outcome="ok", status=status, notes=self._status_type(written))
        if trade.copy:
            decoded.output = record if isinstance(record, dict) else {}
            return decoded
        document: dict[str, Any] = {}
        record = record if isinstance(record, dict) else {}
        for field in trade.answer:
            if field.at:
                value = paths.get(record, paths.parse_path(field.at))
                put(document, field.path, national_value(field, "" if value is None else str(value)))
        if trade.answer_rows is not None:
            rows = paths.get(record, paths.parse_path(trade.answer_rows.at)) or []
            items = []
            for row in rows if isinstance(rows, list) else []:
                item: dict[str, Any] = {}
                for column in trade.answer_rows.columns:
                    value = row.get(column.at) if isinstance(row, dict) else None
                    put(item, column.path, national_value(column, "" if value is None else str(value)))
                items.append(item)
            put(document, trade.answer_rows.path, items)
        output = document.get("output", {})
        decoded.output = output if isinstance(output, dict) else {}
        return decoded


def delimited_output(dialect: Dialect, trade: Trade, text: str, separators: tuple[str, str, str], notes: list[str],
                     *, row_label: str, whole_label: str) -> dict[str, Any]:
    """A delimited answer read back into the national `output`: the trade's fields by position, or its rows.
    `separators`: (param, row, column). A count that differs from the mapping is noted, never guessed at."""
    param, row_separator, column_separator = separators
    document: dict[str, Any] = {}
    if trade.answer_rows is not None:
        if trade.answer:  # a header record (`header:`) before the rows
            header, _, text = text.partition(row_separator)
            for field, value in zip(trade.answer, header.split(param), strict=False):
                put(document, field.path, national_value(field, value))
        items = []
        for number, row in enumerate((r for r in text.split(row_separator) if r), 1):
            values = row.split(column_separator)
            if len(values) != len(trade.answer_rows.columns):
                notes.append(f"{row_label} {number} has {len(values)} columns; "
                             f"{dialect.name} has {len(trade.answer_rows.columns)}")
            item: dict[str, Any] = {}
            for column, value in zip(trade.answer_rows.columns, values, strict=False):
                put(item, column.path, national_value(column, value))
            items.append(item)
        put(document, trade.answer_rows.path, items)
    elif trade.answer:
        values = text.split(param)
        if len(values) != len(trade.answer):
            notes.append(f"{whole_label} has {len(values)} values separated by {param!r}; "
                         f"{dialect.name} {trade.code} has {len(trade.answer)}")
        for field, value in zip(trade.answer, values, strict=False):
            put(document, field.path, national_value(field, value))
    output = document.get("output", {})
    return output if isinstance(output, dict) else {}
