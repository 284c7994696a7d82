"""Partner gateways' side door (gateway/referral/wire.py): fetch a referral's record, push one in."""

from __future__ import annotations

import json
import time

from aiohttp import web

from gateway.adapters.http_listener import GATEWAY
from gateway.errors import AccessError, GatewayError, NotFoundError, ReferralRecordRejected, Unauthenticated
from gateway.referral import wire
from gateway.referral.partners import Partners
from gateway.referral.record import MAX_RECORD_BYTES, to_json
from gateway.referral.service import import_record, issue_record

PARTNERS: web.AppKey[Partners | None] = web.AppKey("referral_partners")


def add_routes(app: web.Application, partners: Partners | None) -> None:
    app[PARTNERS] = partners
    app.router.add_get(wire.PATH + "{sn:[0-9A-Za-z]{1,40}}", record)
    app.router.add_post(wire.PATH.rstrip("/"), push)


async def record(request: web.Request) -> web.Response:
    gateway, partners = request.app[GATEWAY], request.app[PARTNERS]
    sn, headers = request.match_info["sn"], request.headers
    try:
        if partners is None:
            raise Unauthenticated("本网关未配置合作网关（[referral] partners）")
        asker = headers.get("X-Hisgw-Partner", "")
        wire.check_request(partners.get(asker), "GET", request.path, headers.get("X-Hisgw-Time", ""),
                           headers.get("X-Hisgw-Signature", ""), time.time())
        issued = await gateway.run(lambda: issue_record(gateway.deps.store, partners, sn, asker, gateway.now()))
    except GatewayError as exc:
        return _error(exc)
    return web.Response(body=to_json(issued), content_type="application/json", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def push(request: web.Request) -> web.Response:
    gateway, partners = request.app[GATEWAY], request.app[PARTNERS]
    try:
        if partners is None:
            raise Unauthenticated("本网关未配置合作网关（[referral] partners）")
        if (request.content_length or 0) > MAX_RECORD_BYTES:
            raise ReferralRecordRejected(f"记录超过 {MAX_RECORD_BYTES} 字节")
        data = await request.content.read(MAX_RECORD_BYTES + 1)
        store = gateway.deps.store

        def job() -> str:
            with store.transaction():
                return import_record(store, partners, data, gateway.now(), pushed=True)[0]
        outcome = await gateway.run(job)
    except GatewayError as exc:
        return _error(exc)
    return web.json_response({"code": "0", "outcome": outcome})


def _error(exc: GatewayError) -> web.Response:
    status = (401 if isinstance(exc, Unauthenticated) else 403 if isinstance(exc, AccessError)
              else 404 if isinstance(exc, NotFoundError) else 400)
    return web.json_response({"code": exc.code, "message": exc.message}, status=status,
                             dumps=lambda d: json.dumps(d, ensure_ascii=False))
