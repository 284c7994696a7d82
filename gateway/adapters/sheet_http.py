"""The settlement sheet over a plain URL: GET /sheet/v1/{setl_id}.{json,html,pdf}?sheet_type=hunan|ncms.

`?print_no=N` shows print N again as it was issued (its number and time) without counting a new one: the
5998 trade answers these URLs for the print it counted.

Who may: a hospital signs the GET the national way (x-tif-* headers, an empty body) and gets only its own
settlements (another's is answered as unknown, 404 HG2005); a county operator (Authorization: Bearer) gets any,
the whole ID number for an admin. Without credentials (the demo) anyone may, as on every listener. Every fetch
by a hospital (or on the unsigned demo) is one more print of that layout (补打 from the second on); a county
operator's is a view, not counted. The sheet is read on the store thread; HTML and PDF are rendered in
a worker thread, at most PDF_AT_ONCE PDFs at a time (each is a few hundred milliseconds of CPU and tens of
megabytes)."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from gateway.adapters.http_listener import AUTH, GATEWAY
from gateway.county.sheet import render
from gateway.county.sheet.ledger import Asker, issue_sheet
from gateway.county.sheet.model import Sheet
from gateway.errors import AccessError, GatewayError, InvalidValue, NotFoundError, Unauthenticated

PDF_AT_ONCE = 2
RENDERING: web.AppKey[asyncio.Semaphore] = web.AppKey("sheet_rendering")


def add_routes(app: web.Application) -> None:
    app.router.add_get(r"/sheet/v1/{setl_id:[0-9A-Za-z]{1,40}}.{fmt:json|html|pdf}", sheet)
    app.on_startup.append(_semaphore)


async def _semaphore(app: web.Application) -> None:
    app[RENDERING] = asyncio.Semaphore(PDF_AT_ONCE)


async def sheet(request: web.Request) -> web.Response:
    setl_id, fmt = request.match_info["setl_id"], request.match_info["fmt"]
    gateway = request.app[GATEWAY]
    try:
        asker = _asker(request)
        again = _print_no(request.query.get("print_no", ""))
        issued = await gateway.run(lambda: issue_sheet(gateway.deps.store, gateway.deps.policies, setl_id, asker,
                                                       request.query.get("sheet_type", "hunan"), gateway.now(),
                                                       print_no=again))
    except GatewayError as exc:
        return _error(exc)
    body = await _rendered(request.app, issued, fmt)
    return web.Response(body=body, content_type=render.media_type(fmt), charset=None if fmt == "pdf" else "utf-8",
                        headers={"Cache-Control": "no-store",
                                 "Content-Disposition": f'inline; filename="sheet-{setl_id}.{fmt}"'})


def _print_no(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 1_000_000:
        raise InvalidValue("print_no 须为正整数（已有的打印序号）", field="print_no")
    return int(text)


def _asker(request: web.Request) -> Asker:
    authenticator = request.app[AUTH]
    if authenticator is None:
        return Asker.unsigned()  # the demo: nobody signs, nobody sees a whole ID number
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        operator = authenticator.credentials.county.get(token)
        if operator is None:
            raise Unauthenticated("县级医保系统的令牌不正确")
        return Asker.of_county(operator.name, operator.role)
    return Asker.of_hospital(authenticator.hospital(request.headers, b""))


async def _rendered(app: web.Application, issued: Sheet, fmt: str) -> bytes:
    if fmt == "json":
        return render.json_bytes(issued)
    page = await asyncio.to_thread(render.html, issued)
    if fmt == "html":
        return page.encode("utf-8")
    async with app[RENDERING]:
        return await asyncio.to_thread(render.pdf, page)


def _error(exc: GatewayError) -> web.Response:
    status = (401 if isinstance(exc, Unauthenticated) else 403 if isinstance(exc, AccessError)
              else 404 if isinstance(exc, NotFoundError) else 400)
    return web.json_response({"code": exc.code, "message": exc.message}, status=status,
                             dumps=lambda d: json.dumps(d, ensure_ascii=False))
