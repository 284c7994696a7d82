"""POST /fsi/api/rsfComIfsService/callService — the national interface over aiohttp.

No business rule lives here: bytes → canonical call → Gateway → bytes, and one summary log line.
"""

from __future__ import annotations

import time
from datetime import datetime

import structlog
from aiohttp import web

from gateway.adapters.nhsa.decode import decode_call, parse_json
from gateway.adapters.nhsa.encode import envelope, render_output
from gateway.canonical.answers import Answer
from gateway.errors import GatewayError, InternalError, MalformedMessage
from gateway.runtime import Gateway

PATH = "/fsi/api/rsfComIfsService/callService"
MAX_BODY = 16 * 1024 * 1024  # ten thousand fee lines fit with room to spare

GATEWAY = web.AppKey("gateway", Gateway)
log = structlog.get_logger("hisgw.nhsa")


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, call_service)


async def call_service(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    started = time.perf_counter()
    structlog.contextvars.clear_contextvars()
    infno = msgid = hospital = ""
    replayed = False
    try:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raise MalformedMessage(f"报文超过 {MAX_BODY // 1024 // 1024} MB") from exc
        call = decode_call(parse_json(raw))
        infno, msgid, hospital = call.context.infno, call.context.msgid, call.context.fixmedins_code
        structlog.contextvars.bind_contextvars(msgid=msgid, infno=infno, fixmedins_code=hospital)

        def render(answer: Answer) -> bytes:
            return envelope(render_output(answer), now=datetime.now())

        outcome = await gateway.execute(call, render)
        body, replayed, error = outcome.body, outcome.replayed, None
    except GatewayError as exc:
        error = exc
    except Exception:  # our fault: answer in the dialect, keep the traceback in the log
        log.exception("unhandled", infno=infno, msgid=msgid)
        error = InternalError()
    if error is not None:
        body = envelope(None, now=datetime.now(), error=error)
    log.info(
        "exchange", dialect="nhsa-http", infno=infno, msgid=msgid, fixmedins_code=hospital,
        infcode=-1 if error else 0, err_code=error.code if error else None,
        err_msg=error.message if error else None, replayed=replayed,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return web.Response(body=body, content_type="application/json", charset="utf-8")
