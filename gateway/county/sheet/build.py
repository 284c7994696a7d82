"""Ledger rows → the sheet. Pure: every figure is one the settlement recorded (its ChainResult, the same numbers
its 2304 answer carried), summed or divided, never the chain worked again. Three boxes need the policy the
settlement was made under (its `policy_id`): 大病起付线, the NCMS 起付线/封顶线, and 提高10%的报销金额 (what the
poor's higher basic ratio added on the same base). They are read from that policy version and shown only if it
reproduces the recorded deductible, with the attributes, visit kind and catalogue exception the settlement
applied (never the person's or the recognition's state of today); otherwise (the version is gone)
they are None and the sheet leaves them blank rather than guess.

The year block is the year *as it stood at this settlement*: the person's settlement records of the year in
the order written, up to this one, a reversal taking out what it reversed. So a reprint years later shows the
figures of the original print, and for the person's latest settlement it equals the accumulators (5206).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from gateway.canonical.refdata import Hospital, IdentityAttribute, Person
from gateway.county.sheet.model import (
    Bank,
    BasicBlock,
    CarriedLine,
    FeeRow,
    FundLine,
    Header,
    HunanSheet,
    Issue,
    Money,
    NcmsSheet,
    Patient,
    Signatures,
    StayBlock,
    StayFacts,
    YearBlock,
)
from gateway.engine.policy import Fund, Policy, Rule
from gateway.engine.types import ChainResult, FundPayment
from gateway.money import ZERO, fen
from gateway.refdata.idcard import mask_certno
from gateway.referral.port import Carried
from gateway.store.records import CategorySum, SettlementRecord, StayRecord, StoredFeeLine

LEVELS = {1: "一级", 2: "二级", 3: "三级"}
GENDERS = {"1": "男", "2": "女"}
MED_TYPES = {"21": "普通住院", "22": "外伤住院", "2114": "单病种住院", "52": "生育住院"}

# The sheet's boxes by national fund code; a fund in none of them is 其它 (e.g. 370100 补充医疗保险).
BOXES: Mapping[str, str] = {
    "390100": "basic", "310100": "basic",
    "390200": "critical", "330100": "critical",
    "620100": "special",
    "610100": "assistance",
    "630100": "hospital",
    "640100": "backstop",
}
BOX_NAMES = ("basic", "critical", "special", "assistance", "civil_critical", "hospital", "backstop", "other")

# Fee categories of each layout from the national med_chrgitm_type (gateway/canonical/refdata.FEE_CATEGORIES);
# a code in no row goes to the last row (其他 / 其他住院费).
HUNAN_CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("西药费", frozenset({"09"})),
    ("中药费", frozenset({"10", "11"})),  # 中药饮片费, 中成药费
    ("诊疗费", frozenset({"02", "05", "12"})),  # 诊察费, 治疗费, 一般诊疗费
    ("检查费", frozenset({"03"})),
    ("手术费", frozenset({"06"})),
    ("化验费", frozenset({"04"})),
    ("床位费", frozenset({"01"})),
    ("护理费", frozenset({"07"})),
    ("其他", frozenset({"08", "13", "14"})),  # 卫生材料费, 挂号费, 其他费
)
NCMS_CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    ("床位费", frozenset({"01"})),
    ("诊查费", frozenset({"02"})),
    ("检查费", frozenset({"03"})),
    ("化验费", frozenset({"04"})),
    ("治疗费", frozenset({"05"})),
    ("手术费", frozenset({"06"})),
    ("护理费", frozenset({"07"})),
    ("卫生材料费", frozenset({"08"})),
    ("西药费", frozenset({"09"})),
    ("中成药费", frozenset({"11"})),
    ("中草药费", frozenset({"10"})),
    ("药事服务费", frozenset()),  # no national code of its own yet
    ("一般诊疗费", frozenset({"12"})),
    ("其他住院费", frozenset({"13", "14"})),
)
LINES_CHANGED = "本次结算撤销后费用明细已变更，分类金额不再可考；合计为结算时金额"
PERCENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class SheetSource:
    """What the ledger holds about one settlement, as read through the store's port (ledger.py)."""

    settlement: SettlementRecord
    stay: StayRecord
    person: Person
    hospital: Hospital
    attributes: Mapping[str, IdentityAttribute]  # the county's catalogue, by code
    year_records: Sequence[SettlementRecord]  # the person's settlement records of the year, in the order written
    fee_lines: Sequence[StoredFeeLine]  # the stay's lines as they are now
    policy: Policy | None  # the version the settlement was made under, when still loaded
    categories: Sequence[CategorySum] | None = None  # its lines by category at settlement (None: before schema 12)
    carried: Carried | None = None  # what it took over from partner gateways' referral records (gateway/referral)


