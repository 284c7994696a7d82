"""The county API's outpatient and supervision part (issue 17):

- GET  /county/v1/chronic/filings?month=YYYY-MM[&fixmedins_code=]   备案名单: each hospital's recognitions
- POST /county/v1/chronic/recognitions/{recog_id}/cancel {"reason"}  the agency withdraws a recognition
- GET  /county/v1/late-registrations?month=YYYY-MM[&fixmedins_code=] 2401s registered over 24 h late (Hunan)
- GET  /county/v1/stays/{mdtrt_id}/trial                             费用试算 of any open stay: the 2303 figures

Handlers stay thin: the rules are gateway.service.chronic, .late and .outpatient.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

from aiohttp import web

from gateway.adapters.county_api import Context, audited_write, route
from gateway.adapters.county_http import refused
from gateway.adapters.http_listener import GATEWAY
from gateway.adapters.nhsa.encode import render_output
from gateway.canonical import calls as c
from gateway.county.errors import CountyRefusal
from gateway.county.period import period_of
from gateway.errors import AccessError, BusinessError, GatewayError, MalformedMessage, NotFoundError, UnknownStay
from gateway.mapping.jsondoc import dumps
from gateway.service import chronic, outpatient, settlement
from gateway.service.deps import Deps
from gateway.store.outpatient_port import LateRegistration, RecognitionRecord

T = TypeVar("T")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/county/v1/chronic/filings", filings)
    app.router.add_post("/county/v1/chronic/recognitions/{recog_id}/cancel", cancel_recognition)
    app.router.add_get("/county/v1/late-registrations", late_registrations)
    app.router.add_get("/county/v1/stays/{mdtrt_id}/trial", trial_settlement)


async def filings(request: web.Request) -> web.Response:
    denied = refused(request, "reader")
    if denied is not None:
        return denied
    try:
        period = period_of(month_text=request.query.get("month"), since=request.query.get("since"),
                           until=request.query.get("until"))
        hospital = request.query.get("fixmedins_code") or None
        deps = request.app[GATEWAY].deps
        records = await _run(request, lambda: chronic.filing_list(deps, hospital, period.since,
                                                                  period.until + timedelta(days=1)))
        names = await _run(request, lambda: _names(deps, {r.psn_no for r in records},
                                                   {r.fixmedins_code for r in records}))
    except GatewayError as exc:
        return _problem(exc)
    return _json({"code": 0, "since": period.since.isoformat(), "until": period.until.isoformat(),
                  "hospitals": _by_hospital(records, names, _filing_row)})


@route("chronic.cancel")
async def cancel_recognition(request: web.Request, ctx: Context) -> web.Response:
    """The agency's cancellation, audited in its own transaction (gateway/county/audit.py) like every county
    write; cancelling one cancelled already writes nothing and records nothing."""
    try:
        body = json.loads(await request.read() or b"{}")
    except (ValueError, RecursionError) as exc:
        raise CountyRefusal(400, MalformedMessage.code, f"JSON 解析失败：{exc}") from exc
    reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
    deps, recog_id = ctx.gateway.deps, request.match_info["recog_id"]
    return await audited_write(
        request, ctx, "chronic.cancel", body, lambda now: chronic.cancel(deps, recog_id, ctx.actor.name, reason, now),
        lambda _r: f"chronic-recognition/{recog_id}", lambda r: _filing_row(r, {}),
        lambda r: ({"code": 0, "recognition": _filing_row(r, {})}, 200))


async def late_registrations(request: web.Request) -> web.Response:
    denied = refused(request, "reader")
    if denied is not None:
        return denied
    try:
        period = period_of(month_text=request.query.get("month"), since=request.query.get("since"),
                           until=request.query.get("until"))
        since, until = period.bounds()
        hospital = request.query.get("fixmedins_code") or None
        deps = request.app[GATEWAY].deps
        rows = await _run(request, lambda: deps.store.late_registrations(hospital, since, until))
        names = await _run(request, lambda: _names(deps, set(), {r.fixmedins_code for r in rows}))
        states = await _run(request, lambda: _states(deps, [r.mdtrt_id for r in rows]))
    except GatewayError as exc:
        return _problem(exc)
    return _json({"code": 0, "since": period.since.isoformat(), "until": period.until.isoformat(),
                  "hospitals": _by_hospital(rows, names, lambda r, _n: _late_row(r, states))})


async def trial_settlement(request: web.Request) -> web.Response:
    """Read-only: the chain as the hospital's 2303 would run it now; nothing is written, nothing journalled as
    the hospital's."""
    denied = refused(request, "reader")
    if denied is not None:
        return denied
    gateway = request.app[GATEWAY]
    deps = gateway.deps
    mdtrt_id = request.match_info["mdtrt_id"]
    try:
        output = await gateway.run(lambda: _trial(deps, mdtrt_id))
    except GatewayError as exc:
        return _problem(exc)
    return web.Response(body=dumps({"code": 0, "output": output}, "utf-8"), content_type="application/json",
                        charset="utf-8")


