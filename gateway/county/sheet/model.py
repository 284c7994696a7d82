"""The one-stop settlement sheet as frozen values: Hunan 附件3 《城乡居民医疗费用"一站式"结算单》 and the NCMS
cross-province sheet (《城乡居民基本医疗保险（新农合）跨省就医结报住院费用结算单》). Every box of the seed's
layout is a field; a box the ledger knows nothing of (户主姓名, the bank account, signatures) is an empty
string, left for the pen. Renderers (render.py) only lay these out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from gateway.county.sheet.capitals import capitals


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in figures and in Chinese capitals."""

    figure: Decimal
    capital: str

    @classmethod
    def of(cls, amount: Decimal) -> Money:
        return cls(amount, capitals(amount))


@dataclass(frozen=True, slots=True)
class Issue:
    """Which print of the settlement's sheet this is, and what became of the settlement."""

    print_no: int  # 1 = the original; later ones are reprints (补打)
    printed_at: datetime  # 制表日期 of this print
    reversed: bool  # the settlement was reversed (已撤销)
    reversed_at: datetime | None
    certno_full: bool  # whoever asked may see the whole ID number
    view: bool = False  # a county reader's view, not a print: print_no is then how many the hospital made (0: none)

    @property
    def reprint(self) -> bool:
        return not self.view and self.print_no > 1

    @property
    def marks(self) -> tuple[str, ...]:
        """What the sheet must say above everything else."""
        return ((("县级查阅",) if self.view else ("补打",) if self.reprint else ())
                + (("已撤销",) if self.reversed else ()))


@dataclass(frozen=True, slots=True)
class Header:
    institution: str  # 就诊机构名称
    level: str  # 就诊机构级别: 一级 / 二级 / 三级
    document_no: str  # 单据号码: the setl_id
    made_on: date  # 制表日期


@dataclass(frozen=True, slots=True)
class Patient:
    name: str  # 患者姓名
    gender: str  # 性别
    born: str  # 出生年月, YYYY-MM
    card_no: str  # 医疗证号: the insured person's number (psn_no)
    certno: str  # 身份证号, masked unless the asker may see it whole
    age: int  # 年龄 on the settlement date
    attributes: str  # 个人属性: the identity attributes the settlement applied (Hunan 附件1 names)
    household_kind: str  # 户属性
    householder: str  # 户主姓名
    address: str  # 家庭地址
    phone: str  # 联系电话


@dataclass(frozen=True, slots=True)
class StayFacts:
    ipt_no: str  # 住院号
    department: str  # 入院科室
    bed: str  # 床位号
    admitted: date  # 入院日期
    discharged: date | None  # 出院日期
    days: int  # 住院天数 (admission and discharge day count as one when the same)
    diagnosis: str  # 诊断名称
    doctor: str  # 经治医生
    claim_kind: str  # 报销类别
    settled_at: datetime  # 报销时间
    discharge_diagnosis: str  # 出院诊断


@dataclass(frozen=True, slots=True)
class Bank:
    bank_name: str  # 开户行名称
    holder: str  # 开户人姓名
    account: str  # 银行帐号


@dataclass(frozen=True, slots=True)
class FeeRow:
    category: str  # 西药费 … 其他, 合计
    total: Money  # 总费用
    in_policy: Money  # 政策内费用


@dataclass(frozen=True, slots=True)
class FundLine:
    """One fund of the chain as the settlement recorded it (setldetail)."""

    code: str  # fund_pay_type
    name: str
    amount: Money


@dataclass(frozen=True, slots=True)
class BasicBlock:
    """城乡居民医疗保险住院报销明细: the fee table and the basic insurance's figures."""

    fees: tuple[FeeRow, ...]  # the nine categories in the seed's order; empty when the lines changed since
    fees_note: str  # why the categories are not shown, when they are not
    total: FeeRow  # 合计: 总费用 = medfee_sumamt, 政策内费用 = inscp_scp_amt
    full_selfpay: Money  # 完全政策自付费用 (全自费, fulamt_ownpay_amt)
    part_selfpay: Money  # 部分政策自付费用 (先行自付, preselfpay_amt)
    referral_selfpay: Money  # 县外就医转外自付费用
    deductible: Money  # 本次起付线 (applied, act_pay_dedc)
    deductible_before: Money  # 累计起付线(不含本次): this year's earlier settlements
    critical_deductible: Money | None  # 大病起付线 (the policy's annual line for this person); None: not covered
    accounting_office: str  # 核算机构
    accountant: str  # 核算人
    raised_amount: Money | None  # 提高10%的报销金额; None when the policy cannot say (see build.py)
    actual_ratio: Decimal  # 本次实际报销比例, percent: basic ÷ 总费用
    basic: Money  # 基本医保报销金额


