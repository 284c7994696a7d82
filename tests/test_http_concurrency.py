"""Many calls at once: group commit keeps each call's outcome its own, and duplicates have one effect."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal

import aiohttp

from gateway.service.verify import verify_accumulators
from tests.support import PERSONS, Journey, Served, ok

D = Decimal
CALL = "/fsi/api/rsfComIfsService/callService"


async def test_a_thousand_duplicates_from_fifty_connections_settle_once(served: Served) -> None:
    """An operator's double clicks and a HIS's retries, all at once: one settlement, one answer."""
    stay = Journey(served.his(), PERSONS["poor"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "14500.00"), stay.line("B10", "4000.00"), stay.line("C", "1500.00")))
    msgid = stay.his.new_msgid()
    body = json.dumps(stay.his.envelope("2304", stay.settle_input("20000.00"), msgid=msgid), default=str).encode()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as session:
        async def connection() -> list[bytes]:
            answers = []
            for _ in range(20):
                async with session.post(f"{served.url}{CALL}", data=body) as response:
                    answers.append(await response.read())
            return answers

        answers = [a for batch in await asyncio.gather(*(connection() for _ in range(50))) for a in batch]
    assert len(answers) == 1000 and len(set(answers)) == 1  # every retry got the first answer, byte for byte
    assert json.loads(answers[0])["output"]["setlinfo"]["hifp_pay"] == 15172.50
    cum = ok(await stay.his.call("5206", {"data": {"psn_no": stay.person.psn_no, "cum_ym": "2026"}}))["cuminfo"]
    assert {r["cum_type_code"]: r["cum"] for r in cum}["390100"] == D("15172.50")  # moved once
    async with served.session.get(f"{served.url}/county/v1/status") as response:
        assert (await response.json())["counts"]["settlements"] == 1
    async with served.session.get(f"{served.url}/journal/v1/exchanges",
                                  params={"msgid": msgid, "limit": "1000"}) as response:
        journal = (await response.json())["exchanges"]
    assert Counter(row["outcome"] for row in journal) == {"ok": 1, "replayed": 999}
    setl_id = json.loads(answers[0])["output"]["setlinfo"]["setl_id"]
    assert {row["setl_id"] for row in journal} == {setl_id}  # replays are filed under the settlement too
    store = served.gateway.deps.store
    assert (await served.gateway.run(lambda: verify_accumulators(store)))[1] == []


async def test_a_failing_call_in_a_batch_does_not_undo_its_neighbours(served: Served) -> None:
    stays = []
    for key in ("ordinary", "ordinary2", "disabled", "rural_dibao"):
        stay = Journey(served.his(), PERSONS[key])
        ok(await stay.admit())
        ok(await stay.upload(stay.line("A", "1000.00")))
        stays.append(stay)
    # Half of them claim a wrong total: those fail, the others settle, whatever batch they share.
    answers = await asyncio.gather(*(
        stay.settle("1000.00" if i % 2 == 0 else "999.99") for i, stay in enumerate(stays)))
    assert [a["infcode"] for a in answers] == [0, -1, 0, -1]
    again = await asyncio.gather(*(stay.trial() for stay in stays))
    assert [a["infcode"] for a in again] == [-1, 0, -1, 0]  # settled ones refuse a trial; the others can