@dataclass(frozen=True, slots=True)
class PolicyView:
    """What the policy version says about this stay; None fields when it cannot be trusted to."""

    county: str
    deductible_line: Decimal | None
    annual_cap: Decimal | None
    has_cap: bool
    applied_ratio: Decimal | None
    ordinary_ratio: Decimal | None
    critical_deductible: Decimal | None


def build_hunan(source: SheetSource, issue: Issue) -> HunanSheet:
    record, stay, person = source.settlement, source.stay, source.person
    figures = record.figures
    view = policy_view(source)
    boxes = _boxes(figures)
    basic = _payment(figures, "basic")
    raised = _raised(basic, figures, view)
    year = _year(source)
    before = _before(source)
    fees, note = fee_rows(source, HUNAN_CATEGORIES)
    totals = figures.totals
    county = view.county if source.policy is not None else ""
    return HunanSheet(
        title=f"{county}城乡居民医疗费用“一站式”结算单",
        issue=issue,
        header=Header(source.hospital.fixmedins_name, LEVELS.get(stay.hosp_lv, str(stay.hosp_lv)), record.setl_id,
                      issue.printed_at.date()),
        patient=Patient(
            name=person.psn_name, gender=GENDERS.get(person.gend, person.gend), born=f"{person.brdy:%Y-%m}",
            card_no=person.psn_no, certno=person.certno if issue.certno_full else mask_certno(person.certno),
            age=_age(person.brdy, record.setl_time.date()), attributes=_attributes(source), household_kind="",
            householder="", address="", phone="",
        ),
        stay=stay_facts(source),
        bank=Bank("", "", ""),
        basic_block=BasicBlock(
            fees=fees, fees_note=note,
            total=FeeRow("合计", Money.of(totals.medfee_sumamt), Money.of(totals.inscp_scp_amt)),
            full_selfpay=Money.of(totals.fulamt_ownpay_amt), part_selfpay=Money.of(totals.preselfpay_amt),
            referral_selfpay=Money.of(figures.referral_selfpay), deductible=Money.of(figures.act_pay_dedc),
            deductible_before=Money.of(sum((r.act_pay_dedc for r in before), ZERO)),
            critical_deductible=None if view.critical_deductible is None else Money.of(view.critical_deductible),
            accounting_office=source.hospital.fixmedins_name, accountant="",
            raised_amount=None if raised is None else Money.of(raised),
            actual_ratio=ratio(boxes["basic"], totals.medfee_sumamt),
            basic=Money.of(boxes["basic"]),
        ),
        this_stay=StayBlock(
            basic=Money.of(boxes["basic"]), critical=Money.of(boxes["critical"]), special=Money.of(boxes["special"]),
            assistance=Money.of(boxes["assistance"]), civil_critical=Money.of(boxes["civil_critical"]),
            hospital=Money.of(boxes["hospital"]), backstop=Money.of(boxes["backstop"]), other=Money.of(boxes["other"]),
            personal=Money.of(figures.psn_part_amt),
            reimbursed=Money.of(totals.medfee_sumamt - figures.psn_part_amt),
            funds=fund_lines(figures),
        ),
        year=year,
        signatures=Signatures("", "", "", ""),
        mdtrt_id=record.mdtrt_id,
        setl_id=record.setl_id,
    )