def _trial(deps: Deps, mdtrt_id: str) -> dict[str, Any]:
    stay = deps.store.stay(mdtrt_id)
    if stay is None:
        raise UnknownStay(f"就诊ID {mdtrt_id[:40]} 不存在", field="mdtrt_id")
    ctx = c.CallContext(msgid="", infno="2206" if outpatient.is_outpatient(stay) else "2303",
                        fixmedins_code=stay.fixmedins_code, dialect="county")
    trial = c.Settle(mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no, trial=True)
    with deps.store.transaction():  # one consistent read; a trial writes nothing
        if outpatient.is_outpatient(stay):
            answer = outpatient.settle(deps, ctx, c.OutpatientSettle(trial))
        else:
            answer = settlement.settle(deps, ctx, trial)
    return render_output(answer)


# ---- helpers ------------------------------------------------------------------------------------------------


async def _run(request: web.Request, job: Callable[[], T]) -> T:
    return await request.app[GATEWAY].run(job)


def _names(deps: Deps, persons: set[str], hospitals: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for code in hospitals:
        hospital = deps.store.hospital(code)
        names[code] = hospital.fixmedins_name if hospital else ""
    for psn_no in persons:
        person = deps.store.person(psn_no)
        names[psn_no] = person.psn_name if person else ""
    return names


def _states(deps: Deps, mdtrt_ids: list[str]) -> dict[str, str]:
    states: dict[str, str] = {}
    for mdtrt_id in mdtrt_ids:
        stay = deps.store.stay(mdtrt_id)
        states[mdtrt_id] = stay.state.value if stay else ""
    return states


def _by_hospital(rows: Iterable[Any], names: dict[str, str], render: Callable[[Any, dict[str, str]], dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.fixmedins_code].append(render(row, names))
    return [{"fixmedins_code": code, "fixmedins_name": names.get(code, ""), "count": len(items), "items": items}
            for code, items in sorted(grouped.items())]


def _filing_row(record: RecognitionRecord, names: dict[str, str]) -> dict[str, Any]:
    return {
        "recog_id": record.recog_id, "psn_no": record.psn_no, "psn_name": names.get(record.psn_no, ""),
        "fixmedins_code": record.fixmedins_code, "dise_codg": record.dise_codg, "dise_name": record.dise_name,
        "recog_date": record.recog_date.isoformat(),
        "doctors": [{"dr_codg": code, "dr_name": name, "dr_title": title} for code, name, title in record.doctors],
        "status": record.status,
        "cancelled_at": record.cancelled_at.isoformat(sep=" ") if record.cancelled_at else None,
        "cancelled_by": record.cancelled_by or None, "cancel_reason": record.cancel_reason or None,
    }


def _late_row(row: LateRegistration, states: dict[str, str]) -> dict[str, Any]:
    return {"mdtrt_id": row.mdtrt_id, "psn_no": row.psn_no, "begntime": row.begntime.isoformat(sep=" "),
            "registered_at": row.received_at.isoformat(sep=" "), "minutes_late": row.minutes_late,
            "hours_late": round(row.minutes_late / 60, 1), "stay_state": states.get(row.mdtrt_id, "")}


def _problem(exc: GatewayError) -> web.Response:
    status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, BusinessError) else \
        403 if isinstance(exc, AccessError) else 400
    return _json({"code": exc.code, "message": exc.message}, status)


def _json(document: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(document, ensure_ascii=False), content_type="application/json",
                        charset="utf-8")

