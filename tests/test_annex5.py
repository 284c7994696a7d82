"""附件5 statistics: every cell against sums the test makes itself from the answers the hospitals received."""

from __future__ import annotations

import csv
import io
import random
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from gateway.canonical import calls as c
from gateway.canonical.answers import AdmissionAnswer, Answer, ReversalAnswer, SettlementAnswer
from gateway.county.annex5 import numbered_columns
from gateway.county.period import month
from gateway.county.reports import annex5_of
from gateway.service.dispatch import handle
from tests.support import COUNTY, OTHER_AREA, PERSONS, Journey, Served, ok
from tests.test_settlement_properties import Hospital, lines_strategy, service

# The seed's columns per side, written out: which fund codes each 报销 pair of columns sums.
FUND_CODES = [{"390100", "310100"}, {"390200", "330100"}, {"620100"}, {"610100"}, {"630100"}, {"640100"}]
YUAN_PER_WAN = Decimal(10000)
MARCH = month("2026-03")
IN_MARCH = datetime(2026, 3, 15, 10, 0)
INSURED = [key for key, p in PERSONS.items() if not p.uninsured_reason]


class Booked:
    """What a hospital was told: a settlement's funds and total, or that it was reversed, and when."""

    def __init__(self, psn_no: str, area: str, in_county: bool, at: datetime, medfee: Decimal,
                 funds: list[tuple[str, Decimal]], sign: int) -> None:
        self.psn_no, self.area, self.in_county, self.at = psn_no, area, in_county, at
        self.medfee, self.funds, self.sign = medfee, funds, sign


def paid(b: Booked, codes: set[str] | None) -> Decimal:
    """What the funds of one column paid in b; None: the 其它 column, every fund no other column names."""
    named = set().union(*FUND_CODES)
    return sum((a for code, a in b.funds if (code in codes if codes else code not in named)), Decimal(0))


def expected_columns(booked: list[Booked], area: str | None, period_start: datetime,
                     period_end: datetime) -> list[Any]:
    """Columns 2–35 in yuan for one 统筹区 (None: every area), written straight from the seed's definitions."""
    columns: list[Any] = []
    for in_county in (True, False):
        rows = [b for b in booked if (area is None or b.area == area) and b.in_county == in_county
                and period_start <= b.at < period_end]
        per_person: dict[str, int] = defaultdict(int)
        for b in rows:
            per_person[b.psn_no] += b.sign
        columns.append(sum(1 for n in per_person.values() if n > 0))
        columns.append(sum((b.sign * b.medfee for b in rows), Decimal(0)))
        columns.append(sum((b.sign * amount for b in rows for _code, amount in b.funds), Decimal(0)))
        for codes in [*FUND_CODES, None]:
            columns.append(sum(b.sign for b in rows if paid(b, codes) > 0))
            columns.append(sum((b.sign * paid(b, codes) for b in rows), Decimal(0)))
    return columns


def yuan_columns(row: Any) -> list[Any]:
    return numbered_columns(row, wan=False)[1:]


# --- a property over the real service and a real SQLite file --------------------------------------------------

def area_of(psn_key: str) -> str:
    return PERSONS[psn_key].area


class ClockedHospital(Hospital):
    """A hospital whose HIS clock (inf_time) the test sets: the date each settlement is booked on."""

    at = IN_MARCH

    def __call__(self, body: c.Transaction) -> Answer:
        self.serial += 1
        ctx = c.CallContext(msgid=f"{self.code}-{self.serial}", infno="", fixmedins_code=self.code, inf_time=self.at)
        with self.deps.store.transaction():
            return handle(self.deps, c.Call(ctx, body))


@settings(max_examples=25, deadline=None)
@given(stays=st.lists(st.tuples(st.sampled_from(INSURED), st.sampled_from(["T1", "T2", "T3", "TX"]), lines_strategy,
                                st.sampled_from([-40, -2, 0, 3, 20]), st.booleans(), st.integers(0, 30)),
                      min_size=1, max_size=6))
