"""/county/v1/policies…: policy versions (gateway/county/policy_service.py), thin handlers."""

from __future__ import annotations

import dataclasses
from datetime import date

from aiohttp import web

from gateway.adapters.county_api import Context, answer, int_param, json_body, query_params, route
from gateway.county import policy_service
from gateway.county.errors import bad_input
from gateway.county.policies import MAX_POLICY_TEXT, effective_date


async def _text(request: web.Request) -> str:
    raw = await request.content.read(MAX_POLICY_TEXT + 1)
    if len(raw) > MAX_POLICY_TEXT:
        raise bad_input(f"政策文件超过 {MAX_POLICY_TEXT} 字节")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_input("政策文件应为 UTF-8 编码的 TOML") from exc


def _date(value: object, name: str) -> date:
    try:
        return effective_date(value)
    except ValueError as exc:
        raise bad_input(f"{name} 应为存在的日期 YYYY-MM-DD") from exc


@route("policy.read")
async def list_versions(request: web.Request, ctx: Context) -> web.Response:
    query_params(request, set())
    store, book = ctx.gateway.deps.store, ctx.gateway.deps.policies
    return answer(await ctx.gateway.run(lambda: policy_service.list_versions(store, book)))


@route("policy.draft")
async def upload(request: web.Request, ctx: Context) -> web.Response:
    text = await _text(request)
    store, now = ctx.gateway.deps.store, ctx.gateway.now()
    document = await ctx.gateway.run(lambda: policy_service.upload_draft(store, ctx.actor, text, ctx.request_id, now))
    return answer(document, 201)


@route("policy.read")
async def check_text(request: web.Request, ctx: Context) -> web.Response:
    return answer(policy_service.check_text(await _text(request)))


@route("policy.read")
async def fetch(request: web.Request, ctx: Context) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    store = ctx.gateway.deps.store
    version = await ctx.gateway.run(lambda: policy_service.stored(store, number))
    if request.query.get("format") == "toml":
        return web.Response(text=version.source, content_type="application/toml", charset="utf-8")
    return answer({"code": 0, **policy_service.version_document(version, source=True)})


@route("policy.read")
async def check(request: web.Request, ctx: Context) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    store = ctx.gateway.deps.store
    return answer(await ctx.gateway.run(lambda: policy_service.check_version(store, number)))


@route("policy.read")
async def compare(request: web.Request, ctx: Context) -> web.Response:
    params = query_params(request, {"a", "b"})
    if "a" not in params or "b" not in params:
        raise bad_input("需要 a 和 b：版本号，或生效中的 policy_id")
    store, book = ctx.gateway.deps.store, ctx.gateway.deps.policies
    return answer(await ctx.gateway.run(lambda: policy_service.compare(store, book, params["a"], params["b"])))


@route("policy.read")
async def what_if(request: web.Request, ctx: Context) -> web.Response:
    name = request.match_info["version"]
    body = await json_body(request)
    since, until = _date(body.get("since"), "since"), _date(body.get("until"), "until")
    store, book = ctx.gateway.deps.store, ctx.gateway.deps.policies
    return answer(await ctx.gateway.run(lambda: policy_service.what_if(store, book, name, since, until)))


@route("policy.publish")
async def publish(request: web.Request, ctx: Context) -> web.Response:
    number = int_param(request.match_info["version"], "version")
    body = await json_body(request)
    effective = _date(body["effective_from"], "effective_from") if body.get("effective_from") is not None else None
    gateway, now = ctx.gateway, ctx.gateway.now()

    def job() -> dict[str, object]:
        # on the store thread, between two batches: the next settlement already sees the new book
        document, book = policy_service.publish(gateway.deps.store, gateway.deps.policies, ctx.actor, number,
                                                effective, ctx.request_id, now)
        gateway.deps = dataclasses.replace(gateway.deps, policies=book)
        return document

    return answer(await gateway.run(job))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/county/v1/policies", list_versions)
    app.router.add_post("/county/v1/policies", upload)
    app.router.add_post("/county/v1/policies/check", check_text)
    app.router.add_get("/county/v1/policies/compare", compare)
    app.router.add_get("/county/v1/policies/{version}", fetch)
    app.router.add_get("/county/v1/policies/{version}/check", check)
    app.router.add_post("/county/v1/policies/{version}/whatif", what_if)
    app.router.add_post("/county/v1/policies/{version}/publish", publish)
