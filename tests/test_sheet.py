"""The one-stop settlement sheet (Hunan 附件3, the NCMS cross-province sheet): the DOMAIN.md worked example's
sheet with its arithmetic written out, over real HTTP on a real gateway; its PDF read back with pdftotext and
drawn with pdftoppm (the PNG is kept under var/artifacts/); reprints say 补打, reversed settlements 已撤销; a
hospital never gets another hospital's sheet. Capitals are checked against a conversion written here."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import simplejson
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.app import build_app, build_gateway
from gateway.auth.credentials import load_credentials
from gateway.auth.signature import Authenticator, signed_headers
from gateway.county.sheet.model import Money
from gateway.settings import Settings
from simulators.nhsa_client import NhsaClient
from tests.conftest import DIALECTS
from tests.support import CATALOGUE, HOSPITALS, PERSONS, Journey, Served, failed, ok, person_rows
from tests.test_auth import ADMIN, CREDENTIALS, READER

ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "artifacts"
D = Decimal

# Extra catalogue items so the worked example's 甲 and 乙 amounts spread over the sheet's categories.
CATEGORY_ITEMS = [
    {"med_list_codg": code, "med_list_name": name, "med_chrgitm_type": kind, "chrgitm_lv": level, "selfpay_prop": prop}
    for code, name, kind, level, prop in (("BED", "床位", "01", "01", "0"), ("OPS", "手术", "06", "01", "0"),
                                          ("LAB", "化验", "04", "01", "0"), ("NUR", "护理", "07", "01", "0"),
                                          ("TCM", "中成药", "11", "02", "0.10"))
]


# ---- an independent conversion to capitals (the convention of DOMAIN.md, written without cn2an) ----------

DIGITS = "零壹贰叁肆伍陆柒捌玖"


def yuan_capitals(n: int) -> set[str]:
    """The integer part, every form the convention allows: a run of zeros is one 零, and when the run ends in
    the 万 (or 亿) place before a non-zero 千, 零 may be written or left out (1,301,000: 壹佰叁拾万[零]壹仟)."""
    if n == 0:
        return {"零"}
    text = str(n)
    forms = {""}
    run: list[int] = []  # places of the zeros since the last non-zero digit
    for i, ch in enumerate(text):
        place = len(text) - 1 - i
        if ch == "0":
            run.append(place)
        else:
            digit = DIGITS[int(ch)] + ("", "拾", "佰", "仟")[place % 4]
            if not run:
                forms = {f + digit for f in forms}
            elif run[-1] % 4 == 0:  # the zeros end in the 万 (亿) place
                forms = {f + z + digit for f in forms for z in ("零", "")}
            else:
                forms = {f + "零" + digit for f in forms}
            run = []
        if place % 4 == 0 and place and int(text[max(0, i - 3):i + 1]):
            forms = {f + ("", "万", "亿")[place // 4] for f in forms}
    return forms


def expected_capitals(amount: Decimal) -> set[str]:
    """Every way the convention (DOMAIN.md) writes the amount: 整 after 元 alone, none after 分; 0 in the 元
    place before a non-zero 角 written 零 or not; a 0 角 before a non-zero 分 is 零; under a yuan, from 角 or 分."""
    fen = int(amount * 100)
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    integer = yuan_capitals(yuan)
    if not jiao and not cents:
        return {f"{form}元整" for form in integer}
    tail = (f"{DIGITS[jiao]}角" if jiao else "零") + (f"{DIGITS[cents]}分" if cents else "")
    if not yuan:
        return {tail.removeprefix("零")}
    zeros = ("零", "") if jiao and yuan % 10 == 0 else ("",)
    return {f"{form}元{zero}{tail}" for form in integer for zero in zeros}


def test_the_independent_conversion_knows_the_documents_examples() -> None:
    """The test's own converter gives what DOMAIN.md and the brief write."""
    assert expected_capitals(D("15172.50")) == {"壹万伍仟壹佰柒拾贰元伍角"}
    assert expected_capitals(D("0")) == {"零元整"}
    assert expected_capitals(D("1409.50")) == {"壹仟肆佰零玖元伍角"}
    assert expected_capitals(D("1680.32")) == {"壹仟陆佰捌拾元叁角贰分", "壹仟陆佰捌拾元零叁角贰分"}
    assert expected_capitals(D("100100.00")) == {"壹拾万零壹佰元整"}
    assert expected_capitals(D("1301000.00")) == {"壹佰叁拾万壹仟元整", "壹佰叁拾万零壹仟元整"}
    assert expected_capitals(D("10.01")) == {"壹拾元零壹分"}
    assert expected_capitals(D("0.50")) == {"伍角"}
    assert expected_capitals(D("0.05")) == {"伍分"}


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999_999))
def test_capitals_match_an_independent_conversion(fen: int) -> None:
    """Every amount up to a billion yuan, in capitals as cn2an writes them, equals the conversion written here."""
    amount = (D(fen) / 100).quantize(D("0.01"))
    assert Money.of(amount).capital in expected_capitals(amount)


