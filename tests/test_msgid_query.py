"""5999 报文处理结果查询: what became of a msgid, for a HIS whose call got no answer; and the Neusoft twins
(9920 query, 9910 冲正) a DLL HIS uses after BUSINESS_HANDLE returned -1 (dll/PROTOCOL.md)."""

from __future__ import annotations

import json

from gateway.adapters.dialect_call import call_dialect
from tests.msgids import status
from tests.support import PERSONS, Journey, Served, failed, ok
from tests.test_dialect_neusoft import Dll


async def test_a_settled_msgid_tells_its_answer_byte_for_byte(served: Served) -> None:
    stay = Journey(served.his(), PERSONS["poor"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "14500.00"), stay.line("B10", "4000.00"), stay.line("C", "1500.00")))
    msgid = stay.his.new_msgid()
    body = json.dumps(stay.his.envelope("2304", stay.settle_input("20000.00"), msgid=msgid), default=str).encode()
    async with served.session.post(f"{served.url}/fsi/api/rsfComIfsService/callService", data=body) as response:
        answer = await response.read()  # the answer a HIS would have lost to a timeout

    seen = await status(stay.his, msgid)
    assert seen["answer"].encode("utf-8") == answer
    setlinfo = json.loads(answer)["output"]["setlinfo"]
    assert (seen["seen"], seen["stas"], seen["oinfno"], seen["effective"], seen["undone"]) == ("1", "ok", "2304",
                                                                                             "1", "0")
    assert (seen["psn_no"], seen["mdtrt_id"], seen["setl_id"]) == (stay.person.psn_no, stay.mdtrt_id,
                                                                   setlinfo["setl_id"])
    assert seen["attempts"] == 1 and seen["err_msg"] is None
    async with served.session.post(f"{served.url}/fsi/api/rsfComIfsService/callService", data=body) as response:
        assert await response.read() == answer  # re-sending the same call is the other way to get the answer
    assert (await status(stay.his, msgid))["attempts"] == 2


async def test_failed_unknown_and_foreign_msgids(served: Served) -> None:
    his = served.his()
    nothing = await status(his, "T2209901010000000001")
    assert (nothing["seen"], nothing["stas"], nothing["answer"], nothing["attempts"]) == ("0", "none", None, 0)

    stay = Journey(his, PERSONS["ordinary"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "100.00")))
    wrong = his.new_msgid()
    failed(await stay.settle("99.99", msgid=wrong), "HG3005")
    seen = await status(his, wrong)
    assert (seen["stas"], seen["effective"], seen["answer"]) == ("error", "0", None)
    assert seen["err_msg"].startswith("[HG3005] 金额不符")
    elsewhere = await status(served.his("T3"), wrong)  # another hospital's msgid: one T3 never sent
    assert (elsewhere["seen"], elsewhere["stas"], elsewhere["attempts"]) == ("0", "none", 0)

    query = his.new_msgid()
    ok(await his.call("5206", {"data": {"psn_no": stay.person.psn_no}}, msgid=query))
    read = await status(his, query)
    assert (read["stas"], read["oinfno"], read["answer"]) == ("ok", "5206", None)  # no stored answer to replay


async def test_the_neusoft_follow_up_after_minus_one(served: Served) -> None:
    """The HIS settled with 医院交易流水号 HIS00000004 and got -1: it asks (9920), then reverses it (9910)."""
    dll = Dll(served)
    person = PERSONS["poor_tekun"]
    mdtrt_id, _ = await dll.ok("2210", f"{person.psn_no}|20260301080000|ZY-DLL-1")
    await dll.ok("2310", f"F1|{mdtrt_id}|{person.psn_no}|A|H-A|项目|1|5000|5000.00|20260302100000")
    settled = await dll.ok("2410", f"{mdtrt_id}|{person.psn_no}|5000.00")
    serial = f"HIS{dll.serial:08d}"

    stas, trade, effective, undone, stay, setl_id, err, attempts = await dll.ok("9920", f"{serial}|2410")
    assert (stas, trade, effective, undone, stay, setl_id, err, attempts) == (
        "ok", "2410", "1", "0", mdtrt_id, settled[0], "", "1")
    assert (await dll.ok("9910", f"{serial}|2410|{person.psn_no}"))[0] == mdtrt_id
    assert (await dll.ok("9920", serial))[:4] == ["ok", "2410", "0", "1"]  # undone by the 冲正
    rc, parts = await dll.handle("9910", f"{serial}|2310")
    assert rc == -2 and parts[0].startswith("HG3015:")  # 处方明细上报 cannot be reversed
    rc, parts = await dll.handle("9920", "HIS99999999")
    assert rc == 0 and parts[2].split("|")[:3] == ["none", "", "0"]


async def test_a_dialect_serial_belongs_to_the_hospital_that_sent_it(served: Served) -> None:
    """A Neusoft 医院交易流水号 is only unique within its hospital: another hospital asking about it learns
    nothing (never received from it), not even that it exists."""
    dll = Dll(served)
    await dll.ok("9100", "")
    rc, out = await call_dialect(served.gateway, dll.dialect, b"9920^T3^001^C^HIS-T3-1^430521^HIS00000001^1^")
    assert rc == "0" and out.decode("gbk").split("^")[2].split("|")[:3] == ["none", "", "0"]
