"""Claims, the special account and 附件4 over HTTP: thin handlers over gateway/county/claim_service.py and
account_service.py.

County operators (Bearer token, roles.py): /county/v1/claims…, /county/v1/account…, /county/v1/reports/annex4.
Hospitals (signed the national way, x-tif-* headers over the body, as the HIS signs its calls): /claims/v1/…
submit their own claim, read it, and explain a refused line; another hospital's claim is answered as unknown.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web

from gateway.adapters.county_api import Context, answer, command, int_param, json_body, query_params, route
from gateway.adapters.http_listener import AUTH, GATEWAY
from gateway.adapters.sheet_http import RENDERING
from gateway.county import account_service, claim_service
from gateway.county.annex4_render import FORMATS, render
from gateway.county.claims import Step
from gateway.county.errors import CountyRefusal, bad_input
from gateway.county.period import Period, period_of
from gateway.county.roles import Actor
from gateway.errors import GatewayError

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_BODY = 64 * 1024


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-Id", "")
    return given if re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", given) else uuid.uuid4().hex


def _period(values: dict[str, Any], *, default_from: datetime | None = None) -> Period:
    """month=YYYY-MM or since/until; with `default_from`, none of them means the month before that day's."""
    texts = {k: values.get(k) for k in ("month", "since", "until")}
    if any(v is not None and not isinstance(v, str) for v in texts.values()):
        raise bad_input("month、since、until 应为字符串")
    if default_from is not None and not any(texts.values()):
        texts["month"] = f"{default_from.replace(day=1) - timedelta(days=1):%Y-%m}"
    try:
        return period_of(month_text=texts["month"], since=texts["since"], until=texts["until"])
    except GatewayError as exc:
        raise bad_input(exc.message) from exc


def _hospital_code(value: object) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise bad_input("fixmedins_code 应为定点医疗机构编号")
    return value


@route("claims.submit")
async def submit(request: web.Request, ctx: Context) -> web.Response:
    body = await json_body(request)
    store, now = ctx.gateway.deps.store, ctx.gateway.now()
    code, period = _hospital_code(body.get("fixmedins_code")), _period(body, default_from=now)

    def work() -> tuple[Any, int]:
        document = claim_service.submit(store, ctx.actor, code, period, ctx.request_id, now)
        return document, 200 if document.get("replayed") else 201

    return await command(request, ctx, "claims.submit", body, work)


@route("claims.read")
async def listing(request: web.Request, ctx: Context) -> web.Response:
    params = query_params(request, {"fixmedins_code", "state", "limit"})
    code = _hospital_code(params["fixmedins_code"]) if "fixmedins_code" in params else ""
    limit = min(int_param(params.get("limit", "100"), "limit"), 1000) or 100
    store = ctx.gateway.deps.store
    return answer(await ctx.gateway.run(lambda: claim_service.listing(store, code, params.get("state", ""), limit)))


@route("claims.read")
async def fetch(request: web.Request, ctx: Context) -> web.Response:
    query_params(request, set())
    claim_id = int_param(request.match_info["claim_id"], "claim_id")
    store = ctx.gateway.deps.store
    return answer(await ctx.gateway.run(lambda: claim_service.document(store, claim_service.get(store, claim_id))))


def _ids(request: web.Request) -> tuple[int, int]:
    return (int_param(request.match_info["claim_id"], "claim_id"),
            int_param(request.match_info["line_no"], "line_no"))


@route("claims.review")
async def decide(request: web.Request, ctx: Context) -> web.Response:
    claim_id, line_no = _ids(request)
    body = await json_body(request)
    store, now = ctx.gateway.deps.store, ctx.gateway.now()
    return await command(request, ctx, "claims.review", body, lambda: (
        claim_service.decide(store, ctx.actor, claim_id, line_no, body, ctx.request_id, now), 200))