# ---- the worked example over HTTP ---------------------------------------------------------------------------

async def load_categories(served: Served) -> None:
    async with served.session.post(f"{served.url}/county/v1/catalogue", json={"data": CATEGORY_ITEMS}) as response:
        assert response.status == 200, await response.text()


async def worked_example(his: NhsaClient, person: str = "poor") -> tuple[Journey, str]:
    """0001, level-2 county hospital, in county: 甲 14,500 (西药 8,000, 床位 1,500, 手术 3,000, 化验 1,200,
    护理 800); 乙 4,000 at 10% (西药 2,500, 中成药 1,500); 丙 1,500 (卫生材料)."""
    journey = Journey(his, PERSONS[person])
    ok(await journey.admit(ipt_no="ZY-0001", adm_bed="12", chfpdr_name="王医生"))
    ok(await journey.upload(journey.line("A", "8000"), journey.line("BED", "1500"), journey.line("OPS", "3000"),
                            journey.line("LAB", "1200"), journey.line("NUR", "800"), journey.line("B10", "2500"),
                            journey.line("TCM", "1500"), journey.line("C", "1500")))
    ok(await journey.discharge("2026-03-10 09:00:00"))
    setl_id = ok(await journey.settle("20000.00"))["setlinfo"]["setl_id"]
    return journey, setl_id


