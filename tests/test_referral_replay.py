"""Issue 30, the county side under attack: a cancelled referral must not come back.

Two real `hisgw serve` (tests/test_referral_two_gateways.py). County A settles stay 1 for the person (T2, 甲
60,000.00), files a 2501 referral to county B and B takes A's record in; A cancels the referral (2502) and B drops
what it held. Then the earlier signed record is sent to B again: unauthenticated, as a replayed signed request,
as a fresh signed push by A, and by file. Each is refused and on B's audit trail, and B's stay 2 (TX, 甲
40,000.00, out of county) settles on B's own figures alone:
    basic (40,000 − 4,000 转外自付 − 1,000) × 60% = 21,000.00; 合规自付 40,000 − 21,000 = 19,000.00;
    critical illness (19,000 − 15,000) × 60% = 2,400.00
where the restored record would have carried A's 15,375.00 base and 225.00 paid in:
    (15,375 + 19,000 − 15,000) × 60% − 225 = 11,400.00.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from gateway.referral import wire
from simulators.nhsa_client import NhsaClient
from tests.support import ok
from tests.test_referral_two_gateways import (
    A_ID,
    B_ID,
    PERSON,
    County,
    as_partner,
    counties,
    export,
    funds,
    pushed,
    refer,
    stay,
)

__all__ = ["counties"]


async def test_a_cancelled_referral_cannot_come_back(
        counties: tuple[County, County, aiohttp.ClientSession], tmp_path: Path) -> None:
    a, b, session = counties
    await stay(session, a.url, "T2", "60000.00", "2026-03-01", "2026-03-10")
    sn = await refer(session, a.url, "T2", B_ID)
    earlier = export(a, sn, B_ID, tmp_path / "earlier.json")
    earlier_bytes = (tmp_path / "earlier.json").read_bytes()
    status, answer = await pushed(session, b.url, earlier_bytes, A_ID)
    assert (status, answer["outcome"]) == (200, "imported"), answer

    ok(await NhsaClient(session, a.url, "T2").call("2502", {"data": {"trt_dcla_detl_sn": sn,
                                                                     "psn_no": PERSON.psn_no}}))
    cancelled = export(a, sn, B_ID, tmp_path / "cancelled.json")
    assert cancelled["refl_stas"] == "0" and cancelled["seq"] > earlier["seq"]
    status, answer = await pushed(session, b.url, (tmp_path / "cancelled.json").read_bytes(), A_ID)
    assert (status, answer["outcome"]) == (200, "dropped"), answer
    assert b.cli("referral", "list").stdout == ""

    # 1. Anyone POSTing the earlier record: not a partner's request.
    target = wire.PATH.rstrip("/")
    async with session.post(b.url + target, data=earlier_bytes) as response:
        assert response.status == 401 and (await response.json())["code"] == "HG4002"
    # 2. A's signed push of it, captured and sent again: the nonce was used.
    headers = as_partner(A_ID, "POST", target, earlier_bytes)
    async with session.post(b.url + target, data=earlier_bytes, headers=headers) as response:
        assert response.status == 400 and (await response.json())["code"] == "HG3091"  # first use: the record
    async with session.post(b.url + target, data=earlier_bytes, headers=headers) as response:
        answer = await response.json()
        assert response.status == 401 and answer["code"] == "HG4002" and "重放" in answer["message"], answer
    # 3. Another body under a signature made for the earlier one.
    headers = as_partner(A_ID, "POST", target, earlier_bytes)
    async with session.post(b.url + target, data=earlier_bytes + b" ", headers=headers) as response:
        assert response.status == 401
    # 4. A fresh signed push by A of the earlier record, and the same by file: older than the cancellation.
    status, answer = await pushed(session, b.url, earlier_bytes, A_ID)
    assert (status, answer["code"]) == (400, "HG3091"), answer
    refused = b.cli("referral", "import", str(tmp_path / "earlier.json"))
    assert refused.returncode == 1 and "[HG3091]" in refused.stderr, refused
    assert b.cli("referral", "list").stdout == ""

    # Every refusal is on B's trail, by who really sent it.
    trail = b.cli("audit", "--url", b.url, "--action", "referral.import")
    assert trail.returncode == 0, trail
    lines = [line for line in trail.stdout.splitlines() if "refused" in line]
    assert len(lines) == 6, trail.stdout  # the anonymous one, the replayed and the re-bodied request, push, file
    assert sum("anonymous" in line for line in lines) == 3, trail.stdout
    assert sum(f"partner:{A_ID}" in line for line in lines) == 2, trail.stdout

    _journey, second = await stay(session, b.url, "TX", "40000.00", "2026-04-05", "2026-04-20")
    assert funds(second) == {"390100": 21000, "390200": 2400}  # B's own: nothing of A's cancelled stay


async def test_a_signed_fetch_cannot_be_replayed_nor_its_query_changed(
        counties: tuple[County, County, aiohttp.ClientSession]) -> None:
    a, _b, session = counties
    await stay(session, a.url, "T2", "60000.00", "2026-03-01", "2026-03-10")
    sn = await refer(session, a.url, "T2", B_ID)
    target = wire.PATH + sn
    headers = as_partner(B_ID, "GET", target)
    async with session.get(a.url + target, headers=headers) as response:
        assert response.status == 200
        first = json.loads(await response.read())
    async with session.get(a.url + target, headers=headers) as response:  # the same request again
        assert response.status == 401 and "重放" in (await response.json())["message"]
    headers = as_partner(B_ID, "GET", target)
    async with session.get(a.url + target + "?seq=0", headers=headers) as response:  # signed without the query
        assert response.status == 401
    async with session.get(a.url + target, headers=as_partner(B_ID, "GET", target)) as response:
        assert response.status == 200
        assert json.loads(await response.read())["seq"] == first["seq"] + 1  # each record its own sequence
