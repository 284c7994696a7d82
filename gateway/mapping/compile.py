"""Mapping file → Dialect. Every mistake is refused with the file, the line and what is wrong."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.mapping import paths
from gateway.mapping.fields import FieldMap, Format
from gateway.mapping.located import LDict, LList, load_located
from gateway.mapping.model import Delimited, Dialect, ErrorRendering, Rows, Trade

TRANSPORTS = frozenset({"dll", "http", "soap", "hl7"})
NATIONAL_INFNOS = frozenset({"9001", "9002", "1101", "2401", "2402", "2403", "2404", "2405", "2301", "2302", "2303",
                             "2304", "2305", "5203", "5206"})
CONTEXT_KEYS = frozenset({"msgid", "fixmedins_code", "opter", "opter_name", "inf_time", "sign_no"})


class MappingError(ValueError):
    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


def compile_mapping(path: Path) -> Dialect:
    document, problem, line = load_located(path)
    if document is None:
        raise MappingError(path, line, problem)
    return _Compiler(path).dialect(document)


class _Compiler:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, line: int, problem: str) -> MappingError:
        return MappingError(self.path, line, problem)

    def keys(self, table: Any, line: int, allowed: set[str], required: set[str], what: str) -> LDict:
        if not isinstance(table, LDict):
            raise self.fail(line, f"{what} should be a mapping")
        for key in table:
            if key not in allowed:
                raise self.fail(table.lines[key], f"unknown key {key!r} in {what}; known: {', '.join(sorted(allowed))}")
        for key in sorted(required - set(table)):
            raise self.fail(table.line, f"{what} needs {key!r}")
        return table

    def text(self, table: LDict, key: str) -> str:
        value = table[key]
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            raise self.fail(table.lines[key], f"{key!r} should be a non-empty string")
        return str(value)

    def dialect(self, doc: LDict) -> Dialect:
        self.keys(doc, 1, {"dialect", "transport", "encoding", "framing", "request_envelope", "answer_envelope",
                           "context", "tables", "trades", "errors", "description"},
                  {"dialect", "transport", "encoding", "framing", "trades", "errors"}, "the file")
        transport = self.text(doc, "transport")
        if transport not in TRANSPORTS:
            raise self.fail(doc.lines["transport"], f"transport {transport!r}: one of {', '.join(sorted(TRANSPORTS))}")
        encoding = self.text(doc, "encoding")
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise self.fail(doc.lines["encoding"], f"unknown encoding {encoding!r}") from exc
        request_envelope = self.names(doc.get("request_envelope", LList()), doc.lines.get("request_envelope", 1))
        answer_envelope = self.names(doc.get("answer_envelope", LList()), doc.lines.get("answer_envelope", 1))
        for name, line in zip(answer_envelope, doc["answer_envelope"].lines, strict=True):
            if name.startswith("echo.") and name[5:] not in request_envelope:
                raise self.fail(line, f"{name}: {name[5:]!r} is not a request envelope field")
            if name not in ("serial", "output") and not name.startswith(("echo.", "const:")):
                raise self.fail(line, f"answer envelope field {name!r}: serial, output, echo.<field> or const:<text>")
        context = self.context(doc.get("context", LDict()), request_envelope)
        tables = self.tables(doc.get("tables", LDict()), doc.lines.get("tables", 1))
        trades_doc = self.keys(doc["trades"], doc.lines["trades"], set(doc["trades"]), set(), "trades")
        trades = {code: self.trade(code, trades_doc[code], trades_doc.lines[code], tables, request_envelope)
                  for code in trades_doc}
        return Dialect(
            name=self.text(doc, "dialect"), transport=transport, encoding=encoding, source=self.path,
            framing=self.framing(doc["framing"], doc.lines["framing"]), request_envelope=request_envelope,
            answer_envelope=answer_envelope, context=context, trades=trades,
            errors=self.errors(doc["errors"], doc.lines["errors"]),
        )

    def names(self, value: Any, line: int) -> tuple[str, ...]:
        if not isinstance(value, LList) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(line, "should be a list of field names")
        if len(set(value)) != len(value):
            raise self.fail(line, "a field name appears twice")
        return tuple(value)

    def framing(self, value: Any, line: int) -> Delimited:
        table = self.keys(value, line, {"kind", "field", "param", "row", "column", "request_column", "trailing"},
                          {"kind", "field", "param"}, "framing")
        if table["kind"] != "delimited":
            raise self.fail(table.lines["kind"], f"framing kind {table['kind']!r}: only 'delimited' so far")
        field, param = self.text(table, "field"), self.text(table, "param")
        row = str(table.get("row", "\n"))
        trailing = table.get("trailing", True)
        if not isinstance(trailing, bool):
            raise self.fail(table.lines["trailing"], "trailing: true or false")
        return Delimited(field=field, param=param, row=row, column=str(table.get("column", "\t")),
                         request_column=str(table.get("request_column", param)), trailing=trailing)

    def context(self, value: Any, request_envelope: tuple[str, ...]) -> dict[str, str]:
        table = self.keys(value, getattr(value, "line", 1), set(CONTEXT_KEYS), set(), "context")
        for key, name in table.items():
            if name not in request_envelope:
                raise self.fail(table.lines[key], f"context {key}: {name!r} is not a request envelope field")
        for required in ("msgid", "fixmedins_code"):
            if required not in table:
                raise self.fail(table.line, f"context needs {required!r}: which envelope field carries it")
        return {key: str(name) for key, name in table.items()}

    def tables(self, value: Any, line: int) -> dict[str, dict[str, str]]:
        table = self.keys(value, line, set(value) if isinstance(value, dict) else set(), set(), "tables")
        result: dict[str, dict[str, str]] = {}
        for name, entries in table.items():
            if not isinstance(entries, LDict) or not entries:
                raise self.fail(table.lines[name], f"table {name!r}: vendor code: national code pairs")
            result[name] = {str(k): str(v) for k, v in entries.items()}
            if len(set(result[name].values())) != len(result[name]):
                # answers translate back with the same table, so it must be one to one
                raise self.fail(table.lines[name], f"table {name!r} maps two vendor codes to one national code")
        return result

    def trade(self, code: str, value: Any, line: int, tables: Mapping[str, dict[str, str]],
              request_envelope: tuple[str, ...]) -> Trade:
        table = self.keys(value, line, {"infno", "name", "request", "answer"}, {"infno"}, f"trade {code}")
        infno = self.text(table, "infno")
        if infno not in NATIONAL_INFNOS:
            raise self.fail(table.lines["infno"], f"trade {code}: infno {infno!r} is not a national transaction "
                                                  f"the gateway serves ({', '.join(sorted(NATIONAL_INFNOS))})")
        params: list[FieldMap] = []
        from_envelope: list[FieldMap] = []
        rows = None
        request = table.get("request", LList())
        request_line = table.lines.get("request", line)
        if isinstance(request, LDict):
            self.keys(request, request_line, {"rows"}, {"rows"}, f"trade {code} request")
            rows = self.rows(request["rows"], request.lines["rows"], tables, "to")
        elif isinstance(request, LList):
            for item, item_line in zip(request, request.lines, strict=True):
                field = self.field(item, item_line, tables, "to", request_envelope)
                (from_envelope if field.source else params).append(field)
        else:
            raise self.fail(request_line, f"trade {code} request: a list of fields, or rows:")
        answer_rows = None
        answer: list[FieldMap] = []
        answer_doc = table.get("answer", LList())
        answer_line = table.lines.get("answer", line)
        if isinstance(answer_doc, LDict):
            self.keys(answer_doc, answer_line, {"rows"}, {"rows"}, f"trade {code} answer")
            answer_rows = self.rows(answer_doc["rows"], answer_doc.lines["rows"], tables, "from")
        elif isinstance(answer_doc, LList):
            answer = [self.field(item, item_line, tables, "from", ())
                      for item, item_line in zip(answer_doc, answer_doc.lines, strict=True)]
        else:
            raise self.fail(answer_line, f"trade {code} answer: a list of fields, or rows:")
        return Trade(code=code, infno=infno, params=tuple(params), from_envelope=tuple(from_envelope), rows=rows,
                     answer=tuple(answer), answer_rows=answer_rows)

    def rows(self, value: Any, line: int, tables: Mapping[str, dict[str, str]], direction: str) -> Rows:
        table = self.keys(value, line, {direction, "columns"}, {direction, "columns"}, "rows")
        columns = table["columns"]
        if not isinstance(columns, LList) or not columns:
            raise self.fail(table.lines["columns"], "columns: a list of fields")
        return Rows(
            path=self.path_of(table[direction], table.lines[direction]),
            columns=tuple(self.field(item, item_line, tables, direction, ())
                          for item, item_line in zip(columns, columns.lines, strict=True)),
        )

    def field(self, item: Any, line: int, tables: Mapping[str, dict[str, str]], direction: str,
              request_envelope: tuple[str, ...]) -> FieldMap:
        """A request field ("to": the national path it fills) or an answer field ("from": where it is read)."""
        if isinstance(item, str):
            item = LDict({direction: item})
            item.line, item.lines = line, {direction: line}
        allowed = {direction, "format", "table", "default", "optional", "value"}
        if direction == "to":
            allowed.add("from")
        table = self.keys(item, line, allowed, set(), "field")
        constant = None if table.get("value") is None else str(table["value"])
        target = table.get(direction)
        if target is None and (direction == "to" or constant is None):
            raise self.fail(line, f"field needs {direction!r}: a path in the national document")
        source = ""
        if constant is not None and direction == "to":
            source = "const"  # a fixed national value the vendor never sends (e.g. insutype 390)
        elif "from" in table and direction == "to":
            source = str(table["from"])
            if not source.startswith("envelope.") or source[9:] not in request_envelope:
                raise self.fail(table.lines["from"], f"from: {source!r} should be envelope.<request envelope field>")
            source = source[9:]
        codes = None
        if "table" in table:
            codes = tables.get(str(table["table"]))
            if codes is None:
                raise self.fail(table.lines["table"], f"no table named {table['table']!r} under tables:")
        default = constant if source == "const" else table.get("default")
        return FieldMap(
            path=self.path_of(target, table.lines.get(direction, line)) if target is not None else (),
            label=str(target) if target is not None else "value",
            fmt=self.format(table.get("format", "text"), table.lines.get("format", line)),
            table=codes, reverse={v: k for k, v in codes.items()} if codes else None,
            default=None if default is None else str(default), required=not table.get("optional", False),
            constant=constant if direction == "from" else None, source=source,
        )

    def path_of(self, text: Any, line: int) -> paths.Path:
        try:
            return paths.parse_path(str(text))
        except ValueError as exc:
            raise self.fail(line, str(exc)) from exc

    def format(self, text: Any, line: int) -> Format:
        kind, _, pattern = str(text).partition(":")
        if kind in ("text", "amount", "decimal") and not pattern:
            return Format(kind)
        if kind in ("datetime", "date") and pattern:
            return Format(kind, pattern)
        raise self.fail(line, f"format {text!r}: text, amount, decimal, datetime:<strftime> or date:<strftime>")

    def errors(self, value: Any, line: int) -> ErrorRendering:
        table = self.keys(value, line, {"business_rc", "system_rc", "text", "codes"}, {"text"}, "errors")
        overrides = table.get("codes", LDict())
        if not isinstance(overrides, dict):
            raise self.fail(table.lines.get("codes", line), "codes: canonical error code: vendor text")
        return ErrorRendering(business_rc=int(table.get("business_rc", -2)), system_rc=int(table.get("system_rc", -1)),
                              text=self.text(table, "text"), overrides={str(k): str(v) for k, v in overrides.items()})
