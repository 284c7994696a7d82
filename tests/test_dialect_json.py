"""JSON dialects: the national interface is the identity mapping (mappings/nhsa-http.yaml, covered by every
test_http_* file); a regional JSON variant with its own keys and codes maps field by field with `at:`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.adapters.dialect_call import call_dialect
from gateway.mapping.compile import MappingError, compile_mapping
from gateway.mapping.model import Dialect
from tests.support import PERSONS, Served

VARIANT = """
dialect: gx-json
transport: http
endpoint: /gx/api
encoding: gbk
framing: {kind: json, trade: funcode, request: data, answer: result}
request_envelope: {serial: serialno, hospital: hospcode}
answer_envelope: {code: status, msg: message, serialno: echo.serial, result: output}
context: {msgid: serial, fixmedins_code: hospital}
tables:
  sex: {M: "1", F: "2"}
trades:
  RD01:
    infno: "1101"
    request:
      - {at: cardno, to: input.data.mdtrt_cert_no}
      - {at: certtype, to: input.data.mdtrt_cert_type, value: "02"}
    answer:
      - {at: person.id, from: output.baseinfo.psn_no}
      - {at: person.sex, from: output.baseinfo.gend, table: sex}
  ZY01:
    infno: "2401"
    request:
      - {at: person_id, to: input.mdtrtinfo.psn_no}
      - {at: admit_time, to: input.mdtrtinfo.begntime, format: "datetime:%Y%m%d%H%M%S"}
      - {to: input.mdtrtinfo.med_type, value: "21"}
    answer: [{at: visit, from: output.result.mdtrt_id}]
  FY01:
    infno: "2301"
    request:
      rows:
        to: input.feedetail
        at: fees
        columns:
          - {at: sn, to: feedetl_sn}
          - {at: visit, to: mdtrt_id}
          - {at: person_id, to: psn_no}
          - {at: item, to: med_list_codg}
          - {at: qty, to: cnt, format: decimal}
          - {at: price, to: pric, format: decimal}
          - {at: amount, to: det_item_fee_sumamt, format: amount}
          - {at: time, to: fee_ocur_time, format: "datetime:%Y%m%d%H%M%S"}
    answer:
      rows:
        from: output.result
        at: lines
        columns:
          - {at: sn, from: feedetl_sn}
          - {at: own, from: fulamt_ownpay_amt, format: amount}
  JS01:
    infno: "2304"
    request:
      - {at: visit, to: input.data.mdtrt_id}
      - {at: person_id, to: input.data.psn_no}
      - {at: total, to: input.data.medfee_sumamt, format: amount}
    answer:
      - {at: total, from: output.setlinfo.medfee_sumamt, format: amount}
      - {at: funds.basic, from: "output.setldetail[fund_pay_type=390100].fund_payamt", format: amount}
      - {at: funds.critical, from: "output.setldetail[fund_pay_type=390200].fund_payamt", format: amount}
      - {at: cash, from: output.setlinfo.psn_cash_pay, format: amount}
