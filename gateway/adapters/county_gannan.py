"""The county API's Gannan part (先诊疗后付费, 州医改办发〔2018〕9号), thin handlers over gateway/service/deposit.py:

- GET  /county/v1/arrears[?psn_no=&open=1]              the register of malicious defaulters (恶意拖欠)
- POST /county/v1/arrears {mdtrt_id, owed_amt, reported_on}   a hospital's report: the privilege ends everywhere
- POST /county/v1/arrears/{arrears_id}/payments {amount, paid_on}   a repayment; paid in full, it comes back
- GET  /county/v1/referrals/overdue                      stays discharged as 转院 more than 3 days ago, not settled

Every write is audited (gateway/county/audit.py) in its own transaction.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from gateway.adapters.county_api import Context, answer, audited_write, json_body, query_params, route
from gateway.county.errors import bad_input
from gateway.money import MAX_AMOUNT
from gateway.service import deposit
from gateway.store.arrears_port import ArrearsRecord


def add_routes(app: web.Application) -> None:
    app.router.add_get("/county/v1/arrears", list_arrears)
    app.router.add_post("/county/v1/arrears", report_arrears)
    app.router.add_post("/county/v1/arrears/{arrears_id}/payments", pay_arrears)
    app.router.add_get("/county/v1/referrals/overdue", overdue_referrals)


def arrears_document(record: ArrearsRecord) -> dict[str, Any]:
    return {"arrears_id": record.arrears_id, "psn_no": record.psn_no, "fixmedins_code": record.fixmedins_code,
            "mdtrt_id": record.mdtrt_id, "owed_amt": str(record.owed), "paid_amt": str(record.paid),
            "outstanding_amt": str(record.outstanding), "reported_on": record.reported_on.isoformat(),
            "recorded_at": record.recorded_at.isoformat(sep=" "), "recorded_by": record.recorded_by,
            "cleared_on": record.cleared_on.isoformat() if record.cleared_on else None}


def _amount(body: dict[str, Any], name: str) -> Decimal:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_input(f"{name} 应为金额")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise bad_input(f"{name} 应为金额") from exc
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise bad_input(f"{name} 应为金额")
    return amount


def _day(body: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(body.get(name, "")))
    except ValueError as exc:
        raise bad_input(f"{name} 应为日期 YYYY-MM-DD") from exc


@route("arrears.read")
async def list_arrears(request: web.Request, ctx: Context) -> web.Response:
    params = query_params(request, {"psn_no", "open"})
    store = ctx.gateway.deps.store
    rows = await ctx.gateway.run(lambda: store.arrears_list(params.get("psn_no") or None, params.get("open") == "1"))
    return answer({"code": 0, "count": len(rows), "arrears": [arrears_document(r) for r in rows]})


@route("arrears.record")
async def report_arrears(request: web.Request, ctx: Context) -> web.Response:
    body = await json_body(request)
    mdtrt_id, owed, reported_on = str(body.get("mdtrt_id", "")), _amount(body, "owed_amt"), _day(body, "reported_on")
    deps = ctx.gateway.deps
    return await audited_write(
        request, ctx, "arrears.record", body,
        lambda now: (None, deposit.report(deps, mdtrt_id, owed, reported_on, ctx.actor.name, now)),
        lambda r: f"arrears/{r.arrears_id}", arrears_document,
        lambda r: ({"code": 0, "arrears": arrears_document(r)}, 201))


@route("arrears.pay")
async def pay_arrears(request: web.Request, ctx: Context) -> web.Response:
    body = await json_body(request)
    arrears_id, amount, paid_on = request.match_info["arrears_id"], _amount(body, "amount"), _day(body, "paid_on")
    deps = ctx.gateway.deps
    return await audited_write(request, ctx, "arrears.pay", body,
                               lambda _now: deposit.pay(deps, arrears_id, amount, paid_on),
                               lambda _r: f"arrears/{arrears_id}", arrears_document,
                               lambda r: ({"code": 0, "arrears": arrears_document(r)}, 200))


@route("arrears.read")
async def overdue_referrals(request: web.Request, ctx: Context) -> web.Response:
    query_params(request, set())
    deps, now = ctx.gateway.deps, ctx.gateway.now()
    stays = await ctx.gateway.run(lambda: deposit.overdue_referrals(deps, now))
    return answer({"code": 0, "as_of": now.isoformat(sep=" ", timespec="seconds"),
                   "days": deposit.REFERRAL_SETTLE_DAYS, "count": len(stays), "stays": [
                       {"mdtrt_id": s.mdtrt_id, "psn_no": s.psn_no, "fixmedins_code": s.fixmedins_code,
                        "begntime": s.begntime.isoformat(sep=" "),
                        "endtime": s.endtime.isoformat(sep=" ") if s.endtime else None,
                        "days_since_discharge": (now - s.endtime).days if s.endtime else None,
                        "zero_deposit": s.admission.get("zero_deposit")} for s in stays]})
