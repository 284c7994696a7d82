"""What every framing shares: the understood request, the national document it fills, statuses and error text.

A codec (one module per framing kind) turns a vendor's raw message into an `Inbound` and the national `output`
back into the vendor's bytes. Codecs are sans I/O; transports hand them what arrived.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gateway.errors import GatewayError, InputError, InternalError, UnknownTransaction
from gateway.mapping import paths
from gateway.mapping.fields import FieldMap
from gateway.mapping.model import Dialect, Trade

_serial = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One vendor request, understood: its envelope as sent, its trade, and the national document."""

    dialect: Dialect
    envelope: dict[str, str]
    trade: Trade
    document: dict[str, Any]


class Codec(Protocol):
    def read(self, dialect: Dialect, raw: Any, action: str) -> Inbound:
        """`action`: the trade when the transport names it (a SOAP operation or action argument), else ""."""

    def answer(self, inbound: Inbound, output: dict[str, Any]) -> bytes: ...

    def error(self, dialect: Dialect, inbound: Inbound | None, raw: Any, error: GatewayError) -> bytes: ...


def find_trade(dialect: Dialect, code: str, field: str) -> Trade:
    trade = dialect.trades.get(code)
    if trade is None:
        raise UnknownTransaction(f"业务编号 {code[:32]!r}", field=field)
    return trade


def split_trade_code(code: str) -> tuple[str, str, str]:
    """`Operation[argument=value]` → (operation, argument, value); a plain code → (code, "", "")."""
    if code.endswith("]") and "[" in code:
        operation, _, selector = code[:-1].partition("[")
        argument, _, value = selector.partition("=")
        return operation, argument, value
    return code, "", ""


def national_document(dialect: Dialect, trade: Trade, envelope: dict[str, str]) -> dict[str, Any]:
    """The national envelope (infno and the context keys), plus the request fields the vendor's envelope holds."""
    document: dict[str, Any] = {"infno": trade.infno, "input": {}}
    for key, name in dialect.context.items():
        document[key] = envelope.get(name, "").strip()
    fill(document, ((field, "" if field.source == "const" else envelope[field.source])
                    for field in trade.from_envelope))
    return document


def fill(target: dict[str, Any], texts: Iterable[tuple[FieldMap, str]]) -> None:
    """Put each vendor text, converted, at its field's national path."""
    for field, text in texts:
        value = field.request_value(text)
        if value is not None:
            paths.put(target, field.path, value)


def status_of(dialect: Dialect, error: GatewayError | None) -> str:
    rendering = dialect.errors
    if error is None:
        return rendering.ok
    if isinstance(error, InternalError):
        return rendering.system
    if isinstance(error, InputError):
        return rendering.rejected
    return rendering.business


def error_text(dialect: Dialect, error: GatewayError) -> str:
    rendering = dialect.errors
    template = rendering.overrides.get(error.code, rendering.text)
    return template.format(code=error.code, message=error.message, detail=error.detail, field=error.field or "")


def serial() -> str:
    """A reply serial for dialects that carry one (中心交易流水号): time plus a process-wide counter."""
    return f"{datetime.now():%Y%m%d%H%M%S}{next(_serial) % 1_000_000:06d}"


def envelope_value(source: str, dialect: Dialect, request: dict[str, str], error: GatewayError | None) -> str | None:
    """An answer envelope field other than the output itself; None when the source is not a scalar one."""
    if source == "serial":
        return serial()
    if source == "status":
        return status_of(dialect, error)
    if source == "message":
        return error_text(dialect, error) if error else dialect.ok_text
    if source.startswith("echo."):
        return request.get(source[5:], "")
    if source == "millis":
        return datetime.now().strftime("%Y%m%d%H%M%S%f")[:17]
    if source.startswith("time:"):
        return datetime.now().strftime(source[5:])
    if source.startswith("const:"):
        return source[6:]
    if source == "warning":
        return request.get(WARNING_KEY) or None
    return None


# Where an answer's warning (warn_msg: accepted, but the HIS should know) rides to the envelope: the request's
# envelope fields as the codec holds them, under a key no dialect field can have.
WARNING_KEY = "\x00warning"


ENVELOPE_SOURCES = ("output, serial, status, message, error, null, millis, warning, echo.<request field>, "
                    "time:<strftime> or const:<text>")


def known_source(source: str) -> bool:
    return (source in ("output", "serial", "status", "message", "error", "null", "millis", "warning")
            or source.startswith(("echo.", "time:", "const:")))
