"""One vendor request through the one road: dialect message → national document → canonical call → gateway,
and the answer back in the vendor's bytes. Every transport calls this, the national HTTP interface included."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import structlog

from gateway.adapters.nhsa.decode import decode_call
from gateway.adapters.nhsa.encode import render_output
from gateway.canonical.answers import Answer
from gateway.errors import GatewayError, HospitalMismatch, InternalError
from gateway.mapping.args import ArgsCodec
from gateway.mapping.codec import Codec, Inbound, status_of
from gateway.mapping.delimited import DelimitedCodec
from gateway.mapping.hl7msg import Hl7Codec
from gateway.mapping.jsondoc import JsonCodec
from gateway.mapping.model import Dialect
from gateway.mapping.xmldoc import XmlCodec
from gateway.runtime import Gateway

log = structlog.get_logger("hisgw.dialect")

CODECS: dict[str, Codec] = {"delimited": DelimitedCodec(), "json": JsonCodec(), "xml": XmlCodec(), "args": ArgsCodec(),
                            "hl7": Hl7Codec()}


def codec_for(dialect: Dialect) -> Codec:
    return CODECS[dialect.framing.kind]


async def call_dialect(gateway: Gateway, dialect: Dialect, raw: Any, action: str = "",
                       hospital: str | None = None) -> tuple[str, bytes]:
    """(status, answer bytes): the dialect's success status and answer, or its error status and error answer.

    `raw` is what the transport received (bytes; a SOAP operation's arguments for the args framing); `action`
    names the trade when the transport carries it outside the message; `hospital`, when the transport
    authenticated the caller, is the only fixmedins_code the message may act for."""
    started = time.perf_counter()
    codec = codec_for(dialect)
    inbound: Inbound | None = None
    replayed = False
    error: GatewayError | None = None
    try:
        inbound = codec.read(dialect, raw, action)
        if hospital is not None and inbound.document.get("fixmedins_code") != hospital:
            raise HospitalMismatch(f"认证的机构为 {hospital}", field="fixmedins_code")
        call = decode_call(inbound.document)
        call = dataclasses.replace(call, context=dataclasses.replace(call.context, dialect=dialect.name))
        request = inbound

        def render(answer: Answer) -> bytes:
            return codec.answer(request, render_output(answer))

        outcome = await gateway.execute(call, render)
        body, replayed = outcome.body, outcome.replayed
    except GatewayError as exc:
        error = exc
    except Exception:  # our fault: the dialect's system error, the traceback in the log
        log.exception("unhandled", dialect=dialect.name)
        error = InternalError()
    if error is not None:
        body = codec.error(dialect, inbound, raw, error)
    status = status_of(dialect, error)
    document = inbound.document if inbound else {}
    log.info(
        "exchange", dialect=dialect.name, trade=inbound.trade.code if inbound else action or None,
        infno=inbound.trade.infno if inbound else None, msgid=document.get("msgid"),
        fixmedins_code=document.get("fixmedins_code"), status=status, err_code=error.code if error else None,
        err_msg=error.message if error else None, replayed=replayed,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return status, body
