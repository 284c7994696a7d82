"""2601 冲正 by (omsgid, oinfno): undo a 2304, a 2305 or a 2401, and refuse, saying why, everything else."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from gateway.service.verify import verify_accumulators
from tests.msgids import correct, status
from tests.support import PERSONS, Journey, Served, failed, ok

D = Decimal


async def accumulators(served: Served, psn_no: str) -> dict[str, Decimal]:
    answer = ok(await served.his().call("5206", {"data": {"psn_no": psn_no, "cum_ym": "2026"}}))
    return {row["cum_type_code"]: row["cum"] for row in answer["cuminfo"] if row["cum"]}


async def settled_stay(served: Served, key: str, amount: str = "20000.00") -> tuple[Journey, str, dict[str, Any]]:
    """A stay of the worked example's shape, settled under a msgid the test knows."""
    stay = Journey(served.his(), PERSONS[key])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", amount)))
    msgid = stay.his.new_msgid()
    return stay, msgid, ok(await stay.settle(amount, msgid=msgid))


async def no_differences(served: Served) -> None:
    store = served.gateway.deps.store
    _count, differences = await served.gateway.run(lambda: verify_accumulators(store))
    assert differences == []


async def test_2601_reverses_a_settlement_once_and_its_retry_gets_the_same_answer(served: Served) -> None:
    stay, msgid, settled = await settled_stay(served, "poor")
    setl_id = settled["setlinfo"]["setl_id"]
    assert await accumulators(served, stay.person.psn_no)

    correction = stay.his.new_msgid()
    body = json.dumps(stay.his.envelope("2601", {"data": {"omsgid": msgid, "oinfno": "2304",
                                                          "psn_no": stay.person.psn_no}}, msgid=correction)).encode()
    _, first = await stay.his.post_raw(body)
    result = ok(first)["result"]
    assert (result["omsgid"], result["oinfno"], result["mdtrt_id"]) == (msgid, "2304", stay.mdtrt_id)
    assert result["setl_id"] == setl_id  # what was undone; the reversal record's own id beside it
    assert result["rvs_setl_id"] not in (None, setl_id)
    assert await accumulators(served, stay.person.psn_no) == {}  # as if the settlement never happened
    _, again = await stay.his.post_raw(body)  # the HIS did not get the first answer and retries
    assert again == first
    assert await accumulators(served, stay.person.psn_no) == {}

    failed(await correct(stay.his, msgid, "2304"), "HG3016")  # a new 2601 for it: already undone
    seen = await status(stay.his, msgid)
    assert (seen["stas"], seen["undone"], seen["effective"]) == ("ok", "1", "0")
    again_settled = ok(await stay.settle("20000.00"))  # the stay can be settled again, to the same figures
    assert again_settled["setlinfo"]["hifp_pay"] == settled["setlinfo"]["hifp_pay"]
    await no_differences(served)


async def test_2601_of_a_2305_restores_the_settlement_with_its_accumulators(served: Served) -> None:
    stay, _msgid, settled = await settled_stay(served, "urban_dibao")
    setl_id = settled["setlinfo"]["setl_id"]
    before = await accumulators(served, stay.person.psn_no)
    reversal = stay.his.new_msgid()
    ok(await stay.reverse(setl_id, msgid=reversal))
    assert await accumulators(served, stay.person.psn_no) == {}

    result = ok(await correct(stay.his, reversal, "2305"))["result"]
    assert result["setl_id"] == setl_id  # the settlement itself is back, not a copy
    assert await accumulators(served, stay.person.psn_no) == before
    query = ok(await stay.his.call("5203", {"data": {"setl_id": setl_id}}))
    assert query["setlinfo"]["fund_pay_sumamt"] == settled["setlinfo"]["fund_pay_sumamt"]
    failed(await stay.trial(), "HG3004")  # settled again
    failed(await correct(stay.his, reversal, "2305"), "HG3016")
    ok(await stay.reverse(setl_id))  # and it can be reversed like any valid settlement
    assert await accumulators(served, stay.person.psn_no) == {}
    await no_differences(served)


async def test_a_2305_is_not_undone_once_later_business_depends_on_it(served: Served) -> None:
    first, _msgid, settled = await settled_stay(served, "poor2", "30000.00")
    reversal = first.his.new_msgid()
    ok(await first.reverse(settled["setlinfo"]["setl_id"], msgid=reversal))
    second, _, _ = await settled_stay(served, "poor2", "10000.00")  # the same person's year moved on
    message = failed(await correct(first.his, reversal, "2305"), "HG3017")
    assert "2026 年度已有其他结算" in message
    assert second.mdtrt_id

    third, _msgid, settled = await settled_stay(served, "rural_dibao")
    reversal = third.his.new_msgid()
    ok(await third.reverse(settled["setlinfo"]["setl_id"], msgid=reversal))
    ok(await third.upload(third.line("A", "100.00")))  # the stay's lines changed after the reversal
    assert "费用明细已变更" in failed(await correct(third.his, reversal, "2305"), "HG3017")
    await no_differences(served)


async def test_2601_cancels_an_admission_but_not_one_with_fees(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["ordinary"])
    admission = stay.his.new_msgid()
    ok(await stay.admit(msgid=admission, ipt_no="ZY-2601"))
    assert ok(await correct(stay.his, admission, "2401"))["result"]["mdtrt_id"] == stay.mdtrt_id
    failed(await stay.upload(stay.line("A", "10.00")), "HG3002")  # the stay is cancelled
    assert (await status(stay.his, admission))["undone"] == "1"
    ok(await Journey(served.his(), PERSONS["ordinary"]).admit(ipt_no="ZY-2601"))  # the ipt_no is free again

    busy = Journey(served.his(), PERSONS["ordinary2"])
    admission = busy.his.new_msgid()
    ok(await busy.admit(msgid=admission))
    ok(await busy.upload(busy.line("A", "10.00")))
    assert "2302" in failed(await correct(busy.his, admission, "2401"), "HG3002")  # revoke the fees first


async def test_2601_refuses_what_it_cannot_or_need_not_undo(served: Served) -> None:
    stay, msgid, _ = await settled_stay(served, "disabled")
    his = stay.his
    failed(await correct(his, "T2202601010000009999", "2304"), "HG2007")  # never received
    failed(await correct(served.his("T3"), msgid, "2304"), "HG2007")  # another hospital's msgid: never received
    assert "2304 结算、2305 结算撤销、2401 入院办理" in failed(await correct(his, msgid, "2301"), "HG3015")
    assert "交易为 2304" in failed(await correct(his, msgid, "2401"), "HG1003")
    failed(await correct(his, msgid, "2304", psn_no=PERSONS["poor"].psn_no), "HG1003")

    other = Journey(served.his(), PERSONS["backstop"])
    ok(await other.admit())
    ok(await other.upload(other.line("A", "100.00")))
    wrong = his.new_msgid()
    failed(await other.settle("99.99", msgid=wrong), "HG3005")  # the call failed: nothing happened
    message = failed(await correct(his, wrong, "2304"), "HG3014")
    assert "HG3005" in message and "未产生任何变更" in message
    assert await accumulators(served, PERSONS["disabled"].psn_no)  # none of the refusals undid anything
