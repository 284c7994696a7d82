"""Settlement at the county agency's window (Hunan 三(二)3): a poor person treated outside the county.

Two modes, both entered by a 经办 operator from the out-of-county hospital's papers:
- `basic_settled` 出院已完成基本医保结算: the stay's totals by fee category and catalogue class, and the basic amount
  that hospital already paid. The gateway settles the rest of the chain (大病 → 扶贫特惠保 → 医疗救助 → 医院减免 as
  the policy says, none out of county in the demo → 财政兜底). Basic is taken as paid, not worked out again;
  the compliant self-pay the later funds work on is in-policy − that basic (DOMAIN.md), whatever 转外自付 the
  other hospital applied inside its basic.
- `self_paid` 全自费出院: the invoice and its fee list; the gateway settles every fund, basic included, with the
  policy's out-of-county rules (10% 转外自付 off the basic base, the rules that name in_county = false).

Pure: the entry in, the fee lines and the figures out. The store work is gateway/county/agency_service.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.canonical.refdata import CATALOGUE_CLASSES, CLASS_B, FEE_CATEGORIES, CatalogueItem
from gateway.engine.chain import matching_rules
from gateway.engine.chain import settle as run_chain
from gateway.engine.fees import FeeTotals, LineAmounts, classify_line
from gateway.engine.policy import Policy
from gateway.engine.types import ChainResult, SettledElsewhere, StayFacts, YearToDate
from gateway.errors import InvalidValue, MissingField
from gateway.money import ZERO, fen
from gateway.store.records import StoredFeeLine

LINE_AMOUNT_TOLERANCE = Decimal("0.01")  # as for a 2301 line (README, fee lines)
MODES = {"basic_settled": "县外住院，出院已结算基本医保：经办结算其余各项",
         "self_paid": "县外住院，全自费出院：经办结算全部"}


@dataclass(frozen=True, slots=True)
class EntryLine:
    """A fee list line (self_paid), or one total by fee category and class (basic_settled)."""

    med_chrgitm_type: str  # FEE_CATEGORIES key ("" : from the catalogue)
    chrgitm_lv: str  # 01 甲 / 02 乙 / 03 丙 ("" : from the catalogue)
    amount: Decimal
    selfpay_prop: Decimal | None = None  # 乙: the first self-paid share
    preselfpay_amt: Decimal | None = None  # 乙 total: 先行自付 as the hospital's own settlement split it
    med_list_codg: str = ""
    med_list_name: str = ""
    cnt: Decimal = Decimal(1)
    pric: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AgencyEntry:
    mode: str
    psn_no: str
    fixmedins_code: str  # the hospital that treated the person
    fixmedins_name: str  # needed when the hospital is not in the county's registry
    hosp_lv: int | None  # idem; when it is, it must agree
    admdvs: str  # the hospital's area (it must not be the person's)
    begndate: date
    enddate: date
    lines: tuple[EntryLine, ...]
    ipt_no: str = ""  # the hospital's 住院号
    invoice_no: str = ""  # 发票号 (self_paid) or that hospital's settlement number (basic_settled)
    medfee_sumamt: Decimal | None = None  # the papers' total: must equal the lines
    hifp_pay: Decimal | None = None  # basic_settled: what basic paid there
    act_pay_dedc: Decimal = ZERO  # basic_settled: the deductible it applied there (shown on the sheet)
    dise_codg: str = ""
    dise_name: str = ""


def fee_lines(entry: AgencyEntry, catalogue: Mapping[str, CatalogueItem]) -> tuple[StoredFeeLine, ...]:
    """The entry's lines classified like uploaded fee lines: a catalogue code gives its category, class and
    share (what the line says must agree); without one the line says them itself."""
    lines = []
    for n, line in enumerate(entry.lines):
        where = f"lines[{n}]"
        item = catalogue.get(line.med_list_codg) if line.med_list_codg else None
        category, klass, prop = line.med_chrgitm_type, line.chrgitm_lv, line.selfpay_prop
        if item is not None:
            for name, given, known in (("med_chrgitm_type", category, item.med_chrgitm_type),
                                       ("chrgitm_lv", klass, item.chrgitm_lv)):
                if given and given != known:
                    raise InvalidValue(f"与目录 {item.med_list_codg} 的 {known} 不符", field=f"{where}.{name}")
            if prop is not None and klass == CLASS_B and prop != item.selfpay_prop:
                raise InvalidValue(f"与目录 {item.med_list_codg} 的 {item.selfpay_prop} 不符",
                                   field=f"{where}.selfpay_prop")
            category, klass, prop = item.med_chrgitm_type, item.chrgitm_lv, item.selfpay_prop
        if not category:
            raise MissingField("目录外项目须给出费用类别", field=f"{where}.med_chrgitm_type")
        if category not in FEE_CATEGORIES:
            raise InvalidValue(f"未知的费用类别 {category[:8]}；可用 {', '.join(FEE_CATEGORIES)}",
                               field=f"{where}.med_chrgitm_type")
        if klass not in CATALOGUE_CLASSES:
            raise InvalidValue("收费项目等级应为 01 甲类、02 乙类、03 丙类", field=f"{where}.chrgitm_lv")
        if line.pric is not None and abs(line.cnt * line.pric - line.amount) > LINE_AMOUNT_TOLERANCE:
            raise InvalidValue(f"金额 {line.amount} 与 数量×单价 {line.cnt}×{line.pric} 不符",
                               field=f"{where}.det_item_fee_sumamt")
        amounts = _amounts(line, klass, prop, where)
        share = prop if prop is not None else (ZERO if klass != CLASS_B or not line.amount
                                               else amounts.preselfpay_amt / line.amount)
        lines.append(StoredFeeLine(
            feedetl_sn=str(n + 1), init_feedetl_sn="", med_list_codg=line.med_list_codg, cnt=line.cnt,
            pric=line.pric if line.pric is not None else line.amount / line.cnt, amounts=amounts,
            chrgitm_lv=klass, med_chrgitm_type=category, selfpay_prop=share.normalize() if share else ZERO,
            fingerprint=json.dumps({"agency": n + 1, "name": line.med_list_name}, ensure_ascii=False),
        ))
    return tuple(lines)


def _amounts(line: EntryLine, klass: str, prop: Decimal | None, where: str) -> LineAmounts:
    if klass != CLASS_B:
        if line.preselfpay_amt:
            raise InvalidValue("只有乙类有先行自付", field=f"{where}.preselfpay_amt")
        return classify_line(line.amount, klass, ZERO)
    if line.preselfpay_amt is not None:  # a total of 乙 items: the split the hospital's own settlement made
        if prop is not None:
            expected = fen(line.amount * prop)
            if expected != line.preselfpay_amt:
                raise InvalidValue(f"金额×先行自付比例 = {expected}，与 {line.preselfpay_amt} 不符",
                                   field=f"{where}.preselfpay_amt")
        if line.preselfpay_amt > line.amount:
            raise InvalidValue("先行自付超过金额", field=f"{where}.preselfpay_amt")
        return LineAmounts(line.amount, ZERO, line.preselfpay_amt, line.amount - line.preselfpay_amt)
    if prop is None:
        raise MissingField("乙类须给出先行自付比例 selfpay_prop 或先行自付金额 preselfpay_amt",
                           field=f"{where}.selfpay_prop")
    return classify_line(line.amount, klass, prop)


def settle_entry(policy: Policy, facts: StayFacts, ytd: YearToDate, entry: AgencyEntry) -> ChainResult:
    """The chain for the entry. basic_settled: the basic fund that matches the person pays what it paid
    there (refused if none matches, or if it exceeds the in-policy amount or the year's cap left)."""
    if entry.mode == "self_paid":
        return run_chain(policy, facts, ytd)
    assert entry.hifp_pay is not None
    basic = [(fund, rule) for fund, rule in matching_rules(policy, facts) if fund.kind == "stay_deductible"]
    if not basic:
        raise InvalidValue(f"政策 {policy.policy_id} 中没有适用于该人员的基本医保基金", field="hifp_pay")
    fund, rule = basic[0]
    if entry.hifp_pay > facts.totals.inscp_scp_amt:
        raise InvalidValue(f"基本医保已报销 {entry.hifp_pay} 超过政策范围内费用 {facts.totals.inscp_scp_amt}",
                           field="hifp_pay")
    if rule.annual_cap is not None:
        left = max(ZERO, rule.annual_cap - ytd.get(fund.code, ZERO))
        if entry.hifp_pay > left:
            raise InvalidValue(f"基本医保已报销 {entry.hifp_pay} 超过本年剩余封顶额 {left}", field="hifp_pay")
    return run_chain(policy, facts, ytd, elsewhere=SettledElsewhere({fund.code: entry.hifp_pay},
                                                                    entry.act_pay_dedc))


def totals_of(lines: tuple[StoredFeeLine, ...]) -> FeeTotals:
    return FeeTotals.of(line.amounts for line in lines)