@route("claims.explain")
async def explain(request: web.Request, ctx: Context) -> web.Response:
    claim_id, line_no = _ids(request)
    body = await json_body(request)
    store, now = ctx.gateway.deps.store, ctx.gateway.now()
    return await command(request, ctx, "claims.explain", body, lambda: (
        claim_service.explain(store, ctx.actor, claim_id, line_no, body.get("note"), ctx.request_id, now), 200))


def _stepper(done: Step) -> Callable[[web.Request], Awaitable[web.Response]]:
    from gateway.county.claims import STEP_ACTIONS

    async def run_step(request: web.Request, ctx: Context) -> web.Response:
        claim_id = int_param(request.match_info["claim_id"], "claim_id")
        body = await json_body(request) if request.can_read_body else {}
        store, now = ctx.gateway.deps.store, ctx.gateway.now()
        overdraft = ctx.gateway.account_overdraft
        return await command(request, ctx, STEP_ACTIONS[done], body, lambda: (
            claim_service.step(store, ctx.actor, claim_id, done, body, ctx.request_id, now, overdraft=overdraft), 200))

    run_step.__name__ = f"claim_{done.value}"
    return route(STEP_ACTIONS[done])(run_step)


@route("account.read")
async def account(request: web.Request, ctx: Context) -> web.Response:
    period = _period(query_params(request, {"month", "since", "until"}))
    store = ctx.gateway.deps.store
    return answer(await ctx.gateway.run(lambda: account_service.statement_of(store, period)))


@route("account.receive")
async def receive(request: web.Request, ctx: Context) -> web.Response:
    body = await json_body(request)
    store, now, overdraft = ctx.gateway.deps.store, ctx.gateway.now(), ctx.gateway.account_overdraft

    def work() -> tuple[Any, int]:
        entry = account_service.receipt_of(body, ctx.actor, now)
        return account_service.receive(store, ctx.actor, entry, ctx.request_id, now, overdraft=overdraft), 201

    return await command(request, ctx, "account.receive", body, work)


@route("account.read")
async def annex4_report(request: web.Request, ctx: Context) -> web.Response:
    params = query_params(request, {"month", "since", "until", "format", "unit_name"})
    fmt = params.get("format", "json")
    if fmt not in FORMATS:
        raise bad_input(f"format 为 {'、'.join(FORMATS)} 之一")
    unit_name = params.get("unit_name", "")
    if len(unit_name) > 64:
        raise bad_input("unit_name 过长")
    period = _period(params)
    store = ctx.gateway.deps.store
    table = await ctx.gateway.run(lambda: account_service.annex4_of(store, period))
    if fmt == "pdf":  # seconds of CPU: in a worker thread, at most sheet_http.PDF_AT_ONCE at a time
        async with request.app[RENDERING]:
            body = await asyncio.to_thread(render, table, fmt, unit_name=unit_name)
    else:
        body = render(table, fmt, unit_name=unit_name)
    name = f"附件4_{period.since:%Y%m%d}-{period.until:%Y%m%d}.{fmt}"
    return web.Response(body=body, headers={
        "Content-Type": FORMATS[fmt], "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}"})


# --- the hospital's own side, signed like its HIS calls ---------------------------------------------------------

async def _hospital(request: web.Request) -> tuple[str | None, bytes]:
    """(the signing hospital, or None on a gateway without credentials; the body)."""
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise bad_input("请求体过大")
    authenticator = request.app[AUTH]
    if authenticator is None:
        return None, body
    try:
        return authenticator.hospital(request.headers, body), body
    except GatewayError as exc:
        raise CountyRefusal(401, exc.code, exc.message) from exc


def _object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body or b"{}")
    except (ValueError, RecursionError) as exc:
        raise CountyRefusal(400, "HG1001", f"JSON 解析失败：{exc}") from exc
    if not isinstance(document, dict):
        raise CountyRefusal(400, "HG1001", "请求体应为 JSON 对象")
    return document


