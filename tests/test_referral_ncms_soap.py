"""2501/2502 转诊备案 through the NCMS SOAP dialect by mapping alone (mappings/ncms-soap.yaml: ReferralRegister,
ReferralCancel), zeep against the spyne service; the referral it files is the national one (2502 over the
national interface cancels it)."""

from __future__ import annotations

from tests.support import PERSONS, Served, failed, ok, snapshot
from tests.test_dialect_soap import client, soap


async def test_referral_filed_and_cancelled_through_ncms_soap(served: Served) -> None:
    service = (await client(served, "/soap/ncms")).service
    person = PERSONS["ordinary"]
    filed = await soap(service.ReferralRegister, "T2", "001", "NCMS-R1", person.psn_no, "390", "20260401",
                       "20261231", "C34.900", "肺恶性肿瘤", "辽宁省某医院", "210100", "病情需要")
    assert (filed.Result, filed.sMessage) == ("0", "成功"), filed
    sn, psn_no, valid = filed.sResult.split("|")
    assert (psn_no, valid) == (person.psn_no, "1") and sn.startswith("2026")

    # the same msgid again is the same filing, not a second one (journalled, idempotent by message id)
    again = await soap(service.ReferralRegister, "T2", "001", "NCMS-R1", person.psn_no, "390", "20260401",
                       "20261231", "C34.900", "肺恶性肿瘤", "辽宁省某医院", "210100", "病情需要")
    assert again.sResult == filed.sResult

    # another hospital cannot cancel it: unknown to it (HG2050), in NCMS terms (-1, "HG2050:…")
    other = await soap(service.ReferralCancel, "T3", "001", "NCMS-R2", sn, person.psn_no, None)
    assert other.Result == "-1" and other.sMessage.startswith("HG2050:"), other
    cancelled = await soap(service.ReferralCancel, "T2", "001", "NCMS-R3", sn, person.psn_no, "患者放弃转诊")
    assert (cancelled.Result, cancelled.sResult) == ("0", f"{sn}|0"), cancelled

    # a referral filed over SOAP is a national one: 2502 over the national interface finds it
    second = await soap(service.ReferralRegister, "T2", "001", "NCMS-R4", person.psn_no, "390", "20260501",
                        None, None, None, None, None, None)
    assert second.Result == "0", second
    national = ok(await served.his("T2").call("2502", {"data": {"trt_dcla_detl_sn": second.sResult.split("|")[0]}}))
    assert national["result"]["vali_flag"] == "0"
    failed(await served.his("T2").call("2502", {"data": {"trt_dcla_detl_sn": "NOSUCH"}}), "HG2050")


async def test_ncms_referral_bad_arguments_change_nothing(served: Served) -> None:
    service = (await client(served, "/soap/ncms")).service
    before = await snapshot(served)
    bad_date = await soap(service.ReferralRegister, "T2", "001", "NCMS-RB1", "TP0008", "390", "2026-04-01",
                          None, None, None, None, None, None)
    assert bad_date.Result == "-2" and "%Y%m%d" in bad_date.sMessage, bad_date
    nobody = await soap(service.ReferralRegister, "T2", "001", "NCMS-RB2", "NOBODY", "390", "20260401",
                        None, None, None, None, None, None)
    assert nobody.Result == "-1" and nobody.sMessage.startswith("HG2001:"), nobody
    backwards = await soap(service.ReferralRegister, "T2", "001", "NCMS-RB3", "TP0008", "390", "20260401",
                           "20260301", None, None, None, None, None)
    assert backwards.Result != "0" and "HG1003" in backwards.sMessage, backwards
    assert await snapshot(served) == before


async def test_a_cancelled_referral_cannot_be_cancelled_again_but_the_same_message_is_the_same_answer(
        served: Served) -> None:
    his, person = served.his("T2"), PERSONS["ordinary"]
    filed = ok(await his.call("2501", {"refmedin": {
        "psn_no": person.psn_no, "insutype": "390", "begndate": "2026-04-01", "enddate": "2026-12-31",
        "dise_codg": "C34.900", "dise_name": "肺恶性肿瘤", "reflin_medins_name": "对方县人民医院",
        "mdtrtarea_admdvs": "430100", "refl_rea": "病情需要", "hosp_agre_refl_flag": "1"}}))
    sn = filed["result"]["trt_dcla_detl_sn"]
    msgid = his.new_msgid()
    first = ok(await his.call("2502", {"data": {"trt_dcla_detl_sn": sn}}, msgid=msgid))
    assert first["result"]["vali_flag"] == "0"
    # the same message again: the journal's original answer, not a refusal
    again = ok(await his.call("2502", {"data": {"trt_dcla_detl_sn": sn}}, msgid=msgid))
    assert again["result"] == first["result"]
    # a new 2502 of the cancelled referral: refused in the national dialect, and it stays cancelled
    before = await snapshot(served)
    refused = failed(await his.call("2502", {"data": {"trt_dcla_detl_sn": sn}}), "HG3018")
    assert sn in refused, refused
    assert await snapshot(served) == before