def test_every_cell_is_the_sum_of_what_hospitals_were_told(
        stays: list[tuple[str, str, list[tuple[str, Decimal]], int, bool, int]]) -> None:
    """Settlements inside and outside March, reversals inside and after it, in and out of county."""
    with service() as deps:
        booked: list[Booked] = []
        for person_key, hospital, lines, day_offset, reverse, reverse_after in stays:
            person = PERSONS[person_key]
            at = IN_MARCH + timedelta(days=day_offset)
            call = ClockedHospital(deps, hospital)
            admitted = call(c.Admission(psn_no=person.psn_no, insutype=person.insutype, begntime=at - timedelta(5)))
            assert isinstance(admitted, AdmissionAnswer)
            call(c.FeeUpload(admitted.mdtrt_id, person.psn_no, tuple(
                c.FeeLine(feedetl_sn=str(i), mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, med_list_codg=code,
                          cnt=Decimal(1), pric=amount, det_item_fee_sumamt=amount, fee_ocur_time=at)
                for i, (code, amount) in enumerate(lines))))
            call.at = at
            answer = call(c.Settle(mdtrt_id=admitted.mdtrt_id, psn_no=person.psn_no, trial=False))
            assert isinstance(answer, SettlementAnswer)
            funds = [(p.fund_pay_type, p.fund_payamt) for p in answer.figures.payments]
            in_county = deps.store.stay(admitted.mdtrt_id).in_county  # type: ignore[union-attr]
            booked.append(Booked(person.psn_no, area_of(person_key), in_county, at,
                                 answer.figures.totals.medfee_sumamt, funds, +1))
            if reverse:
                call.at = at + timedelta(days=reverse_after)
                reversal = call(c.SettleReverse(setl_id=answer.setl_id, mdtrt_id=admitted.mdtrt_id,
                                                psn_no=person.psn_no))
                assert isinstance(reversal, ReversalAnswer)
                booked.append(Booked(person.psn_no, area_of(person_key), in_county, call.at,
                                     answer.figures.totals.medfee_sumamt, funds, -1))
        table = annex5_of(deps.store, MARCH)
        start, end = MARCH.bounds()
        assert yuan_columns(table.total) == expected_columns(booked, None, start, end)
        areas = sorted({b.area for b in booked if start <= b.at < end})
        assert [row.area for row in table.rows] == areas
        for row in table.rows:
            assert yuan_columns(row) == expected_columns(booked, row.area, start, end)
        # 报销总金额 is what the patients did not pay: 医疗总费用 − their own part, side by side.
        for side in (table.total.in_county, table.total.out_of_county):
            assert side.reimbursed == sum((f.amount for f in side.funds), Decimal(0))


# --- over HTTP, in every format, as a county reader downloads it ------------------------------------------------

async def month_of_traffic(served: Served) -> list[Booked]:
    rng = random.Random(20260301)
    booked: list[Booked] = []
    hospitals = {"T1": COUNTY, "T2": COUNTY, "T3": COUNTY, "TX": OTHER_AREA}  # where each one is
    for serial in range(14):
        person_key = rng.choice(["poor", "tekun", "rural_dibao", "ordinary", "poor_elsewhere", "poor2", "employee"])
        hospital = rng.choice(sorted(hospitals))
        person = PERSONS[person_key]
        at = datetime(2026, 3, 1 + serial * 2, 11, 0) if serial < 13 else datetime(2026, 4, 2, 9, 0)
        journey = Journey(served.his(hospital), person)
        ok(await journey.admit(f"{at - timedelta(days=4):%Y-%m-%d %H:%M:%S}", ipt_no=f"Z{serial}"))
        lines = [journey.line(code, f"{rng.randint(100, 900000) / 100:.2f}") for code in ("A", "B10", "C")]
        ok(await journey.upload(*lines))
        medfee = sum((Decimal(str(line["det_item_fee_sumamt"])) for line in lines), Decimal(0))
        out = ok(await journey.settle(medfee, inf_time=at))
        funds = [(d["fund_pay_type"], Decimal(str(d["fund_payamt"]))) for d in out["setldetail"]]
        area = person.area
        in_county = hospitals[hospital] == area
        booked.append(Booked(person.psn_no, area, in_county, at, medfee, funds, +1))
        if serial % 4 == 1:  # reversed in March, or (the last of them) in April
            later = at + timedelta(days=1 if serial < 12 else 25)
            ok(await journey.reverse(out["setlinfo"]["setl_id"], inf_time=later))
            booked.append(Booked(person.psn_no, area, in_county, later, medfee, funds, -1))
    return booked


