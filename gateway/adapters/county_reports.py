"""GET /county/v1/reports/annex5?month=YYYY-MM (or since=&until=)&format=json|csv|xlsx|html|pdf&unit=wan|yuan
&unit_name=…: 附件5 for a county reader."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

from aiohttp import web

from gateway.adapters.county_http import refused
from gateway.adapters.http_listener import GATEWAY
from gateway.county.annex5_render import FORMATS, render
from gateway.county.period import period_of
from gateway.county.reports import annex5_of
from gateway.errors import GatewayError, InvalidValue


def add_routes(app: web.Application) -> None:
    app.router.add_get("/county/v1/reports/annex5", annex5_report)


async def annex5_report(request: web.Request) -> web.Response:
    denied = refused(request, "reports.read")
    if denied is not None:
        return denied
    query = request.query
    fmt = query.get("format", "json")
    unit = query.get("unit", "wan")
    try:
        if fmt not in FORMATS:
            raise InvalidValue(f"format 为 {'、'.join(FORMATS)} 之一", field="format")
        if unit not in ("wan", "yuan"):
            raise InvalidValue("unit 为 wan (万元) 或 yuan (元)", field="unit")
        period = period_of(month_text=query.get("month"), since=query.get("since"), until=query.get("until"))
    except GatewayError as exc:
        problem = json.dumps({"code": exc.code, "message": exc.message}, ensure_ascii=False)
        return web.Response(status=400, text=problem, content_type="application/json", charset="utf-8")
    gateway = request.app[GATEWAY]
    table = await gateway.run(lambda: annex5_of(gateway.deps.store, period))
    body = await asyncio.to_thread(render, table, fmt, unit_name=query.get("unit_name", ""), wan=unit == "wan")
    name = f"附件5_{period.since:%Y%m%d}-{period.until:%Y%m%d}.{fmt}"
    return web.Response(body=body, headers={
        "Content-Type": FORMATS[fmt], "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"})
