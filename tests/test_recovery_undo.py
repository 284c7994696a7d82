"""5999 tells the truth after every kind of undo of an outpatient trade (2208, 2202, 2601 of a 2207 or of a
2208), in the two dialects that carry the outpatient trades (national HTTP, Neusoft DLL); and 2601 says what it
undid: the settlement's own id, and the reversal record's, which 5203 then knows as 2305/2208 answered it.

Figures: the worked visit of tests/test_outpatient.py (total 600.00, personal 120.00 while recognised)."""

from __future__ import annotations

from decimal import Decimal

from tests.msgids import correct, status
from tests.support import PERSONS, Served, ok
from tests.test_outpatient import VISIT_DAY, recognise, worked_visit
from tests.test_outpatient_dll import Frames, dll  # noqa: F401  (the fixture)

D = Decimal


def undone_and_effective(seen: dict[str, object]) -> tuple[object, object, object]:
    return seen["stas"], seen["undone"], seen["effective"]


async def test_5999_after_2208_and_after_2601_of_the_2208_and_of_the_2207(served: Served) -> None:
    person = PERSONS["poor"]
    ok(await recognise(served, person))
    visit = await worked_visit(served, person)
    msgid = visit.his.new_msgid(VISIT_DAY)
    setl_id = ok(await visit.settle("600.00", msgid=msgid))["setlinfo"]["setl_id"]
    assert undone_and_effective(await status(visit.his, msgid, inf_time=VISIT_DAY)) == ("ok", "0", "1")

    reversal = visit.his.new_msgid(VISIT_DAY)
    ok(await visit.reverse(setl_id, msgid=reversal))  # 2208
    assert undone_and_effective(await status(visit.his, msgid, inf_time=VISIT_DAY)) == ("ok", "1", "0")
    assert undone_and_effective(await status(visit.his, reversal, inf_time=VISIT_DAY)) == ("ok", "0", "1")

    ok(await correct(visit.his, reversal, "2208", psn_no=person.psn_no, inf_time=VISIT_DAY))  # the 2208 undone
    assert undone_and_effective(await status(visit.his, msgid, inf_time=VISIT_DAY)) == ("ok", "0", "1")
    assert undone_and_effective(await status(visit.his, reversal, inf_time=VISIT_DAY)) == ("ok", "1", "0")

    ok(await correct(visit.his, msgid, "2207", psn_no=person.psn_no, inf_time=VISIT_DAY))  # the 2207 undone
    assert undone_and_effective(await status(visit.his, msgid, inf_time=VISIT_DAY)) == ("ok", "1", "0")


async def test_5999_after_2202_cancels_the_registration(served: Served) -> None:
    visit = await worked_visit(served, PERSONS["ordinary"])
    registration = visit.his.new_msgid(VISIT_DAY)
    second = type(visit)(served, visit.person)
    ok(await second.call("2201", {"mdtrtinfo": {
        "psn_no": visit.person.psn_no, "insutype": "390", "mdtrt_cert_type": "02",
        "mdtrt_cert_no": visit.person.certno, "begntime": "2026-04-10 10:00:00", "ipt_otp_no": "MZ-2"}},
        msgid=registration))
    mdtrt_id = (await status(visit.his, registration, inf_time=VISIT_DAY))["mdtrt_id"]
    assert undone_and_effective(await status(visit.his, registration, inf_time=VISIT_DAY)) == ("ok", "0", "1")
    ok(await second.call("2202", {"data": {"mdtrt_id": mdtrt_id, "psn_no": visit.person.psn_no}}))
    assert undone_and_effective(await status(visit.his, registration, inf_time=VISIT_DAY)) == ("ok", "1", "0")