def build_ncms(source: SheetSource, issue: Issue) -> NcmsSheet:
    record, stay, person = source.settlement, source.stay, source.person
    figures = record.figures
    view = policy_view(source)
    boxes = _boxes(figures)
    basic = _payment(figures, "basic")
    facts = stay_facts(source)
    fees, note = fee_rows(source, NCMS_CATEGORIES)
    year = _year(source)
    return NcmsSheet(
        title=f"{source.hospital.fixmedins_name}城乡居民基本医疗保险（新农合）跨省就医结报住院费用结算单",
        issue=issue,
        patient_name=person.psn_name,
        certno=person.certno if issue.certno_full else mask_certno(person.certno),
        age=_age(person.brdy, record.setl_time.date()),
        institution=source.hospital.fixmedins_name,
        ipt_no=stay.ipt_no,
        diagnosis=facts.discharge_diagnosis or facts.diagnosis,
        admitted=facts.admitted, discharged=facts.discharged, days=facts.days,
        settled_on=record.setl_time.date(),
        fees=fees, fees_note=note,
        total=Money.of(figures.totals.medfee_sumamt),
        basic_base=Money.of(basic.inscp_scp_amt if basic is not None else ZERO),
        basic=Money.of(boxes["basic"]),
        basic_year=year.basic if source.carried is None else Money.of(year.basic.figure + source.carried.cum_basic_pay),
        critical_base=Money.of(_critical_base(figures)),
        critical=Money.of(boxes["critical"]),
        paid_direct=Money.of(figures.totals.medfee_sumamt - figures.psn_part_amt),
        personal=Money.of(figures.psn_part_amt),
        deductible_line=None if view.deductible_line is None else Money.of(view.deductible_line),
        annual_cap=None if view.annual_cap is None else Money.of(view.annual_cap),
        address="", phone="", hospital_clerk="", clerk_department="",
        signed_on=issue.printed_at.date(),
        funds=fund_lines(figures),
        mdtrt_id=record.mdtrt_id,
        setl_id=record.setl_id,
        carried=_carried(source),
    )


def _carried(source: SheetSource) -> CarriedLine | None:
    """The referral's line: what the partners' records carried in, and the critical-illness base it made."""
    carried, critical = source.carried, _payment(source.settlement.figures, "critical")
    if carried is None:
        return None
    return CarriedLine(
        issuers="、".join(carried.issuers), cmpl_fee=Money.of(carried.cum_cmpl_fee),
        basic=Money.of(carried.cum_basic_pay), critical=Money.of(carried.cum_crit_pay),
        critical_year_base=Money.of(critical.inscp_scp_amt if critical is not None else carried.cum_crit_base))


def policy_view(source: SheetSource) -> PolicyView:
    policy = source.policy
    empty = PolicyView(policy.county if policy else "", None, None, False, None, None, None)
    if policy is None:
        return empty
    stay, figures = source.stay, source.settlement.figures
    held = frozenset(_held(source))
    paid = {p.fund_pay_type for p in figures.payments}
    basic_fund = _fund(policy, "stay_deductible", paid)
    critical_fund = _fund(policy, "annual_segments", paid)
    # the rules the settlement matched: its attributes, visit kind and catalogue exception as it recorded them
    chosen = figures.visit, figures.catalogue_exception
    basic_rule = basic_fund.rule_for(stay.insutype, held, stay.in_county, *chosen) if basic_fund else None
    if basic_fund is None or basic_rule is None or stay.hosp_lv not in basic_rule.deductible:
        return empty
    basic = next(p for p in figures.payments if p.fund_pay_type == basic_fund.code)
    line = basic_rule.deductible[stay.hosp_lv]
    if min(line, max(basic.inscp_scp_amt, ZERO)) != figures.act_pay_dedc:
        return empty  # not the rule the settlement was made under
    ordinary = basic_fund.rule_for(stay.insutype, frozenset(), stay.in_county, *chosen)
    critical_rule = (critical_fund.rule_for(stay.insutype, held, stay.in_county, *chosen)
                     if critical_fund is not None else None)
    return PolicyView(
        county=policy.county, deductible_line=line, annual_cap=basic_rule.annual_cap,
        has_cap=basic_rule.annual_cap is not None, applied_ratio=basic_rule.ratio_by_level[stay.hosp_lv],
        ordinary_ratio=_level_ratio(ordinary, stay.hosp_lv),
        critical_deductible=critical_rule.annual_deductible if critical_rule is not None else None,
    )


