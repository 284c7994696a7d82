"""A compiled dialect: trades, fields, framing and error rendering, ready to translate bytes."""

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
    columns: tuple[FieldMap, ...]  # paths relative to one row


@dataclass(frozen=True, slots=True)
class Trade:
    code: str  # the vendor's trade code
    infno: str  # the national transaction it is
    params: tuple[FieldMap, ...]  # positional parameters of a one-record request
    from_envelope: tuple[FieldMap, ...]  # request fields the vendor carries in its envelope
    rows: Rows | None  # a many-record request
    answer: tuple[FieldMap, ...]  # positional output parameters
    answer_rows: Rows | None


@dataclass(frozen=True, slots=True)
class Delimited:
    field: str  # between envelope fields: ^
    param: str  # between the parameters of one record: |
    row: str  # between records: \n
    column: str  # between the columns of a record in a many-record answer: \t
    request_column: str  # between the columns of a record in a many-record request
    trailing: bool  # the vendor ends every envelope field with the separator (Neusoft: ...^1^)


@dataclass(frozen=True, slots=True)
class ErrorRendering:
    business_rc: int
    system_rc: int
    text: str  # e.g. "{code}:{message}"
    overrides: Mapping[str, str]  # canonical code → the vendor's wording


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    transport: str  # dll | http | soap | hl7
    encoding: str
    source: Path
    framing: Delimited
    request_envelope: tuple[str, ...]  # names of the envelope fields, in order
    answer_envelope: tuple[str, ...]  # serial | output | echo.<request field> | const:<text>
    context: Mapping[str, str]  # national envelope key → request envelope field
    trades: Mapping[str, Trade]
    errors: ErrorRendering
