"""Gannan 先诊疗后付费 (州医改办发〔2018〕9号 附件1), over real HTTP and through the Neusoft DLL's mapping:

- the zero-deposit agreement (who signed, relation, date) travels in 2401's `input.zero_deposit` and is kept with
  the admission;
- a hospital's report of a malicious defaulter (恶意拖欠) on the county's register: from then on 1101 at every
  hospital says the privilege is lost, and a zero-deposit 2401 is refused with HG3061 unless flagged 急诊, until the
  debt is paid in full. Worked: owed 1,234.56; repaid 1,000.00 → 234.56 still owed (still refused); 300.00 more is
  refused (300.00 > 234.56); 234.56 → 0.00 owed, the privilege is back;
- stays referred out (离院方式 2 转院) and not settled 3 days after discharge are listed for the agency.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.support import PERSONS, Journey, Served, failed, ok
from tests.test_dialect_neusoft import Dll

D = Decimal
AGREEMENT = {"signer_name": "患者家属", "signer_rlts": "配偶", "sign_date": "2026-03-01"}


async def county(served: Served, method: str, path: str, body: dict[str, Any] | None = None,
                 status: int = 200) -> dict[str, Any]:
    async with served.session.request(method, f"{served.url}/county/v1/{path}", json=body,
                                      headers={"X-Operator": "gannan"}) as response:
        document: dict[str, Any] = await response.json()
        assert response.status == status, document
        return document


async def zero_deposit_admission(served: Served, hospital: str, **flags: str) -> dict[str, Any]:
    """2401 of the registered-poor test person with the agreement block (hisgw's input.zero_deposit)."""
    person = PERSONS["poor"]
    return await served.his(hospital).call("2401", {
        "mdtrtinfo": {"psn_no": person.psn_no, "insutype": "390", "begntime": "2026-03-01 08:00:00",
                      "mdtrt_cert_type": "02", "mdtrt_cert_no": person.certno, "med_type": "21"},
        "diseinfo": [], "zero_deposit": {**AGREEMENT, **flags}})


async def test_the_arrears_register_ends_zero_deposit_admissions_until_paid_in_full(served: Served) -> None:
    first = ok(await zero_deposit_admission(served, "T2"))
    mdtrt_id = first["result"]["mdtrt_id"]
    stay = served.gateway.deps.store.stay(mdtrt_id)
    assert stay is not None and stay.admission["zero_deposit"] == {**AGREEMENT, "emgc_flag": "0"}
    person = PERSONS["poor"].psn_no
    assert "zero_deposit" not in ok(await served.his("T3").call("1101", {"data": {"psn_no": person}}))

    report = await county(served, "POST", "arrears", {"mdtrt_id": mdtrt_id, "owed_amt": "1234.56",
                                                       "reported_on": "2026-04-02"}, 201)
    arrears_id = report["arrears"]["arrears_id"]
    assert report["arrears"]["psn_no"] == person and report["arrears"]["fixmedins_code"] == "T2"
    await county(served, "POST", "arrears", {"mdtrt_id": mdtrt_id, "owed_amt": "1.00",
                                              "reported_on": "2026-04-02"}, 409)  # one report per stay

    # every hospital now sees it, and its zero-deposit admission is refused; an emergency or a deposit is not
    info = ok(await served.his("T3").call("1101", {"data": {"psn_no": person}}))
    assert info["zero_deposit"]["zero_deposit_flag"] == "0" and D(str(info["zero_deposit"]["owed_amt"])) == D("1234.56")
    assert info["zero_deposit"]["arrears_since"] == "2026-04-02"
    assert "1234.56" in failed(await zero_deposit_admission(served, "T3"), "HG3061")
    ok(await zero_deposit_admission(served, "T3", emgc_flag="1"))
    ok(await Journey(served.his("T1"), PERSONS["poor"]).admit())  # with a deposit: an ordinary admission

    partly = await county(served, "POST", f"arrears/{arrears_id}/payments", {"amount": "1000.00",
                                                                            "paid_on": "2026-05-01"})
    assert partly["arrears"]["outstanding_amt"] == str(D("1234.56") - D("1000.00")) == "234.56"
    failed(await zero_deposit_admission(served, "T3"), "HG3061")  # not paid in full yet
    await county(served, "POST", f"arrears/{arrears_id}/payments", {"amount": "300.00", "paid_on": "2026-05-02"},
                 409)  # more than is owed
    cleared = await county(served, "POST", f"arrears/{arrears_id}/payments", {"amount": "234.56",
                                                                             "paid_on": "2026-05-03"})
    assert cleared["arrears"]["outstanding_amt"] == "0.00" and cleared["arrears"]["cleared_on"] == "2026-05-03"
    assert "zero_deposit" not in ok(await served.his("T3").call("1101", {"data": {"psn_no": person}}))
    ok(await zero_deposit_admission(served, "T3"))

    register = await county(served, "GET", f"arrears?psn_no={person}")
    assert [a["arrears_id"] for a in register["arrears"]] == [arrears_id]
    assert (await county(served, "GET", "arrears?open=1"))["count"] == 0
    trail = (await county(served, "GET", "audit?subject=arrears/" + arrears_id))["entries"]
    assert sorted(e["action"] for e in trail) == ["arrears.pay", "arrears.pay", "arrears.record"]
    assert {e["operator"] for e in trail} == {"gannan"}
    await county(served, "POST", "arrears/QF-NONE/payments", {"amount": "1.00", "paid_on": "2026-05-03"}, 404)


async def test_the_register_through_the_neusoft_dll_mapping(served: Served) -> None:
    dll = Dll(served)
    person = PERSONS["poor"]
    agreement = "患者家属|配偶|20260301"
    mdtrt_id, _ = await dll.ok("2210", f"{person.psn_no}|20260301080000|ZY1|A03|内科|12|J18.900|肺炎|D01|{agreement}|0")
    stay = served.gateway.deps.store.stay(mdtrt_id)
    assert stay is not None and stay.admission["zero_deposit"]["sign_date"] == "2026-03-01"
    assert await dll.ok("2101", f"{person.certno}|1") == [person.psn_no, "1", "0.00", ""]
    await county(served, "POST", "arrears", {"mdtrt_id": mdtrt_id, "owed_amt": "880.00", "reported_on": "2026-04-02"},
                 201)
    assert await dll.ok("2101", f"{person.certno}|1") == [person.psn_no, "0", "880.00", "20260402"]
    admission = f"{person.psn_no}|20260401080000|ZY2|A03|内科|12|J18.900|肺炎|D01"
    rc, parts = await dll.handle("2210", f"{admission}|{agreement}|0")
    assert rc == -2 and parts[0].startswith("HG3061")
    await dll.ok("2210", f"{person.psn_no}|20260401080000|ZY3|A03|内科|12|J18.900|肺炎|D01|{agreement}|1")  # 急诊


async def test_referrals_not_settled_three_days_after_discharge_are_listed(served: Served) -> None:
    now = served.gateway.now()
    stays = {}
    for key, person, days_ago, way in (("old", "poor", 4, "2"), ("recent", "poor2", 1, "2"),
                                       ("home", "poor3", 10, "1"), ("settled", "ordinary", 6, "2")):
        journey = Journey(served.his("T2"), PERSONS[person])
        ok(await journey.admit("2026-01-05 08:00:00"))
        ok(await journey.upload(journey.line("A", "100.00")))
        end = (now - timedelta(days=days_ago)).replace(microsecond=0)
        ok(await journey.his.call("2402", {"dscginfo": {
            "mdtrt_id": journey.mdtrt_id, "psn_no": journey.person.psn_no, "insutype": "390",
            "endtime": end.isoformat(sep=" "), "dscg_way": way}, "diseinfo": []}))
        if key == "settled":
            ok(await journey.settle("100.00"))
        stays[key] = journey.mdtrt_id
    listed = await county(served, "GET", "referrals/overdue")
    assert [s["mdtrt_id"] for s in listed["stays"]] == [stays["old"]]
    assert listed["days"] == 3 and listed["stays"][0]["days_since_discharge"] == 4
    assert isinstance(datetime.fromisoformat(listed["as_of"]), datetime)
