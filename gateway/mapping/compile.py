"""Mapping file → Dialect. Every mistake is refused with the file, the line and what is wrong."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.mapping import hl7path, paths
from gateway.mapping.codec import ENVELOPE_SOURCES, known_source, split_trade_code
from gateway.mapping.fields import FieldMap, Format
from gateway.mapping.located import LDict, LList, load_located
from gateway.mapping.model import (
    Args,
    Delimited,
    Dialect,
    ErrorRendering,
    Framing,
    Hl7,
    JsonDoc,
    Rows,
    SoapService,
    Trade,
    XmlDoc,
)

TRANSPORTS = frozenset({"dll", "http", "soap", "hl7"})
NATIONAL_INFNOS = frozenset({"9001", "9002", "1101", "2401", "2402", "2403", "2404", "2405", "2301", "2302", "2303",
                             "2304", "2305", "5203", "5206", "2601", "3201", "3202", "2501", "2502",
                             "2201", "2202", "2203", "2204", "2205", "2206", "2207", "2208", "2503",  # 门诊, 慢特病备案
                             "5999",  # 5999: hisgw's 报文处理结果查询, an extension (README)
                             "5998"})  # 5998: hisgw's 一站式结算单 (the settlement sheet), an extension (README)
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
        self.hl7 = False  # fields' `at:` are HL7 locators, checked as they are compiled

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
                           "context", "tables", "trades", "errors", "description", "endpoint", "ok_text", "soap"},
                  {"dialect", "transport", "encoding", "framing", "trades", "errors"}, "the file")
        transport = self.text(doc, "transport")
        if transport not in TRANSPORTS:
            raise self.fail(doc.lines["transport"], f"transport {transport!r}: one of {', '.join(sorted(TRANSPORTS))}")
        encoding = self.text(doc, "encoding")
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise self.fail(doc.lines["encoding"], f"unknown encoding {encoding!r}") from exc
        framing = self.framing(doc["framing"], doc.lines["framing"])
        request_envelope = self.envelope(doc, "request_envelope", framing)
        answer_envelope = self.envelope(doc, "answer_envelope", framing)
        names = tuple(name for name, _ in request_envelope)
        lines = self.envelope_lines(doc, "answer_envelope")
        for (_, source), line in zip(answer_envelope, lines, strict=True):
            if not known_source(source):
                raise self.fail(line, f"answer envelope source {source!r}: {ENVELOPE_SOURCES}")
            if source.startswith("echo.") and source[5:] not in names:
                raise self.fail(line, f"{source}: {source[5:]!r} is not a request envelope field")
        if isinstance(framing, Hl7):
            self.hl7_envelope(doc, request_envelope, answer_envelope)
        context = self.context(doc.get("context", LDict()), names)
        tables = self.tables(doc.get("tables", LDict()), doc.lines.get("tables", 1))
        trades_doc = self.keys(doc["trades"], doc.lines["trades"], set(doc["trades"]), set(), "trades")
        trades = {str(code): self.trade(str(code), trades_doc[code], trades_doc.lines[code], tables, names, framing)
                  for code in trades_doc}
        endpoint = str(doc.get("endpoint", ""))
        if transport in ("http", "soap") and not endpoint.startswith("/"):
            raise self.fail(doc.lines.get("endpoint", 1), f"a {transport} dialect needs endpoint: /its/url/path")
        soap = self.soap(doc.get("soap"), doc.lines.get("soap", 1), framing) if transport == "soap" else None
        errors = self.errors(doc["errors"], doc.lines["errors"])
        if transport == "dll" and not all(status.lstrip("-").isdigit() for status in
                                          (errors.ok, errors.business, errors.rejected, errors.system)):
            raise self.fail(doc.lines["errors"], "a dll dialect's statuses are the function's integer return codes")
        return Dialect(
            name=self.text(doc, "dialect"), transport=transport, encoding=encoding, source=self.path,
            framing=framing, request_envelope=request_envelope, answer_envelope=answer_envelope, context=context,
            trades=trades, errors=errors,
            ok_text=str(doc.get("ok_text", "成功")), endpoint=endpoint, soap=soap,
        )

    def soap(self, value: Any, line: int, framing: Framing) -> SoapService:
        table = self.keys(value, line, {"namespace", "service", "operation", "arguments", "result"},
                          {"namespace", "service"}, "soap")
        operation = str(table.get("operation", ""))
        if isinstance(framing, Args) == bool(operation):
            raise self.fail(table.line, "soap: an args framing has one operation per trade (no operation:); "
                                        "any other framing needs operation:, arguments: [action, message], result:")
        action_arg = message_arg = result = ""
        if operation:
            arguments = table.get("arguments")
            if not isinstance(arguments, LList) or len(arguments) != 2:
                raise self.fail(table.lines.get("arguments", table.line), "soap arguments: [action name, message name]")
            action_arg, message_arg = str(arguments[0]), str(arguments[1])
            result = str(table.get("result", f"{operation}Result"))
        return SoapService(namespace=self.text(table, "namespace"), service=self.text(table, "service"),
                           operation=operation, action_arg=action_arg, message_arg=message_arg, result=result)

    def envelope(self, doc: LDict, key: str, framing: Framing) -> tuple[tuple[str, str], ...]:
        """A list (by position: names, or answer sources) or a mapping (name: where, or where: source)."""
        value = doc.get(key, LList())
        line = doc.lines.get(key, 1)
        if isinstance(value, LList):
            if not all(isinstance(v, str) and v for v in value):
                raise self.fail(line, f"{key} should be a list of names")
            if len(set(value)) != len(value):
                raise self.fail(line, f"{key}: a name appears twice")
            if key == "request_envelope":
                return tuple((v, "") for v in value)
            return tuple(("", v) for v in value)
        if isinstance(value, LDict):
            if isinstance(framing, Delimited):
                raise self.fail(line, f"{key}: a delimited envelope is a list, by position")
            return tuple((str(k), str(v)) for k, v in value.items())
        raise self.fail(line, f"{key} should be a list or a mapping")

    def envelope_lines(self, doc: LDict, key: str) -> list[int]:
        value = doc.get(key)
        if isinstance(value, LList):
            return value.lines
        if isinstance(value, LDict):
            return [value.lines[k] for k in value]
        return []

    def framing(self, value: Any, line: int) -> Framing:
        if not isinstance(value, LDict) or "kind" not in value:
            raise self.fail(line, "framing needs kind: delimited, json, xml, args or hl7")
        kind = value["kind"]
        if kind == "delimited":
            table = self.keys(value, line, {"kind", "field", "param", "row", "column", "request_column", "trailing"},
                              {"kind", "field", "param"}, "framing")
            field, param = self.text(table, "field"), self.text(table, "param")
            trailing = table.get("trailing", True)
            if not isinstance(trailing, bool):
                raise self.fail(table.lines["trailing"], "trailing: true or false")
            return Delimited(field=field, param=param, row=str(table.get("row", "\n")),
                             column=str(table.get("column", "\t")),
                             request_column=str(table.get("request_column", param)), trailing=trailing)
        if kind == "json":
            table = self.keys(value, line, {"kind", "trade", "request", "answer", "status"},
                              {"kind", "trade", "request", "answer"}, "framing")
            status = str(table.get("status", "number"))
            if status not in ("number", "string"):
                raise self.fail(table.lines["status"], f"status {status!r}: number (infcode 0) or string (\"0\")")
            return JsonDoc(trade=self.text(table, "trade"), request=self.text(table, "request"),
                           answer=self.text(table, "answer"), status=status)
        if kind == "xml":
            table = self.keys(value, line, {"kind", "request_root", "answer_root", "body", "declaration"},
                              {"kind", "request_root", "answer_root", "body"}, "framing")
            return XmlDoc(request_root=self.text(table, "request_root"), answer_root=self.text(table, "answer_root"),
                          body=self.text(table, "body"), declaration=bool(table.get("declaration", True)))
        if kind == "args":
            table = self.keys(value, line, {"kind", "param", "row", "column"}, {"kind", "param", "row", "column"},
                              "framing")
            return Args(param=self.text(table, "param"), row=self.text(table, "row"), column=self.text(table, "column"))
        if kind == "hl7":
            table = self.keys(value, line, {"kind", "application", "facility", "version", "charsets"},
                              {"kind", "application", "facility"}, "framing")
            charsets = table.get("charsets", LDict())
            if not isinstance(charsets, LDict):
                raise self.fail(table.lines["charsets"], "charsets: MSH-18 name: Python codec")
            for name, codec in charsets.items():
                try:
                    codecs.lookup(str(codec))
                except LookupError as exc:
                    raise self.fail(charsets.lines[name], f"charset {name!r}: unknown codec {codec!r}") from exc
            self.hl7 = True
            return Hl7(application=self.text(table, "application"), facility=self.text(table, "facility"),
                       version=str(table.get("version", "2.5")),
                       charsets={str(k): str(v) for k, v in charsets.items()})
        raise self.fail(value.lines["kind"], f"framing kind {kind!r}: delimited, json, xml, args or hl7")

    def hl7_envelope(self, doc: LDict, request: tuple[tuple[str, str], ...],
                     answer: tuple[tuple[str, str], ...]) -> None:
        """An HL7 envelope names locators: request `name: MSH-10`, answer `MSA-3: message`."""
        if request and not isinstance(doc.get("request_envelope"), LDict):
            raise self.fail(doc.lines["request_envelope"], "an hl7 request_envelope is a mapping name: locator")
        located = [*zip((where for _, where in request), self.envelope_lines(doc, "request_envelope"), strict=True),
                   *zip((where for where, _ in answer), self.envelope_lines(doc, "answer_envelope"), strict=True)]
        for where, where_line in located:
            problem = hl7path.locator_problem(where)
            if problem:
                raise self.fail(where_line, problem)

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
              envelope: tuple[str, ...], framing: Framing) -> Trade:
        table = self.keys(value, line, {"infno", "name", "request", "answer"}, {"infno"}, f"trade {code}")
        if isinstance(framing, Hl7) and hl7path.trade_problem(code):
            raise self.fail(line, hl7path.trade_problem(code))
        infno = self.text(table, "infno")
        if infno not in NATIONAL_INFNOS:
            raise self.fail(table.lines["infno"], f"trade {code}: infno {infno!r} is not a national transaction "
                                                  f"the gateway serves ({', '.join(sorted(NATIONAL_INFNOS))})")
        request, answer = table.get("request", LList()), table.get("answer", LList())
        copy_to = self.copy_to(request, table.lines.get("request", line))
        if copy_to or answer == "copy":
            if not isinstance(framing, JsonDoc) or not copy_to or answer != "copy":
                raise self.fail(line, f"trade {code}: request: copy (or {{copy: input.<path>}}) and answer: copy go "
                                      f"together, in a json framing")
            return Trade(code=code, infno=infno, copy=True, params=(), from_envelope=(), rows=None, answer=(),
                         answer_rows=None, copy_to=copy_to)
        located = not isinstance(framing, Delimited)  # every framing but the delimited one names its places
        answer_located = not isinstance(framing, Delimited | Args)  # an args answer is one positional string
        if isinstance(framing, Args):
            operation, argument, _value = split_trade_code(code)
            if not operation.isidentifier() or (argument and not argument.isidentifier()):
                raise self.fail(line, f"trade {code!r}: an operation name, or Operation[argument=value]")
        params: list[FieldMap] = []
        from_envelope: list[FieldMap] = []
        rows = None
        request_line = table.lines.get("request", line)
        if isinstance(request, LDict):
            # `header:` (delimited): a one-record first line before the rows, e.g. the period of a 3202
            self.keys(request, request_line, {"rows", "header"} if isinstance(framing, Delimited) else {"rows"},
                      {"rows"}, f"trade {code} request")
            rows = self.rows(request["rows"], request.lines["rows"], tables, "to", framing)
            params = [self.field(item, item_line, tables, "to", (), located)
                      for item, item_line in self.header(request, request_line, code)]
        elif isinstance(request, LList):
            for item, item_line in zip(request, request.lines, strict=True):
                field = self.field(item, item_line, tables, "to", envelope, located)
                (from_envelope if field.source else params).append(field)
        else:
            raise self.fail(request_line, f"trade {code} request: a list of fields, rows:, or copy")
        answer_rows = None
        answer_fields: list[FieldMap] = []
        answer_line = table.lines.get("answer", line)
        if isinstance(answer, LDict):
            self.keys(answer, answer_line, {"rows", "header"} if isinstance(framing, Delimited) else {"rows"},
                      {"rows"}, f"trade {code} answer")
            answer_rows = self.rows(answer["rows"], answer.lines["rows"], tables, "from", framing)
            answer_fields = [self.field(item, item_line, tables, "from", (), answer_located)
                             for item, item_line in self.header(answer, answer_line, code)]
        elif isinstance(answer, LList):
            answer_fields = [self.field(item, item_line, tables, "from", (), answer_located)
                             for item, item_line in zip(answer, answer.lines, strict=True)]
        else:
            raise self.fail(answer_line, f"trade {code} answer: a list of fields, rows:, or copy")
        return Trade(code=code, infno=infno, copy=False, params=tuple(params), from_envelope=tuple(from_envelope),
                     rows=rows, answer=tuple(answer_fields), answer_rows=answer_rows)

    def copy_to(self, request: Any, line: int) -> paths.Path:
        """`copy`: the vendor's record is the national input; `{copy: input.data}`: it is the object at that path
        (a flat record the national interface nests, e.g. 2304's fields directly under input)."""
        if request == "copy":
            return paths.parse_path("input")
        if not (isinstance(request, LDict) and "copy" in request):
            return ()
        self.keys(request, line, {"copy"}, {"copy"}, "request")
        path = self.path_of(request["copy"], request.lines["copy"])
        if path[0].key != "input" or any(step.select_field for step in path):
            raise self.fail(request.lines["copy"], "copy: a path in the national input (input or input.<key>…)")
        return path

    def header(self, table: LDict, line: int, code: str) -> list[tuple[Any, int]]:
        """A delimited trade's `header:` fields (the record before its rows), with their lines."""
        header = table.get("header")
        if header is None:
            return []
        if not isinstance(header, LList):
            raise self.fail(table.lines.get("header", line), f"trade {code} header: a list of fields")
        return list(zip(header, header.lines, strict=True))

    def rows(self, value: Any, line: int, tables: Mapping[str, dict[str, str]], direction: str,
             framing: Framing) -> Rows:
        # delimited rows fill the params; args rows sit in one argument, by position; others name every column
        needs_at = not isinstance(framing, Delimited) and not (isinstance(framing, Args) and direction == "from")
        located_columns = not isinstance(framing, Delimited | Args)
        table = self.keys(value, line, {direction, "columns", "at"}, {direction, "columns"} | ({"at"} if needs_at
                                                                                             else set()), "rows")
        columns = table["columns"]
        if not isinstance(columns, LList) or not columns:
            raise self.fail(table.lines["columns"], "columns: a list of fields")
        rows = Rows(
            path=self.path_of(table[direction], table.lines[direction]), at=str(table.get("at", "")),
            columns=tuple(self.field(item, item_line, tables, direction, (), located_columns)
                          for item, item_line in zip(columns, columns.lines, strict=True)),
        )
        if isinstance(framing, Hl7):
            problem = hl7path.rows_problem(rows.at, [c.at for c in rows.columns], answer=direction == "from")
            if problem:
                raise self.fail(table.lines["at"], problem)
        return rows

    def field(self, item: Any, line: int, tables: Mapping[str, dict[str, str]], direction: str,
              envelope: tuple[str, ...], located: bool) -> FieldMap:
        """A request field ("to": the national path it fills) or an answer field ("from": where it is read);
        `at` says where it sits on the vendor's side, in every framing but the positional ones."""
        if isinstance(item, str):
            item = LDict({direction: item})
            item.line, item.lines = line, {direction: line}
        allowed = {direction, "format", "table", "default", "optional", "value", "at"}
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
            if not source.startswith("envelope.") or source[9:] not in envelope:
                raise self.fail(table.lines["from"], f"from: {source!r} should be envelope.<request envelope field>")
            source = source[9:]
        at = str(table.get("at", ""))
        if self.hl7 and at and hl7path.locator_problem(at):
            raise self.fail(table.lines.get("at", line), hl7path.locator_problem(at))
        if located and not source and not at:
            raise self.fail(line, f"field {target or constant!r} needs at: where it sits in the vendor's message")
        codes = None
        if "table" in table:
            codes = tables.get(str(table["table"]))
            if codes is None:
                raise self.fail(table.lines["table"], f"no table named {table['table']!r} under tables:")
        default = constant if source == "const" else table.get("default")
        return FieldMap(
            path=self.path_of(target, table.lines.get(direction, line)) if target is not None else (), at=at,
            # errors name the field as the vendor knows it, and as the national document does
            label=(f"{at} ({target})" if at else str(target)) if target is not None else at or "value",
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
        table = self.keys(value, line, {"ok", "business", "rejected", "system", "text", "codes"},
                          {"ok", "business", "system", "text"}, "errors")
        overrides = table.get("codes", LDict())
        if not isinstance(overrides, dict):
            raise self.fail(table.lines.get("codes", line), "codes: canonical error code: vendor text")
        business = self.text(table, "business")
        return ErrorRendering(ok=self.text(table, "ok"), business=business,
                              rejected=self.text(table, "rejected") if "rejected" in table else business,
                              system=self.text(table, "system"), text=self.text(table, "text"),
                              overrides={str(k): str(v) for k, v in overrides.items()})