errors: {ok: "1", business: "0", system: "-9", text: "{code} {message}"}
"""


@pytest.fixture
def variant(tmp_path: Path) -> Dialect:
    path = tmp_path / "gx-json.yaml"
    path.write_text(VARIANT, encoding="utf-8")
    return compile_mapping(path)


async def exchange(served: Served, dialect: Dialect, funcode: str, data: object, serial: str) -> dict[str, object]:
    raw = json.dumps({"funcode": funcode, "serialno": serial, "hospcode": "T2", "data": data},
                     ensure_ascii=False).encode("gbk")
    _status, body = await call_dialect(served.gateway, dialect, raw)
    answer: dict[str, object] = json.loads(body.decode("gbk"))
    assert answer["serialno"] == serial
    return answer


async def test_a_regional_json_variant_settles_the_worked_example(served: Served, variant: Dialect) -> None:
    person = PERSONS["poor"]
    card = await exchange(served, variant, "RD01", {"cardno": person.certno}, "S1")
    assert card == {"code": 1, "msg": "成功", "serialno": "S1", "result": {"person": {"id": person.psn_no, "sex": "M"}}}
    visit = await exchange(served, variant, "ZY01", {"person_id": person.psn_no, "admit_time": "20260301080000"}, "S2")
    mdtrt_id = visit["result"]["visit"]  # type: ignore[index]
    fees = [{"sn": f"F{n}", "visit": mdtrt_id, "person_id": person.psn_no, "item": item, "qty": qty, "price": price,
             "amount": amount, "time": "20260302100000"}
            for n, (item, qty, price, amount) in enumerate([("A", "100", "145.00", "14500.00"),
                                                             ("B10", "1", "4000", "4000.00"),
                                                             ("C", "3", "500", "1500.00")])]
    uploaded = await exchange(served, variant, "FY01", {"fees": fees}, "S3")
    assert uploaded["result"] == {"lines": [{"sn": "F0", "own": "0.00"}, {"sn": "F1", "own": "0.00"},
                                            {"sn": "F2", "own": "1500.00"}]}
    settled = await exchange(served, variant, "JS01", {"visit": mdtrt_id, "person_id": person.psn_no,
                                                       "total": "20000.00"}, "S4")
    # the worked example (DOMAIN.md), to the fen; the variant leaves an absent fund row empty
    assert settled["result"] == {"total": "20000.00", "funds": {"basic": "15172.50", "critical": ""},
                                 "cash": "2000.00"}
    again = await exchange(served, variant, "JS01", {"visit": mdtrt_id, "person_id": person.psn_no,
                                                     "total": "20000.00"}, "S5")
    assert again["code"] == 0 and str(again["msg"]).startswith("HG3004 ")


async def test_variant_errors_in_its_own_words(served: Served, variant: Dialect) -> None:
    answer = await exchange(served, variant, "XX99", {}, "E1")
    assert answer["code"] == 0 and str(answer["msg"]).startswith("HG1004 ") and answer["result"] is None
    answer = await exchange(served, variant, "ZY01", {"person_id": "P", "admit_time": "2026-03-01"}, "E2")
    assert answer["code"] == 0 and "admit_time (input.mdtrtinfo.begntime)" in str(answer["msg"])


@pytest.mark.parametrize(("change", "line", "words"), [
    ("      - {to: input.data.mdtrt_id}\n", 0, "needs at:"),
    ("endpoint: /gx/api\n", 0, "needs endpoint"),
    ("errors: {ok: \"1\", business: \"0\", system: \"-9\", text: \"{code} {message}\"}\n", 0, "errors needs"),
])
def test_a_located_dialect_refuses_unplaced_fields(tmp_path: Path, change: str, line: int, words: str) -> None:
    if "endpoint" in change:
        text = VARIANT.replace(change, "")
    elif change.startswith("errors"):
        text = VARIANT.replace(change, "errors: {ok: \"1\", text: x}\n")
    else:
        text = VARIANT.replace("      - {at: visit, to: input.data.mdtrt_id}\n", change)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=words):
        compile_mapping(path)


HUNAN_LIKE = """
dialect: flat-json
transport: http
endpoint: /flat
encoding: utf-8
framing: {kind: json, trade: infno, request: input, answer: output, status: string}
request_envelope: {msgid: msgid, fixmedins_code: fixmedins_code}
answer_envelope: {infcode: status, err_msg: error, output: output}
context: {msgid: msgid, fixmedins_code: fixmedins_code}
trades:
  "2304": {infno: "2304", request: {copy: input.data}, answer: copy}
errors: {ok: "0", business: "-1", system: "-1", text: "[{code}] {message}"}
"""


@pytest.mark.parametrize(("change", "words"), [
    ("status: string}", "status 'text'"),
    ("{copy: input.data}", "a path in the national input"),
    ("answer: copy}", "go together"),
])
def test_flat_copy_and_string_status_are_checked(tmp_path: Path, change: str, words: str) -> None:
    wrong = {"status: string}": "status: text}", "{copy: input.data}": "{copy: output.setlinfo}",
             "answer: copy}": "answer: [{at: x, from: output.setlinfo.setl_id}]}"}[change]
    path = tmp_path / "flat.yaml"
    path.write_text(HUNAN_LIKE.replace(change, wrong), encoding="utf-8")
    with pytest.raises(MappingError, match=words):
        compile_mapping(path)


async def test_a_flat_record_reaches_the_national_decoder_and_the_status_is_a_string(served: Served,
                                                                                      tmp_path: Path) -> None:
    path = tmp_path / "flat.yaml"
    path.write_text(HUNAN_LIKE, encoding="utf-8")
    dialect = compile_mapping(path)
    raw = json.dumps({"infno": "2304", "msgid": "F1", "fixmedins_code": "T2",
                      "input": {"mdtrt_id": "NO-SUCH-STAY", "medfee_sumamt": "1.00"}}).encode()
    _status, body = await call_dialect(served.gateway, dialect, raw)
    answer = json.loads(body)
    # the flat fields were read where the national interface nests them: the stay itself is what is unknown
    assert answer["infcode"] == "-1" and answer["err_msg"].startswith("[HG2004]"), answer
