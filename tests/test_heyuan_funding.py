"""Heyuan's assistance prepayment and the 扶贫保险 clearing account (GET /county/v1/reports/funding), from the ledger.

Every stay is DOMAIN.md's worked example (0001, level 2, in county): 医疗救助 1,171.00, 扶贫特惠保 1,463.75.
  2024: one settlement                          → assistance 1,171.00
  2025: two settlements, a third one reversed   → 2 × 1,171.00 = 2,342.00 (the reversal nets to 0)
  2026: one settlement in March                 → 1,171.00; 扶贫 1,463.75 drawn from the clearing account
Prepayment of 2026: 25% × 2,342.00 = 585.50; carried from 2025: 25% × 1,171.00 − 2,342.00 < 0 → 0.00;
  balance 585.50 − 1,171.00 = −585.50.
Prepayment of 2028: 25% × 0 (2027) = 0.00; carried: 2027's prepayment 25% × 1,171.00 = 292.75, nothing spent in
  2027 → 292.75 carried, transfer max(0, 0.00 − 292.75) = 0.00.
Clearing, 2026-03: float 250,000.00 − 1,463.75 = 248,536.25; top-up 1,463.75 due 10 working days after 31 March
  (Wed 1, Thu 2, Fri 3, Mon 6 … Fri 10, Mon 13, Tue 14 April) = 2026-04-14.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from gateway.county.funding import working_days_after
from tests.support import PERSONS, Journey, Served, ok


def test_working_days_skip_weekends() -> None:
    assert working_days_after(date(2026, 3, 31), 10) == date(2026, 4, 14)
    assert working_days_after(date(2026, 12, 31), 10) == date(2027, 1, 14)  # Fri 1 Jan, then 4–8, 11–14
    assert working_days_after(date(2026, 4, 3), 1) == date(2026, 4, 6)  # Friday → Monday


async def stay(served: Served, person: str, year: int, month: int = 6, *, reverse: bool = False) -> None:
    journey = Journey(served.his("T2"), PERSONS[person])
    ok(await journey.admit(f"{year}-{month:02d}-01 08:00:00"))
    ok(await journey.upload(journey.line("A", "14500.00"), journey.line("B10", "4000.00"),
                            journey.line("C", "1500.00")))
    at = datetime(year, month, 10, 10, 0)
    setl = ok(await journey.settle("20000.00", inf_time=at))
    assert {r["fund_pay_type"]: r["fund_payamt"] for r in setl["setldetail"]}["610100"] == 1171
    if reverse:
        ok(await journey.reverse(setl["setlinfo"]["setl_id"], inf_time=datetime(year, month, 11, 10, 0)))


async def report(served: Served, year: int) -> dict[str, Any]:
    async with served.session.get(f"{served.url}/county/v1/reports/funding?year={year}") as response:
        assert response.status == 200
        document: dict[str, Any] = await response.json()
        return document


async def test_prepayment_and_clearing_account_from_the_ledger(served: Served) -> None:
    await stay(served, "poor", 2024)
    await stay(served, "poor", 2025)
    await stay(served, "poor2", 2025)
    await stay(served, "poor3", 2025, reverse=True)
    await stay(served, "poor", 2026, month=3)

    this_year = await report(served, 2026)
    assert this_year["assistance_prepayment"] == [{
        "insuplc_admdvs": "430521", "last_year_actual": "2342.00", "prepayment": "585.50", "carried": "0.00",
        "transfer": "585.50", "this_year_actual": "1171.00", "balance": "-585.50"}]
    months = {m["month"]: m for m in this_year["clearing_account"]["months"]}
    assert months["2026-03"] == {"month": "2026-03", "drawn": "1463.75", "balance_at_close": "248536.25",
                                 "topup": "1463.75", "topup_due": "2026-04-14"}
    assert all(m["drawn"] == "0.00" and m["topup"] == "0.00" for k, m in months.items() if k != "2026-03")

    later = await report(served, 2028)
    assert later["assistance_prepayment"] == [{
        "insuplc_admdvs": "430521", "last_year_actual": "0.00", "prepayment": "0.00", "carried": "292.75",
        "transfer": "0.00", "this_year_actual": "0.00", "balance": "0.00"}]
