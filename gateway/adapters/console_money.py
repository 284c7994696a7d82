"""The console's money pages (claims, the special account, 附件4/附件5 downloads): thin handlers over the same
services as /county/v1/ (gateway/county/claim_service.py, account_service.py, reports.py), so separation of
duties, the audit trail and every refusal are theirs; a page only turns a form into the body the API takes and
shows the service's answer or its error. Who sees a page or a button: gateway/county/roles.py ACTIONS."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web

from gateway.adapters.console_http import PREFIX, PageError, User, check_csrf, require
from gateway.adapters.http_listener import GATEWAY
from gateway.adapters.sheet_http import RENDERING
from gateway.county import account_service, annex4_render, annex5_render, claim_service
from gateway.county.account import SOURCES
from gateway.county.claims import REASONS, STATE_NAMES, STEP_ACTIONS, STEP_NAMES, ClaimState, Step
from gateway.county.errors import CountyRefusal
from gateway.county.period import Period, period_of
from gateway.county.reports import annex5_of
from gateway.errors import GatewayError
from gateway.refdata.idcard import mask_name

LIMIT = 200  # claims listed (a county has a few hundred a year)


def add_routes(routes: web.UrlDispatcher) -> None:
    routes.add_get("/claims", claims_page)
    routes.add_get(r"/claims/{claim_id:\d{1,9}}", claim_page)
    routes.add_post(r"/claims/{claim_id:\d{1,9}}/lines/{line_no:\d{1,7}}/decision", claim_decide)
    routes.add_post(r"/claims/{claim_id:\d{1,9}}/step/{step:[a-z_]{1,20}}", claim_step)
    routes.add_get("/account", account_page)
    routes.add_post("/account/receipts", account_receive)
    routes.add_get("/reports", reports_page)
    routes.add_get(r"/reports/{annex:annex4|annex5}.{fmt:[a-z]{1,5}}", report_download)


def _month_before(today: date) -> str:
    return f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"


# ---- claims -------------------------------------------------------------------------------------------------

async def claims_page(request: web.Request) -> web.Response:
    await require(request, "claims.read")
    query = request.query
    hospital, state = query.get("hospital", "").strip()[:32], query.get("state", "")
    since, until = query.get("since", ""), query.get("until", "")
    gateway = request.config_dict[GATEWAY]
    problem, claims = "", []
    try:
        found = await gateway.run(lambda: claim_service.listing(gateway.deps.store, hospital, state, LIMIT))
        claims = [c for c in found["claims"]  # the claims whose period meets the one asked for
                  if (not since or c["until"] >= since) and (not until or c["since"] <= until)]
    except CountyRefusal as exc:
        problem = exc.message
    return aiohttp_jinja2.render_template("claims.html", request, {
        "claims": claims, "hospital": hospital, "state": state, "since": since, "until": until,
        "states": STATE_NAMES, "problem": problem}, status=400 if problem else 200)


def _steps_for(user: User, document: dict[str, Any]) -> list[tuple[str, str]]:
    """The steps the claim's state allows and the user's role may take: (step, its Chinese name)."""
    return [(s, STEP_NAMES[Step(s)]) for s in document["next"] if user.may(STEP_ACTIONS[Step(s)])]


async def claim_page(request: web.Request, outcome: str = "", problem: str = "", status: int = 200) -> web.Response:
    user = await require(request, "claims.read")
    claim_id = int(request.match_info["claim_id"])
    gateway = request.config_dict[GATEWAY]
    store = gateway.deps.store

    def read() -> tuple[dict[str, Any], dict[str, str]]:
        document = claim_service.document(store, claim_service.get(store, claim_id))
        names = {}
        for line in document["lines"]:
            person = store.person(line["psn_no"])
            names[line["psn_no"]] = mask_name(person.psn_name) if person is not None else ""
        return document, names

    try:
        document, names = await gateway.run(read)
    except CountyRefusal:
        raise PageError("missing.html", {"what": f"申报单 {claim_id}"}, status=404) from None
    return aiohttp_jinja2.render_template("claim.html", request, {
        "c": document, "names": names, "steps": _steps_for(user, document), "reasons": REASONS,
        "may_decide": user.may("claims.review") and document["state"] == ClaimState.SUBMITTED.value,
        "outcome": outcome, "problem": problem, "today": gateway.now().date().isoformat()}, status=status)


async def claim_decide(request: web.Request) -> web.Response:
    """初审 of one line: the body POST /county/v1/claims/{id}/lines/{n}/decision takes, from the form."""
    user = await require(request, "claims.review")
    form = await request.post()
    await check_csrf(request, form)
    claim_id, line_no = int(request.match_info["claim_id"]), int(request.match_info["line_no"])
    body: dict[str, object] = {"decision": str(form.get("decision", "")), "note": str(form.get("note", ""))[:500]}
    if body["decision"] == "refuse":
        body["reason"] = str(form.get("reason", ""))
        body["funds"] = [str(f) for f in form.getall("funds", [])]
    gateway = request.config_dict[GATEWAY]
    try:
        done = await gateway.run(lambda: claim_service.decide(gateway.deps.store, user.actor, claim_id, line_no, body,
                                                              uuid.uuid4().hex, gateway.now()))
    except CountyRefusal as exc:
        return await claim_page(request, problem=f"第 {line_no} 行未能审核：{exc.message}", status=exc.status)
    line = done["line"]
    verdict = "通过" if line["decision"] and line["decision"]["decision"] == "accept" else "拒付"
    return await claim_page(request, outcome=f"第 {line_no} 行：{verdict}（拒付 {line['refused']} 元）")


async def claim_step(request: web.Request) -> web.Response:
    """A step of the claim (初审 closed, 复审, 退回, 拒付告知, 结算, 拨付) through claim_service.step."""
    try:
        done = Step(request.match_info["step"])
    except ValueError:
        raise web.HTTPNotFound() from None
    user = await require(request, STEP_ACTIONS[done])
    form = await request.post()
    await check_csrf(request, form)
    body: dict[str, object] = {"note": str(form.get("note", ""))[:500]}
    if done is Step.FIRST_REVIEW and form.get("accept_rest") == "1":
        body["accept_rest"] = True
    if done is Step.PAY:
        body.update(paid_on=str(form.get("paid_on", "")), amount=str(form.get("amount", "")).strip(),
                    reference=str(form.get("reference", "")))
    claim_id = int(request.match_info["claim_id"])
    gateway = request.config_dict[GATEWAY]
    try:
        answer = await gateway.run(lambda: claim_service.step(gateway.deps.store, user.actor, claim_id, done, body,
                                                              uuid.uuid4().hex, gateway.now()))
    except CountyRefusal as exc:
        return await claim_page(request, problem=f"未能{STEP_NAMES[done]}：{exc.message}", status=exc.status)
    again = "（重复提交，未再写入）" if answer.get("replayed") else ""
    return await claim_page(request, outcome=f"{STEP_NAMES[done]}完成：申报单现为「{answer['state_name']}」{again}")


# ---- the special account ------------------------------------------------------------------------------------

def _period(request: web.Request, today: date) -> Period:
    query = request.query
    if not any(query.get(k) for k in ("month", "since", "until")):
        return period_of(month_text=f"{today:%Y-%m}")
    return period_of(month_text=query.get("month") or None, since=query.get("since") or None,
                     until=query.get("until") or None)


async def account_page(request: web.Request, outcome: str = "", problem: str = "", status: int = 200) -> web.Response:
    user = await require(request, "account.read")
    gateway = request.config_dict[GATEWAY]
    statement: dict[str, Any] | None = None
    try:
        period = _period(request, gateway.now().date())
        statement = await gateway.run(lambda: account_service.statement_of(gateway.deps.store, period))
    except GatewayError as exc:
        problem, status = problem or exc.message, 400
    return aiohttp_jinja2.render_template("account.html", request, {
        "s": statement, "month": request.query.get("month", ""), "since": request.query.get("since", ""),
        "until": request.query.get("until", ""), "sources": {k: v[0] for k, v in SOURCES.items()},
        "may_receive": user.may("account.receive"), "outcome": outcome, "problem": problem,
        "today": gateway.now().date().isoformat()}, status=status)


async def account_receive(request: web.Request) -> web.Response:
    """财务's receipt, as POST /county/v1/account/receipts takes it."""
    user = await require(request, "account.receive")
    form = await request.post()
    await check_csrf(request, form)
    body = {k: str(form.get(k, "")).strip() for k in ("source", "amount", "received_on", "reference", "note")}
    gateway = request.config_dict[GATEWAY]
    now = gateway.now()
    try:
        entry = account_service.receipt_of(body, user.actor, now)
        saved = await gateway.run(lambda: account_service.receive(gateway.deps.store, user.actor, entry,
                                                                  uuid.uuid4().hex, now))
    except CountyRefusal as exc:
        return await account_page(request, problem=f"未能登记收款：{exc.message}", status=exc.status)
    got = saved["entry"]
    return await account_page(request,
                              outcome=f"已登记收款 {got['amount']} 元（{got['source_name']}，{got['on_date']}）")


