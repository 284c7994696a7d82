"""Hunan's leftovers over real HTTP: the 24-hour registration rule (三(二)1) and the agency's trial settlement
of any open stay (三(二)2 费用试算), read-only, with the hospital's 2303 figures."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.support import PERSONS, Journey, Served, ok

D = Decimal


async def county(served: Served, path: str) -> tuple[int, dict[str, Any]]:
    async with served.session.get(f"{served.url}{path}") as response:
        return response.status, json.loads(await response.read(), parse_float=Decimal)


async def admit(journey: Journey, begntime: str, sent: datetime) -> dict[str, Any]:
    answer = await journey.his.call("2401", {"mdtrtinfo": {
        "psn_no": journey.person.psn_no, "insutype": "390", "begntime": begntime, "med_type": "21"}}, inf_time=sent)
    if answer["infcode"] == 0:
        journey.mdtrt_id = answer["output"]["result"]["mdtrt_id"]
    return answer


async def test_a_registration_over_24_hours_late_is_accepted_with_a_warning_and_listed(served: Served) -> None:
    his = served.his("T2")
    # begntime 2026-03-01 08:00, sent 2026-03-02 09:30: 25 h 30 min = 1530 minutes late
    late = Journey(his, PERSONS["poor"])
    answer = await admit(late, "2026-03-01 08:00:00", datetime(2026, 3, 2, 9, 30))
    assert answer["infcode"] == 0 and "25 小时 30 分" in answer["warn_msg"]
    # sent 23 h 59 min after: in time, no warning
    in_time = Journey(his, PERSONS["poor2"])
    answer = await admit(in_time, "2026-03-01 08:00:00", datetime(2026, 3, 2, 7, 59))
    assert answer["infcode"] == 0 and answer["warn_msg"] is None
    # exactly 24 h is still in time ("more than 24 h" is late)
    edge = Journey(served.his("T3"), PERSONS["poor3"])
    assert (await admit(edge, "2026-03-01 08:00:00", datetime(2026, 3, 2, 8, 0)))["warn_msg"] is None
    other = Journey(served.his("T3"), PERSONS["tekun"])
    assert (await admit(other, "2026-03-20 08:00:00", datetime(2026, 3, 31, 8, 0)))["warn_msg"]

    status, listed = await county(served, "/county/v1/late-registrations?month=2026-03")
    assert status == 200
    by_hospital = {h["fixmedins_code"]: h for h in listed["hospitals"]}
    assert sorted(by_hospital) == ["T2", "T3"]
    [row] = by_hospital["T2"]["items"]
    assert (row["mdtrt_id"], row["psn_no"], row["minutes_late"], row["hours_late"]) == (
        late.mdtrt_id, PERSONS["poor"].psn_no, 1530, 25.5)
    assert row["begntime"] == "2026-03-01 08:00:00" and row["registered_at"] == "2026-03-02 09:30:00"
    # 11 days = 264 h = 15840 minutes
    assert by_hospital["T3"]["items"][0]["minutes_late"] == 11 * 24 * 60
    status, one = await county(served, "/county/v1/late-registrations?month=2026-03&fixmedins_code=T3")
    assert [h["fixmedins_code"] for h in one["hospitals"]] == ["T3"]
    status, april = await county(served, "/county/v1/late-registrations?month=2026-04")
    assert april["hospitals"] == []
    status, bad = await county(served, "/county/v1/late-registrations?month=2026-3x")
    assert status == 400 and bad["code"] == "HG1003"


async def test_the_agency_trial_settles_an_open_stay_with_the_hospitals_figures(served: Served) -> None:
    """DOMAIN.md's worked example: total 20,000.00 → basic 15,172.50, 特惠保 1,463.75, assistance 1,171.00,
    backstop 192.75, personal 2,000.00 — the same from the county API as from the hospital's 2303."""
    stay = Journey(served.his("T2"), PERSONS["poor"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "14500.00"), stay.line("B10", "4000.00"), stay.line("C", "1500.00")))
    before = await county(served, "/county/v1/status")
    status, agency = await county(served, f"/county/v1/stays/{stay.mdtrt_id}/trial")
    assert status == 200, agency
    hospital = ok(await stay.trial("20000.00"))
    amounts = [k for k, v in hospital["setlinfo"].items() if isinstance(v, Decimal)]
    assert {k: agency["output"]["setlinfo"][k] for k in amounts} == {k: hospital["setlinfo"][k] for k in amounts}
    assert agency["output"]["setlinfo"]["psn_part_amt"] == D("2000.00")
    assert {r["fund_pay_type"]: r["fund_payamt"] for r in agency["output"]["setldetail"]} == {
        "390100": D("15172.50"), "620100": D("1463.75"), "610100": D("1171.00"), "640100": D("192.75")}
    assert agency["output"]["setlinfo"]["setl_id"] is None
    assert await county(served, "/county/v1/status") == before  # read-only: nothing written
    # still open: the hospital settles as usual; then the agency's trial says it is settled
    ok(await stay.settle("20000.00"))
    status, settled = await county(served, f"/county/v1/stays/{stay.mdtrt_id}/trial")
    assert status == 409 and settled["code"] == "HG3004"
    status, missing = await county(served, "/county/v1/stays/nope/trial")
    assert status == 404 and missing["code"] == "HG2004"
