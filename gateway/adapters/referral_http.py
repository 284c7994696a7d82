"""Partner gateways' side door (gateway/referral/wire.py): fetch a referral's record, push one in. Both requests
are signed by the calling partner (key, time window, nonce); a refused push is on the audit trail."""

from __future__ import annotations

import json
import time

from aiohttp import web

from gateway.adapters.http_listener import GATEWAY
from gateway.errors import (
    AccessError,
    GatewayError,
    InternalError,
    NotFoundError,
    ReferralRecordRejected,
    Unauthenticated,
)
from gateway.referral import wire
from gateway.referral.partners import Partners
from gateway.referral.record import MAX_RECORD_BYTES, to_json
from gateway.referral.service import actor_of, import_record, issue_record, record_refusal

PARTNERS: web.AppKey[Partners | None] = web.AppKey("referral_partners")


def add_routes(app: web.Application, partners: Partners | None) -> None:
    app[PARTNERS] = partners
    app.router.add_get(wire.PATH + "{sn:[0-9A-Za-z]{1,40}}", record)
    app.router.add_post(wire.PATH.rstrip("/"), push)


def _authenticated(request: web.Request, partners: Partners | None, body: bytes) -> str:
    """The calling partner's id, once its request signature is checked (the nonce is checked by the store)."""
    if partners is None:
        raise Unauthenticated("本网关未配置合作网关（[referral] partners）")
    headers = request.headers
    asker = headers.get("X-Hisgw-Partner", "")
    wire.check_request(partners.get(asker), request.method, request.raw_path, headers.get("X-Hisgw-Time", ""),
                       headers.get("X-Hisgw-Nonce", ""), headers.get("X-Hisgw-Signature", ""), body, time.time())
    return asker


def _fresh_nonce(request: web.Request, asker: str) -> None:
    """A nonce seen within the window is a replayed request. Kept in a commit of its own: a request whose work is
    then refused has still used its nonce."""
    store = request.app[GATEWAY].deps.store
    with store.transaction():
        fresh = store.referral_nonce_add(asker, request.headers["X-Hisgw-Nonce"], time.time(), wire.WINDOW)
    if not fresh:
        raise Unauthenticated("合作网关请求重放（X-Hisgw-Nonce 已使用）")


async def record(request: web.Request) -> web.Response:
    gateway, partners = request.app[GATEWAY], request.app[PARTNERS]
    sn = request.match_info["sn"]
    try:
        asker = _authenticated(request, partners, b"")
        assert partners is not None
        store = gateway.deps.store

        def job() -> bytes:
            _fresh_nonce(request, asker)
            with store.transaction():
                return to_json(issue_record(store, partners, sn, asker, gateway.now()))
        issued = await gateway.run(job)
    except GatewayError as exc:
        return _error(exc)
    return web.Response(body=issued, content_type="application/json", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def push(request: web.Request) -> web.Response:
    gateway, partners = request.app[GATEWAY], request.app[PARTNERS]
    store = gateway.deps.store
    data, actor = b"", "anonymous"
    try:
        if (request.content_length or 0) > MAX_RECORD_BYTES:
            raise ReferralRecordRejected(f"记录超过 {MAX_RECORD_BYTES} 字节")
        data = await request.content.read(MAX_RECORD_BYTES + 1)
        asker = _authenticated(request, partners, data)
        assert partners is not None

        def job() -> str:
            with store.transaction():
                return import_record(store, partners, data, gateway.now(), pushed_by=asker)[0]
        await gateway.run(lambda: _fresh_nonce(request, asker))
        actor = actor_of(asker)  # authenticated, and not a replay
        outcome = await gateway.run(job)
    except GatewayError as exc:
        if not isinstance(exc, InternalError):  # the store itself failing is the journal's, not the trail's
            refused = exc
            await gateway.run(lambda: record_refusal(store, data, refused, gateway.now(), actor))
        return _error(exc)
    return web.json_response({"code": "0", "outcome": outcome})


def _error(exc: GatewayError) -> web.Response:
    status = (401 if isinstance(exc, Unauthenticated) else 403 if isinstance(exc, AccessError)
              else 404 if isinstance(exc, NotFoundError) else 400)
    return web.json_response({"code": exc.code, "message": exc.message}, status=status,
                             dumps=lambda d: json.dumps(d, ensure_ascii=False))
