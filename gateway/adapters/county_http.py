"""The county medical-insurance system's API: reference data in (persons, hospitals, catalogue, identities)."""

from __future__ import annotations

import json
from typing import Any

import structlog
from aiohttp import web

from gateway.adapters.http_listener import AUTH, GATEWAY
from gateway.county.audit import record
from gateway.county.roles import Actor, may
from gateway.errors import GatewayError, InternalError, RoleForbidden, Unauthenticated
from gateway.mapping.jsondoc import parse_json
from gateway.refdata.parse import RefdataRejected
from gateway.refdata.read import rows_from_payload
from gateway.runtime import Gateway
from gateway.service.refdata import KINDS, Rows, import_rows

log = structlog.get_logger("hisgw.county")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/county/v1/status", status)
    app.router.add_post("/county/v1/{kind}", import_reference_data)
    app.router.add_route("*", "/county/v1/{kind}", wrong_method)  # a known path, not a dialect's endpoint


async def wrong_method(request: web.Request) -> web.Response:
    """405 with Allow for a known path asked the wrong way (GET /county/v1/persons), 404 for an unknown kind."""
    kind = request.match_info["kind"]
    if kind == "status":
        return method_not_allowed(request, "GET", "查询基础数据数量")
    if kind in KINDS:
        return method_not_allowed(request, "POST", f"导入 {kind}，JSON 正文见 docs/reference-data.md")
    return _error(404, "HG2000", f"未知的基础数据类型 {kind}；可用：{', '.join(KINDS)}")


def method_not_allowed(request: web.Request, allowed: str, what: str) -> web.Response:
    response = _error(405, "HG1000", f"{request.method} {request.path}：该路径只接受 {allowed}（{what}）")
    response.headers["Allow"] = allowed
    return response


def refused(request: web.Request, needed: str) -> web.Response | None:
    """401 without a known county token, 403 when its role may not do this; None when allowed (or when the
    gateway runs without credentials)."""
    authenticator = request.app[AUTH]
    if authenticator is None:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    operator = authenticator.credentials.county.get(token) if scheme.lower() == "bearer" else None
    if operator is None:
        missing = Unauthenticated("需要县级医保系统的令牌 (Authorization: Bearer …)")
        return _error(401, missing.code, missing.message)
    action = {"admin": "refdata.import", "reader": "status.read"}.get(needed, needed)  # gateway/county/roles.py
    if not may(Actor(operator.name, operator.role), action):
        return _error(403, RoleForbidden.code, RoleForbidden(f"{operator.name} 的角色为 {operator.role}").message)
    return None


async def import_reference_data(request: web.Request) -> web.Response:
    denied = refused(request, "admin")
    if denied is not None:
        return denied
    kind = request.match_info["kind"]
    if kind not in KINDS:
        return await wrong_method(request)
    gateway = request.app[GATEWAY]
    try:
        payload = parse_json(await request.read(), "utf-8")  # the hospitals' parser: Decimal, no lone surrogate
        rows = rows_from_payload(payload)
        count = await gateway.run(lambda: audited_import(request, gateway, kind, rows))
    except RefdataRejected as exc:
        log.info("county_import", kind=kind, outcome="rejected", problems=len(exc.problems))
        return _error(422, exc.code, exc.message, problems=exc.problems)
    except GatewayError as exc:
        log.info("county_import", kind=kind, outcome="rejected", err_code=exc.code)
        return _error(400, exc.code, exc.message)
    except Exception:  # our fault: the transaction rolled back; the traceback (masked) goes to the log
        log.exception("county_import", kind=kind, outcome="failed")
        failure = InternalError()
        return _error(500, failure.code, failure.message)
    log.info("county_import", kind=kind, outcome="ok", count=count)
    return web.json_response({"code": 0, "kind": kind, "imported": count})


def audited_import(request: web.Request, gateway: Gateway, kind: str, rows: Rows) -> int:
    """The import and its audit entry, one transaction (gateway/county/audit.py)."""
    from gateway.adapters.county_api import request_actor

    actor, request_id = request_actor(request)
    store = gateway.deps.store
    with store.transaction():
        count = import_rows(store, kind, rows)
        record(store, actor, "refdata.import", f"refdata:{kind}", None, {"rows": count}, request_id, gateway.now())
    return count


async def status(request: web.Request) -> web.Response:
    denied = refused(request, "reader")
    if denied is not None:
        return denied
    gateway = request.app[GATEWAY]
    counts = await gateway.run(gateway.deps.store.counts)
    return web.json_response({"code": 0, "counts": counts})


def _error(status_code: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"code": code, "message": message, **extra}, status=status_code,
                             dumps=lambda d: json.dumps(d, ensure_ascii=False))
