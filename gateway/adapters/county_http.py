"""The county medical-insurance system's API: reference data in (persons, hospitals, catalogue, identities)."""

from __future__ import annotations

import json
from typing import Any

import structlog
from aiohttp import web

from gateway.adapters.http_listener import GATEWAY
from gateway.errors import GatewayError, MalformedMessage
from gateway.refdata.parse import RefdataRejected
from gateway.refdata.read import rows_from_payload
from gateway.service.refdata import KINDS, import_rows

log = structlog.get_logger("hisgw.county")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/county/v1/{kind}", import_reference_data)
    app.router.add_get("/county/v1/status", status)


async def import_reference_data(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    if kind not in KINDS:
        return _error(404, "HG2000", f"未知的基础数据类型 {kind}；可用：{', '.join(KINDS)}")
    gateway = request.app[GATEWAY]
    try:
        try:
            payload = json.loads(await request.read())
        except (ValueError, RecursionError) as exc:
            raise MalformedMessage(f"JSON 解析失败：{exc}") from exc
        rows = rows_from_payload(payload)
        count = await gateway.run(lambda: import_rows(gateway.deps.store, kind, rows))
    except RefdataRejected as exc:
        log.info("county_import", kind=kind, outcome="rejected", problems=len(exc.problems))
        return _error(422, exc.code, exc.message, problems=exc.problems)
    except GatewayError as exc:
        log.info("county_import", kind=kind, outcome="rejected", err_code=exc.code)
        return _error(400, exc.code, exc.message)
    log.info("county_import", kind=kind, outcome="ok", count=count)
    return web.json_response({"code": 0, "kind": kind, "imported": count})


async def status(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY]
    counts = await gateway.run(gateway.deps.store.counts)
    return web.json_response({"code": 0, "counts": counts})


def _error(status_code: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"code": code, "message": message, **extra}, status=status_code,
                             dumps=lambda d: json.dumps(d, ensure_ascii=False))
