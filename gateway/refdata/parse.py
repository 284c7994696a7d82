"""Validating reference-data rows into records. All rows are checked; any problem rejects the import."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from gateway.canonical.refdata import (
    CATALOGUE_CLASSES,
    CLASS_B,
    FEE_CATEGORIES,
    SCHEMES,
    UNINSURED_REASONS,
    CatalogueItem,
    Hospital,
    IdentityAttribute,
    Person,
)
from gateway.county.claim_records import AGENCY_CLAIMANT
from gateway.errors import GatewayError, InvalidIdentity, InvalidValue
from gateway.money import parse_decimal
from gateway.refdata.idcard import check_certno
from gateway.refdata.read import ROW_NUMBER

T = TypeVar("T")
MAX_SHOWN = 20

# Other spellings a county export may use, mapped to the national field name.
ALIASES = {
    "name": None,  # depends on the kind, see _NAME_FIELD
    "level": "hosp_lv", "hosp_level": "hosp_lv", "area_code": "admdvs", "admdvs_code": "admdvs",
    "fee_category": "med_chrgitm_type", "category": "med_chrgitm_type", "class": "chrgitm_lv",
    "identities": "psn_idet_type", "attributes": "psn_idet_type", "idetinfo": "psn_idet_type",
    "id_number": "certno", "idcard": "certno", "insured_area": "insuplc_admdvs",
}
_NAME_FIELD = {"hospitals": "fixmedins_name", "catalogue": "med_list_name", "identities": "name",
               "persons": "psn_name"}
_CLASS_WORDS = {"甲": "01", "乙": "02", "丙": "03", "1": "01", "2": "02", "3": "03", "01": "01", "02": "02",
                "03": "03"}


class RefdataRejected(InvalidValue):
    """An import with problems; nothing of it was written."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "；".join(self.problems[:MAX_SHOWN])
        more = f"；另有{len(self.problems) - MAX_SHOWN}处" if len(self.problems) > MAX_SHOWN else ""
        super().__init__(f"{len(self.problems)}处问题，未导入任何数据：{shown}{more}")


class _Row:
    def __init__(self, raw: Mapping[str, object], kind: str) -> None:
        self.number = raw.get(ROW_NUMBER, "?")
        self.values: dict[str, object] = {}
        for key, value in raw.items():
            if key == ROW_NUMBER:
                continue
            name = key.strip()
            name = _NAME_FIELD[kind] if name == "name" else (ALIASES.get(name) or name)
            self.values[name] = value

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise InvalidValue("必填", field=key)
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidValue("应为文本", field=key)
        return str(value).strip()


def _parse_all(rows: Iterable[Mapping[str, object]], kind: str, parse: Callable[[_Row], T],
               key: Callable[[T], Iterable[str]]) -> list[T]:
    records: list[T] = []
    problems: list[str] = []
    seen: dict[str, object] = {}
    for raw in rows:
        row = _Row(raw, kind)
        try:
            record = parse(row)
        except GatewayError as exc:
            problems.append(f"第{row.number}行 [{exc.field or '-'}]: {exc.detail or exc.title}")
            continue
        duplicate = next((value for value in key(record) if value in seen), None)
        if duplicate is not None:
            problems.append(f"第{row.number}行: {duplicate} 与第{seen[duplicate]}行重复")
            continue
        seen.update(dict.fromkeys(key(record), row.number))
        records.append(record)
    if problems:
        raise RefdataRejected(problems)
    return records


def parse_hospitals(rows: Iterable[Mapping[str, object]]) -> list[Hospital]:
    def parse(row: _Row) -> Hospital:
        level = row.text("hosp_lv")
        if level not in ("1", "2", "3"):
            raise InvalidValue(f"医院等级应为 1、2 或 3，而不是 {level!r}", field="hosp_lv")
        if row.text("fixmedins_code").upper() == AGENCY_CLAIMANT:  # the agency window's claimant, never a hospital
            raise InvalidValue(f"{AGENCY_CLAIMANT} 是经办窗口申报单的代码，不能用作医院编号", field="fixmedins_code")
        return Hospital(row.text("fixmedins_code"), row.text("fixmedins_name"), int(level), _area(row, "admdvs"))

    return _parse_all(rows, "hospitals", parse, lambda h: [h.fixmedins_code])


def parse_catalogue(rows: Iterable[Mapping[str, object]]) -> list[CatalogueItem]:
    def parse(row: _Row) -> CatalogueItem:
        category = row.text("med_chrgitm_type").zfill(2)
        if category not in FEE_CATEGORIES:
            raise InvalidValue(f"收费项目类别 {category!r} 不在国家代码表 01–14 中", field="med_chrgitm_type")
        level = _CLASS_WORDS.get(row.text("chrgitm_lv").rstrip("类"))
        if level is None:
            raise InvalidValue("收费项目等级应为 01/02/03（甲/乙/丙）", field="chrgitm_lv")
        raw_prop = row.values.get("selfpay_prop")
        prop = Decimal(0)
        if raw_prop not in (None, ""):
            try:
                prop = parse_decimal(raw_prop, places=4)
            except ValueError as exc:
                raise InvalidValue(str(exc), field="selfpay_prop") from exc
        if prop > 1:
            raise InvalidValue("先行自付比例应在 0 到 1 之间", field="selfpay_prop")
        if level != CLASS_B and prop:
            raise InvalidValue(f"{CATALOGUE_CLASSES[level]}项目的先行自付比例应为 0", field="selfpay_prop")
        return CatalogueItem(row.text("med_list_codg"), row.text("med_list_name"), category, level, prop)

    return _parse_all(rows, "catalogue", parse, lambda c: [c.med_list_codg])