def wan(value: Any) -> Any:
    return value if isinstance(value, int) else (value / YUAN_PER_WAN).quantize(Decimal("0.000001"))


async def test_march_in_every_format(served: Served, tmp_path: Path) -> None:
    booked = await month_of_traffic(served)
    start, end = MARCH.bounds()
    assert any(not b.in_county for b in booked) and any(b.sign < 0 for b in booked)
    expected = {area: [area, *(wan(v) for v in expected_columns(booked, area, start, end))]
                for area in (COUNTY, OTHER_AREA)}
    expected["合计"] = ["合计", *(wan(v) for v in expected_columns(booked, None, start, end))]
    url = f"{served.url}/county/v1/reports/annex5?month=2026-03"

    async with served.session.get(f"{url}&format=json&unit_name=测试县医保局") as response:
        assert response.status == 200
        document = await response.json()
    assert document["unit"] == "万元" and len(document["column_titles"]) == 35
    got = {row["area"]: [row["columns"][0], *(v if isinstance(v, int) else Decimal(v) for v in row["columns"][1:])]
           for row in [*document["rows"], document["total"]]}
    assert got == expected

    async with served.session.get(f"{url}&format=csv") as response:
        text = (await response.read()).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][4] == "县域内·基本医保·报销人次"
    assert {line[0]: [line[0], *(int(v) if v.lstrip("-").isdigit() else Decimal(v) for v in line[1:])]
            for line in lines[1:]} == expected

    async with served.session.get(f"{url}&format=xlsx") as response:
        (tmp_path / "annex5.xlsx").write_bytes(await response.read())
    sheet = load_workbook(tmp_path / "annex5.xlsx").active
    assert sheet is not None
    numbers = [cell.value for cell in sheet[7]][:35]
    assert numbers == [str(n) for n in range(1, 36)]  # the seed's numbered header row
    for line in sheet.iter_rows(min_row=8, values_only=True):
        row = expected[str(line[0])]
        assert [line[0], *(v if isinstance(v, int) else Decimal(str(v)) for v in line[1:35])] == row

    async with served.session.get(f"{url}&format=html") as response:
        page = await response.text()
    assert "湖南省城乡居民" in page and "扶贫特惠保" in page and f">{expected['合计'][2]}<" in page

    if shutil.which("pdftotext"):  # the PDF as a person reads it: the title, and every figure of the 合计 row
        async with served.session.get(f"{url}&format=pdf") as response:
            assert response.headers["Content-Type"] == "application/pdf"
            (tmp_path / "annex5.pdf").write_bytes(await response.read())
        text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "annex5.pdf"), "-"], capture_output=True,
                              check=True, text=True).stdout
        assert "一站式" in text and "统计表" in text
        total_line = next(line for line in text.splitlines() if line.strip().startswith("合计"))
        assert total_line.split()[1:] == [str(v) for v in expected["合计"][1:]]

    async with served.session.get(f"{served.url}/county/v1/reports/annex5?month=2026-13") as response:
        assert response.status == 400
        assert (await response.json())["code"] == "HG1003"


def test_the_cli_writes_the_same_table(tmp_path: Path) -> None:
    """`hisgw report annex5` over a store file: an empty month has zero rows and a zero total."""
    out = tmp_path / "march.csv"
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "--db", str(tmp_path / "hisgw.sqlite"), "report",
                           "annex5", "--month", "2026-03", "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(lines) == 2 and lines[1][0] == "合计"
    assert all(Decimal(v) == 0 for v in lines[1][1:])
