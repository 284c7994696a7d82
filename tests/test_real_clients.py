"""The inpatient journey as public HIS clients of the national interface build their requests, over real HTTP.

Two client shapes, learnt from public HIS code (nothing copied):
- a C# client whose Input_2401/Input_2301/Input_2304 models hold every amount as a `string` property (so amounts
  arrive as JSON strings with whatever decimals the HIS wrote: "4000", "1500.0", "1333.333333"), serialised with
  unset properties as null, `feedetl_sn` an integer column of its own table (a JSON integer), the extra fields
  those models carry (drord_no, medins_list_codg, bilg_dr_name, hosp_appr_flag, exp_content, invono, ...), and
  line amounts rounded with C#'s default Math.Round, which is half-to-even (7 × 1.235 → 8.64);
- a Java Hunan client that sends 2303/2304 with the fields directly under `input` (no `data` node), amounts as
  JSON numbers (BigDecimal), and tests success with "0".equals(infcode): mappings/hunan-json.yaml.

Expected figures are computed here from DOMAIN.md's rules for the worked example (0001, level-2 county hospital,
in county), from the HIS's own line amounts.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

import simplejson

from tests import support
from tests.support import PERSONS, Served

NATIONAL = "/fsi/api/rsfComIfsService/callService"
HUNAN = "/hunan/fsi/api/rsfComIfsService/callService"
FEN = Decimal("0.01")
_serial = itertools.count(1)


def half_even(value: Decimal) -> Decimal:
    """C#'s Math.Round(value, 2): banker's rounding."""
    return value.quantize(FEN, rounding=ROUND_HALF_EVEN)