def _fund(policy: Policy, kind: str, paid: set[str]) -> Fund | None:
    return next((f for f in policy.funds if f.kind == kind and f.code in paid), None)


def _level_ratio(rule: Rule | None, level: int) -> Decimal | None:
    return rule.ratio_by_level.get(level) if rule is not None else None


def _raised(basic: FundPayment | None, figures: ChainResult, view: PolicyView) -> Decimal | None:
    """提高10%的报销金额: basic's amount less what the ordinary ratio gives on the same base and deductible."""
    if basic is None:
        return ZERO
    if view.applied_ratio is None or view.ordinary_ratio is None:
        return None
    if view.applied_ratio <= view.ordinary_ratio:
        return ZERO
    ordinary = fen(max(basic.inscp_scp_amt - figures.act_pay_dedc, ZERO) * view.ordinary_ratio)
    return basic.fund_payamt - min(basic.fund_payamt, ordinary)


def ratio(part: Decimal, whole: Decimal) -> Decimal:
    """A percentage to two places, half up."""
    if not whole:
        return Decimal("0.00")
    return (part * 100 / whole).quantize(PERCENT, rounding=ROUND_HALF_UP)


def _boxes(figures: ChainResult) -> dict[str, Decimal]:
    boxes = dict.fromkeys(BOX_NAMES, ZERO)
    for payment in figures.payments:
        box = BOXES.get(payment.fund_pay_type, "other")
        boxes[box] += payment.fund_payamt
    return boxes


def _payment(figures: ChainResult, box: str) -> FundPayment | None:
    return next((p for p in figures.payments if BOXES.get(p.fund_pay_type) == box), None)


def _critical_base(figures: ChainResult) -> Decimal:
    """大病可补费用: what this stay added to the year's critical-illness base (its compliant self-pay)."""
    critical = _payment(figures, "critical")
    if critical is None:
        return ZERO
    return figures.deltas.get(f"{critical.fund_pay_type}:base", ZERO)


def fund_lines(figures: ChainResult) -> tuple[FundLine, ...]:
    return tuple(FundLine(p.fund_pay_type, p.fund_pay_type_name, Money.of(p.fund_payamt)) for p in figures.payments)


def fee_rows(source: SheetSource, layout: tuple[tuple[str, frozenset[str]], ...]) -> tuple[tuple[FeeRow, ...], str]:
    """The layout's categories from the split the settlement kept when it was made. A settlement made before
    schema 12 kept none: its stay's lines as they are now, and none (and a note) when they no longer add up to
    what was settled (a reversed settlement whose lines were changed before the stay was settled again)."""
    last = len(layout) - 1
    sums = [[ZERO, ZERO] for _ in layout]
    split = source.categories if source.categories is not None else [
        CategorySum(line.med_chrgitm_type, line.amounts.det_item_fee_sumamt, line.amounts.inscp_scp_amt)
        for line in source.fee_lines]
    for part in split:
        row = next((n for n, (_, codes) in enumerate(layout) if part.med_chrgitm_type in codes), last)
        sums[row][0] += part.total
        sums[row][1] += part.inscp
    totals = source.settlement.figures.totals
    if (sum((s[0] for s in sums), ZERO), sum((s[1] for s in sums), ZERO)) != (totals.medfee_sumamt,
                                                                             totals.inscp_scp_amt):
        return (), LINES_CHANGED
    return tuple(FeeRow(name, Money.of(total), Money.of(inscp))
                 for (name, _), (total, inscp) in zip(layout, sums, strict=True)), ""