def parse_identity_attributes(rows: Iterable[Mapping[str, object]]) -> list[IdentityAttribute]:
    def parse(row: _Row) -> IdentityAttribute:
        return IdentityAttribute(row.text("code"), row.text("name"), row.text("type_code"), row.text("type_name"))

    return _parse_all(rows, "identities", parse, lambda a: [a.code])


def parse_persons(rows: Iterable[Mapping[str, object]], attributes: Mapping[str, IdentityAttribute],
                  holder: Callable[[str], str | None] = lambda _certno: None) -> list[Person]:
    """`holder(certno)` is the psn_no of the person already loaded with that ID number: a row without psn_no
    updates that person (a re-sent row replaces it), and a row naming another psn_no for it is refused."""

    def parse(row: _Row) -> Person:
        info = check_certno(row.text("certno"))
        given, held_by = row.text("psn_no", required=False), holder(info.certno)
        if given and held_by and given != held_by:
            raise InvalidValue(f"该身份证号已属于人员 {held_by}，不能再登记为 {given}", field="certno")
        gend = row.text("gend", required=False, default=info.gend)
        if gend != info.gend:
            raise InvalidValue(f"性别 {gend} 与身份证号不符", field="gend")
        brdy = row.text("brdy", required=False)
        if brdy and _date(brdy) != info.birth_date:
            raise InvalidValue(f"出生日期 {brdy} 与身份证号不符", field="brdy")
        insutype = row.text("insutype", required=False, default="390")
        if insutype not in SCHEMES:
            raise InvalidValue(f"险种类型应为 {'/'.join(SCHEMES)}", field="insutype")
        reason = row.text("uninsured_reason", required=False)
        if reason and reason not in UNINSURED_REASONS:
            raise InvalidValue(f"未参保原因 {reason!r} 不在代码表 0001–0007 中", field="uninsured_reason")
        return Person(
            psn_no=given or held_by or derived_psn_no(info.certno), certno=info.certno,
            psn_name=row.text("psn_name"), gend=gend, brdy=info.birth_date, naty=row.text("naty", required=False,
                                                                                         default="01"),
            insutype=insutype, insuplc_admdvs=_area(row, "insuplc_admdvs"),
            identities=_identities(row.values.get("psn_idet_type"), attributes), insured=not reason,
            uninsured_reason=reason or None, emp_name=row.text("emp_name", required=False),
        )

    return _parse_all(rows, "persons", parse, lambda p: [p.psn_no, p.certno])


def certnos_named(rows: Iterable[Mapping[str, object]]) -> list[str]:
    """The ID numbers the rows name, as parse_persons will read them (aliases, x → X), unchecked: what to look up
    in the store before parsing."""
    named = (_Row(raw, "persons").values.get("certno") for raw in rows)
    return [str(value).strip().upper() for value in named
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip()]


def derived_psn_no(certno: str) -> str:
    """A stable person number that does not reveal the ID number, so a re-import finds the same person."""
    return "P" + hashlib.sha256(certno.encode("ascii")).hexdigest()[:15].upper()


def _identities(value: object, attributes: Mapping[str, IdentityAttribute]) -> tuple[str, ...]:
    if value is None or value == "":
        codes: list[str] = []
    elif isinstance(value, str):
        codes = [c.strip() for c in value.replace("|", ",").replace(";", ",").split(",") if c.strip()]
    elif isinstance(value, list):
        codes = []
        for item in value:
            code = item.get("psn_idet_type") if isinstance(item, Mapping) else item
            if not isinstance(code, str):
                raise InvalidValue("身份属性应为编码字符串", field="psn_idet_type")
            codes.append(code.strip())
    else:
        raise InvalidValue("身份属性应为编码列表", field="psn_idet_type")
    by_type: dict[str, str] = {}
    for code in codes:
        attribute = attributes.get(code)
        if attribute is None:
            raise InvalidValue(f"身份属性 {code} 不在本县身份属性目录中", field="psn_idet_type")
        other = by_type.get(attribute.type_code)
        if other is not None and other != code:
            raise InvalidIdentity(f"{other} 与 {code} 同属「{attribute.type_name}」，同类属性只能有一个",
                                  field="psn_idet_type")
        by_type[attribute.type_code] = code
    return tuple(dict.fromkeys(codes))


def _area(row: _Row, key: str) -> str:
    area = row.text(key)
    if not (area.isdigit() and len(area) == 6):
        raise InvalidValue(f"行政区划代码应为6位数字，而不是 {area!r}", field=key)
    return area


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text if "-" in text else f"{text[:4]}-{text[4:6]}-{text[6:8]}")
    except ValueError as exc:
        raise InvalidValue(f"日期不合法: {text!r}", field="brdy") from exc
