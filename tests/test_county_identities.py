"""Identity lists over real HTTP and a real SQLite file: a 民政 list of 10,000 rows in GBK CSV and in .xlsx gives
the diff the test built it to give (counted per kind), its uploader cannot apply it, a 审核 operator does, and
the audit trail shows both; an attribute removed on a date changes the settlement of a stay admitted after it
and not of one admitted before; the monthly 应保尽保、未保有因 comparison as JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

import gateway
from tests.county_support import county_gateway, iso7064_check, valid_certno
from tests.support import PERSONS, Journey, ok, person_rows
from tests.support import TestPerson as Insured

IDENTITIES_CSV = Path(gateway.__file__).parent / "data" / "demo" / "identities.csv"

AS_OF = "2026-07-01"


def numbers(area: str = "430521") -> Iterator[str]:
    """Distinct valid ID numbers (see valid_certno), born on successive days from 1950."""
    day = 0
    while True:
        birth = f"19{50 + day // 336:02d}{day // 28 % 12 + 1:02d}{day % 28 + 1:02d}"
        for seq in range(1, 1000):
            number = valid_certno(area, birth, seq)
            if number:
                yield number
        day += 1


def broken_check(number: str) -> str:
    """The same number with a check character that is wrong under any reading of the standard."""
    wrong = next(c for c in "0123456789X" if c not in (number[17], iso7064_check(number[:16] + "0")))
    return number[:17] + wrong


class Plan:
    """The registry and the list, built so that each kind's count is known by construction."""

    def __init__(self) -> None:
        ids = numbers()
        self.registry: list[dict[str, Any]] = []
        self.rows: list[tuple[str, str, str]] = []  # (certno, name, attribute as written)
        self.expected = {"new": 2000, "changed": 2000, "unchanged": 3000, "removed": 500, "conflicting": 400,
                         "invalid": 500, "unknown": 1800, "duplicate": 300}

        def person(n: int, attributes: str) -> str:
            certno = next(ids)
            self.registry.append({"psn_no": f"M{n:06d}", "certno": certno, "psn_name": f"民{n}",
                                  "insuplc_admdvs": "430521", "psn_idet_type": attributes})
            return certno

        n = 0
        for _ in range(3000):  # holds 农村低保 0003 and the list says so: unchanged (written by name)
            self.rows.append((person(n := n + 1, "0003"), f"民{n}", "农村低保人员"))
        self.unchanged = self.rows[0][0]
        for _ in range(2000):  # 城镇低保 0002 → 0003: changed
            self.rows.append((person(n := n + 1, "0002"), f"民{n}", "0003"))
        self.changed = self.rows[-1][0]
        for _ in range(2000):  # registered poor 0001 (扶贫办's type, untouched) and now 特困 0004: new
            self.rows.append((person(n := n + 1, "0001"), f"民{n}", "0004"))
        self.new = self.rows[-1][0]
        self.removed = [person(n := n + 1, "0005") for _ in range(500)]  # 兜底 0005, not on the list: removed
        for _ in range(1500):  # ordinary insured, not on the list: nothing to say
            person(n := n + 1, "")
        for _ in range(200):  # listed twice with two 民政 attributes (single-select type): conflicting, 2 rows each
            certno = person(n := n + 1, "")
            self.rows += [(certno, f"民{n}", "0002"), (certno, f"民{n}", "0003")]
        for _ in range(1800):  # valid numbers the insured registry does not know
            self.rows.append((next(ids), "未登记", "0003"))
        for row in self.rows[:300]:  # the same person and attribute again
            self.rows.append(row)
        for _ in range(300):  # invalid: a wrong check character
            self.rows.append((broken_check(next(ids)), "错号", "0003"))
        for k in range(100):  # invalid: 31 February
            body = f"43052119800231{k % 9 + 1:02d}1"
            self.rows.append((body + iso7064_check(body), "错日", "0003"))
        for k in range(100):  # invalid: 0001 is 扶贫办's to say, not 民政's
            self.rows.append((self.rows[k][0], "错属性", "0001"))
        assert len(self.rows) == 10_000

    def gbk_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["序号", "乡镇", "姓名", "公民身份号码", "救助类别"])
        for k, (certno, name, attribute) in enumerate(self.rows, start=1):
            writer.writerow([k, "城关镇", name, certno, attribute])
        return out.getvalue().encode("gbk")

    def xlsx(self, path: Path) -> bytes:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("民政名单")
        sheet.append(["身份证号", "姓名", "属性"])
        for certno, name, attribute in self.rows:
            sheet.append([certno, name, attribute])
        book.save(path)
        return path.read_bytes()


