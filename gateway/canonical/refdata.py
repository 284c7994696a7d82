"""Reference data the county maintains: hospitals, the drug/service catalogue, identity attributes, persons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# 收费项目等级 (chrgitm_lv): the catalogue class of a fee item.
CLASS_A = "01"  # 甲类: fully covered
CLASS_B = "02"  # 乙类: covered after a first self-paid share
CLASS_C = "03"  # 丙类: not covered (全自费)
CATALOGUE_CLASSES = {CLASS_A: "甲类", CLASS_B: "乙类", CLASS_C: "丙类"}

# 医疗收费项目类别 (med_chrgitm_type), national code table.
FEE_CATEGORIES = {
    "01": "床位费", "02": "诊察费", "03": "检查费", "04": "化验费", "05": "治疗费", "06": "手术费",
    "07": "护理费", "08": "卫生材料费", "09": "西药费", "10": "中药饮片费", "11": "中成药费",
    "12": "一般诊疗费", "13": "挂号费", "14": "其他费",
}

# 险种类型 (insutype)
SCHEME_RESIDENT = "390"  # 城乡居民基本医疗保险
SCHEME_EMPLOYEE = "310"  # 职工基本医疗保险
SCHEMES = {SCHEME_RESIDENT: "城乡居民基本医疗保险", SCHEME_EMPLOYEE: "职工基本医疗保险"}

# 未参保原因 (Hunan 附件2)
UNINSURED_REASONS = {
    "0001": "户口外迁", "0002": "死亡", "0003": "参军", "0004": "服刑（外逃）",
    "0005": "参加职工医保", "0006": "学生参保", "0007": "个人缴费资金补贴不到位",
}


@dataclass(frozen=True, slots=True)
class Hospital:
    """定点医疗机构."""

    fixmedins_code: str
    fixmedins_name: str
    hosp_lv: int  # 1, 2 or 3
    admdvs: str  # 所在行政区划 (area code); in county when it equals the person's insuplc_admdvs


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """医保目录 item: a drug or a service."""

    med_list_codg: str
    med_list_name: str
    med_chrgitm_type: str  # FEE_CATEGORIES key
    chrgitm_lv: str  # CATALOGUE_CLASSES key
    selfpay_prop: Decimal  # 先行自付比例, 0 for 甲 and 丙


@dataclass(frozen=True, slots=True)
class IdentityAttribute:
    """An identity attribute (身份属性) in the county's catalogue; a person holds one per type at most."""

    code: str  # e.g. "0001"
    name: str  # e.g. "建档立卡贫困人口"
    type_code: str  # e.g. "A"
    type_name: str  # e.g. "扶贫办确定的贫困人口"


@dataclass(frozen=True, slots=True)
class Person:
    """参保人员."""

    psn_no: str
    certno: str  # 居民身份证号, checked (GB 11643 check digit and birth date)
    psn_name: str
    gend: str  # "1" male, "2" female
    brdy: date
    naty: str  # 民族 code, "01" 汉族
    insutype: str  # SCHEMES key
    insuplc_admdvs: str  # 参保地行政区划
    identities: tuple[str, ...]  # IdentityAttribute codes held
    insured: bool = True
    uninsured_reason: str | None = None  # UNINSURED_REASONS key when not insured
    emp_name: str = ""
    psn_cert_type: str = "01"  # 01 居民身份证