async def get(served: Served, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    async with served.session.get(f"{served.url}{path}", headers=headers or {}) as response:
        return response.status, await response.read()


async def sheet_json(served: Served, setl_id: str, query: str = "") -> dict[str, Any]:
    status, body = await get(served, f"/sheet/v1/{setl_id}.json{query}")
    assert status == 200, body
    document: dict[str, Any] = simplejson.loads(body, use_decimal=True)
    return document


def figure(box: dict[str, Any]) -> Decimal:
    value: Decimal = box["figure"]
    return value


def assert_money(box: dict[str, Any], amount: str) -> None:
    assert figure(box) == D(amount), (box, amount)
    assert box["capital"] in expected_capitals(D(amount)), box


async def test_the_worked_examples_sheet(served: Served) -> None:
    """Every box of 附件3 for DOMAIN.md's worked example, each figure from its arithmetic."""
    await load_categories(served)
    _journey, setl_id = await worked_example(served.his("T2"))
    sheet = await sheet_json(served, setl_id)

    assert sheet["sheet_type"] == "hunan" and sheet["marks"] == []
    assert sheet["title"] == "示范县城乡居民医疗费用“一站式”结算单"
    header = sheet["header"]
    assert (header["institution"], header["level"], header["document_no"]) == ("测试县人民医院", "二级", setl_id)
    patient = sheet["patient"]
    person = PERSONS["poor"]
    assert (patient["name"], patient["gender"], patient["born"], patient["card_no"]) == (
        "测试poor", "男", "1960-01", person.psn_no)  # sequence 011: odd, male
    assert patient["certno"] == person.certno[:6] + "********" + person.certno[-4:]  # masked: nobody signed
    assert patient["age"] == 66  # born 1960-01-01, settled in 2026
    assert patient["attributes"] == "建档立卡贫困人口"
    stay = sheet["stay"]
    assert (stay["ipt_no"], stay["department"], stay["bed"], stay["doctor"]) == ("ZY-0001", "内科", "12", "王医生")
    assert (stay["admitted"], stay["discharged"], stay["days"]) == ("2026-03-01", "2026-03-10", 9)
    assert (stay["diagnosis"], stay["discharge_diagnosis"]) == ("肺炎", "肺炎")
    assert stay["claim_kind"] == "普通住院（县域内）"

    basic = sheet["basic_block"]
    rows = {row["category"]: (figure(row["total"]), figure(row["in_policy"])) for row in basic["fees"]}
    assert list(rows) == ["西药费", "中药费", "诊疗费", "检查费", "手术费", "化验费", "床位费", "护理费", "其他"]
    assert rows == {
        "西药费": (D("10500.00"), D("10250.00")),  # 8,000 甲 + 2,500 乙; in policy 8,000 + 2,500 × 0.9
        "中药费": (D("1500.00"), D("1350.00")),  # 中成药 乙: 1,500 × 0.9
        "诊疗费": (D("0.00"), D("0.00")), "检查费": (D("0.00"), D("0.00")),
        "手术费": (D("3000.00"), D("3000.00")), "化验费": (D("1200.00"), D("1200.00")),
        "床位费": (D("1500.00"), D("1500.00")), "护理费": (D("800.00"), D("800.00")),
        "其他": (D("1500.00"), D("0.00")),  # 丙 卫生材料: 全自费
    }
    assert_money(basic["total"]["total"], "20000.00")
    assert_money(basic["total"]["in_policy"], "18100.00")  # 20,000 − 1,500 − 400
    assert_money(basic["full_selfpay"], "1500.00")
    assert_money(basic["part_selfpay"], "400.00")  # (2,500 + 1,500) × 10%
    assert_money(basic["referral_selfpay"], "0.00")  # in county
    assert_money(basic["deductible"], "250.00")  # level 2: 500, halved for the poor
    assert_money(basic["deductible_before"], "0.00")  # the year's first stay
    assert_money(basic["critical_deductible"], "7500.00")  # 15,000 halved for the poor
    assert_money(basic["raised_amount"], "1785.00")  # (18,100 − 250) × (85% − 75%)
    assert basic["actual_ratio"] == D("75.86")  # 15,172.50 / 20,000 = 75.8625%
    assert_money(basic["basic"], "15172.50")  # (18,100 − 250) × 85%
    assert basic["basic"]["capital"] == "壹万伍仟壹佰柒拾贰元伍角"
    assert basic["accounting_office"] == "测试县人民医院"

    this = sheet["this_stay"]
    assert_money(this["basic"], "15172.50")
    assert_money(this["critical"], "0.00")  # compliant 2,927.50 < 7,500
    assert_money(this["special"], "1463.75")  # 50% × 2,927.50
    assert_money(this["assistance"], "1171.00")  # 80% × 1,463.75
    assert_money(this["civil_critical"], "0.00")
    assert_money(this["hospital"], "0.00")  # max(0, 1,500 − 2,000)
    assert_money(this["backstop"], "192.75")  # 2,192.75 − 2,000
    assert_money(this["other"], "0.00")
    assert_money(this["personal"], "2000.00")
    assert_money(this["reimbursed"], "18000.00")  # 20,000 − 2,000
    assert this["reimbursed"]["capital"] == "壹万捌仟元整"
    assert [(f["code"], figure(f["amount"])) for f in this["funds"]] == [
        ("390100", D("15172.50")), ("390200", D("0.00")), ("620100", D("1463.75")), ("610100", D("1171.00")),
        ("630100", D("0.00")), ("640100", D("192.75"))]

    year = sheet["year"]
    assert (year["year"], year["settlements"]) == (2026, 1)
    for key, amount in (("total", "20000.00"), ("in_policy", "18100.00"), ("basic", "15172.50"),
                        ("critical", "0.00"), ("special", "1463.75"), ("assistance", "1171.00"),
                        ("hospital", "0.00"), ("backstop", "192.75"), ("reimbursed", "18000.00")):
        assert_money(year[key], amount)
    assert sheet["issue"]["print_no"] == 1 and not sheet["issue"]["reversed"]


async def test_the_year_block_and_earlier_deductibles_follow_the_persons_year(served: Served) -> None:
    """A second stay's sheet counts the first's deductible and adds both stays; it equals the accumulators
    (5206), and the first stay's reprint still shows the year as it stood at the first settlement."""
    await load_categories(served)
    his = served.his("T2")
    _first, first_id = await worked_example(his)
    second = Journey(his, PERSONS["poor"])
    ok(await second.admit("2026-04-01 08:00:00"))
    ok(await second.upload(second.line("A", "1000")))
    ok(await second.discharge("2026-04-03 09:00:00"))
    second_id = ok(await second.settle("1000.00"))["setlinfo"]["setl_id"]
    sheet = await sheet_json(served, second_id)
    basic = sheet["basic_block"]
    assert_money(basic["deductible"], "250.00")
    assert_money(basic["deductible_before"], "250.00")  # the first stay's
    this = sheet["this_stay"]
    assert_money(this["basic"], "637.50")  # (1,000 − 250) × 85%
    assert_money(this["special"], "181.25")  # 50% × 362.50
    assert_money(this["assistance"], "145.00")  # 80% × 181.25
    assert_money(this["personal"], "36.25")  # 1,000 − 637.50 − 181.25 − 145.00; backstop 0 (≤ 10% of 1,000)
    year = sheet["year"]
    assert year["settlements"] == 2
    assert_money(year["total"], "21000.00")
    assert_money(year["in_policy"], "19100.00")
    assert_money(year["basic"], "15810.00")  # 15,172.50 + 637.50
    assert_money(year["special"], "1645.00")  # 1,463.75 + 181.25
    assert_money(year["assistance"], "1316.00")  # 1,171.00 + 145.00
    assert_money(year["backstop"], "192.75")
    assert_money(year["reimbursed"], "18963.75")  # 18,000 + 963.75
    cum = ok(await his.call("5206", {"data": {"psn_no": PERSONS["poor"].psn_no, "cum_ym": "2026"}}))["cuminfo"]
    paid = {row["cum_type_code"]: row["cum"] for row in cum}
    assert (paid["390100"], paid["620100"], paid["610100"], paid["640100"]) == (
        figure(year["basic"]), figure(year["special"]), figure(year["assistance"]), figure(year["backstop"]))
    first = await sheet_json(served, first_id)
    assert first["year"]["settlements"] == 1 and figure(first["year"]["basic"]) == D("15172.50")
    assert first["marks"] == []  # its first print, made after the second stay's


async def test_reprint_says_so_and_a_reversed_settlement_says_it_is_reversed(served: Served, tmp_path: Path) -> None:
    """The second fetch of a sheet is 补打 (HTML, JSON); after 2305 the sheet says 已撤销 and keeps its figures."""
    await load_categories(served)
    journey, setl_id = await worked_example(served.his("T2"))
    status, page = await get(served, f"/sheet/v1/{setl_id}.html")
    assert status == 200 and "补打" not in page.decode() and "已撤销" not in page.decode()
    again = await sheet_json(served, setl_id)
    assert again["marks"] == ["补打"] and again["issue"]["print_no"] == 2
    ok(await journey.reverse(setl_id))
    status, page = await get(served, f"/sheet/v1/{setl_id}.html")
    text = page.decode()
    assert status == 200 and "补打" in text and "已撤销" in text and "本结算已撤销" in text
    reversed_sheet = await sheet_json(served, setl_id)
    assert reversed_sheet["marks"] == ["补打", "已撤销"] and reversed_sheet["issue"]["reversed_at"]
    assert_money(reversed_sheet["this_stay"]["reimbursed"], "18000.00")  # as settled
    status, _ = await get(served, "/sheet/v1/20990101000000.json")
    assert status == 404


async def test_a_reversed_settlement_keeps_its_sheet_when_the_stay_is_settled_anew(served: Served) -> None:
    """Reversed, its lines revoked and others uploaded, the stay settled again: the old sheet keeps its settled
    totals and the categories it was settled with (kept with the settlement), in both layouts and on every
    reprint; the new one's year no longer counts it."""
    await load_categories(served)
    journey, old_id = await worked_example(served.his("T2"))
    ok(await journey.reverse(old_id))
    ok(await served.his("T2").call("2302", {"data": [{"feedetl_sn": "0000", "mdtrt_id": journey.mdtrt_id,
                                                        "psn_no": PERSONS["poor"].psn_no}]}))
    ok(await journey.upload(journey.line("A", "1000")))
    new_id = ok(await journey.settle("1000.00"))["setlinfo"]["setl_id"]
    old = await sheet_json(served, old_id)
    assert old["marks"] == ["已撤销"] and old["basic_block"]["fees_note"] == ""
    assert_money(old["basic_block"]["total"]["total"], "20000.00")
    # the worked example's lines by category: 西药 8,000 + 2,500 (乙, 90% in policy), 中药 1,500 (乙) ...
    hunan = {row["category"]: (figure(row["total"]), figure(row["in_policy"])) for row in old["basic_block"]["fees"]}
    assert hunan == {"西药费": (D("10500.00"), D("10250.00")), "中药费": (D("1500.00"), D("1350.00")),
                     "诊疗费": (D("0.00"), D("0.00")), "检查费": (D("0.00"), D("0.00")),
                     "手术费": (D("3000.00"), D("3000.00")), "化验费": (D("1200.00"), D("1200.00")),
                     "床位费": (D("1500.00"), D("1500.00")), "护理费": (D("800.00"), D("800.00")),
                     "其他": (D("1500.00"), D("0.00"))}
    assert sum(t for t, _ in hunan.values()) == D("20000.00")
    reprint = await sheet_json(served, old_id, "?sheet_type=ncms")
    ncms = {row["category"]: figure(row["total"]) for row in reprint["fees"]}
    assert ncms["西药费"] == D("10500.00") and ncms["中成药费"] == D("1500.00") and sum(ncms.values()) == D("20000.00")
    assert_money(old["this_stay"]["basic"], "15172.50")
    new = await sheet_json(served, new_id)
    assert new["marks"] == [] and new["year"]["settlements"] == 1
    assert_money(new["basic_block"]["deductible_before"], "0.00")  # the reversed stay's 250 no longer counts
    assert_money(new["year"]["basic"], "637.50")  # (1,000 − 250) × 85%, alone in the year
    assert figure(new["basic_block"]["fees"][0]["total"]) == D("1000.00")  # 西药费


@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                    reason="poppler-utils (.ci/run installs it)")
async def test_the_pdf_carries_the_figures_and_capitals_and_is_drawn(served: Served, tmp_path: Path) -> None:
    """pdftotext reads the worked example's figures and capitals out of the PDF; pdftoppm draws page 1 (kept in
    var/artifacts/sheet-worked-example.png to look at)."""
    await load_categories(served)
    _journey, setl_id = await worked_example(served.his("T2"))
    status, data = await get(served, f"/sheet/v1/{setl_id}.pdf")
    assert status == 200 and data.startswith(b"%PDF")
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout
    for expected in ("城乡居民医疗费用“一站式”结算单", "测试县人民医院", setl_id, "建档立卡贫困人口", "20,000.00",
                     "18,100.00", "15,172.50", "1,463.75", "1,171.00", "192.75", "2,000.00", "18,000.00", "1,785.00",
                     "75.86%", "7,500.00", "壹万伍仟壹佰柒拾贰元伍角", "壹万捌仟元整", "贰仟元整"):
        assert expected in text, expected
    assert "补打" not in text
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-singlefile", str(pdf), str(tmp_path / "page")],
                   check=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "page.png", ARTIFACTS / "sheet-worked-example.png")
    assert (tmp_path / "page.png").stat().st_size > 20_000  # a drawn page, not a blank one


