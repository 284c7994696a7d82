"""Inputs that used to escape the dialect's error answer (issue 12): a 5,000-digit JSON integer, an amount or a
count of 1e999999999, lone surrogates, and an error answer that cannot be rendered. Each must get the
dialect's own error answer with the caller's code (never HG9001, never a bare HTTP 500) and a journal row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.adapters.dialect_call import call_dialect
from gateway.journal.model import JournalQuery
from gateway.mapping.compile import compile_mapping
from gateway.mapping.model import Dialect
from tests.conftest import DIALECTS, MAPPINGS
from tests.support import PERSONS, Served, certno
from tests.test_dialect_hl7 import ft1, msh, pid, pv1
from tests.test_hostile_input import _dhc, _neusoft, _neusoft_upload, _yunnan, ncms_arguments

PERSON = PERSONS["poor"].psn_no
NATIONAL = "/fsi/api/rsfComIfsService/callService"
HUGE_INT = "1" + "0" * 5000
# Values every numeric field must refuse as the caller's error (HG1003): Decimal overflows, an exponent beyond
# what Decimal holds, more digits than int() reads, a quiet and a signalling NaN, an underflow.
HOSTILE_NUMBERS = ["1e999999999", "-1e999999999", "1e99999999999999999999", "9" * 5000, "1e-999999999", "sNaN",
                   "-sNaN"]


async def journal_rows(served: Served) -> int:
    rows = await served.gateway.run(lambda: served.gateway.deps.store.journal_search(JournalQuery(limit=1000)))
    return len(rows)


async def post_national(served: Served, body: bytes) -> tuple[int, dict[str, Any]]:
    async with served.session.post(served.url + NATIONAL, data=body,
                                   headers={"Content-Type": "application/json"}) as response:
        return response.status, json.loads(await response.read())


async def test_a_five_thousand_digit_integer_anywhere_gets_the_national_error_envelope(served: Served) -> None:
    documents = [  # the integer at the top, as an amount, as the msgid, as the infno, deep in a list
        f'{{"infno":"2304","msgid":"BIG1","fixmedins_code":"T2","junk":{HUGE_INT},"input":{{"data":{{}}}}}}',
        f'{{"infno":"2304","msgid":"BIG2","fixmedins_code":"T2","input":{{"data":{{"mdtrt_id":"X",'
        f'"medfee_sumamt":{HUGE_INT}}}}}}}',
        f'{{"infno":"2304","msgid":{HUGE_INT},"fixmedins_code":"T2","input":{{"data":{{"mdtrt_id":"X"}}}}}}',
        f'{{"infno":{HUGE_INT},"msgid":"BIG4","fixmedins_code":"T2","input":{{}}}}',
        f'{{"infno":"2301","msgid":"BIG5","fixmedins_code":"T2","input":{{"feedetail":[{{"cnt":[[{HUGE_INT}]]}}]}}}}',
        f'[{HUGE_INT}]',
    ]
    before = await journal_rows(served)
    for document in documents:
        status, answer = await post_national(served, document.encode())
        assert status == 200
        assert answer["infcode"] == -1 and answer["output"] is None, answer
        assert answer["err_msg"][:8] in ("[HG1001]", "[HG1002]", "[HG1003]", "[HG1004]"), answer["err_msg"]
    # the amount is named as the field it is
    _status, answer = await post_national(served, documents[1].encode())
    assert answer["err_msg"].startswith("[HG1003] 字段值不合法 [input.data.medfee_sumamt]"), answer["err_msg"]
    assert await journal_rows(served) == before + len(documents) + 1  # every one journalled


def national(infno: str, msgid: str, data: str) -> bytes:
    return f'{{"infno":"{infno}","msgid":"{msgid}","fixmedins_code":"T2","input":{data}}}'.encode()


def hl7_charges(value: str, control_id: str) -> bytes:
    return "\r".join([msh("DFT^P03^DFT_P03", control_id), pid(PERSONS["poor"]), pv1("NOSUCH"),
                      ft1(1, "F1", "A", "测试", value, "1", "1.00")]).encode()


def messages(value: str, n: int) -> list[tuple[str, str, Any, str]]:
    """(dialect, action, raw, the field the error must name) with `value` as an amount or a count."""
    both = [value, value, value, "2026-03-02 10:00:00"]
    amount = [f"NOSUCH{n}", value, PERSON, "2026-03-02 10:00:00"]
    return [
        ("nhsa-http", "", national("2304", f"N{n}a", f'{{"data":{{"mdtrt_id":"X","medfee_sumamt":{value}}}}}'),
         "medfee_sumamt"),
        ("nhsa-http", "", national("2304", f"N{n}b", f'{{"data":{{"mdtrt_id":"X","medfee_sumamt":"{value}"}}}}'),
         "medfee_sumamt"),
        ("nhsa-http", "", national("2301", f"N{n}c", f'{{"feedetail":[{{"feedetl_sn":"1","mdtrt_id":"X",'
                                                     f'"med_list_codg":"A","cnt":{value},"pric":1}}]}}'), "cnt"),
        ("neusoft-dll", "", _neusoft(amount, n), "medfee_sumamt"),
        ("neusoft-dll", "", _neusoft_upload([f"S{n}", value, "1", "20260302100000"], n), "cnt"),
        ("yunnan-dll", "", _yunnan(amount, n), "medfee_sumamt"),
        ("dhc-soap", "InpatSettle", _dhc(amount, n).decode(), "medfee_sumamt"),
        ("ncms-soap", "InpatientFeeUpload", {**ncms_arguments(both, n), "sFeeList": f"S{n}|NOSUCH|{PERSON}|A||{value}"
                                             f"|1|1.00|20260302100000"}, "cnt"),
        ("hl7v2", "", hl7_charges(value, f"H{n}"), "cnt"),
    ]


async def test_absurd_numbers_are_the_callers_error_in_every_dialect(served: Served) -> None:
    """Not HG9001 (over the DLL: -1, "state unknown, reverse it"), but HG1003 with the dialect's status for a
    rejected message, and the field named."""
    wrong = []
    for n, value in enumerate(HOSTILE_NUMBERS):
        for name, action, raw, field in messages(value, n):
            if name == "nhsa-http" and "NaN" in value and f":{value}" in raw.decode():
                continue  # a bare sNaN is no JSON number (HG1001); the quoted form is the test
            dialect = DIALECTS[name]
            status, body = await call_dialect(served.gateway, dialect, raw, action)
            text = body.decode(dialect.encoding)
            if status != dialect.errors.rejected or "HG1003" not in text or field not in text:
                wrong.append((name, value[:24], field, status, text[:200]))
    assert wrong == []


async def test_lone_surrogates_are_refused_before_the_journal_sees_them(served: Served) -> None:
    """"\\ud800" decodes to no character: SQLite refused the journal row and took the whole batch with it."""
    before = await journal_rows(served)
    for document in [
        national("2304", "\\ud800", '{"data":{"mdtrt_id":"X","medfee_sumamt":1}}'),
        national("1101", "S1", '{"data":{"psn_no":"\\udc00x"}}'),
        national("2304", "S2", '{"data":{"mdtrt_id":"X","\\ud83d":"a"}}'),
    ]:
        status, answer = await post_national(served, document)
        assert status == 200 and answer["infcode"] == -1 and answer["err_msg"].startswith("[HG1001]"), answer
    # a proper pair is a character: the message is read, and refused for what it says
    _status, answer = await post_national(served, national("1101", "S3", '{"data":{"psn_no":"\\ud83d\\ude00"}}'))
    assert answer["err_msg"].startswith("[HG2001]"), answer
    assert await journal_rows(served) == before + 4


def broken(tmp_path: Path, name: str, template: str) -> Dialect:
    """A shipped mapping with an error wording that fails when it is formatted (a county's typo)."""
    text = (MAPPINGS / f"{name}.yaml").read_text(encoding="utf-8")
    marker = "\nerrors:\n"
    assert marker in text
    text = text.replace(marker, f'{marker}  codes: {{HG1003: "{template}"}}\n', 1)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return compile_mapping(path)


async def test_an_error_answer_that_cannot_be_rendered_still_answers_in_the_dialect(served: Served,
                                                                                   tmp_path: Path) -> None:
    before = await journal_rows(served)
    nhsa = broken(tmp_path, "nhsa-http", "{no_such_key}")
    status, body = await call_dialect(served.gateway, nhsa, national("2304", "R1", '{"data":{"mdtrt_id":"X",'
                                                                                   '"medfee_sumamt":"1e999999999"}}'))
    answer = json.loads(body)
    assert status == "-1" and answer["infcode"] == -1 and answer["output"] is None
    assert answer["err_msg"].startswith("[HG1003] 字段值不合法 [input.data.medfee_sumamt]"), answer
    dhc = broken(tmp_path, "dhc-soap", "{detail[999]}")
    status, body = await call_dialect(served.gateway, dhc, _dhc(["NOSUCH", "1e999999999", PERSON, ""], 7).decode(),
                                      "InpatSettle")
    assert status == "-2" and b"<ResultCode>-2</ResultCode>" in body and b"HG1003" in body, body
    assert await journal_rows(served) == before + 2


async def test_digits_that_int_does_not_read_are_refused(served: Served) -> None:
    """"²".isdigit() is true and int("²") raises: the year of 5206 and the console's limit."""
    _status, answer = await post_national(served, national("5206", "D1", f'{{"data":{{"psn_no":"{PERSON}",'
                                                                          '"cum_ym":"²²²²"}}'))
    assert answer["err_msg"].startswith("[HG1003]"), answer
    for limit in ("²", "9" * 5000):
        async with served.session.get(f"{served.url}/journal/v1/exchanges", params={"limit": limit}) as response:
            assert response.status == 400, await response.text()


async def test_the_county_import_refuses_the_same_values(served: Served) -> None:
    """The county API read JSON with its own json.loads: a lone surrogate in a name reached SQLite (HTTP 500)."""
    person = (f'{{"data":[{{"psn_no":"Z1","certno":"{certno("19800101", "013")}","psn_name":"\\ud800",'
              '"insutype":"390","insuplc_admdvs":"430521"}]}')
    item = ('{"data":[{"med_list_codg":"Z","med_list_name":"z","med_chrgitm_type":"09","chrgitm_lv":"02",'
            '"selfpay_prop":1e999999999}]}')
    for kind, body in (("persons", person), ("catalogue", item)):
        async with served.session.post(f"{served.url}/county/v1/{kind}", data=body.encode()) as response:
            assert response.status in (400, 422), await response.text()
