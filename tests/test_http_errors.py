"""Bad input gets infcode -1 with a clear err_msg, and nothing is written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.support import PERSONS, Journey, Served, failed, ok, snapshot

D = Decimal


async def settled_stay(served: Served) -> tuple[Journey, str]:
    stay = Journey(served.his("T2"), PERSONS["poor"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "1000.00")))
    return stay, ok(await stay.settle("1000.00"))["setlinfo"]["setl_id"]


@pytest.mark.parametrize(("body", "code", "words"), [
    (b"{not json", "HG1001", "JSON"),
    (b"", "HG1001", "JSON"),
    ("{\"infno\": \"2304\", \"msgid\": \"中\"".encode("gbk"), "HG1001", "UTF-8"),
    (b"[1, 2]", "HG1003", "JSON"),
    (b'{"infno": "2304", "msgid": "m1", "fixmedins_code": "T2", "input": {"data": {"mdtrt_id": "x",'
     b' "medfee_sumamt": NaN}}}', "HG1001", "NaN"),
])
async def test_malformed_messages(served: Served, body: bytes, code: str, words: str) -> None:
    before = await snapshot(served)
    status, answer = await served.his().post_raw(body)
    assert status == 200
    assert words in failed(answer, code)
    assert await snapshot(served) == before


async def test_missing_and_mistyped_envelope_fields(served: Served) -> None:
    his = served.his()
    document = his.envelope("2401", {"mdtrtinfo": {}})
    del document["msgid"]
    _status, answer = await his.post_raw(json.dumps(document).encode())
    assert "msgid" in failed(answer, "HG1002")
    document = his.envelope("2401", {"mdtrtinfo": {"psn_no": ["TP0001"], "begntime": "2026-03-01 08:00:00"}})
    _status, answer = await his.post_raw(json.dumps(document).encode())
    assert "input.mdtrtinfo.psn_no" in failed(answer, "HG1003")
    answer = await his.call("2401", {"mdtrtinfo": {"psn_no": "TP0001", "begntime": "2026-02-30 08:00:00"}})
    assert "begntime" in failed(answer, "HG1003")


async def test_unknown_infno_and_unknown_hospital(served: Served) -> None:
    assert "9999" in failed(await served.his().call("9999", {}), "HG1004")
    answer = await served.his("NOPE").call("1101", {"data": {"mdtrt_cert_type": "02",
                                                              "mdtrt_cert_no": PERSONS["poor"].certno}})
    failed(answer, "HG2002")


async def test_unknown_person_and_uninsured_person(served: Served) -> None:
    before = await snapshot(served)
    answer = await served.his().call("2401", {"mdtrtinfo": {"psn_no": "NOBODY", "begntime": "2026-03-01 08:00:00"}})
    failed(answer, "HG2001")
    answer = await Journey(served.his(), PERSONS["uninsured"]).admit()
    assert "参加职工医保" in failed(answer, "HG3001")  # the error names the reason
    assert await snapshot(served) == before


async def test_settling_with_no_fees(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["poor"])
    ok(await stay.admit())
    before = await snapshot(served)
    failed(await stay.settle("0.00"), "HG3003")
    failed(await stay.trial(), "HG3003")
    assert await snapshot(served) == before


async def test_settling_twice_and_fees_after_settlement(served: Served) -> None:
    stay, _setl_id = await settled_stay(served)
    before = await snapshot(served)
    failed(await stay.settle("1000.00"), "HG3004")
    failed(await stay.trial("1000.00"), "HG3004")
    assert "已结算" in failed(await stay.upload(stay.line("A", "10.00")), "HG3002")
    failed(await stay.simple("2404"), "HG3002")
    assert await snapshot(served) == before


async def test_refund_line_needs_its_original(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["poor"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "100.00", cnt="2", sn="L1")))
    before = await snapshot(served)
    failed(await stay.upload(stay.line("A", "-50.00", cnt="-1", sn="R1")), "HG3007")
    failed(await stay.upload(stay.line("A", "-50.00", cnt="-1", sn="R1", init_sn="NOPE")), "HG3007")
    failed(await stay.upload(stay.line("A", "-150.00", cnt="-3", sn="R1", init_sn="L1")), "HG3008")
    assert await snapshot(served) == before
    # A proper refund of one of the two units nets the stay to 50.00.
    ok(await stay.upload(stay.line("A", "-50.00", cnt="-1", sn="R1", init_sn="L1")))
    failed(await stay.settle("100.00"), "HG3005")
    assert ok(await stay.settle("50.00"))["setlinfo"]["medfee_sumamt"] == D("50.00")


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity", "1e999", "0.001", "-5", True, [1]])
async def test_amounts_that_are_not_valid_decimals(served: Served, amount: Any) -> None:
    stay = Journey(served.his(), PERSONS["poor"])
    ok(await stay.admit())
    line = stay.line("A", "10.00")
    line["det_item_fee_sumamt"] = amount
    before = await snapshot(served)
    message = failed(await stay.upload(line), "HG1003")
    assert "det_item_fee_sumamt" in message
    assert await snapshot(served) == before


async def test_line_amount_must_equal_count_times_price(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["poor"])
    ok(await stay.admit())
    line = stay.line("A", "10.00", cnt="2")
    line["pric"] = D("6.00")
    assert "数量×单价" in failed(await stay.upload(line), "HG1003")


async def test_wrong_medfee_sumamt(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["poor"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "1000.00"), stay.line("C", "234.56")))
    before = await snapshot(served)
    message = failed(await stay.settle("1234.50"), "HG3005")
    assert "1234.56" in message
    assert "medfee_sumamt" in failed(await stay.settle(None), "HG1002")
    assert await snapshot(served) == before


async def test_unknown_catalogue_item_rejects_the_whole_batch(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["poor"])
    ok(await stay.admit())
    failed(await stay.upload(stay.line("A", "10.00"), stay.line("ZZZ", "10.00")), "HG2003")
    failed(await stay.trial(), "HG3003")  # the good line of the rejected batch was not kept


async def test_another_hospital_cannot_touch_the_stay(served: Served) -> None:
    stay, setl_id = await settled_stay(served)
    intruder = Journey(served.his("T3"), stay.person)
    intruder.mdtrt_id = stay.mdtrt_id
    failed(await intruder.reverse(setl_id), "HG2004")  # as if it did not exist
    failed(await served.his("T3").call("5203", {"data": {"setl_id": setl_id}}), "HG2005")