async def test_the_ncms_sheet_shows_deductible_and_cap(served: Served) -> None:
    """The NCMS cross-province layout: its fourteen items, 起付线 250 and 封顶线 150,000 from the policy."""
    await load_categories(served)
    _journey, setl_id = await worked_example(served.his("T2"))
    sheet = await sheet_json(served, setl_id, "?sheet_type=ncms")
    assert sheet["sheet_type"] == "ncms"
    items = {row["category"]: figure(row["total"]) for row in sheet["fees"]}
    assert len(items) == 14 and items["西药费"] == D("10500.00") and items["中成药费"] == D("1500.00")
    assert items["卫生材料费"] == D("1500.00") and items["床位费"] == D("1500.00")
    assert_money(sheet["deductible_line"], "250.00")
    assert_money(sheet["annual_cap"], "150000.00")
    assert_money(sheet["basic_base"], "18100.00")  # in county: no referral self-pay
    assert_money(sheet["basic"], "15172.50")
    assert_money(sheet["basic_year"], "15172.50")
    assert_money(sheet["critical_base"], "2927.50")  # 18,100 − 15,172.50: what entered the critical base
    assert_money(sheet["paid_direct"], "18000.00")
    assert_money(sheet["personal"], "2000.00")
    status, page = await get(served, f"/sheet/v1/{setl_id}.html?sheet_type=ncms")
    assert status == 200 and "基本农合封顶线" in page.decode() and "150,000.00" in page.decode()
    status, body = await get(served, f"/sheet/v1/{setl_id}.json?sheet_type=nope")
    assert status == 400 and b"HG1003" in body


