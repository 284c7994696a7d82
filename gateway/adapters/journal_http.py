"""The journal for the county console: GET /journal/v1/exchanges?hospital=&msgid=&person=&stay=&setl=&since=
&until=&outcome=&limit=&raw=1 → {"code": 0, "count": n, "exchanges": [...]}, newest first.

Bodies (raw=1) are given as the journal keeps them (masked by default); encrypted ones are never decrypted
here (null): only `hisgw journal --raw` with the key file reads them."""

from __future__ import annotations

import json

from aiohttp import web

from gateway.adapters.county_http import method_not_allowed as _method_not_allowed
from gateway.adapters.county_http import refused
from gateway.adapters.http_listener import GATEWAY
from gateway.errors import GatewayError
from gateway.journal.model import parse_query
from gateway.journal.present import row_document
from gateway.journal.protect import Protection

_KEYLESS = Protection()  # opens masked and clear bodies, never encrypted ones


def add_routes(app: web.Application) -> None:
    app.router.add_get("/journal/v1/exchanges", exchanges)
    app.router.add_route("*", "/journal/v1/exchanges", wrong_method)


async def wrong_method(request: web.Request) -> web.Response:
    return _method_not_allowed(request, "GET", "查询交换日志")


async def exchanges(request: web.Request) -> web.Response:
    denied = refused(request, "journal.read")  # a county operator's token, when the gateway runs with credentials
    if denied is not None:
        return denied
    gateway = request.app[GATEWAY]
    try:
        query = parse_query(dict(request.query))
    except GatewayError as exc:
        return _json({"code": exc.code, "message": exc.message}, 400)
    rows = await gateway.run(lambda: gateway.deps.store.journal_search(query))
    return _json({"code": 0, "count": len(rows), "exchanges": [row_document(row, _KEYLESS) for row in rows]})


def _json(document: object, status: int = 200) -> web.Response:
    return web.json_response(document, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))