def _hospital_route(handler: Callable[[web.Request, str | None, dict[str, Any]], Awaitable[Any]]
                    ) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def run(request: web.Request) -> web.Response:
        try:
            hospital, body = await _hospital(request)
            document, status = await handler(request, hospital, _object(body))
        except CountyRefusal as exc:
            return answer({"code": exc.code, "message": exc.message, **exc.extra}, exc.status)
        return answer(document, status)

    run.__name__ = handler.__name__
    return run


def _signer(hospital: str | None, body: dict[str, Any]) -> tuple[str, Actor]:
    code = hospital if hospital is not None else _hospital_code(body.get("fixmedins_code"))
    if hospital is not None and body.get("fixmedins_code", hospital) != hospital:
        raise CountyRefusal(403, "HG4003", "报文中的医疗机构与认证的机构不符")
    return code, Actor(f"hospital:{code}", "hospital")


@_hospital_route
async def hospital_submit(request: web.Request, hospital: str | None, body: dict[str, Any]) -> tuple[Any, int]:
    code, actor = _signer(hospital, body)
    gateway = request.app[GATEWAY]
    now = gateway.now()
    period = _period(body, default_from=now)
    document = await gateway.run(lambda: claim_service.submit(gateway.deps.store, actor, code, period,
                                                              _request_id(request), now))
    return document, 200 if document.get("replayed") else 201


@_hospital_route
async def hospital_listing(request: web.Request, hospital: str | None, body: dict[str, Any]) -> tuple[Any, int]:
    """The signing hospital's own claims, newest first (the demo: ?fixmedins_code=)."""
    code = hospital if hospital is not None else _hospital_code(request.query.get("fixmedins_code"))
    state = request.query.get("state", "")
    store = request.app[GATEWAY].deps.store
    return await request.app[GATEWAY].run(lambda: claim_service.listing(store, code, state, 100)), 200


@_hospital_route
async def hospital_fetch(request: web.Request, hospital: str | None, body: dict[str, Any]) -> tuple[Any, int]:
    claim_id = int_param(request.match_info["claim_id"], "claim_id")
    store = request.app[GATEWAY].deps.store
    document = await request.app[GATEWAY].run(
        lambda: claim_service.document(store, claim_service.get(store, claim_id, hospital)))
    return document, 200


@_hospital_route
async def hospital_explain(request: web.Request, hospital: str | None, body: dict[str, Any]) -> tuple[Any, int]:
    claim_id, line_no = _ids(request)
    gateway = request.app[GATEWAY]
    code = hospital
    if hospital is None:  # the demo: the body names the hospital
        code = _hospital_code(body.get("fixmedins_code"))
    actor = Actor(f"hospital:{code}", "hospital")
    now = gateway.now()
    return await gateway.run(lambda: claim_service.explain(
        gateway.deps.store, actor, claim_id, line_no, body.get("note"), _request_id(request),
        now, hospital=code)), 200


def add_routes(app: web.Application) -> None:
    """Before county_http's /county/v1/{kind}."""
    app.router.add_post("/county/v1/claims", submit)
    app.router.add_get("/county/v1/claims", listing)
    app.router.add_get("/county/v1/claims/{claim_id}", fetch)
    app.router.add_post("/county/v1/claims/{claim_id}/lines/{line_no}/decision", decide)
    app.router.add_post("/county/v1/claims/{claim_id}/lines/{line_no}/explanation", explain)
    for done in Step:
        app.router.add_post(f"/county/v1/claims/{{claim_id}}/{done.value.replace('_', '-')}", _stepper(done))
    app.router.add_get("/county/v1/account", account)
    app.router.add_post("/county/v1/account/receipts", receive)
    app.router.add_get("/county/v1/reports/annex4", annex4_report)
    app.router.add_post("/claims/v1/claims", hospital_submit)
    app.router.add_get("/claims/v1/claims", hospital_listing)
    app.router.add_get("/claims/v1/claims/{claim_id}", hospital_fetch)
    app.router.add_post("/claims/v1/claims/{claim_id}/lines/{line_no}/explanation", hospital_explain)
