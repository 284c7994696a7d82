"""A compiled dialect: trades, fields, framing and error rendering, ready to translate a vendor's messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gateway.mapping import paths
from gateway.mapping.fields import FieldMap


@dataclass(frozen=True, slots=True)
class Rows:
    """A list in the national document (feedetail, result, setldetail) ⇄ the vendor's rows."""

    path: paths.Path
    at: str  # where the rows sit on the vendor's side ("" for the delimited framing's params)
    columns: tuple[FieldMap, ...]  # paths relative to one row


@dataclass(frozen=True, slots=True)
class Trade:
    code: str  # the vendor's trade code (SOAP: the operation; HL7: the message type)
    infno: str  # the national transaction it is
    copy: bool  # the vendor's record is the national `input`/`output` itself (the national dialect)
    params: tuple[FieldMap, ...]  # fields of a one-record request
    from_envelope: tuple[FieldMap, ...]  # request fields the vendor carries in its envelope
    rows: Rows | None  # a many-record request
    answer: tuple[FieldMap, ...]  # fields of the answer
    answer_rows: Rows | None
    # a copy trade: where the vendor's request record sits in the national document (`request: copy` is
    # ("input",); `request: {copy: input.data}` puts a flat record under input.data)
    copy_to: paths.Path = ()


@dataclass(frozen=True, slots=True)
class Delimited:
    """Neusoft/Yunnan-style strings: envelope fields, parameters, records and columns by separators."""

    field: str  # between envelope fields: ^
    param: str  # between the parameters of one record: |
    row: str  # between records: \n
    column: str  # between the columns of a record in a many-record answer: \t
    request_column: str  # between the columns of a record in a many-record request
    trailing: bool  # the vendor ends every envelope field with the separator (Neusoft: ...^1^)
    kind: str = "delimited"


@dataclass(frozen=True, slots=True)
class JsonDoc:
    """A JSON object: envelope keys at the top, the record under `request`, the answer under `answer`."""

    trade: str  # key of the trade code
    request: str  # key of the request record
    answer: str  # key of the answer record in the reply
    status: str = "number"  # how the answer's status is written: a JSON number (national) or a "string"
    kind: str = "json"


@dataclass(frozen=True, slots=True)
class XmlDoc:
    """An XML document (`<Request><Header/><Body/></Request>`): fields are element paths under `body`."""

    request_root: str
    answer_root: str
    body: str  # the element, under the root, that request fields are relative to (answer too)
    declaration: bool  # whether answers start with <?xml … encoding=…?>
    kind: str = "xml"


@dataclass(frozen=True, slots=True)
class Args:
    """Positional string arguments of an operation (multi-operation SOAP); records inside one argument."""

    param: str  # between the values of one output record
    row: str  # between records (inside a many-record argument, and in a many-record answer)
    column: str  # between the columns of a record
    kind: str = "args"


@dataclass(frozen=True, slots=True)
class Hl7:
    """HL7 v2 messages (over MLLP): fields by locator (`PID-3.1`, gateway/mapping/hl7path.py), the trade by
    MSH-9 (`ADT^A01`), rows by repeated segments; every answer an ACK (MSA-1 AA/AE/AR, ERR on failure)."""

    application: str  # MSH-3 of answers, and the MSH-5 a sender addresses this dialect by
    facility: str  # MSH-4 of answers
    version: str  # MSH-12 of answers when the request has none
    charsets: Mapping[str, str]  # MSH-18 names this vendor writes beyond HL7 table 0211 → Python codec
    kind: str = "hl7"


Framing = Delimited | JsonDoc | XmlDoc | Args | Hl7


@dataclass(frozen=True, slots=True)
class SoapService:
    """How a soap dialect appears in its WSDL. With `operation`, one operation carries every trade (DHC's
    HIPMessageServer(action, message)); without, each trade is an operation of its own (NCMS style) whose
    arguments are the request envelope's names then the trade's fields' `at` names."""

    namespace: str
    service: str
    operation: str  # the single operation, or "" for one operation per trade
    action_arg: str  # single-operation style: the argument naming the trade
    message_arg: str  # single-operation style: the argument holding the message
    result: str  # single-operation style: the name of the returned string


@dataclass(frozen=True, slots=True)
class ErrorRendering:
    """The status a vendor reads (return code, infcode, ResultCode, MSA-1) and the error text it shows."""

    ok: str
    business: str  # the business refused it: show the text
    rejected: str  # the message itself is wrong (bad framing, unknown trade, bad value)
    system: str  # our fault or no answer: state unknown, reverse or query
    text: str  # e.g. "{code}:{message}"
    overrides: Mapping[str, str]  # canonical code → the vendor's wording


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    transport: str  # dll | http | soap | hl7
    encoding: str
    source: Path
    framing: Framing
    request_envelope: tuple[tuple[str, str], ...]  # (name, where: "" = by position)
    answer_envelope: tuple[tuple[str, str], ...]  # (where: "" = by position, serial | output | status | ...)
    context: Mapping[str, str]  # national envelope key → request envelope field
    trades: Mapping[str, Trade]
    errors: ErrorRendering
    endpoint: str  # http and soap: the URL path the dialect is served at
    soap: SoapService | None
    ok_text: str  # the message a success carries where the vendor has a place for one (sMessage, ResultMsg)

    def envelope_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.request_envelope)
