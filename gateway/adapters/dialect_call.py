"""One vendor request through the one road: dialect bytes → national document → canonical call → gateway,
and the answer back in the vendor's bytes. Every transport carrying a mapped dialect calls this."""

from __future__ import annotations

import dataclasses
import time

import structlog

from gateway.adapters.nhsa.decode import decode_call
from gateway.adapters.nhsa.encode import render_output
from gateway.canonical.answers import Answer
from gateway.errors import GatewayError, InternalError
from gateway.mapping.delimited import Inbound, read_request, write_answer, write_error
from gateway.mapping.model import Dialect
from gateway.runtime import Gateway

log = structlog.get_logger("hisgw.dialect")


async def call_dialect(gateway: Gateway, dialect: Dialect, raw: bytes) -> tuple[int, bytes]:
    """(return code, answer bytes): 0 and the vendor's answer, or the dialect's error code and text."""
    started = time.perf_counter()
    inbound: Inbound | None = None
    replayed = False
    try:
        inbound = read_request(dialect, raw)
        call = decode_call(inbound.document)
        call = dataclasses.replace(call, context=dataclasses.replace(call.context, dialect=dialect.name))
        request = inbound

        def render(answer: Answer) -> bytes:
            return write_answer(request, render_output(answer))

        outcome = await gateway.execute(call, render)
        rc, body, replayed, error = 0, outcome.body, outcome.replayed, None
    except GatewayError as exc:
        error = exc
    except Exception:  # our fault: the dialect's system error, the traceback in the log
        log.exception("unhandled", dialect=dialect.name)
        error = InternalError()
    if error is not None:
        rc, body = write_error(dialect, inbound, error)
    log.info(
        "exchange", dialect=dialect.name, trade=inbound.trade.code if inbound else None,
        infno=inbound.trade.infno if inbound else None,
        msgid=inbound.document.get("msgid") if inbound else None,
        fixmedins_code=inbound.document.get("fixmedins_code") if inbound else None, rc=rc,
        err_code=error.code if error else None, replayed=replayed, ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return rc, body
