"""Reference data: ID numbers, file formats, aliases, and every refusal reported at once."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from gateway.canonical.refdata import IdentityAttribute
from gateway.cli import DEMO_DIR, DEMO_FILES
from gateway.errors import InvalidIdNumber
from gateway.refdata.idcard import check_certno, mask_certno, mask_name
from gateway.refdata.parse import (
    RefdataRejected,
    derived_psn_no,
    parse_catalogue,
    parse_hospitals,
    parse_identity_attributes,
    parse_persons,
)
from gateway.refdata.read import read_rows, rows_from_payload
from tests.support import certno

ATTRS = {a.code: a for a in [
    IdentityAttribute("0001", "建档立卡贫困人口", "A", "扶贫办确定的贫困人口"),
    IdentityAttribute("0002", "城镇低保人员", "B", "民政确定的贫困人口"),
    IdentityAttribute("0003", "农村低保人员", "B", "民政确定的贫困人口"),
]}


class TestIdNumbers:
    def test_valid_number_gives_birth_date_and_gender(self) -> None:
        info = check_certno(certno("19800229", "013"))
        assert info.birth_date == date(1980, 2, 29) and info.gend == "1"
        assert check_certno(certno("19800229", "024")).gend == "2"

    def test_area_code_younger_than_the_person_is_accepted(self) -> None:
        # 邵东县 430521 dates from 1983; stdnum's validate() would refuse this real pattern.
        assert check_certno(certno("19610105", "153", area="430521")).area_code == "430521"

    def test_lower_case_x(self) -> None:
        number = next(n for n in (certno("19520101", f"{s:03d}") for s in range(1, 200)) if n.endswith("X"))
        assert check_certno(number.lower()).certno == number

    @pytest.mark.parametrize(("number", "reason"), [
        ("43052119800101001", "长度"),
        ("4305211980010100AX", "数字"),
        ("430521202602300011", "出生日期"),
    ])
    def test_refused(self, number: str, reason: str) -> None:
        with pytest.raises(InvalidIdNumber, match=reason):
            check_certno(number)

    def test_wrong_check_character(self) -> None:
        good = certno("19800101", "013")
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        with pytest.raises(InvalidIdNumber, match="校验位"):
            check_certno(bad)

    def test_masking(self) -> None:
        assert mask_certno("43052119580312013X") == "430521********013X"
        assert mask_name("张三") == "张*" and mask_name("欧阳娜娜") == "欧***"


class TestFiles:
    HEADER = "psn_no,certno,psn_name,insuplc_admdvs,psn_idet_type\n"

    def row(self) -> str:
        return f"P1,{certno('19800101', '013')},张三,430521,0001\n"

    @pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
    def test_csv_encodings(self, tmp_path: Path, encoding: str) -> None:
        path = tmp_path / "persons.csv"
        path.write_bytes((self.HEADER + self.row() + "\n").encode(encoding))
        persons = parse_persons(read_rows(path), ATTRS)
        assert [(p.psn_name, p.identities) for p in persons] == [("张三", ("0001",))]

    def test_json_shapes(self, tmp_path: Path) -> None:
        row = {"certno": certno("19800101", "013"), "name": "张三", "insured_area": "430521",
               "idetinfo": [{"psn_idet_type": "0002"}, {"psn_idet_type": "0001"}]}
        for payload in ([row], {"data": [row]}, {"persons": [row]}):
            path = tmp_path / "p.json"
            path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
            (person,) = parse_persons(read_rows(path), ATTRS)
            assert person.identities == ("0002", "0001")
            assert person.psn_no == derived_psn_no(person.certno)
            assert person.certno not in person.psn_no

    def test_shipped_demo_files_parse(self) -> None:
        attributes = {a.code: a for a in parse_identity_attributes(read_rows(DEMO_DIR / DEMO_FILES["identities"]))}
        assert len(parse_hospitals(read_rows(DEMO_DIR / DEMO_FILES["hospitals"]))) == 4
        assert len(parse_catalogue(read_rows(DEMO_DIR / DEMO_FILES["catalogue"]))) >= 30
        persons = parse_persons(read_rows(DEMO_DIR / DEMO_FILES["persons"]), attributes)
        assert {p.insured for p in persons} == {True, False}


class TestRefusals:
    def test_every_problem_at_once_with_row_numbers(self) -> None:
        rows = rows_from_payload([
            {"certno": certno("19800101", "013"), "psn_name": "甲", "insuplc_admdvs": "430521"},
            {"certno": "430521198001010000", "psn_name": "乙", "insuplc_admdvs": "430521"},
            {"certno": certno("19800102", "013"), "psn_name": "丙", "insuplc_admdvs": "430521",
             "psn_idet_type": "0002,0003"},
            {"certno": certno("19800103", "013"), "psn_name": "丁", "insuplc_admdvs": "430521",
             "psn_idet_type": "0009"},
            {"certno": certno("19800104", "013"), "psn_name": "戊", "insuplc_admdvs": "430521",
             "uninsured_reason": "0099"},
            {"certno": certno("19800101", "013"), "psn_name": "甲", "insuplc_admdvs": "430521"},
            {"certno": certno("19800105", "013"), "psn_name": "己", "insuplc_admdvs": "430521", "gend": "2"},
        ])
        with pytest.raises(RefdataRejected) as caught:
            parse_persons(rows, ATTRS)
        problems = caught.value.problems
        assert [p.split(" ")[0].rstrip(":") for p in problems] == ["第2行", "第3行", "第4行", "第5行", "第6行", "第7行"]
        assert "校验位" in problems[0]
        assert "0002" in problems[1] and "0003" in problems[1] and "民政确定的贫困人口" in problems[1]
        assert "0009" in problems[2] and "0099" in problems[3] and "重复" in problems[4] and "性别" in problems[5]
        assert caught.value.code == "HG1003"

    def test_catalogue_rules(self) -> None:
        with pytest.raises(RefdataRejected) as caught:
            parse_catalogue(rows_from_payload([
                {"med_list_codg": "A", "name": "甲", "fee_category": "9", "class": "甲", "selfpay_prop": "0.1"},
                {"med_list_codg": "B", "name": "乙", "fee_category": "99", "class": "乙", "selfpay_prop": "0.1"},
                {"med_list_codg": "C", "name": "丙", "fee_category": "09", "class": "丁"},
                {"med_list_codg": "D", "name": "乙", "fee_category": "09", "class": "02", "selfpay_prop": "1.5"},
            ]))
        assert len(caught.value.problems) == 4
        (item,) = parse_catalogue(rows_from_payload([
            {"med_list_codg": "B", "name": "乙", "fee_category": "9", "class": "乙类", "selfpay_prop": "0.1"}]))
        assert (item.med_chrgitm_type, item.chrgitm_lv, str(item.selfpay_prop)) == ("09", "02", "0.1")

    def test_hospital_rules(self) -> None:
        with pytest.raises(RefdataRejected) as caught:
            parse_hospitals(rows_from_payload([{"fixmedins_code": "H", "name": "x", "level": 4, "area_code": "43"}]))
        assert len(caught.value.problems) == 1 and "hosp_lv" in caught.value.problems[0]
