"""/county/v1/identities…, /county/v1/coverage: identity lists and the monthly comparison, thin handlers over
gateway/county/identity_service.py."""

from __future__ import annotations

import asyncio
import re
from datetime import date

from aiohttp import web

from gateway.adapters.county_api import MAX_UPLOAD, Context, answer, int_param, json_body, query_params, route
from gateway.county import coverage, identity_service
from gateway.county.errors import bad_input
from gateway.county.identities import KINDS, SOURCES, source_key
from gateway.county.listfile import read_list
from gateway.county.review import ReviewEvent

_FILENAME = re.compile(r"^[^/\\\x00-\x1f]{1,128}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def _date(value: str, name: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise bad_input(f"{name} 应为存在的日期 YYYY-MM-DD") from exc


async def _body(request: web.Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise bad_input(f"名单文件超过 {MAX_UPLOAD // (1 << 20)} MB")
        chunks.append(chunk)


@route("identities.upload")
async def upload(request: web.Request, ctx: Context) -> web.Response:
    params = query_params(request, {"source", "as_of", "filename"})
    source = source_key(params.get("source", ""))
    if source is None:
        raise bad_input(f"source 应为 {', '.join(SOURCES)}（或 扶贫办、民政、残联）")
    filename = params.get("filename", "list.csv")
    if not _FILENAME.match(filename):
        raise bad_input("filename 不合法")
    as_of = _date(params["as_of"], "as_of") if "as_of" in params else ctx.gateway.now().date()
    data = await _body(request)
    rows = await asyncio.to_thread(read_list, data, filename)  # parsing a large .xlsx keeps the store thread free
    store, now = ctx.gateway.deps.store, ctx.gateway.now()
    document = await ctx.gateway.run(lambda: identity_service.upload(store, ctx.actor, source, filename, as_of, rows,
                                                                     ctx.request_id, now))
    return answer(document, 201)


@route("identities.read")
async def list_imports(request: web.Request, ctx: Context) -> web.Response:
    params = query_params(request, {"limit"})
    limit = min(int_param(params.get("limit", "50"), "limit"), 1000)
    store = ctx.gateway.deps.store
    found = await ctx.gateway.run(lambda: store.imports(limit))
    return answer({"code": 0, "imports": [identity_service.import_document(i) for i in found]})


@route("identities.read")
async def fetch(request: web.Request, ctx: Context) -> web.Response:
    import_id = int_param(request.match_info["import_id"], "import_id")
    params = query_params(request, {"kind", "offset", "limit"})
    kind = params.get("kind", "")
    if kind and kind not in KINDS:
        raise bad_input(f"kind 应为 {', '.join(KINDS)}")
    offset = int_param(params.get("offset", "0"), "offset")
    limit = min(int_param(params.get("limit", "100"), "limit"), 10_000) or 100
    store = ctx.gateway.deps.store
    found = await ctx.gateway.run(lambda: identity_service.get(store, import_id))
    return answer({"code": 0, **identity_service.import_document(found, kind=kind, offset=offset, limit=limit)})


async def _decide(request: web.Request, ctx: Context, event: ReviewEvent) -> web.Response:
    import_id = int_param(request.match_info["import_id"], "import_id")
    body = await json_body(request)
    chosen = body.get("rows")
    if chosen is not None and (not isinstance(chosen, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in chosen)):
        raise bad_input("rows 应为差异行号（id）的列表")
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > 500:
        raise bad_input("note 应为不超过 500 字的说明")
    store, now = ctx.gateway.deps.store, ctx.gateway.now()
    return answer(await ctx.gateway.run(lambda: identity_service.decide(
        store, ctx.actor, import_id, event, chosen, note, ctx.request_id, now)))


@route("identities.apply")
async def apply(request: web.Request, ctx: Context) -> web.Response:
    return await _decide(request, ctx, ReviewEvent.APPLY)


@route("identities.refuse")
async def refuse(request: web.Request, ctx: Context) -> web.Response:
    return await _decide(request, ctx, ReviewEvent.REFUSE)


@route("identities.read")
async def history(request: web.Request, ctx: Context) -> web.Response:
    psn_no = request.match_info["psn_no"]
    if len(psn_no) > 64:
        raise bad_input("人员编号过长")
    store = ctx.gateway.deps.store
    return answer(await ctx.gateway.run(lambda: identity_service.history(store, psn_no)))


@route("coverage.read")
async def monthly(request: web.Request, ctx: Context) -> web.Response:
    params = query_params(request, {"month", "format"})
    month_text = params.get("month", f"{ctx.gateway.now():%Y-%m}")
    if not _MONTH.match(month_text) or not 1 <= int(month_text[5:]) <= 12 or int(month_text[:4]) < 1:
        raise bad_input("month 应为 YYYY-MM")
    month = date(int(month_text[:4]), int(month_text[5:]), 1)
    kind = params.get("format", "json")
    if kind not in ("json", "csv"):
        raise bad_input("format 应为 json 或 csv")
    store = ctx.gateway.deps.store
    report = await ctx.gateway.run(lambda: identity_service.monthly_coverage(store, month))
    if kind == "csv":
        return web.Response(body=coverage.as_csv(report).encode("utf-8-sig"), content_type="text/csv",
                            charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="coverage-{month_text}.csv"'})
    return answer(report)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/county/v1/identities/imports", upload)
    app.router.add_get("/county/v1/identities/imports", list_imports)
    app.router.add_get("/county/v1/identities/imports/{import_id}", fetch)
    app.router.add_post("/county/v1/identities/imports/{import_id}/apply", apply)
    app.router.add_post("/county/v1/identities/imports/{import_id}/refuse", refuse)
    app.router.add_get("/county/v1/identities/persons/{psn_no}/history", history)
    app.router.add_get("/county/v1/coverage", monthly)