def r(value: Decimal) -> Decimal:
    """DOMAIN.md: every computed amount rounded to the fen, half up."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass
class Line:
    code: str  # the test catalogue (tests/support.py): A 甲, B10 乙 10%, C 丙
    cnt: str
    pric: str

    @property
    def amount(self) -> Decimal:
        return half_even(Decimal(self.cnt) * Decimal(self.pric))


# 甲 14,500.00, 乙 4,000.00, 丙 1,500.00 as the HIS's own sheet rounds them: the worked example's class totals.
LINES = [
    Line("A", "7", "1.235"),  # 8.645 → 8.64 half-to-even (8.65 half up)
    Line("A", "2", "1.3125"),  # 2.625 → 2.62 (2.63 half up)
    Line("A", "1", "14488.74"),
    Line("B10", "3", "1333.333333"),  # 3999.999999 → 4000.00
    Line("C", "3.0000", "500.00"),
]


def as_written(amount: Decimal, decimals: int) -> str:
    """An amount as a HIS string property holds it: 0–6 decimals."""
    return f"{amount:.{decimals}f}"


class CSharpHis:
    """Builds each request as the C# client's models serialise: string properties, unset ones null."""

    def __init__(self, served: Served, person: support.TestPerson, endpoint: str = NATIONAL) -> None:
        self.served = served
        self.person = person
        self.endpoint = endpoint
        self.mdtrt_id = ""
        self.sign_no: str | None = None

    def envelope(self, infno: str, payload: dict[str, Any], inf_time: str) -> dict[str, Any]:
        stamp = inf_time.replace("-", "").replace(" ", "").replace(":", "")
        return {
            "infno": infno, "msgid": f"T2{stamp}{next(_serial) % 10000:04d}", "mdtrtarea_admvs": "430521",
            "insuplc_admdvs": "430521", "recer_sys_code": "YBJK", "dev_no": None, "dev_safe_info": None,
            "cainfo": None, "signtype": "SM3", "infver": "V1.0", "opter_type": "1", "opter": "001",
            "opter_name": "收费员", "inf_time": inf_time, "fixmedins_code": "T2", "fixmedins_name": "测试县人民医院",
            "sign_no": self.sign_no, "input": payload,
        }

    async def call(self, infno: str, payload: dict[str, Any],
                   inf_time: str = "2026-03-10 09:00:00") -> dict[str, Any]:
        body = self.dumps(self.envelope(infno, payload, inf_time))
        async with self.served.session.post(f"{self.served.url}{self.endpoint}", data=body,
                                            headers={"Content-Type": "application/json;charset=utf-8"}) as response:
            assert response.status == 200
            # numbers as written: Decimal keeps the scale, int stays int (infcode's type is what the HIS tests)
            answer: dict[str, Any] = json.loads(await response.read(), parse_float=Decimal)
        return answer

    def dumps(self, document: dict[str, Any]) -> bytes:
        return json.dumps(document, ensure_ascii=False).encode("utf-8")

    async def ok(self, infno: str, payload: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        answer = await self.call(infno, payload, **kwargs)
        assert answer["infcode"] == 0 and type(answer["infcode"]) is int, answer
        output: dict[str, Any] = answer["output"]
        return output

    def admission(self) -> dict[str, Any]:
        p = self.person
        return {
            "mdtrtinfo": {
                "psn_no": p.psn_no, "insutype": p.insutype, "coner_name": None, "tel": None,
                "begntime": "2026-03-01 08:00:00", "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno,
                "med_type": "21", "ipt_no": "ZY2026000123", "medrcdno": None, "atddr_no": "D001",
                "chfpdr_name": "王医生", "adm_diag_dscr": "肺炎", "adm_dept_codg": "A03", "adm_dept_name": "内科",
                "adm_bed": "12", "dscg_maindiag_code": "J18.900", "dscg_maindiag_name": "肺炎",
                "main_cond_dscr": None, "dise_codg": None, "dise_name": None, "oprn_oprt_code": None,
                "oprn_oprt_name": None, "fpsc_no": None, "matn_type": None, "birctrl_type": None,
                "latechb_flag": None, "geso_val": None, "fetts": None, "fetus_cnt": None, "pret_flag": None,
                "birctrl_matn_date": None, "dise_type_code": None, "insuplc_admdvs": "430521",
                "mdtrtarea_admvs": "430521",
            },
            "diseinfo": [{
                "psn_no": p.psn_no, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": "1",
                "diag_code": "J18.900", "diag_name": "肺炎", "adm_cond": None, "diag_dept": "内科",
                "dise_dor_no": "D001", "dise_dor_name": "王医生", "diag_time": "2026-03-01 08:00:00",
            }],
        }

    def fee_line(self, sn: int, line: Line, decimals: int) -> dict[str, Any]:
        return {
            "feedetl_sn": sn, "init_feedetl_sn": None, "mdtrt_id": self.mdtrt_id, "drord_no": f"YZ{sn:06d}",
            "psn_no": self.person.psn_no, "med_type": "21", "fee_ocur_time": "2026-03-02 10:00:00",
            "med_list_codg": line.code, "medins_list_codg": f"H{line.code}", "medins_list_name": "测试项目",
            "det_item_fee_sumamt": as_written(line.amount, decimals), "cnt": line.cnt, "pric": line.pric,
            "bilg_dept_codg": "A03", "bilg_dept_name": "内科", "bilg_dr_codg": "D001", "bilg_dr_name": "王医生",
            "acord_dept_codg": None, "acord_dept_name": None, "orders_dr_code": None, "orders_dr_name": None,
            "hosp_appr_flag": "1", "tcmdrug_used_way": None, "etip_flag": None, "etip_hosp_code": None,
            "dscg_tkdrug_flag": None, "matn_fee_flag": None, "memo": None, "exp_content": None,
        }

    def settlement(self, total: Decimal, **extra: Any) -> dict[str, Any]:
        return {
            "psn_no": self.person.psn_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": self.person.certno,
            "medfee_sumamt": as_written(total, 2), "psn_setlway": "01", "mdtrt_id": self.mdtrt_id,
            "insutype": self.person.insutype, "acct_used_flag": "0", "invono": None, "mid_setl_flag": "0",
            "fulamt_ownpay_amt": None, "overlmt_selfpay": None, "preselfpay_amt": None, "inscp_scp_amt": None,
            "dscgTime": "2026-03-10 09:00:00", **extra,
        }


def expected_figures(lines: list[Line]) -> dict[str, Decimal]:
    """DOMAIN.md's chain for 0001 at a level-2 county hospital, in county, first stay of the year."""
    total = sum((ln.amount for ln in lines), Decimal("0"))
    fulamt = sum((ln.amount for ln in lines if ln.code == "C"), Decimal("0"))
    preselfpay = sum((r(ln.amount * Decimal("0.10")) for ln in lines if ln.code == "B10"), Decimal("0"))
    inscp = total - fulamt - preselfpay
    deductible = min(Decimal("500") / 2, inscp)  # level 2, halved for the poor
    basic = r((inscp - deductible) * Decimal("0.85"))  # 75% + 10 points
    compliant = inscp - basic
    assert compliant < Decimal("7500")  # below the poor's critical-illness deductible: 0
    teihui = r(compliant * Decimal("0.5"))
    assistance = r((compliant - teihui) * Decimal("0.8"))
    reduction = max(Decimal("0"), fulamt - r(total * Decimal("0.1")))
    so_far = total - basic - teihui - assistance - reduction
    backstop = max(Decimal("0"), so_far - r(total * Decimal("0.1")))
    personal = total - basic - teihui - assistance - reduction - backstop
    return {"medfee_sumamt": total, "fulamt_ownpay_amt": fulamt, "preselfpay_amt": preselfpay,
            "inscp_scp_amt": inscp, "act_pay_dedc": deductible, "hifp_pay": basic, "hifmi_pay": Decimal("0"),
            "maf_pay": assistance, "oth_pay": teihui + backstop, "hosp_part_amt": reduction,
            "psn_part_amt": personal, "620100": teihui, "640100": backstop}


def assert_identities(setlinfo: dict[str, Any]) -> None:
    """DOMAIN.md: the identities every settlement answer satisfies."""
    s = setlinfo
    assert s["inscp_scp_amt"] == (s["medfee_sumamt"] - s["fulamt_ownpay_amt"] - s["overlmt_selfpay"]
                                  - s["preselfpay_amt"])
    assert s["medfee_sumamt"] == s["fund_pay_sumamt"] + s["psn_part_amt"] + s["hosp_part_amt"]
    assert s["psn_part_amt"] == s["acct_pay"] + s["psn_cash_pay"]


def assert_settles(output: dict[str, Any], want: dict[str, Decimal]) -> None:
    setlinfo = output["setlinfo"]
    assert {k: setlinfo[k] for k in want if not k.isdigit()} == {k: v for k, v in want.items() if not k.isdigit()}
    funds = {row["fund_pay_type"]: row["fund_payamt"] for row in output["setldetail"]}
    assert funds["620100"] == want["620100"] and funds["640100"] == want["640100"]
    assert_identities(setlinfo)


def two_decimals(value: Any) -> bool:
    return isinstance(value, Decimal) and value.as_tuple().exponent == -2


async def test_the_inpatient_journey_as_a_csharp_client_builds_it(served: Served) -> None:
    his = CSharpHis(served, PERSONS["poor"])
    his.sign_no = (await his.ok("9001", {"signIn": {"opter_no": "001", "mac": "00-16-3E-00-00-01",
                                                    "ip": "127.0.0.1"}}))["signinoutb"]["sign_no"]
    person = await his.ok("1101", {"data": {
        "mdtrt_cert_type": "02", "mdtrt_cert_no": his.person.certno, "card_sn": None, "begntime": None,
        "psn_cert_type": "01", "certno": his.person.certno, "psn_name": "测试poor"}})
    assert person["baseinfo"]["psn_no"] == his.person.psn_no
    assert [row["psn_idet_type"] for row in person["idetinfo"]] == ["0001"]
    his.mdtrt_id = (await his.ok("2401", his.admission(), inf_time="2026-03-01 08:00:00"))["result"]["mdtrt_id"]

    # every line with its own number of decimals (0 to 6), feedetl_sn a JSON integer
    lines = [his.fee_line(sn, line, decimals) for sn, (line, decimals) in enumerate(zip(LINES, (2, 6, 4, 0, 1),
                                                                                        strict=True), 1)]
    uploaded = (await his.ok("2301", {"feedetail": lines}, inf_time="2026-03-02 10:00:00"))["result"]
    assert [row["feedetl_sn"] for row in uploaded] == ["1", "2", "3", "4", "5"]
    # the HIS's half-to-even figures are the line amounts (8.64, not 8.65), answered with two decimals
    assert [row["det_item_fee_sumamt"] for row in uploaded] == [line.amount for line in LINES]
    assert [row["det_item_fee_sumamt"] for row in uploaded][:2] == [Decimal("8.64"), Decimal("2.62")]
    for row in uploaded:
        for key in ("det_item_fee_sumamt", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt",
                    "pric_uplmt_amt"):
            assert two_decimals(row[key]), (key, row[key])
        assert row["pric_uplmt_amt"] == Decimal("999999")  # the test catalogue sets no price ceiling
        assert row["det_item_fee_sumamt"] == (row["fulamt_ownpay_amt"] + row["preselfpay_amt"]
                                              + row["inscp_scp_amt"])
    assert [row["pric"] for row in uploaded] == [Decimal(line.pric) for line in LINES]
    assert uploaded[3]["pric"] == Decimal("1333.333333") and uploaded[4]["pric"].as_tuple().exponent == -2

    want = expected_figures(LINES)
    assert want["medfee_sumamt"] == Decimal("20000.00") and want["hifp_pay"] == Decimal("15172.50")  # DOMAIN.md
    assert want["psn_part_amt"] == Decimal("2000.00") and want["640100"] == Decimal("192.75")
    trial = await his.ok("2303", {"data": his.settlement(want["medfee_sumamt"])})
    assert_settles(trial, want)
    await his.ok("2402", {"dscginfo": {
        "mdtrt_id": his.mdtrt_id, "psn_no": his.person.psn_no, "insutype": "390", "endtime": "2026-03-10 08:30:00",
        "dise_codg": "J18.900", "dise_name": "肺炎", "oprn_oprt_code": None, "oprn_oprt_name": None,
        "fpsc_no": None, "matn_type": None, "birctrl_type": None, "latechb_flag": None, "geso_val": None,
        "fetts": None, "fetus_cnt": None, "pret_flag": None, "birctrl_matn_date": None, "cop_flag": None,
        "dscg_dept_codg": "A03", "dscg_dept_name": "内科", "dscg_bed": "12", "dscg_way": "1", "die_date": None},
        "diseinfo": [{"mdtrt_id": his.mdtrt_id, "psn_no": his.person.psn_no, "diag_type": "1",
                      "maindiag_flag": "1", "diag_srt_no": "1", "diag_code": "J18.900", "diag_name": "肺炎",
                      "diag_dept": "内科", "dise_dor_no": "D001", "dise_dor_name": "王医生",
                      "diag_time": "2026-03-10 08:30:00"}]})
    settled = await his.ok("2304", {"data": his.settlement(want["medfee_sumamt"], medins_setl_id="ZYJS000123")})
    assert_settles(settled, want)
    setlinfo = settled["setlinfo"]
    assert setlinfo["medins_setl_id"] == "ZYJS000123"  # the HIS's own settlement id, echoed
    assert all(two_decimals(setlinfo[k]) for k in want if not k.isdigit() and k in setlinfo)

    queried = await his.ok("5203", {"data": {"setl_id": setlinfo["setl_id"], "mdtrt_id": his.mdtrt_id,
                                             "psn_no": his.person.psn_no}})
    assert queried["setlinfo"]["medins_setl_id"] == "ZYJS000123"
    assert_settles(queried, want)

    reversed_ = await his.ok("2305", {"data": {"psn_no": his.person.psn_no, "mdtrt_id": his.mdtrt_id,
                                               "setl_id": setlinfo["setl_id"]}}, inf_time="2026-03-10 10:00:00")
    assert_reverses(settled, reversed_)
    cum = await his.ok("5206", {"data": {"psn_no": his.person.psn_no, "cum_ym": "202603"}})
    assert all(row["cum"] == 0 for row in cum["cuminfo"])  # as if never settled

    again = await his.ok("2304", {"data": his.settlement(want["medfee_sumamt"], medins_setl_id="ZYJS000124")})
    assert_settles(again, want)
    assert again["setlinfo"]["medins_setl_id"] == "ZYJS000124"


def assert_reverses(settled: dict[str, Any], reversal: dict[str, Any]) -> None:
    """Every field the settlement carried, amounts negated; its own setl_id and time, and init_setl_id."""
    original, undone = settled["setlinfo"], reversal["setlinfo"]
    assert undone["init_setl_id"] == original["setl_id"]
    assert set(undone) == set(original) | {"init_setl_id"}
    for key, value in original.items():
        if key in ("setl_id", "setl_time"):
            continue
        assert undone[key] == (-value if isinstance(value, Decimal) else value), key
    assert undone["age"] == original["age"] and undone["med_type"] == original["med_type"] == "21"
    assert_identities(undone)
    rows = {row["fund_pay_type"]: row for row in settled["setldetail"]}
    assert {row["fund_pay_type"] for row in reversal["setldetail"]} == set(rows)
    for row in reversal["setldetail"]:
        first = rows[row["fund_pay_type"]]
        assert row["fund_payamt"] == -first["fund_payamt"] and row["inscp_scp_amt"] == -first["inscp_scp_amt"]
        assert row["fund_pay_type_name"] == first["fund_pay_type_name"]


async def test_a_line_beyond_the_tolerance_is_refused_by_name(served: Served) -> None:
    his = CSharpHis(served, PERSONS["poor2"])
    his.mdtrt_id = (await his.ok("2401", his.admission(), inf_time="2026-03-01 08:00:00"))["result"]["mdtrt_id"]
    line = his.fee_line(7, Line("A", "7", "1.235"), 2)
    line["det_item_fee_sumamt"] = "8.66"  # 0.015 from 7 × 1.235 = 8.645
    answer = await his.call("2301", {"feedetail": [line]})
    assert answer["infcode"] == -1 and answer["output"] is None
    message = answer["err_msg"]
    assert message.startswith("[HG1003]") and "input.feedetail[0].det_item_fee_sumamt" in message
    for words in ("明细 7 ", "8.66", "7×1.235=8.645", "0.01"):  # the line, both figures, the tolerance
        assert words in message, (words, message)
    line["det_item_fee_sumamt"] = "8.655"  # within 0.01, but a line amount has two decimals
    assert (await his.call("2301", {"feedetail": [line]}))["err_msg"].startswith("[HG1003]")
    line["det_item_fee_sumamt"] = "8.6500"  # half up, the other rounding: within the tolerance too
    assert (await his.ok("2301", {"feedetail": [line]}))["result"][0]["det_item_fee_sumamt"] == Decimal("8.65")


class JavaHunanHis(CSharpHis):
    """The Hunan client: national envelope, 2303/2304 flat under input, amounts as JSON numbers (BigDecimal)."""

    def dumps(self, document: dict[str, Any]) -> bytes:
        text: str = simplejson.dumps(document, use_decimal=True, ensure_ascii=False)
        return text.encode("utf-8")

    async def hunan(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = await self.call(infno, payload)
        assert type(answer["infcode"]) is str  # the client reads "0".equals(infcode)
        return answer


async def test_the_hunan_client_settles_flat_and_reads_infcode_as_a_string(served: Served) -> None:
    his = JavaHunanHis(served, PERSONS["poor3"], endpoint=HUNAN)
    admitted = await his.hunan("2401", his.admission())
    assert admitted["infcode"] == "0"
    his.mdtrt_id = admitted["output"]["result"]["mdtrt_id"]
    lines = [his.fee_line(sn, line, 2) for sn, line in enumerate(LINES, 1)]
    for line in lines:  # BigDecimal amounts: JSON numbers
        line["det_item_fee_sumamt"] = Decimal(line["det_item_fee_sumamt"])
        line["cnt"], line["pric"] = Decimal(line["cnt"]), Decimal(line["pric"])
    uploaded = await his.hunan("2301", {"feedetail": lines})
    assert uploaded["infcode"] == "0"
    assert [row["det_item_fee_sumamt"] for row in uploaded["output"]["result"]] == [ln.amount for ln in LINES]

    want = expected_figures(LINES)
    flat = {"mdtrt_id": his.mdtrt_id, "psn_no": his.person.psn_no, "mdtrt_cert_type": "02",
            "mdtrt_cert_no": his.person.certno, "medfee_sumamt": "20000.00", "psn_setlway": "01",
            "insutype": "390", "acct_used_flag": "0", "mid_setl_flag": "0", "invono": ""}
    trial = await his.hunan("2303", flat)
    assert trial["infcode"] == "0" and trial["err_msg"] is None
    assert_settles(trial["output"], want)
    settled = await his.hunan("2304", {**flat, "medins_setl_id": "HN-JS-0001"})
    assert settled["infcode"] == "0"
    assert_settles(settled["output"], want)
    assert settled["output"]["setlinfo"]["medins_setl_id"] == "HN-JS-0001"
    twice = await his.hunan("2304", flat)
    assert twice["infcode"] == "-1" and twice["err_msg"].startswith("[HG3004]") and twice["output"] is None
    nested = await his.hunan("2304", {"data": flat})  # the national shape is not this dialect's
    assert nested["infcode"] == "-1" and nested["err_msg"].startswith("[HG1002]")