# ---- reports ------------------------------------------------------------------------------------------------

REPORTS = {"annex4": ("附件4 一站式结算资金收支财务清算表", "account.read", annex4_render.FORMATS),
           "annex5": ("附件5 一站式结算统计表", "reports.read", annex5_render.FORMATS)}


async def reports_page(request: web.Request) -> web.Response:
    user = await require(request)
    shown = {k: v for k, v in REPORTS.items() if user.may(v[1])}
    if not shown:
        await require(request, "reports.read")  # the refused page
    month = request.query.get("month", "") or _month_before(request.config_dict[GATEWAY].now().date())
    return aiohttp_jinja2.render_template("reports.html", request, {"reports": shown, "month": month})


async def report_download(request: web.Request) -> web.Response:
    """附件4/附件5 as /county/v1/reports/… serves them: the same table functions and renderers."""
    annex, fmt = request.match_info["annex"], request.match_info["fmt"]
    title, action, formats = REPORTS[annex]
    await require(request, action)
    if fmt not in formats:
        raise web.HTTPNotFound(text=f"格式为 {'、'.join(formats)} 之一")
    gateway = request.config_dict[GATEWAY]
    store = gateway.deps.store
    query = request.query
    unit_name = query.get("unit_name", "")[:64]
    try:
        period = period_of(month_text=query.get("month") or None, since=query.get("since") or None,
                           until=query.get("until") or None)
        if annex == "annex4":
            table4 = await gateway.run(lambda: account_service.annex4_of(store, period))
            async with request.config_dict[RENDERING]:  # a PDF is seconds of CPU: bounded as at /county/v1/
                body = await asyncio.to_thread(annex4_render.render, table4, fmt, unit_name=unit_name)
        else:
            table5 = await gateway.run(lambda: annex5_of(store, period))
            wan = query.get("unit", "wan") != "yuan"
            async with request.config_dict[RENDERING]:
                body = await asyncio.to_thread(annex5_render.render, table5, fmt, unit_name=unit_name, wan=wan)
    except (GatewayError, CountyRefusal) as exc:
        raise web.HTTPBadRequest(text=f"{title}：{exc.message}") from None
    name = f"{title.split()[0]}_{period.since:%Y%m%d}-{period.until:%Y%m%d}.{fmt}"
    return web.Response(body=body, headers={
        "Content-Type": formats[fmt], "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


__all__ = ["PREFIX", "add_routes"]
