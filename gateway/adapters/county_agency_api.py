"""/county/v1/agency/settlements…: the agency window (gateway/county/agency.py), thin handlers.

A settle or a reversal needs the client's X-Request-Id: it is what makes a retry harmless (the first answer
again), so the gateway never makes one up for these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from aiohttp import web

from gateway.adapters.county_api import Context, answer, int_param, query_params, refusal, route
from gateway.adapters.nhsa.encode import settlement_output
from gateway.adapters.nhsa.fields import Fields
from gateway.county import agency_service
from gateway.county.agency import MODES, AgencyEntry, EntryLine
from gateway.county.agency_service import AgencyResult
from gateway.county.errors import bad_input
from gateway.county.period import period_of
from gateway.errors import GatewayError, InvalidValue
from gateway.journal.model import Keys
from gateway.mapping.jsondoc import dumps, parse_json
from gateway.money import ZERO
from gateway.runtime import CountyAnswer, CountyCommand

MAX_LINES = 10000


def parse_entry(document: object) -> AgencyEntry:
    """The operator's entry, every mistake naming its field (lines[3].chrgitm_lv)."""
    data = Fields(document, "")
    mode = data.text("mode")
    if mode not in MODES:
        raise _invalid(f"mode 应为 {' 或 '.join(MODES)}", "mode")
    level_text = data.text("hosp_lv", required=False)
    if level_text and level_text not in ("1", "2", "3"):
        raise _invalid("医院等级应为 1、2、3", "hosp_lv")
    lines = []
    for row in data.objects("lines", max_items=MAX_LINES):
        amount = row.decimal("det_item_fee_sumamt", places=2)
        cnt = row.decimal("cnt", places=4, required=False)
        assert amount is not None
        if cnt is not None and cnt <= 0:
            raise _invalid("数量应大于 0", row.path("cnt"))
        lines.append(EntryLine(
            med_chrgitm_type=row.text("med_chrgitm_type", required=False),
            chrgitm_lv=row.text("chrgitm_lv", required=False), amount=amount,
            selfpay_prop=row.decimal("selfpay_prop", places=4, required=False),
            preselfpay_amt=row.decimal("preselfpay_amt", places=2, required=False),
            med_list_codg=row.text("med_list_codg", required=False),
            med_list_name=row.text("med_list_name", required=False),
            cnt=cnt if cnt is not None else Decimal(1), pric=row.decimal("pric", places=6, required=False)))
    if not lines:
        raise _invalid("至少一行费用", "lines")
    for n, line in enumerate(lines):
        if line.selfpay_prop is not None and line.selfpay_prop > 1:
            raise _invalid("先行自付比例应在 0 到 1 之间", f"lines[{n}].selfpay_prop")
    hifp_pay = data.decimal("hifp_pay", places=2, required=mode == "basic_settled")
    if mode == "self_paid" and hifp_pay:
        raise _invalid("全自费出院没有已报销的基本医保；已结算基本医保的用 mode=basic_settled", "hifp_pay")
    return AgencyEntry(
        mode=mode, psn_no=data.text("psn_no"), fixmedins_code=data.text("fixmedins_code"),
        fixmedins_name=data.text("fixmedins_name", required=False), hosp_lv=int(level_text) if level_text else None,
        admdvs=data.text("admdvs", required=False), begndate=_date(data, "begndate"),
        enddate=_date(data, "enddate"), lines=tuple(lines), ipt_no=data.text("ipt_no", required=False),
        invoice_no=data.text("invoice_no", required=False),
        medfee_sumamt=data.decimal("medfee_sumamt", places=2, required=False),
        hifp_pay=hifp_pay if mode == "basic_settled" else None,
        act_pay_dedc=data.decimal("act_pay_dedc", places=2, required=False) or ZERO,
        dise_codg=data.text("dise_codg", required=False), dise_name=data.text("dise_name", required=False))


def _date(data: Fields, key: str) -> date:
    moment = data.datetime(key)
    assert moment is not None
    return moment.date()


def _invalid(message: str, field: str) -> GatewayError:
    return InvalidValue(message, field=field)


def document(result: AgencyResult) -> dict[str, Any]:
    output = settlement_output(
        setl_id=result.setl_id, mdtrt_id=result.mdtrt_id, person=result.person, age=result.age,
        setl_time=result.setl_time, med_type="21", figures=result.figures, medins_setl_id=result.medins_setl_id,
        sign=result.sign, extra={"init_setl_id": result.reversed_setl_id} if result.reversed_setl_id else None)
    return {"code": 0, "setl_id": result.setl_id, "mdtrt_id": result.mdtrt_id, "mode": result.mode,
            "mode_name": MODES[result.mode], "year": result.year,
            "status": "reversal" if result.sign < 0 else result.status,
            "sheet_url": f"/sheet/v1/{result.reversed_setl_id or result.setl_id}.html", **output}