def _effective(source: SheetSource) -> list[SettlementRecord]:
    """The year's settlements in force when this one was made, this one last."""
    this = source.settlement.setl_id
    effective: dict[str, SettlementRecord] = {}
    for record in source.year_records:
        if record.kind == "settlement":
            effective[record.setl_id] = record
        elif record.status == "valid" and record.reverses is not None:  # a reversal not itself undone (2601)
            effective.pop(record.reverses, None)
        if record.setl_id == this:
            break
    effective[this] = source.settlement  # also when the year's records do not list it (never, in one store)
    return list(effective.values())


def _before(source: SheetSource) -> list[ChainResult]:
    return [r.figures for r in _effective(source)[:-1]]


def _year(source: SheetSource) -> YearBlock:
    records = _effective(source)
    sums = dict.fromkeys(BOX_NAMES, ZERO)
    total = in_policy = personal = ZERO
    for record in records:
        for box, amount in _boxes(record.figures).items():
            sums[box] += amount
        total += record.figures.totals.medfee_sumamt
        in_policy += record.figures.totals.inscp_scp_amt
        personal += record.figures.psn_part_amt
    return YearBlock(
        year=source.settlement.year, total=Money.of(total), in_policy=Money.of(in_policy),
        basic=Money.of(sums["basic"]), critical=Money.of(sums["critical"]), special=Money.of(sums["special"]),
        assistance=Money.of(sums["assistance"]), civil_critical=Money.of(sums["civil_critical"]),
        hospital=Money.of(sums["hospital"]), backstop=Money.of(sums["backstop"]), other=Money.of(sums["other"]),
        reimbursed=Money.of(total - personal), settlements=len(records),
    )


def stay_facts(source: SheetSource) -> StayFacts:
    stay, record = source.stay, source.settlement
    admission, discharge = stay.admission, stay.discharge or {}
    admitted = stay.begntime.date()
    discharged = stay.endtime.date() if stay.endtime else None
    last = discharged or record.setl_time.date()
    return StayFacts(
        ipt_no=stay.ipt_no, department=_text(admission, "adm_dept_name"), bed=_text(admission, "adm_bed"),
        admitted=admitted, discharged=discharged, days=max(1, (last - admitted).days),
        diagnosis=_text(admission, "dise_name") or _text(admission, "adm_diag_dscr") or _main_diagnosis(admission),
        doctor=_text(admission, "chfpdr_name") or _text(admission, "atddr_no"),
        claim_kind=f"{MED_TYPES.get(stay.med_type, stay.med_type)}（{'县域内' if stay.in_county else '县域外'}）",
        settled_at=record.setl_time,
        discharge_diagnosis=_text(discharge, "dise_name") or _main_diagnosis(discharge),
    )


def _text(details: Mapping[str, object], key: str) -> str:
    value = details.get(key)
    return value.strip() if isinstance(value, str) else ""


def _main_diagnosis(details: Mapping[str, object]) -> str:
    diagnoses = details.get("diagnoses")
    if not isinstance(diagnoses, list):
        return ""
    named = [d for d in diagnoses if isinstance(d, dict) and d.get("diag_name")]
    main = next((d for d in named if d.get("maindiag_flag") == "1"), named[0] if named else None)
    return str(main["diag_name"]) if main else ""


def _held(source: SheetSource) -> tuple[str, ...]:
    """The attributes the settlement applied (valid on the stay's admission date), whatever the person holds
    now: removing an attribute never rewrites a settlement, nor its sheet."""
    return tuple(source.settlement.figures.attributes)


def _attributes(source: SheetSource) -> str:
    names = [source.attributes[c].name if c in source.attributes else c for c in _held(source)]
    return "、".join(names) if names else "普通参保人员"


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def printed_time(at: datetime) -> datetime:
    """Prints are stamped to the second."""
    return at.replace(microsecond=0)
