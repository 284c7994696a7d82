"""What a list import must never lose (issue 23): a row it could not read never counts as its person being absent;
the names the offices really write; the header under a title row; what `identities show` prints. Over real HTTP,
a real SQLite file and files as the offices send them (GBK CSV, .xlsx written by openpyxl)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from tests.county_support import County, county_gateway
from tests.support import PERSONS
from tests.test_county_identities import broken_check


def gbk_csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode("gbk")


async def upload(county: County, source: str, data: bytes, filename: str = "list.csv") -> dict[str, Any]:
    status, body = await county.call("POST", f"/county/v1/identities/imports?source={source}&as_of=2026-07-01"
                                     f"&filename={filename}", "jingban1", data=data)
    assert status == 201, body
    return body


async def diff_rows(county: County, import_id: int) -> list[dict[str, Any]]:
    status, body = await county.call("GET", f"/county/v1/identities/imports/{import_id}?limit=1000", "duzhe1")
    assert status == 200, body
    return list(body["rows"])


async def held(county: County, psn_no: str) -> list[str]:
    status, body = await county.call("GET", f"/county/v1/identities/persons/{psn_no}/history", "duzhe1")
    assert status == 200, body
    return list(body["identities"])


async def test_a_row_that_could_not_be_read_never_removes_its_person(tmp_path: Path) -> None:
    # 民政 holders in the registry (tests/support.PERSONS): TP0002 0002, TP0003 0003, TP0004 0004, TP0005 0005,
    # TP0007 0001+0004. The list: TP0002 under a category no catalogue knows (line 2), TP0003 as it is (line 3),
    # TP0004 by name with a mistyped ID number (line 4); TP0005 and TP0007 are not on it.
    data = gbk_csv(["姓名", "身份证号", "救助类别"], [
        ["测试urban_dibao", PERSONS["urban_dibao"].certno, "城市低保边缘户"],
        ["测试rural_dibao", PERSONS["rural_dibao"].certno, "农村低保人员"],
        ["测试tekun", broken_check(PERSONS["tekun"].certno), "特困人员"]])
    async with county_gateway(tmp_path, signed=True) as county:
        body = await upload(county, "民政", data)
        rows = await diff_rows(county, body["import_id"])
        by_person = {(r["kind"], r["psn_no"]): r for r in rows}
        assert sorted(by_person) == [("invalid", ""), ("invalid", "TP0002"), ("removed", "TP0005"),
                                     ("removed", "TP0007"), ("unchanged", "TP0003"), ("unread", "TP0004")]
        unknown = by_person[("invalid", "TP0002")]
        assert (unknown["line"], unknown["label"], unknown["before"], unknown["after"]) == (2, "未读入", ["0002"],
                                                                                            ["0002"])
        assert "未知的身份属性 '城市低保边缘户'" in unknown["reason"]
        mistyped = by_person[("unread", "TP0004")]
        assert (mistyped["line"], mistyped["label"], mistyped["before"], mistyped["after"]) == (
            4, "未读入（可能是此人）", ["0004"], ["0004"])
        assert body["counts"]["removed"] == 2 and body["counts"]["invalid"] == 2 and body["counts"]["unread"] == 1

        status, answer = await county.call("POST", f"/county/v1/identities/imports/{body['import_id']}/apply",
                                           "shenhe1", json={})
        assert status == 200 and answer["applied"] == 2, answer  # the two removed, nothing else
        assert [await held(county, p) for p in ("TP0002", "TP0003", "TP0004", "TP0005", "TP0007")] == [
            ["0002"], ["0003"], ["0004"], [], ["0001"]]
        # the persons on unread rows stay on 民政's list for the monthly comparison: TP0002, TP0003, TP0004
        status, report = await county.call("GET", "/county/v1/coverage?month=2026-07", "caiwu1")
        assert status == 200 and report["on_lists"] == 3, report