async def test_the_national_trade_answers_the_sheet_and_its_files(served: Served) -> None:
    """5998 answers the sheet's JSON and its HTML as base64, and URLs that show that same print (not a reprint)
    as HTML and PDF; a retry under the same msgid is the same print."""
    await load_categories(served)
    his = served.his("T2")
    _journey, setl_id = await worked_example(his)
    request = {"data": {"setl_id": setl_id, "psn_no": PERSONS["poor"].psn_no, "file_type": "html"}}
    answer = await his.call("5998", request, msgid="T2-SHEET-0001")
    output = ok(answer)
    assert output["sheet"]["header"]["document_no"] == setl_id and output["print_no"] == 1
    assert output["sheet"]["basic_block"]["basic"]["capital"] == "壹万伍仟壹佰柒拾贰元伍角"
    assert "壹万捌仟元整" in base64.b64decode(output["html"]).decode("utf-8")
    status, data = await get(served, output["pdf_url"])
    assert status == 200 and data.startswith(b"%PDF")
    status, page = await get(served, output["html_url"])
    assert status == 200 and "补打" not in page.decode() and "第1次打印" in page.decode()  # print 1 again
    retry = await his.call("5998", request, msgid="T2-SHEET-0001")
    assert ok(retry)["print_no"] == 1  # the first answer again, not a reprint
    plain = ok(await his.call("5998", {"data": {"setl_id": setl_id}}))
    assert plain["sheet"]["marks"] == ["补打"] and plain["print_no"] == 2 and plain["html"] is None
    status, _ = await get(served, f"/sheet/v1/{setl_id}.json?print_no=3")
    assert status == 404  # no third print yet
    failed(await his.call("5998", {"data": {"setl_id": setl_id, "file_type": "pdf"}}), "HG1003")
    failed(await his.call("5998", {"data": {"setl_id": "20990101000000"}}), "HG2005")
    # Another hospital's settlement is answered as an unknown one (its ids cannot be probed).
    failed(await served.his("T3").call("5998", {"data": {"setl_id": setl_id}}), "HG2005")


