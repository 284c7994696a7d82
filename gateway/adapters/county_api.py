"""The county system's API (/county/v1/…, described by /county/v1/openapi.json): thin handlers over gateway/county.

Each route names the action it performs (gateway/county/roles.py ACTIONS); the operator is the bearer token's
[county.<name>] in the credentials file, or, on a gateway without credentials (the demo), whoever the
X-Operator header names. Every answer carries X-Request-Id (the client's, when it sent a sane one), which the
audit trail records with every write.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web

from gateway.adapters.http_listener import AUTH, GATEWAY
from gateway.county import audit
from gateway.county.audit import entry_document, parse_audit_query
from gateway.county.errors import CountyRefusal
from gateway.county.openapi import openapi
from gateway.county.roles import ACTIONS, DEMO_ROLE, ROLES, Actor, may
from gateway.errors import AccessError, BusinessError, GatewayError, NotFoundError
from gateway.journal.model import Keys
from gateway.runtime import CountyAnswer, CountyCommand, Gateway

MAX_UPLOAD = 32 * 1024 * 1024  # an identity list of a county (xlsx of ~100,000 rows is ~5 MB)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_OPERATOR = re.compile(r"^[\w.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Context:
    actor: Actor
    request_id: str
    gateway: Gateway


Handler = Callable[[web.Request, Context], Awaitable[web.Response]]


def route(action: str) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.Response]]]:
    """Authenticate, authorise `action`, give the handler its Context; a CountyRefusal becomes its JSON answer."""
    assert action in ACTIONS, action

    def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def run(request: web.Request) -> web.Response:
            given = request.headers.get("X-Request-Id", "")
            request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
            try:
                actor = _actor(request)
                if not may(actor, action):
                    refusal = CountyRefusal(403, "HG4004", f"{actor.name} 的角色 {ROLES.get(actor.role, actor.role)} "
                                                           f"不能{ACTIONS[action][0]}")
                    if not action.endswith(".read"):  # an attempted write is on the record too
                        gateway = request.app[GATEWAY]
                        await gateway.run(lambda: gateway.refused(actor, action, request.path, refusal.message,
                                                                  request_id))
                    raise refusal
                response = await handler(request, Context(actor, request_id, request.app[GATEWAY]))
            except CountyRefusal as exc:
                response = answer({"code": exc.code, "message": exc.message, **exc.extra}, exc.status)
            response.headers["X-Request-Id"] = request_id
            return response

        run.__name__ = handler.__name__
        return run

    return wrap


def request_actor(request: web.Request) -> tuple[Actor, str]:
    """For handlers outside this module (county_http): the operator and the request id of an allowed request."""
    given = request.headers.get("X-Request-Id", "")
    return _actor(request), given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def _actor(request: web.Request) -> Actor:
    authenticator = request.app[AUTH]
    if authenticator is None:
        named = request.headers.get("X-Operator", "")
        return Actor(named if _OPERATOR.match(named) else "demo", DEMO_ROLE)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    operator = authenticator.credentials.county.get(token) if scheme.lower() == "bearer" else None
    if operator is None:
        raise CountyRefusal(401, "HG4002", "需要县级医保系统的令牌 (Authorization: Bearer …)")
    return Actor(operator.name, operator.role)


def answer(document: Any, status: int = 200) -> web.Response:
    return web.json_response(document, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def refusal(exc: GatewayError) -> CountyRefusal:
    """A settlement-side service's error as the county API's answer."""
    status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, BusinessError) else \
        403 if isinstance(exc, AccessError) else 400
    return CountyRefusal(status, exc.code, exc.message)


Written = TypeVar("Written")


async def command(request: web.Request, ctx: Context, action: str, same_as: object,
                  work: Callable[[], tuple[Any, int]], *, names: tuple[str, ...] = (),
                  keys: Callable[[], Keys] = Keys) -> web.Response:
    """A county write through the gateway's one road for writes (gateway/runtime.py Gateway.command): `work()`
    gives (document, status), run in one transaction with its audit entry and its stored answer; a retry with
    the same X-Request-Id is answered the first answer, byte for byte (X-Replayed: 1)."""
    raw = await request.read()

    def run() -> CountyAnswer:
        document, status = work()
        return CountyAnswer(status, encode(document), keys())

    try:
        outcome = await ctx.gateway.command(CountyCommand(
            action, ctx.actor, ctx.request_id, request.path, raw, {"path": request.path, "body": same_as}, run, names))
    except GatewayError as exc:
        raise refusal(exc) from exc
    return web.Response(body=outcome.body, status=outcome.status, content_type="application/json", charset="utf-8",
                        headers={"X-Replayed": "1" if outcome.replayed else "0"})


async def audited_write(request: web.Request, ctx: Context, action: str, same_as: object,
                        write: Callable[[datetime], tuple[Written | None, Written]], subject: Callable[[Written], str],
                        document: Callable[[Written], Any], answer_of: Callable[[Written], tuple[Any, int]]
                        ) -> web.Response:
    """A county write through a settlement-side service: `write(now)` gives (before, after), recorded on the
    audit trail with the write (a write that changed nothing records nothing); `answer_of(after)` is the answer."""
    store, now = ctx.gateway.deps.store, ctx.gateway.now()

    def work() -> tuple[Any, int]:
        before, after = write(now)
        if after != before:
            audit.record(store, ctx.actor, action, subject(after), None if before is None else document(before),
                         document(after), ctx.request_id, now)
        return answer_of(after)

    return await command(request, ctx, action, same_as, work)


def encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


async def json_body(request: web.Request) -> dict[str, Any]:
    """A JSON object body, or a 400 that says what is wrong with it."""
    try:
        document = json.loads(await request.read())
    except (ValueError, RecursionError) as exc:
        raise CountyRefusal(400, "HG1001", f"JSON 解析失败：{exc}") from exc
    if not isinstance(document, dict):
        raise CountyRefusal(400, "HG1001", "请求体应为 JSON 对象")
    return document


def query_params(request: web.Request, known: set[str]) -> dict[str, str]:
    unknown = set(request.query) - known
    if unknown:
        raise CountyRefusal(400, "HG1003", f"未知的查询参数 {sorted(unknown)}；可用 {sorted(known)}")
    return {k: request.query[k] for k in request.query if k in known}


def int_param(value: str, name: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise CountyRefusal(400, "HG1003", f"{name} 应为正整数")
    return int(value)


@route("audit.read")
async def audit_search(request: web.Request, ctx: Context) -> web.Response:
    query = parse_audit_query(dict(request.query))
    store = ctx.gateway.deps.store
    entries = await ctx.gateway.run(lambda: store.audit_search(query))
    return answer({"code": 0, "count": len(entries), "entries": [entry_document(e) for e in entries]})


async def openapi_document(request: web.Request) -> web.Response:
    """The API's description; public (it names no data, only shapes)."""
    return answer(openapi())


def add_routes(app: web.Application) -> None:
    """Before county_http's /county/v1/{kind}, which would otherwise catch /county/v1/policies."""
    from gateway.adapters import county_agency_api, county_claims_api, county_identity_api, county_policy_api

    app.router.add_get("/county/v1/openapi.json", openapi_document)
    app.router.add_get("/county/v1/audit", audit_search)
    county_policy_api.add_routes(app)
    county_identity_api.add_routes(app)
    county_agency_api.add_routes(app)
    county_claims_api.add_routes(app)
