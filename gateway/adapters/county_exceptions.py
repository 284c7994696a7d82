"""/county/v1/catalogue-exceptions: the exception to Guangxi's 90% catalogue rule, thin handlers over
gateway/service/catalogue_exception.py; every write audited.

- GET  /county/v1/catalogue-exceptions[?status=requested|approved|refused]
- POST /county/v1/catalogue-exceptions {mdtrt_id, reason}             the hospital's request, recorded
- POST /county/v1/catalogue-exceptions/{mdtrt_id}/{approve|refuse}     the reviewer's decision (not the requester)
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.adapters.county_api import Context, answer, audited_write, json_body, query_params, route
from gateway.county.errors import bad_input
from gateway.service import catalogue_exception
from gateway.store.arrears_port import CatalogueException


def add_routes(app: web.Application) -> None:
    app.router.add_get("/county/v1/catalogue-exceptions", list_exceptions)
    app.router.add_post("/county/v1/catalogue-exceptions", request_exception)
    app.router.add_post("/county/v1/catalogue-exceptions/{mdtrt_id}/{decision}", decide_exception)


def document(record: CatalogueException) -> dict[str, Any]:
    return {"mdtrt_id": record.mdtrt_id, "fixmedins_code": record.fixmedins_code, "reason": record.reason,
            "requested_by": record.requested_by, "requested_at": record.requested_at.isoformat(sep=" "),
            "status": record.status, "decided_by": record.decided_by or None,
            "decided_at": record.decided_at.isoformat(sep=" ") if record.decided_at else None}


@route("policy.read")
async def list_exceptions(request: web.Request, ctx: Context) -> web.Response:
    status = query_params(request, {"status"}).get("status") or None
    store = ctx.gateway.deps.store
    rows = await ctx.gateway.run(lambda: store.catalogue_exceptions(status))
    return answer({"code": 0, "count": len(rows), "exceptions": [document(r) for r in rows]})


@route("catalogue_exception.request")
async def request_exception(request: web.Request, ctx: Context) -> web.Response:
    body = await json_body(request)
    mdtrt_id, reason = str(body.get("mdtrt_id", "")), str(body.get("reason", ""))
    deps = ctx.gateway.deps
    return await audited_write(
        request, ctx, "catalogue_exception.request", body,
        lambda now: (None, catalogue_exception.request(deps, mdtrt_id, reason, ctx.actor.name, now)),
        lambda r: f"catalogue-exception/{r.mdtrt_id}", document, lambda r: ({"code": 0, "exception": document(r)}, 201))


@route("catalogue_exception.decide")
async def decide_exception(request: web.Request, ctx: Context) -> web.Response:
    mdtrt_id, decision = request.match_info["mdtrt_id"], request.match_info["decision"]
    if decision not in catalogue_exception.DECISIONS:
        raise bad_input("应为 approve 或 refuse")
    deps = ctx.gateway.deps
    return await audited_write(
        request, ctx, "catalogue_exception.decide", None,
        lambda now: catalogue_exception.decide(deps, mdtrt_id, decision, ctx.actor, now),
        lambda r: f"catalogue-exception/{r.mdtrt_id}", document, lambda r: ({"code": 0, "exception": document(r)}, 200))
