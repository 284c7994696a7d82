"""GET /county/v1/reports/funding?year=YYYY: Heyuan's assistance prepayment per 统筹区 and the 扶贫保险 clearing
account month by month (gateway/county/funding.py), from the ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from gateway.adapters.county_api import Context, answer, int_param, query_params, route
from gateway.county import funding
from gateway.county.errors import bad_input
from gateway.money import fen
from gateway.runtime import Gateway


def _yuan(amount: Decimal) -> str:
    return str(fen(amount))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/county/v1/reports/funding", funding_report)


def _report(gateway: Gateway, year: int) -> dict[str, Any]:
    store = gateway.deps.store

    def rows(of: int) -> list[Any]:
        return list(store.ledger(datetime(of, 1, 1), datetime(of + 1, 1, 1)))
    prepaid = funding.prepayments(rows(year - 2), rows(year - 1), rows(year))
    months = funding.clearing_months(rows(year), year, gateway.now().date())
    return {
        "code": 0, "year": year, "prepayment_share": str(funding.PREPAYMENT_SHARE),
        "assistance_prepayment": [{
            "insuplc_admdvs": p.insuplc_admdvs, "last_year_actual": _yuan(p.last_year_actual),
            "prepayment": _yuan(p.prepayment), "carried": _yuan(p.carried), "transfer": _yuan(p.transfer),
            "this_year_actual": _yuan(p.this_year_actual), "balance": _yuan(p.balance)} for p in prepaid],
        "clearing_account": {"float": _yuan(funding.CLEARING_FLOAT), "topup_working_days": funding.TOPUP_WORKING_DAYS,
                             "months": [{"month": m.month, "drawn": _yuan(m.drawn),
                                         "balance_at_close": _yuan(m.balance_at_close), "topup": _yuan(m.topup),
                                         "topup_due": m.topup_due.isoformat()} for m in months]},
    }


@route("status.read")
async def funding_report(request: web.Request, ctx: Context) -> web.Response:
    params = query_params(request, {"year"})
    year = int_param(params.get("year") or str(ctx.gateway.now().year), "year")
    if not 2000 <= year <= 2100:
        raise bad_input("year 应为 2000 到 2100 之间的年份")
    return answer(await ctx.gateway.run(lambda: _report(ctx.gateway, year)))