async def test_a_list_of_10000_rows_in_gbk_csv_and_xlsx(tmp_path: Path) -> None:
    plan = Plan()
    async with county_gateway(tmp_path, signed=True, persons=plan.registry) as county:
        uploads = {}
        for name, data in (("minzheng.csv", plan.gbk_csv()), ("minzheng.xlsx", plan.xlsx(tmp_path / "m.xlsx"))):
            status, body = await county.call("POST", f"/county/v1/identities/imports?source=民政&as_of={AS_OF}"
                                             f"&filename={name}", "jingban1", data=data)
            assert status == 201, body
            assert body["counts"] == plan.expected, name
            uploads[name] = body["import_id"]
        csv_id, xlsx_id = uploads["minzheng.csv"], uploads["minzheng.xlsx"]

        status, body = await county.call("GET", f"/county/v1/identities/imports/{xlsx_id}?kind=invalid&limit=1000",
                                         "duzhe1")
        reasons = {row["reason"] for row in body["rows"]}
        assert {"身份证号无效：校验位错误", "身份证号无效：出生日期 19800231 不存在"} <= reasons
        assert any("不由民政确定" in reason for reason in reasons)
        assert body["matching"] == 500 and all(row["line"] for row in body["rows"])

        # nothing changed yet; the uploader may not apply, nor may a reader; a 审核 operator does
        status, body = await county.call("POST", f"/county/v1/identities/imports/{xlsx_id}/apply", "jingban1",
                                         json={})
        assert status == 403, body
        status, body = await county.call("POST", f"/county/v1/identities/imports/{xlsx_id}/apply", "duzhe1",
                                         json={})
        assert status == 403, body
        status, body = await county.call("POST", f"/county/v1/identities/imports/{xlsx_id}/apply", "shenhe1",
                                         json={}, headers={"X-Request-Id": "apply-minzheng-1"})
        assert status == 200, body
        assert body["applied"] == plan.expected["new"] + plan.expected["changed"] + plan.expected["removed"]
        # the CSV's diff was made against the registry before: stale now, and it can still be refused
        status, body = await county.call("POST", f"/county/v1/identities/imports/{csv_id}/apply", "shenhe2",
                                         json={})
        assert status == 409, body
        status, body = await county.call("POST", f"/county/v1/identities/imports/{csv_id}/refuse", "fuhe1",
                                         json={"note": "重复上传"})
        assert status == 200 and body["state"] == "refused"

        by_certno = {row["certno"]: row["psn_no"] for row in plan.registry}
        for certno, held, periods in (
                (plan.changed, ["0003"], [("0002", "1900-01-01", AS_OF), ("0003", AS_OF, None)]),
                (plan.new, ["0001", "0004"], [("0004", AS_OF, None)]),
                (plan.removed[0], [], [("0005", "1900-01-01", AS_OF)]),
                (plan.unchanged, ["0003"], [])):
            status, body = await county.call("GET", f"/county/v1/identities/persons/{by_certno[certno]}/history",
                                             "shenhe2")
            assert body["identities"] == held
            assert [(p["code"], p["valid_from"], p["valid_to"]) for p in body["periods"]] == periods

        status, body = await county.call("GET", "/county/v1/audit?action=identities.", "duzhe1")
        trail = [(e["action"], e["operator"], e["subject"], "refused" in e["after"]) for e in body["entries"]]
        path = f"/county/v1/identities/imports/{xlsx_id}/apply"
        assert trail == [("identities.refuse", "fuhe1", f"import:{csv_id}", False),
                         ("identities.apply", "shenhe1", f"import:{xlsx_id}", False),
                         ("identities.apply", "duzhe1", path, True),  # attempts refused are on the record too
                         ("identities.apply", "jingban1", path, True),
                         ("identities.upload", "jingban1", f"import:{xlsx_id}", False),
                         ("identities.upload", "jingban1", f"import:{csv_id}", False)]
        assert "不能应用名单差异" in body["entries"][3]["after"]["refused"]
        applied = body["entries"][1]
        assert applied["request_id"] == "apply-minzheng-1"
        assert (applied["before"]["state"], applied["after"]["state"]) == ("pending", "applied")
        changes = {c["psn_no"]: (c["before"], c["after"]) for c in applied["after"]["changes"]}
        assert changes[by_certno[plan.changed]] == (["0002"], ["0003"])
        assert len(changes) == 4500