async def test_2601_of_a_2207_answers_the_undone_settlement_and_5203_knows_the_reversal(served: Served) -> None:
    person = PERSONS["poor"]
    ok(await recognise(served, person))
    visit = await worked_visit(served, person)
    msgid = visit.his.new_msgid(VISIT_DAY)
    settled = ok(await visit.settle("600.00", msgid=msgid))["setlinfo"]
    result = ok(await correct(visit.his, msgid, "2207", psn_no=person.psn_no, inf_time=VISIT_DAY))["result"]
    assert (result["setl_id"], result["mdtrt_id"]) == (settled["setl_id"], visit.mdtrt_id)
    assert result["rvs_setl_id"] not in (None, settled["setl_id"])

    record = ok(await visit.call("5203", {"data": {"setl_id": settled["setl_id"]}}))["setlinfo"]
    assert (record["setl_id"], record["medfee_sumamt"], record["psn_part_amt"]) == (
        settled["setl_id"], D("600.00"), D("120.00"))
    reversal = ok(await visit.call("5203", {"data": {"setl_id": result["rvs_setl_id"]}}))["setlinfo"]
    # the reversal record as 2208 answers one: the settlement's amounts negated, naming what it reversed
    assert (reversal["setl_id"], reversal["init_setl_id"]) == (result["rvs_setl_id"], settled["setl_id"])
    assert (reversal["medfee_sumamt"], reversal["psn_part_amt"], reversal["hifp_pay"]) == (
        D("-600.00"), D("-120.00"), -settled["hifp_pay"])


async def test_2601_of_a_2208_answers_the_restored_settlement_and_the_undone_reversal(served: Served) -> None:
    person = PERSONS["poor"]
    ok(await recognise(served, person))
    visit = await worked_visit(served, person)
    setl_id = ok(await visit.settle("600.00"))["setlinfo"]["setl_id"]
    reversal_msgid = visit.his.new_msgid(VISIT_DAY)
    reversal_id = ok(await visit.reverse(setl_id, msgid=reversal_msgid))["setlinfo"]["setl_id"]
    assert ok(await visit.call("5203", {"data": {"setl_id": reversal_id}}))["setlinfo"]["init_setl_id"] == setl_id
    result = ok(await correct(visit.his, reversal_msgid, "2208", inf_time=VISIT_DAY))["result"]
    assert (result["setl_id"], result["rvs_setl_id"]) == (setl_id, reversal_id)


async def test_the_neusoft_outpatient_undo_shows_in_9920(dll: Frames) -> None:  # noqa: F811
    person = PERSONS["ordinary"]
    mdtrt_id, _ = await dll.ok("2211", f"{person.psn_no}|20260410090000|MZ0009|A03|内科|D001|医生")
    await dll.ok("2311", f"M1|{mdtrt_id}|{person.psn_no}|A|H-A|药|1|100|100.00|20260410092000|B1")
    setl_id = (await dll.ok("2411", f"{mdtrt_id}|{person.psn_no}|100.00|11"))[0]
    settled_serial = f"MZ{dll.serial:08d}"
    assert (await dll.ok("9920", f"{settled_serial}|2411"))[:4] == ["ok", "2411", "1", "0"]
    await dll.ok("2431", f"{mdtrt_id}|{person.psn_no}|{setl_id}")
    reversal_serial = f"MZ{dll.serial:08d}"
    assert (await dll.ok("9920", f"{settled_serial}|2411"))[:4] == ["ok", "2411", "0", "1"]  # undone by 2431
    assert (await dll.ok("9910", f"{reversal_serial}|2431|{person.psn_no}")) == [mdtrt_id, setl_id]
    assert (await dll.ok("9920", settled_serial))[:4] == ["ok", "2411", "1", "0"]  # valid again
    assert (await dll.ok("9920", reversal_serial))[:4] == ["ok", "2431", "0", "1"]  # the 2431 undone by 9910
    assert (await dll.ok("9910", f"{settled_serial}|2411|{person.psn_no}")) == [mdtrt_id, setl_id]
    assert (await dll.ok("9920", settled_serial))[:4] == ["ok", "2411", "0", "1"]