def _encode(result: AgencyResult) -> bytes:
    return dumps(document(result), "utf-8")


def _request_id(request: web.Request, ctx: Context) -> str:
    if request.headers.get("X-Request-Id", "") != ctx.request_id:
        raise bad_input("经办窗口结算与撤销须带 X-Request-Id（1–64 位字母、数字或 ._:-）："
                        "重发同一请求时沿用，不会重复结算")
    return ctx.request_id


async def _journalled(request: web.Request, ctx: Context, action: str, body: dict[str, Any], psn_no: str,
                      work: Callable[[], tuple[bytes, Keys]]) -> web.Response:
    """Through the county's one road for writes (gateway/runtime.py Gateway.command): journalled, idempotent by
    X-Request-Id, the answer byte for byte on a retry."""
    gateway, raw, store = ctx.gateway, await request.read(), ctx.gateway.deps.store
    person = await gateway.run(lambda: store.person(psn_no)) if psn_no else None

    def run() -> CountyAnswer:
        text, keys = work()
        return CountyAnswer(200, text, keys)

    try:
        outcome = await gateway.command(CountyCommand(
            action, ctx.actor, ctx.request_id, request.path, raw, body, run,
            (person.psn_name,) if person is not None else ()))
    except GatewayError as exc:
        raise refusal(exc) from exc
    return web.Response(body=outcome.body, status=outcome.status, content_type="application/json", charset="utf-8",
                        headers={"X-Replayed": "1" if outcome.replayed else "0"})


@route("agency.settle")
async def settle(request: web.Request, ctx: Context) -> web.Response:
    request_id = _request_id(request, ctx)
    try:
        body = parse_json(await request.read(), "utf-8")
        if not isinstance(body, dict):
            raise InvalidValue("请求体应为 JSON 对象")
        entry = parse_entry(body)
    except GatewayError as exc:
        raise refusal(exc) from exc
    deps, now = ctx.gateway.deps, ctx.gateway.now()

    def work() -> tuple[bytes, Keys]:
        result = agency_service.settle(deps.store, ctx.gateway.deps.policies, ctx.actor, entry, request_id, now)
        return _encode(result), Keys(result.person.psn_no, result.mdtrt_id, result.setl_id)

    return await _journalled(request, ctx, "agency.settle", body, entry.psn_no, work)


@route("agency.reverse")
async def reverse(request: web.Request, ctx: Context) -> web.Response:
    request_id = _request_id(request, ctx)
    setl_id = request.match_info["setl_id"][:64]
    store, now = ctx.gateway.deps.store, ctx.gateway.now()
    original = await ctx.gateway.run(lambda: store.settlement(setl_id))

    def work() -> tuple[bytes, Keys]:
        result = agency_service.reverse(store, ctx.actor, setl_id, request_id, now)
        return _encode(result), Keys(result.person.psn_no, result.mdtrt_id, setl_id)

    return await _journalled(request, ctx, "agency.reverse", {"setl_id": setl_id},
                             original.psn_no if original is not None else "", work)


@route("agency.read")
async def show(request: web.Request, ctx: Context) -> web.Response:
    setl_id = request.match_info["setl_id"][:64]
    store = ctx.gateway.deps.store
    try:
        result = await ctx.gateway.run(lambda: agency_service.show(store, setl_id))
    except GatewayError as exc:
        raise refusal(exc) from exc
    return web.Response(body=_encode(result), content_type="application/json", charset="utf-8")


@route("agency.read")
async def listing(request: web.Request, ctx: Context) -> web.Response:
    """The window settlements booked in a period (month=YYYY-MM or since/until; none: this month), paged."""
    params = query_params(request, {"month", "since", "until", "status", "limit", "offset"})
    limit = int_param(params.get("limit", "100"), "limit")
    offset = int_param(params.get("offset", "0"), "offset")
    store = ctx.gateway.deps.store
    try:
        dated = {"month_text": params.get("month"), "since": params.get("since"), "until": params.get("until")}
        if not any(dated.values()):
            dated["month_text"] = f"{ctx.gateway.now():%Y-%m}"
        period = period_of(**dated)
        document = await ctx.gateway.run(
            lambda: agency_service.listing(store, period, params.get("status", ""), limit, offset))
    except GatewayError as exc:
        raise refusal(exc) from exc
    return answer(document)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/county/v1/agency/settlements", settle)
    app.router.add_get("/county/v1/agency/settlements", listing)
    app.router.add_get("/county/v1/agency/settlements/{setl_id}", show)
    app.router.add_post("/county/v1/agency/settlements/{setl_id}/reverse", reverse)