@dataclass(frozen=True, slots=True)
class StayBlock:
    """本次综合医疗保障报销."""

    basic: Money  # 基本医保报销金额
    critical: Money  # 大病保险报销金额
    special: Money  # 扶贫特惠保报销金额
    assistance: Money  # 民政医疗救助金额
    civil_critical: Money  # 民政大病报销金额
    hospital: Money  # 医院减免金额
    backstop: Money  # 财政兜底报销金额
    other: Money  # 其它报销金额
    personal: Money  # 个人自付金额
    reimbursed: Money  # 合计报销金额 = 总费用 − 个人自付
    funds: tuple[FundLine, ...]  # every fund of the chain, in chain order, zero amounts included


@dataclass(frozen=True, slots=True)
class YearBlock:
    """年度综合医疗保障报销(含本次): the person's year up to and including this settlement."""

    year: int
    total: Money  # 累计医疗总费用
    in_policy: Money  # 累计政策范围内费用
    basic: Money
    critical: Money
    special: Money
    assistance: Money
    civil_critical: Money
    hospital: Money
    backstop: Money
    other: Money
    reimbursed: Money  # 累计报销总金额
    settlements: int  # how many settlements the year counts so far


@dataclass(frozen=True, slots=True)
class Signatures:
    reviewer: str  # 审核人员
    rechecker: str  # 复核人员
    handler: str  # 经办人员
    payee: str  # 领款人


@dataclass(frozen=True, slots=True)
class HunanSheet:
    """Hunan 附件3 《城乡居民医疗费用"一站式"结算单》."""

    title: str
    issue: Issue
    header: Header
    patient: Patient
    stay: StayFacts
    bank: Bank
    basic_block: BasicBlock
    this_stay: StayBlock
    year: YearBlock
    signatures: Signatures
    mdtrt_id: str
    setl_id: str


@dataclass(frozen=True, slots=True)
class CarriedLine:
    """A cross-county referral's year carried in (NCMS pilot 2018: the referral carries 累计合规费用,
    新农合累计补偿, 大病保险累计补偿), as the settlement used it."""

    issuers: str  # 转出地: the partner gateways whose records it used
    cmpl_fee: Money  # 转入累计合规费用
    basic: Money  # 转入基本农合累计补偿
    critical: Money  # 转入大病累计补偿
    critical_year_base: Money  # 大病累计可补费用: the year's cumulative critical base, both counties, this stay in


@dataclass(frozen=True, slots=True)
class NcmsSheet:
    """The NCMS cross-province pilot's 跨省就医结报住院费用结算单, with 起付线 and 封顶线 shown."""

    title: str
    issue: Issue
    patient_name: str  # 患者姓名
    certno: str  # 身份证号
    age: int  # 年龄
    institution: str  # 医疗机构名称
    ipt_no: str  # 住院号
    diagnosis: str  # 主要诊断
    admitted: date  # 入院日期
    discharged: date | None  # 出院日期
    days: int  # 住院天数
    settled_on: date  # 结账日期
    fees: tuple[FeeRow, ...]  # the sheet's fourteen items (床位费 … 其他住院费); in_policy as on Hunan's
    fees_note: str
    total: Money  # 总费用
    basic_base: Money  # 基本农合可补费用: what basic insurance worked on
    basic: Money  # 基本农合补偿费用
    basic_year: Money  # 基本农合累计补偿 (this year, this stay and what a referral carried in included)
    critical_base: Money  # 大病可补费用: this stay's compliant self-pay, added to the year's critical base
    critical: Money  # 大病补偿费用
    paid_direct: Money  # 直报金额 (every fund at the window, the hospital's reduction included)
    personal: Money  # 自付金额
    deductible_line: Money | None  # 基本农合起付线 (the policy's line for this stay)
    annual_cap: Money | None  # 基本农合封顶线; None: no cap
    address: str  # 患者地址
    phone: str  # 联系电话
    hospital_clerk: str  # 医院经办人
    clerk_department: str  # 医疗机构经办科室
    signed_on: date  # 日期
    funds: tuple[FundLine, ...]
    mdtrt_id: str
    setl_id: str
    carried: CarriedLine | None = None  # a cross-county referral's year carried in; None: none


Sheet = HunanSheet | NcmsSheet
