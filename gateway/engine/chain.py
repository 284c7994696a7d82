"""The one-stop chain: each fund in policy order takes its share of what is left. Pure, Decimal only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from gateway.engine.policy import Fund, Policy, Rule
from gateway.engine.types import ChainResult, FundPayment, SettledElsewhere, StayFacts, YearToDate
from gateway.money import ZERO, fen


@dataclass(slots=True)
class _Running:
    """What the chain has worked out so far for this stay."""

    facts: StayFacts
    ytd: YearToDate
    referral_selfpay: Decimal
    personal: Decimal  # what the patient would still pay
    compliant: Decimal  # 合规自付 of this stay: in-policy minus basic
    remaining: Decimal  # compliant self-pay not yet covered by a fund
    deductible: Decimal = ZERO
    pool_prop_selfpay: Decimal = ZERO
    deltas: dict[str, Decimal] = field(default_factory=dict)
    explain: bool = True  # write each fund's trace (setl_proc_info); a what-if replay needs only the figures

    def paid_this_year(self, code: str) -> Decimal:
        return self.ytd.get(code, ZERO)


@dataclass(frozen=True, slots=True)
class _Share:
    amount: Decimal
    base: Decimal
    limit: Decimal
    trace: str


def matching_rules(policy: Policy, facts: StayFacts) -> list[tuple[Fund, Rule]]:
    """The funds that pay such a stay, in chain order, each with the rule that applies."""
    found = []
    for fund in policy.funds:
        rule = fund.rule_for(facts.insutype, facts.attributes, facts.in_county, facts.visit, facts.catalogue_exception)
        if rule is not None:
            found.append((fund, rule))
    return found


def settle(policy: Policy, facts: StayFacts, ytd: YearToDate, *, explain: bool = True,
           matching: Sequence[tuple[Fund, Rule]] | None = None,
           elsewhere: SettledElsewhere | None = None) -> ChainResult:
    """`matching`: matching_rules(policy, facts), when the caller has it already (a what-if replay).
    `elsewhere`: funds already settled by another system; they pay what they paid, the rest of the chain
    works on what they leave (the agency window, gateway/county/agency.py)."""
    totals = facts.totals
    referral = ZERO if facts.in_county else fen(totals.inscp_scp_amt * policy.referral_selfpay_ratio)
    run = _Running(facts=facts, ytd=ytd, referral_selfpay=referral, personal=totals.medfee_sumamt,
                   compliant=totals.inscp_scp_amt, remaining=totals.inscp_scp_amt, explain=explain)
    payments: list[FundPayment] = []
    for fund, rule in matching_rules(policy, facts) if matching is None else matching:
        if elsewhere is not None and fund.code in elsewhere.amounts:
            share = _settled_elsewhere(fund, rule, run, elsewhere)
        else:
            share = _FORMULAS[fund.kind](fund, rule, run)
        amount = share.amount
        run.personal -= amount
        if fund.kind == "stay_deductible":
            run.compliant = totals.inscp_scp_amt - amount
            run.remaining = run.compliant
        elif fund.kind in ("annual_segments", "share_of_remaining"):
            run.remaining -= amount
        if amount:
            run.deltas[fund.code] = run.deltas.get(fund.code, ZERO) + amount
        payments.append(FundPayment(
            fund_pay_type=fund.code, fund_pay_type_name=fund.name, fund_payamt=amount, inscp_scp_amt=share.base,
            crt_payb_lmt_amt=share.limit, setl_proc_info=share.trace, setlinfo_field=fund.setlinfo_field,
            counts_as_fund=fund.counts_as_fund,
        ))
    fund_sum = sum((p.fund_payamt for p in payments if p.counts_as_fund), ZERO)
    hospital = sum((p.fund_payamt for p in payments if not p.counts_as_fund), ZERO)
    return ChainResult(
        policy_id=policy.policy_id, totals=totals, referral_selfpay=referral, act_pay_dedc=run.deductible,
        pool_prop_selfpay=run.pool_prop_selfpay, payments=tuple(payments), fund_pay_sumamt=fund_sum,
        hosp_part_amt=hospital, psn_part_amt=totals.medfee_sumamt - fund_sum - hospital, deltas=run.deltas,
        attributes=tuple(sorted(facts.attributes)), visit=facts.visit, catalogue_exception=facts.catalogue_exception,
    )


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


def _cap_left(fund: Fund, rule: Rule, run: _Running) -> Decimal | None:
    if rule.annual_cap is None:
        return None
    return max(ZERO, rule.annual_cap - run.paid_this_year(fund.code))


def _cap_text(fund: Fund, rule: Rule, run: _Running) -> str:
    cap = "不封顶" if rule.annual_cap is None else f"封顶{rule.annual_cap}"
    return f"本年已付{run.paid_this_year(fund.code)}/{cap}"


def _stay_deductible(fund: Fund, rule: Rule, run: _Running) -> _Share:
    """Basic insurance: per stay, deductible and ratio by hospital level, annual cap."""
    level = run.facts.hosp_lv
    base = run.facts.totals.inscp_scp_amt - run.referral_selfpay
    line = rule.deductible[level]
    deductible = min(line, max(base, ZERO))
    ratio = rule.ratio_by_level[level]
    due = fen((base - deductible) * ratio) if base > deductible else ZERO
    left = _cap_left(fund, rule, run)
    amount = due if left is None else min(due, left)
    run.deductible = deductible
    run.pool_prop_selfpay = max(ZERO, base - deductible - amount)
    referral = f"-转外自付{run.referral_selfpay}" if run.referral_selfpay else ""
    trace = (f"{fund.name}{_label(rule)}: 政策范围内{run.facts.totals.inscp_scp_amt}{referral}=基数{base}; "
             f"{level}级起付线{line}; ({base}-{deductible})×{_pct(ratio)}={due}; {_cap_text(fund, rule, run)}; "
             f"本次{amount}") if run.explain else ""
    return _Share(amount, base, due if left is None else left, trace)


def _settled_elsewhere(fund: Fund, rule: Rule, run: _Running, elsewhere: SettledElsewhere) -> _Share:
    """A fund another system settled: its amount as recorded there. For basic, the base is the one the policy
    names (in-policy minus 转外自付) and the deductible the one that settlement applied."""
    amount = elsewhere.amounts[fund.code]
    base = run.facts.totals.inscp_scp_amt
    if fund.kind == "stay_deductible":
        base -= run.referral_selfpay
        run.deductible = elsewhere.act_pay_dedc
        run.pool_prop_selfpay = max(ZERO, base - elsewhere.act_pay_dedc - amount)
    left = _cap_left(fund, rule, run)
    trace = (f"{fund.name}{_label(rule)}: 已在他处结算（经办窗口录入）; 基数{base}; 起付线{elsewhere.act_pay_dedc}; "
             f"{_cap_text(fund, rule, run)}; 本次{amount}") if run.explain else ""
    return _Share(amount, base, amount if left is None else left, trace)


def _annual_segments(fund: Fund, rule: Rule, run: _Running) -> _Share:
    """Critical illness: segments of the year's cumulative compliant self-pay above an annual deductible."""
    base_key = f"{fund.code}:base"
    before = run.ytd.get(base_key, ZERO)
    cumulative = before + run.compliant
    run.deltas[base_key] = run.deltas.get(base_key, ZERO) + run.compliant
    excess = max(ZERO, cumulative - rule.annual_deductible)
    due = ZERO
    floor = ZERO
    parts: list[str] = []
    for upto, ratio in rule.segments:
        top = excess if upto is None else min(excess, upto)
        if top <= floor:
            break
        due += (top - floor) * ratio
        if run.explain:
            parts.append(f"({top}-{floor})×{_pct(ratio)}")
        floor = top
    due = fen(due)
    if rule.annual_cap is not None:
        due = min(due, rule.annual_cap)
    paid = run.paid_this_year(fund.code)
    amount = min(max(ZERO, due - paid), max(run.remaining, ZERO))
    segments = "+".join(parts) if parts else "0"
    trace = (f"{fund.name}{_label(rule)}: 本年合规自付{before}+{run.compliant}={cumulative}; "
             f"起付线{rule.annual_deductible}; {segments}={due}; {_cap_text(fund, rule, run)}; "
             f"本次{amount}") if run.explain else ""
    limit = due if rule.annual_cap is None else max(ZERO, rule.annual_cap - paid)
    return _Share(amount, cumulative, limit, trace)