async def test_an_attribute_removed_on_a_date_and_the_monthly_comparison(tmp_path: Path) -> None:
    ids = numbers()
    rural = Insured("MZ0001", next(ids), "0003")
    stranger = next(ids)
    registry = [*person_rows(), {"psn_no": rural.psn_no, "certno": rural.certno, "psn_name": "农村低保户",
                                 "insuplc_admdvs": "430521", "psn_idet_type": "0003"}]
    async with county_gateway(tmp_path, signed=False, persons=registry) as county:
        # 民政's list of 1 June: the rural 低保 person is gone; the urban one, an uninsured (0005 参加职工医保)
        # person and a stranger to the registry are on it
        rows = [("城镇低保", PERSONS["urban_dibao"].certno, "0002"), ("未参保", PERSONS["uninsured"].certno, "0002"),
                ("陌生人", stranger, "0003")]
        text = "姓名,身份证号,属性\n" + "".join(f"{n},{c},{a}\n" for n, c, a in rows)
        status, body = await county.call("POST", "/county/v1/identities/imports?source=minzheng&as_of=2026-06-01",
                                         "jingban1", data=text.encode("utf-8"))
        assert status == 201, body
        # removed: every registry holder of a 民政 attribute (0002–0005) not on the list
        gone = [p for p in registry if {"0002", "0003", "0004", "0005"} & set(p["psn_idet_type"].split(","))
                and p["certno"] not in {c for _, c, _ in rows}]
        assert [p["psn_no"] for p in gone] == ["TP0003", "TP0004", "TP0005", "TP0007", "MZ0001"]
        assert body["counts"]["removed"] == len(gone) and body["counts"]["unknown"] == 1
        status, body = await county.call("POST", f"/county/v1/identities/imports/{body['import_id']}/apply",
                                         "jingban1", json={})
        assert status == 403  # the uploader, even on a gateway without credentials
        status, body = await county.call("GET", "/county/v1/audit?subject=import:1", "duzhe1")
        assert [(e["action"], e["operator"], e["after"].get("refused", "")) for e in body["entries"]] == [
            ("identities.apply", "jingban1", "jingban1 提交的变更须由他人审核（提交人不能审批自己的变更）"),
            ("identities.upload", "jingban1", "")]
        status, body = await county.call("POST", "/county/v1/identities/imports/1/apply", "shenhe1", json={})
        assert status == 200, body

        async def stay(admitted: str, discharged: str) -> dict[str, Any]:
            journey = Journey(county.his_client(), rural)
            ok(await journey.admit(f"{admitted} 08:00:00"))
            ok(await journey.upload(journey.line("A", "14500"), journey.line("B10", "4000"), journey.line("C", "1500")))
            ok(await journey.discharge(f"{discharged} 09:00:00"))
            return ok(await journey.settle("20000"))

        # admitted 20 May (still 0003) and discharged after the removal: poor basic (18,100 − 250) × 85% =
        # 15,172.50; compliant 2,927.50 below critical's 7,500; assistance 80% = 2,342.00
        before = await stay("2026-05-20", "2026-06-10")
        # admitted 15 June: ordinary, (18,100 − 500) × 75% = 13,200.00; no assistance
        after = await stay("2026-06-15", "2026-06-20")
        paid = [{d["fund_pay_type"]: Decimal(str(d["fund_payamt"])) for d in a["setldetail"]} for a in (before, after)]
        assert (paid[0]["390100"], paid[0]["610100"]) == (Decimal("15172.50"), Decimal("2342.00"))
        assert paid[1]["390100"] == Decimal("13200.00") and "610100" not in paid[1]
        with sqlite3.connect(tmp_path / "hisgw.sqlite") as conn:  # each settlement names what it applied
            used = [json.loads(conn.execute("SELECT figures FROM settlements WHERE setl_id = ?",
                                            (a["setlinfo"]["setl_id"],)).fetchone()[0])["attributes"]
                    for a in (before, after)]
        assert used == [["0003"], []]
        # The sheets print what each settlement applied, not what the person holds today.
        names = {r["code"]: r["name"] for r in csv.DictReader(io.StringIO(IDENTITIES_CSV.read_text("utf-8")))}
        for answer, shown in ((before, names["0003"]), (after, "普通参保人员")):
            async with county.session.get(f"{county.url}/sheet/v1/{answer['setlinfo']['setl_id']}.json") as sheet:
                assert sheet.status == 200
                assert (await sheet.json())["patient"]["attributes"] == shown

        status, report = await county.call("GET", "/county/v1/coverage?month=2026-06", "caiwu1")
        assert status == 200, report
        assert (report["on_lists"], report["insured"], report["uninsured_without_reason"]) == (3, 1, 1)
        assert report["uninsured_with_reason"]["0005"] == {"name": "参加职工医保", "persons": 1}
        assert sum(r["persons"] for r in report["uninsured_with_reason"].values()) == 1
        status, text = await county.call("GET", "/county/v1/coverage?month=2026-06&format=csv", "caiwu1")
        lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert lines[0] == ["身份证号", "姓名", "名单来源", "身份属性", "参保状态", "未参保原因编码", "未参保原因"]
        assert sorted((line[0], line[4], line[5]) for line in lines[1:]) == sorted([
            (PERSONS["uninsured"].certno, "未保有因", "0005"), (stranger, "未参保登记", "")])
        status, report = await county.call("GET", "/county/v1/coverage?month=2026-05", "caiwu1")
        assert report["on_lists"] == 0  # the list is dated 1 June
