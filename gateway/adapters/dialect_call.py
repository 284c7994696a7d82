"""One vendor request through the one road: dialect message → national document → canonical call → gateway,
and the answer back in the vendor's bytes. Every transport calls this, the national HTTP interface included,
so every exchange is journalled the same way (gateway/runtime.py)."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime
from typing import Any

import structlog

from gateway.adapters.nhsa.decode import decode_call
from gateway.adapters.nhsa.encode import render_output
from gateway.canonical.answers import Answer
from gateway.canonical.calls import Call
from gateway.errors import GatewayError, HospitalMismatch, InternalError
from gateway.journal.callform import document_names
from gateway.journal.model import Exchange
from gateway.mapping.args import ArgsCodec
from gateway.mapping.codec import WARNING_KEY, Codec, Inbound, status_of
from gateway.mapping.delimited import DelimitedCodec
from gateway.mapping.hl7msg import Hl7Codec
from gateway.mapping.jsondoc import JsonCodec
from gateway.mapping.model import Dialect, JsonDoc
from gateway.mapping.xmldoc import XmlCodec
from gateway.runtime import Gateway, Outcome

log = structlog.get_logger("hisgw.dialect")

CODECS: dict[str, Codec] = {"delimited": DelimitedCodec(), "json": JsonCodec(), "xml": XmlCodec(), "args": ArgsCodec(),
                            "hl7": Hl7Codec()}


def codec_for(dialect: Dialect) -> Codec:
    return CODECS[dialect.framing.kind]


async def call_dialect(gateway: Gateway, dialect: Dialect, raw: Any, action: str = "",
                       hospital: str | None = None) -> tuple[str, bytes]:
    """(status, answer bytes): the dialect's success status and answer, or its error status and error answer.

    `raw` is what the transport received (bytes; a SOAP string argument; a SOAP operation's arguments for the
    args framing); `action` names the trade when the transport carries it outside the message; `hospital`,
    when the transport authenticated the caller, is the only fixmedins_code the message may act for."""
    started = time.perf_counter()
    received_at = gateway.now()
    codec = codec_for(dialect)
    inbound: Inbound | None = None
    call: Call | None = None
    refusal: GatewayError | None = None
    try:
        inbound = codec.read(dialect, raw, action)
        if hospital is not None and inbound.document.get("fixmedins_code") != hospital:
            raise HospitalMismatch(f"认证的机构为 {hospital}", field="fixmedins_code")
        call = decode_call(inbound.document)
        call = dataclasses.replace(call, context=dataclasses.replace(call.context, dialect=dialect.name))
    except GatewayError as exc:
        refusal = exc
    except Exception:  # our fault: the dialect's system error, the traceback in the log
        log.exception("unhandled", dialect=dialect.name)
        refusal = InternalError()
    wants_names = gateway.journal.protection.wants_names
    try:
        exchange = exchange_of(dialect, raw, action, inbound, received_at, started, with_names=wants_names)
    except Exception:  # what the envelope said could not be kept: the row holds what can be
        log.exception("unhandled", dialect=dialect.name)
        call, refusal = None, refusal or InternalError()
        exchange = exchange_of(dialect, b"", action, None, received_at, started, with_names=False)

    def render(answer: Answer) -> bytes:
        assert inbound is not None
        warning = getattr(answer, "warn_msg", "")
        held = dataclasses.replace(inbound, envelope={**inbound.envelope, WARNING_KEY: warning}) if warning else inbound
        return codec.answer(held, render_output(answer))

    def render_error(error: GatewayError) -> bytes:
        return error_answer(dialect, inbound, raw, error)

    try:
        if call is not None:
            outcome = await gateway.execute(call, render, render_error, exchange)
        else:
            assert refusal is not None
            outcome = await gateway.refuse(exchange, refusal, render_error(refusal))
    except Exception as exc:  # the batch's commit failed: nothing of it is durable
        log.exception("unhandled", dialect=dialect.name)
        failure = exc if isinstance(exc, GatewayError) else InternalError()
        outcome = Outcome(render_error(failure), replayed=False, error=failure)
    gateway.metrics.exchange(exchange, outcome, time.perf_counter() - started)
    error = outcome.error
    status = status_of(dialect, error)
    log.info(
        "exchange", dialect=dialect.name, trade=exchange.trade or None, infno=exchange.infno or None,
        msgid=exchange.msgid or None, fixmedins_code=exchange.fixmedins_code or None, status=status,
        err_code=error.code if error else None, err_msg=error.message if error else None, replayed=outcome.replayed,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return status, outcome.body


def error_answer(dialect: Dialect, inbound: Inbound | None, raw: Any, error: GatewayError) -> bytes:
    """The dialect's error answer, and it cannot fail. One that cannot be rendered (a value the codec chokes
    on again, a wording in the mapping that does not format) is rendered without the request and without the
    mapping's wordings, then with the plain "{code}:{message}", then as plain text."""
    codec = codec_for(dialect)
    unworded = dataclasses.replace(dialect, errors=dataclasses.replace(dialect.errors, overrides={}))
    plain = dataclasses.replace(unworded, errors=dataclasses.replace(unworded.errors, text="{code}:{message}"))
    for speaking, understood, request in ((dialect, inbound, raw), (unworded, None, _blank(raw)),
                                          (plain, None, _blank(raw))):
        try:
            return codec.error(speaking, understood, request, error)
        except Exception as exc:  # the exception says enough (a mapping's wording, a value): no traceback
            log.error("error_answer_failed", dialect=dialect.name, err_code=error.code,
                      problem=f"{type(exc).__name__}: {exc}"[:300])
    return last_resort(dialect, error)


def last_resort(dialect: Dialect, error: GatewayError) -> bytes:
    """The dialect's status and the error's code and title, written without its codec: nothing here reads the
    request or formats a template. JSON dialects get their envelope's status and message keys."""
    status = status_of(dialect, error)
    text = f"{error.code}:{error.title}"
    if isinstance(dialect.framing, JsonDoc):
        document = {key: (int(status) if status.lstrip("-").isascii() and status.lstrip("-").isdigit() else status)
                      if source == "status" else text if source in ("message", "error") else None
                      for key, source in dialect.answer_envelope}
        return json.dumps(document, ensure_ascii=True).encode("ascii")
    return text.encode(dialect.encoding, errors="replace")


def _blank(raw: Any) -> Any:
    """A request of the same kind with nothing in it."""
    return b"" if isinstance(raw, bytes | bytearray) else "" if isinstance(raw, str) else {}


def exchange_of(dialect: Dialect, raw: Any, action: str, inbound: Inbound | None, received_at: datetime,
                started: float, *, with_names: bool = True) -> Exchange:
    """What the journal keeps of the request, whatever became of it: as much of the envelope as was read."""
    document = inbound.document if inbound else {}
    request = (raw if isinstance(raw, bytes) else raw.encode("utf-8") if isinstance(raw, str)
               else json.dumps(raw, ensure_ascii=False, default=str).encode("utf-8"))
    return Exchange(
        dialect=dialect.name, transport=dialect.transport,
        encoding=dialect.encoding if isinstance(raw, bytes) else "utf-8",
        trade=inbound.trade.code if inbound else action, infno=inbound.trade.infno if inbound else "",
        fixmedins_code=_text(document.get("fixmedins_code")), msgid=_text(document.get("msgid")), request=request,
        received_at=received_at, names=document_names(document) if with_names else (), started=started,
    )


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)