def _share_of_remaining(fund: Fund, rule: Rule, run: _Running) -> _Share:
    """特惠保, medical assistance, supplementary: a share of the compliant self-pay still uncovered."""
    remaining = max(run.remaining, ZERO)
    due = fen(remaining * rule.ratio)
    left = _cap_left(fund, rule, run)
    amount = due if left is None else min(due, left)
    trace = (f"{fund.name}{_label(rule)}: 剩余合规自付{remaining}×{_pct(rule.ratio)}={due}; "
             f"{_cap_text(fund, rule, run)}; 本次{amount}") if run.explain else ""
    return _Share(amount, remaining, due if left is None else left, trace)


def _catalogue_excess(fund: Fund, rule: Rule, run: _Running) -> _Share:
    """Hospital reduction: 全自费 beyond a share of the total is the hospital's (Guangxi 90% catalogue rule)."""
    totals = run.facts.totals
    allowed = fen(totals.medfee_sumamt * rule.share_of_total)
    amount = min(max(ZERO, totals.fulamt_ownpay_amt - allowed), max(run.personal, ZERO))
    trace = (f"{fund.name}{_label(rule)}: 全自费{totals.fulamt_ownpay_amt}-总费用{totals.medfee_sumamt}×"
             f"{_pct(rule.share_of_total)}({allowed}); 本次{amount}") if run.explain else ""
    return _Share(amount, totals.fulamt_ownpay_amt, allowed, trace)


def _personal_cap(fund: Fund, rule: Rule, run: _Running) -> _Share:
    """Fiscal backstop: the patient pays at most a share of the total."""
    totals = run.facts.totals
    allowed = fen(totals.medfee_sumamt * rule.share_of_total)
    amount = max(ZERO, run.personal - allowed)
    trace = (f"{fund.name}{_label(rule)}: 个人负担{run.personal}-总费用{totals.medfee_sumamt}×"
             f"{_pct(rule.share_of_total)}({allowed}); 本次{amount}") if run.explain else ""
    return _Share(amount, run.personal, allowed, trace)


def _label(rule: Rule) -> str:
    return f"[{rule.label}]" if rule.label else ""


_FORMULAS: dict[str, Callable[[Fund, Rule, _Running], _Share]] = {
    "stay_deductible": _stay_deductible,
    "annual_segments": _annual_segments,
    "share_of_remaining": _share_of_remaining,
    "catalogue_excess": _catalogue_excess,
    "personal_cap": _personal_cap,
}