# ---- who may fetch which sheet ------------------------------------------------------------------------------

# The credentials of tests/test_auth.py: two hospitals (tif and sm3), a county admin and a reader.


@pytest.fixture
async def signed(tmp_path: Path) -> AsyncIterator[tuple[Served, Authenticator]]:
    path = tmp_path / "credentials.toml"
    path.write_text(CREDENTIALS, encoding="utf-8")
    authenticator = Authenticator(load_credentials(path))
    gateway = build_gateway(Settings(db_path=tmp_path / "hisgw.sqlite"))
    server = TestServer(build_app(gateway, lambda: DIALECTS, authenticator), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            url = str(server.make_url("")).rstrip("/")
            for kind, rows in (("hospitals", HOSPITALS), ("catalogue", CATALOGUE + CATEGORY_ITEMS),
                               ("persons", person_rows())):
                async with session.post(f"{url}/county/v1/{kind}", json={"data": rows}, headers=ADMIN) as response:
                    assert response.status == 200, await response.text()
            yield Served(url=url, session=session, gateway=gateway), authenticator
    finally:
        await server.close()
        gateway.close()


async def test_a_hospital_gets_only_its_own_sheets_and_the_county_any(signed: tuple[Served, Authenticator]) -> None:
    """Signed the national way, T2 fetches its sheet and T3 is told it does not exist (HG2005); unsigned is 401;
    a county reader sees the ID number masked, an admin whole."""
    served, authenticator = signed
    credential = {c.fixmedins_code: c for c in authenticator.credentials.hospitals.values()}
    his = NhsaClient(served.session, served.url, "T2", credential=credential["T2"])
    _journey, setl_id = await worked_example(his)
    path = f"/sheet/v1/{setl_id}.json"
    status, body = await get(served, path, signed_headers(credential["T2"], b""))
    assert status == 200, body
    status, body = await get(served, path, signed_headers(credential["T3"], b""))
    assert status == 404 and b"HG2005" in body  # another hospital's: as if unknown
    status, body = await get(served, path)
    assert status == 401 and b"HG4002" in body
    status, body = await get(served, path, {"Authorization": "Bearer wrong-token-000000"})
    assert status == 401
    certno = PERSONS["poor"].certno
    status, body = await get(served, path, READER)
    assert status == 200 and certno.encode() not in body and certno[-4:].encode() in body
    status, body = await get(served, path, ADMIN)
    assert status == 200 and certno.encode() in body


async def test_prints_are_counted_per_sheet_type(served: Served) -> None:
    """The NCMS sheet printed after the Hunan one is its own original (第1次打印), its second print 补打 第2次."""
    await load_categories(served)
    _journey, setl_id = await worked_example(served.his("T2"))
    assert (await sheet_json(served, setl_id))["issue"]["print_no"] == 1  # hunan, the default
    ncms = await sheet_json(served, setl_id, "?sheet_type=ncms")
    assert ncms["marks"] == [] and ncms["issue"]["print_no"] == 1
    again = await sheet_json(served, setl_id, "?sheet_type=ncms")
    assert again["marks"] == ["补打"] and again["issue"]["print_no"] == 2
    assert (await sheet_json(served, setl_id))["issue"]["print_no"] == 2  # hunan's own second


async def test_a_county_view_is_not_a_print(signed: tuple[Served, Authenticator]) -> None:
    """A county reader and an admin look at the sheet before the hospital prints it: views, not prints; the
    hospital's first print is its original (no 补打), the county's next view says how many it made."""
    served, authenticator = signed
    credential = {c.fixmedins_code: c for c in authenticator.credentials.hospitals.values()}
    his = NhsaClient(served.session, served.url, "T2", credential=credential["T2"])
    _journey, setl_id = await worked_example(his)
    path = f"/sheet/v1/{setl_id}.json"
    for headers in (READER, ADMIN):
        status, body = await get(served, path, headers)
        view = simplejson.loads(body)
        assert status == 200 and view["issue"]["view"] and view["marks"] == ["县级查阅"]
        assert view["issue"]["print_no"] == 0
    status, body = await get(served, path, signed_headers(credential["T2"], b""))
    first = simplejson.loads(body)
    assert status == 200 and first["marks"] == [] and first["issue"]["print_no"] == 1
    status, body = await get(served, f"/sheet/v1/{setl_id}.html", READER)
    page = body.decode()
    assert status == 200 and "补打" not in page and "医院已打印1次" in page
