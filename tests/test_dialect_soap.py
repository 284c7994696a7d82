"""SOAP dialects (mappings/dhc-soap.yaml, mappings/ncms-soap.yaml) through zeep, as a HIS would call them,
against the spyne services on the gateway's own aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree

from tests.support import PERSONS, Served, snapshot
from tests.test_sheet import expected_capitals

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ["medfee", "fulamt", "preselfpay", "inscp", "deductible", "basic", "critical", "tehuibao", "assistance",
           "reduction", "backstop", "fund_sum", "hosp_part", "personal"]
WORKED_EXAMPLE = {"medfee": "20000.00", "fulamt": "1500.00", "preselfpay": "400.00", "inscp": "18100.00",
                  "deductible": "250.00", "basic": "15172.50", "critical": "0.00", "tehuibao": "1463.75",
                  "assistance": "1171.00", "reduction": "0.00", "backstop": "192.75", "fund_sum": "18000.00",
                  "hosp_part": "0.00", "personal": "2000.00"}
LINES = [("A", "100", "145.00", "14500.00"), ("B10", "1", "4000", "4000.00"), ("C", "3", "500", "1500.00")]


async def client(served: Served, endpoint: str) -> zeep.Client:
    return await asyncio.to_thread(zeep.Client, f"{served.url}{endpoint}?wsdl")


async def soap(function: Callable[..., Any], *arguments: str) -> Any:
    """zeep is synchronous, as most HIS clients are: each call runs in a thread beside the event loop."""
    return await asyncio.to_thread(function, *arguments)


def canonical(document: bytes) -> bytes:
    root = etree.fromstring(document, etree.XMLParser(remove_blank_text=True, resolve_entities=False))
    for address in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address"):
        address.set("location", "ENDPOINT")
    text: bytes = etree.tostring(root, method="c14n")
    return text


@pytest.mark.parametrize(("name", "endpoint"), [("dhc-soap", "/soap/dhc"), ("ncms-soap", "/soap/ncms")])
async def test_served_wsdl_is_the_committed_one(served: Served, name: str, endpoint: str) -> None:
    async with served.session.get(f"{served.url}{endpoint}?wsdl") as response:
        assert response.status == 200
        served_wsdl = await response.read()
    committed = (ROOT / "wsdl" / f"{name}.wsdl").read_bytes()
    assert canonical(served_wsdl) == canonical(committed), f"run `hisgw mappings wsdl` and commit wsdl/{name}.wsdl"


# --- DHC: HIPMessageServer(action, message) -------------------------------------------------------------------

class Dhc:
    def __init__(self, zeep_client: zeep.Client, hospital: str = "T2") -> None:
        self.call = zeep_client.service.HIPMessageServer
        self.hospital = hospital
        self.serial = 0

    def message(self, body: str, msgid: str | None = None, declaration: str = "") -> str:
        self.serial += 1
        return (f"{declaration}<Request><Header><SourceSystem>HIS</SourceSystem><MessageID>"
                f"{msgid or f'DHC{self.serial:06d}'}</MessageID></Header><Body><HospitalCode>{self.hospital}"
                f"</HospitalCode><OperatorCode>001</OperatorCode>{body}</Body></Request>")

    async def send(self, action: str, body: str, **kwargs: str) -> etree._Element:
        answer = await soap(self.call, action, self.message(body, **kwargs))
        return etree.fromstring(answer.encode("utf-8"))

    async def ok(self, action: str, body: str, **kwargs: str) -> etree._Element:
        answer = await self.send(action, body, **kwargs)
        assert answer.findtext("Body/ResultCode") == "0", etree.tostring(answer, encoding="unicode")
        return answer


def dhc_figures(answer: etree._Element) -> dict[str, str]:
    names = ["MedfeeSumamt", "FulamtOwnpayAmt", "PreselfpayAmt", "InscpScpAmt", "ActPayDedc", "BasicFund",
             "CriticalIllness", "PovertyInsurance", "MedicalAssistance", "HospitalReduction", "FiscalBackstop",
             "FundPaySumamt", "HospPartAmt", "PsnPartAmt"]
    return {key: answer.findtext(f"Body/SettleInfo/{name}") or "" for key, name in zip(FIGURES, names, strict=True)}


async def test_worked_example_through_dhc_soap(served: Served) -> None:
    dhc = Dhc(await client(served, "/soap/dhc"))
    person = PERSONS["poor"]
    card = await dhc.ok("GetPatInfo", f"<CardNo>{person.certno}</CardNo><CardType>1</CardType>")
    assert card.findtext("Body/PatInfo/PsnNo") == person.psn_no
    assert card.findtext("Body/PatInfo/Identity0001") == "0001" and card.findtext("Body/PatInfo/Identity0002") == ""
    admitted = await dhc.ok("InpatReg", f"<PsnNo>{person.psn_no}</PsnNo><AdmDate>2026-03-01 08:00:00</AdmDate>"
                                        "<DeptName>内科</DeptName><DiagName>肺炎</DiagName>")
    mdtrt_id = admitted.findtext("Body/AdmNo")
    items = "".join(f"<FeeItem><FeeSn>F{n}</FeeSn><AdmNo>{mdtrt_id}</AdmNo><PsnNo>{person.psn_no}</PsnNo>"
                    f"<InsuItemCode>{code}</InsuItemCode><HospItemName>项目{n}</HospItemName><Qty>{qty}</Qty>"
                    f"<Price>{price}</Price><Amount>{amount}</Amount><FeeDate>2026-03-02 10:00:00</FeeDate></FeeItem>"
                    for n, (code, qty, price, amount) in enumerate(LINES))
    uploaded = await dhc.ok("InpatFeeUpload", f"<FeeList>{items}</FeeList>")
    results = uploaded.findall("Body/FeeResults/FeeResult")
    assert [(r.findtext("FeeSn"), r.findtext("ChargeLevel"), r.findtext("FulamtOwnpayAmt")) for r in results] == [
        ("F0", "1", "0.00"), ("F1", "2", "0.00"), ("F2", "3", "1500.00")]
    stay = f"<AdmNo>{mdtrt_id}</AdmNo><PsnNo>{person.psn_no}</PsnNo>"
    trial = await dhc.ok("InpatPreSettle", f"{stay}<TotalAmount>20000.00</TotalAmount>")
    assert dhc_figures(trial) == WORKED_EXAMPLE and trial.findtext("Body/SettleInfo/SetlId") == ""
    settled = await dhc.ok("InpatSettle", f"{stay}<TotalAmount>20000.00</TotalAmount>", msgid="DHC-SETTLE")
    assert dhc_figures(settled) == WORKED_EXAMPLE
    setl_id = settled.findtext("Body/SettleInfo/SetlId")
    # the operator clicks twice with the same MessageID: the first answer again, nothing paid twice
    again = await dhc.ok("InpatSettle", f"{stay}<TotalAmount>20000.00</TotalAmount>", msgid="DHC-SETTLE")
    assert etree.tostring(again) == etree.tostring(settled)
    duplicate = await dhc.send("InpatSettle", f"{stay}<TotalAmount>20000.00</TotalAmount>")
    assert duplicate.findtext("Body/ResultCode") == "-1"
    assert (duplicate.findtext("Body/ResultContent") or "").startswith("HG3004:")
    # the sheet (5998) in DHC's words: 合计报销金额 = 总费用 − 个人自付 = 20,000.00 − 2,000.00 = 18,000.00
    sheet = await dhc.ok("InpatSettleSheet", f"<SetlId>{setl_id}</SetlId><FileType>html</FileType>")
    assert sheet.findtext("Body/Sheet/Title", "").endswith("“一站式”结算单")
    assert (sheet.findtext("Body/Sheet/PrintNo"), sheet.findtext("Body/Sheet/Reimbursed")) == ("1", "18000.00")
    assert sheet.findtext("Body/Sheet/ReimbursedCapital") in expected_capitals(Decimal("18000.00"))
    page = base64.b64decode(sheet.findtext("Body/Sheet/Html", "")).decode("utf-8")
    assert "18,000.00" in page or "18000.00" in page
    assert sheet.findtext("Body/Sheet/PdfUrl") == f"/sheet/v1/{setl_id}.pdf?sheet_type=hunan&print_no=1"
    reversed_ = await dhc.ok("InpatSettleCancel", f"{stay}<SetlId>{setl_id}</SetlId>")
    assert reversed_.findtext("Body/SettleInfo/OrigSetlId") == setl_id
    assert reversed_.findtext("Body/SettleInfo/MedfeeSumamt") == "-20000.00"
    reprint = await dhc.ok("InpatSettleSheet", f"<SetlId>{setl_id}</SetlId>")
    assert (reprint.findtext("Body/Sheet/PrintNo"), reprint.findtext("Body/Sheet/Html")) == ("2", "")


async def test_dhc_gb2312_declared_message_and_chinese_text(served: Served) -> None:
    dhc = Dhc(await client(served, "/soap/dhc"))
    person = PERSONS["poor"]
    declaration = '<?xml version="1.0" encoding="GB2312"?>'
    admitted = await dhc.ok("InpatReg", f"<PsnNo>{person.psn_no}</PsnNo><AdmDate>2026-03-01 08:00:00</AdmDate>"
                                        "<DiagName>社区获得性肺炎</DiagName>", declaration=declaration)
    assert admitted.findtext("Header/MessageID", "").startswith("DHC")
    # the action may also travel inside the message, when the HIS leaves the argument empty
    card = await dhc.ok("", f"<TradeCode>GetPatInfo</TradeCode><CardNo>{person.certno}</CardNo>")
    assert card.findtext("Body/PatInfo/PsnName") == "测试poor"


@pytest.mark.parametrize(("action", "message", "code", "words"), [
    ("InpatReg", "not xml at all", "-2", "XML"),
    ("InpatReg", "<Request><Header/></Request>", "-2", "Body"),
    ("InpatReg", "<Answer/>", "-2", "Request"),
    ("Unknown", "<Request><Body/></Request>", "-2", "HG1004"),
    ("InpatReg", "<Request><Header><MessageID>X1</MessageID></Header><Body><HospitalCode>T2</HospitalCode>"
                 "<PsnNo>TP0001</PsnNo><AdmDate>2026-02-30 08:00:00</AdmDate></Body></Request>", "-2", "AdmDate"),
    ("InpatReg", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                 "<Request><Body><PsnNo>&x;</PsnNo></Body></Request>", "-2", "DTD"),
    ("InpatReg", '<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                 '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><Request><Body><PsnNo>&c;</PsnNo></Body></Request>',
     "-2", "DTD"),
    ("InpatSettle", "<Request><Header><MessageID>X2</MessageID></Header><Body><HospitalCode>T2</HospitalCode>"
                    "<AdmNo>NOSUCH</AdmNo><PsnNo>TP0001</PsnNo><TotalAmount>1.00</TotalAmount></Body></Request>", "-1",
     "HG2004"),
])
async def test_dhc_bad_messages_get_dhc_errors(served: Served, action: str, message: str, code: str,
                                               words: str) -> None:
    before = await snapshot(served)
    zeep_client = await client(served, "/soap/dhc")
    answer = etree.fromstring((await soap(zeep_client.service.HIPMessageServer, action, message)).encode())
    assert answer.tag == "Response" and answer.findtext("Body/ResultCode") == code
    assert words in (answer.findtext("Body/ResultContent") or "")
    assert await snapshot(served) == before


# --- malformed SOAP requests: a Fault each ----------------------------------------------------------------------

ENVELOPE = ('<?xml version="1.0" encoding="utf-8"?>{doctype}<soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:d="http://www.dhcc.com.cn">'
            "<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>")
CALL = "<d:HIPMessageServer><d:action>SignIn</d:action><d:message>{message}</d:message></d:HIPMessageServer>"


@pytest.mark.parametrize(("body", "fault"), [
    (b"this is not XML", "Client"),
    (ENVELOPE.format(doctype="", body="<d:NoSuchOperation/>").encode(), "Client"),
    (ENVELOPE.format(doctype='<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
                     body=CALL.format(message="&x;")).encode(), "Client.Forbidden"),
    (ENVELOPE.format(doctype='<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
                     body=CALL.format(message="&b;")).encode(), "Client.Forbidden"),
    (ENVELOPE.format(doctype="", body=CALL.format(message="x" * (50 * 1024 * 1024))).encode(), "Client.TooLarge"),
])
async def test_malformed_soap_requests_get_a_fault(served: Served, body: bytes, fault: str) -> None:
    before = await snapshot(served)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": "HIPMessageServer"}
    async with served.session.post(f"{served.url}/soap/dhc", data=io.BytesIO(body), headers=headers) as response:
        assert response.status == 500
        answer = etree.fromstring(await response.read())
    code = answer.findtext(".//faultcode") or ""
    assert code.split(":")[-1].startswith(fault), etree.tostring(answer)
    assert await snapshot(served) == before


# --- NCMS: one operation per trade, positional arguments, Result / sResult / sMessage ----------------------------

async def test_worked_example_through_ncms_soap(served: Served) -> None:
    service = (await client(served, "/soap/ncms")).service
    person = PERSONS["poor"]
    serials = iter(range(1, 100))

    async def ok(operation: str, *arguments: str) -> str:
        answer = await soap(getattr(service, operation), "T2", "001", f"NCMS{next(serials):04d}", *arguments)
        assert (answer.Result, answer.sMessage) == ("0", "成功"), answer
        return str(answer.sResult or "")

    card = (await ok("GetPersonInfo", person.certno, "1")).split("|")
    assert card[0] == person.psn_no and card[7] == "0001"
    mdtrt_id = (await ok("InpatientRegister", person.psn_no, "20260301080000", "ZY1", "内科", "J18.900",
                         "肺炎")).split("|")[0]
    fees = "$".join(f"F{n}|{mdtrt_id}|{person.psn_no}|{code}|项目{n}|{qty}|{price}|{amount}|20260302100000"
                    for n, (code, qty, price, amount) in enumerate(LINES))
    lines = [row.split("|") for row in (await ok("InpatientFeeUpload", fees)).split("$")]
    assert [(row[0], row[1], row[2]) for row in lines] == [("F0", "1", "0.00"), ("F1", "2", "0.00"),
                                                           ("F2", "3", "1500.00")]
    trial = (await ok("InpatientCalculate", mdtrt_id, person.psn_no, "20000.00", "0")).split("|")
    assert dict(zip(FIGURES, trial[1:15], strict=True)) == WORKED_EXAMPLE and trial[0] == ""
    settled = (await ok("InpatientCalculate", mdtrt_id, person.psn_no, "20000.00", "1")).split("|")
    assert dict(zip(FIGURES, settled[1:15], strict=True)) == WORKED_EXAMPLE and settled[0]
    duplicate = await soap(service.InpatientCalculate, "T2", "001", "NCMS-DUP", mdtrt_id, person.psn_no,
                           "20000.00", "1")
    assert duplicate.Result == "-1" and duplicate.sMessage.startswith("HG3004:") and not duplicate.sResult
    reversal = (await ok("InpatientCalculateCancel", mdtrt_id, person.psn_no, settled[0])).split("|")
    assert reversal[:3] == [reversal[0], settled[0], "-20000.00"]


@pytest.mark.parametrize(("operation", "arguments", "code", "words"), [
    ("InpatientCalculate", ("X", "TP0001", "1.00", "7"), "-2", "sCalcType"),
    ("InpatientCalculate", ("X", "TP0001", "1.00", None), "-2", "sCalcType"),
    ("InpatientRegister", ("TP0001", "2026-03-01"), "-2", "%Y%m%d%H%M%S"),
    ("InpatientFeeUpload", ("F1|X|TP0001|A|n|1|abc|1.00|20260302100000",), "-2", "HG1003"),
    ("InpatientRegister", ("NOBODY", "20260301080000"), "-1", "HG2001"),
])
async def test_ncms_bad_arguments_get_ncms_errors(served: Served, operation: str, arguments: tuple[str | None, ...],
                                                  code: str, words: str) -> None:
    before = await snapshot(served)
    service = (await client(served, "/soap/ncms")).service
    answer = await soap(getattr(service, operation), "T2", "001", "NCMS-BAD", *arguments)
    assert answer.Result == code and words in answer.sMessage
    assert await snapshot(served) == before


async def test_a_soap_his_whose_call_timed_out_queries_then_reverses(served: Served) -> None:
    """The -1/timeout follow-up in SOAP terms: ask what became of the MessageID, then 冲正 it (2601)."""
    dhc = Dhc(await client(served, "/soap/dhc"))
    person = PERSONS["poor"]
    admitted = await dhc.ok("InpatReg", f"<PsnNo>{person.psn_no}</PsnNo><AdmDate>2026-03-01 08:00:00</AdmDate>")
    mdtrt_id = admitted.findtext("Body/AdmNo")
    items = "".join(f"<FeeItem><FeeSn>F{n}</FeeSn><AdmNo>{mdtrt_id}</AdmNo><PsnNo>{person.psn_no}</PsnNo>"
                    f"<InsuItemCode>{code}</InsuItemCode><Qty>{qty}</Qty><Price>{price}</Price><Amount>{amount}"
                    "</Amount><FeeDate>2026-03-02 10:00:00</FeeDate></FeeItem>"
                    for n, (code, qty, price, amount) in enumerate(LINES))
    await dhc.ok("InpatFeeUpload", f"<FeeList>{items}</FeeList>")
    stay = f"<AdmNo>{mdtrt_id}</AdmNo><PsnNo>{person.psn_no}</PsnNo>"
    settled = await dhc.ok("InpatSettle", f"{stay}<TotalAmount>20000.00</TotalAmount>", msgid="DHC-LOST")
    # the HIS never saw that answer: it asks
    asked = await dhc.ok("QueryMessage", "<OrigMessageID>DHC-LOST</OrigMessageID>")
    assert asked.findtext("Body/MessageResult/Status") == "ok"
    assert asked.findtext("Body/MessageResult/OrigTradeCode") == "InpatSettle"
    assert asked.findtext("Body/MessageResult/SetlId") == settled.findtext("Body/SettleInfo/SetlId")
    undone = await dhc.ok("InpatReverse", "<OrigMessageID>DHC-LOST</OrigMessageID>"
                                          f"<OrigTradeCode>InpatSettle</OrigTradeCode><PsnNo>{person.psn_no}</PsnNo>")
    assert undone.findtext("Body/AdmNo") == mdtrt_id  # SetlId: the settlement the 冲正 undid
    assert undone.findtext("Body/SetlId") == settled.findtext("Body/SettleInfo/SetlId")
    again = await dhc.ok("QueryMessage", "<OrigMessageID>DHC-LOST</OrigMessageID>")
    assert again.findtext("Body/MessageResult/Undone") == "1"
    # and it can settle anew
    resettled = await dhc.ok("InpatSettle", f"{stay}<TotalAmount>20000.00</TotalAmount>")
    assert dhc_figures(resettled) == WORKED_EXAMPLE
    # NCMS: the same question in its own words
    service = (await client(served, "/soap/ncms")).service
    answer = await soap(service.QueryMessage, "T2", "001", "NCMS-Q1", "DHC-LOST", None)
    assert answer.Result == "0" and answer.sResult.split("|")[0] == "ok"
    # and its sheet: the NCMS cross-province layout unless it asks for another
    setl_id = resettled.findtext("Body/SettleInfo/SetlId")
    sheet = await soap(service.InpatientSettleSheet, "T2", "001", "NCMS-S1", setl_id, None, None)
    assert sheet.Result == "0", sheet.sMessage
    title, print_no, page, _html_url, pdf_url = sheet.sResult.split("|")
    assert "跨省" in title and print_no == "1" and page == ""
    assert pdf_url == f"/sheet/v1/{setl_id}.pdf?sheet_type=ncms&print_no=1"
