"""Another hospital's identifiers are indistinguishable from ones never issued (issue 12).

Hospital T3 names T2's stay, settlement and msgid in every trade that takes one; then, in the same trades, ids
of the same shape that were never issued. The two answers must be the same bytes once the message's own
msgid, the clocks and the id T3 itself sent are set aside: an answer that differed (HG4001 naming T2's
mdtrt_id, HG4005 "another hospital's msgid") told T3 which ids exist."""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.adapters.dialect_call import call_dialect
from tests.conftest import DIALECTS
from tests.support import PERSONS, Journey, Served, ok

CALL_PATH = "/fsi/api/rsfComIfsService/callService"


def requests(mdtrt_id: str, setl_id: str, msgid: str, psn_no: str) -> list[tuple[str, dict[str, Any]]]:
    data = {"mdtrt_id": mdtrt_id, "psn_no": psn_no}
    line = {"feedetl_sn": "F9", "mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_list_codg": "A", "cnt": "1",
            "pric": "1", "det_item_fee_sumamt": "1.00", "fee_ocur_time": "2026-03-02 10:00:00"}
    return [
        ("2305", {"data": {"setl_id": setl_id}}),  # the setl_id alone: its stay was looked up, and named
        ("2305", {"data": {**data, "setl_id": setl_id}}),
        ("5203", {"data": {"setl_id": setl_id}}),
        ("2303", {"data": data}),
        ("2304", {"data": {**data, "medfee_sumamt": "100.00"}}),
        ("2301", {"feedetail": [line]}),
        ("2302", {"data": [{**data, "feedetl_sn": "0000"}]}),
        ("2402", {"dscginfo": {**data, "endtime": "2026-03-10 09:00:00"}}),
        ("2403", {"adminfo": {**data, "adm_bed": "9"}}),
        ("2404", {"data": data}),
        ("2405", {"data": data}),
        ("2601", {"data": {"omsgid": msgid, "oinfno": "2304"}}),
        ("5999", {"data": {"omsgid": msgid}}),
    ]


def normalised(raw: bytes, *ids: str) -> str:
    """The answer with what differs by nature set aside: the clocks, the reply serial, and the ids T3 sent."""
    answer = json.loads(raw)
    for key in ("inf_refmsgid", "refmsg_time", "respond_time"):
        answer.pop(key)
    text = json.dumps(answer, ensure_ascii=False, sort_keys=True)
    for n, value in enumerate(ids):
        text = text.replace(value, f"<id{n}>")
    return re.sub(r"T3\d{18}", "<msgid>", text)


async def test_another_hospitals_ids_are_answered_as_unknown_ones(served: Served) -> None:
    person = PERSONS["poor"]
    stay = Journey(served.his("T2"), person)
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "100.00")))
    settled_msgid = stay.his.new_msgid()
    setl_id = ok(await stay.settle("100.00", msgid=settled_msgid))["setlinfo"]["setl_id"]
    # never issued, of the same shape: the mdtrt_id and setl_id serials are far from 9999999999 yet
    unused = (f"{stay.mdtrt_id[:8]}9999999999", f"{setl_id[:8]}9999999999", f"{settled_msgid[:-4]}9999")
    theirs = (stay.mdtrt_id, setl_id, settled_msgid)
    intruder = served.his("T3")
    before = await served.gateway.run(served.gateway.deps.store.counts)
    differences = []
    for (infno, foreign), (_, unknown) in zip(requests(*theirs, person.psn_no), requests(*unused, person.psn_no),
                                              strict=True):
        answers = []
        for payload, ids in ((foreign, theirs), (unknown, unused)):
            body = json.dumps(intruder.envelope(infno, payload), ensure_ascii=False).encode()
            async with served.session.post(served.url + CALL_PATH, data=body) as response:
                answers.append(normalised(await response.read(), *ids))
        if answers[0] != answers[1]:
            differences.append((infno, answers[0], answers[1]))
        assert '"infcode": -1' in answers[0] or infno == "5999", (infno, answers[0])
    assert differences == []
    assert await served.gateway.run(served.gateway.deps.store.counts) == before  # and nothing happened
    # the settlement is untouched and still T2's
    assert ok(await stay.his.call("5203", {"data": {"setl_id": setl_id}}))["setlinfo"]["setl_id"] == setl_id


async def test_over_the_dll_too(served: Served) -> None:
    """The Neusoft 结算撤销 (2430) and 交易结果查询 (9920) of T3 naming T2's ids."""
    stay = Journey(served.his("T2"), PERSONS["poor2"])
    ok(await stay.admit())
    ok(await stay.upload(stay.line("A", "50.00")))
    setl_id = ok(await stay.settle("50.00"))["setlinfo"]["setl_id"]
    dialect = DIALECTS["neusoft-dll"]
    answers = []
    for mdtrt_id, setl, serial in ((stay.mdtrt_id, setl_id, "HIS-T2-1"),
                                   (f"{stay.mdtrt_id[:8]}9999999999", f"{setl_id[:8]}9999999999", "HIS-T2-9")):
        out = []
        for trade, params in (("2430", f"{mdtrt_id}|{stay.person.psn_no}|{setl}"), ("9920", f"{serial}|2410")):
            raw = f"{trade}^T3^001^C^Q{trade}{serial}^430521^{params}^1^".encode("gbk")
            status, body = await call_dialect(served.gateway, dialect, raw)
            text = body.decode("gbk").replace(mdtrt_id, "<mdtrt>").replace(setl, "<setl>").replace(serial, "<sn>")
            out.append((status, re.sub(r"^\d{20}\^", "", text)))
        answers.append(out)
    assert answers[0] == answers[1]
    assert answers[0][0][0] == "-2" and answers[0][0][1].startswith("HG2004")
