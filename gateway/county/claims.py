"""Claims (申报 → 初审 → 复审 → 拒付 → 结算 → 拨付, Hunan 三(二)4): the transition table and the pure rules.

A claim is one hospital's one-stop settlements of a period, fixed when it is submitted:
- a `settlement` line for every valid settlement of the hospital booked up to the period's end that no claim
  has yet (a settlement reversed before it was claimed is in none: the ledger nets it out);
- a `reversal` line (negative) for a settlement reversed after it was claimed, once the claims holding it are
  settled: minus what they accepted for it, so what the funds paid comes back and nothing else;
- a `reclaim` line for a refused line the hospital explained (its refused funds claimed again); a refused one it
  corrects instead (2305 then a new 2304) comes back as the reversal and the new settlement.
A settlement has lines in at most one claim that is not yet settled (结算): until then none of it is carried.

审核 decides each line (accept, or refuse with a reason code and a note, whole or some funds) and closes
初审; 复核, never the same person, confirms (复审) or sends it back; 拒付 issues the refusals to the hospital
(even none); 财务 settles (the accepted amount is what the funds owe) and pays (拨付: date, amount, bank
reference) from the special account. Amounts refused are the hospital's: they are in no payment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from gateway.county.claim_records import ClaimEvent, ClaimLine, Funds
from gateway.county.errors import bad_input, conflict
from gateway.engine.types import ChainResult, FundPayment


class ClaimState(StrEnum):
    SUBMITTED = "submitted"  # 已申报，初审中
    FIRST_REVIEWED = "first_reviewed"  # 已初审，待复审
    SECOND_REVIEWED = "second_reviewed"  # 已复审，待拒付告知
    REFUSALS_ISSUED = "refusals_issued"  # 已拒付告知，待结算
    SETTLED = "settled"  # 已结算，待拨付
    PAID = "paid"  # 已拨付


class Step(StrEnum):
    FIRST_REVIEW = "first_review"  # 初审
    SECOND_REVIEW = "second_review"  # 复审
    SEND_BACK = "send_back"  # 复审退回初审
    REFUSE = "refuse"  # 拒付
    SETTLE = "settle"  # 结算
    PAY = "pay"  # 拨付


STATE_NAMES = {
    ClaimState.SUBMITTED: "已申报", ClaimState.FIRST_REVIEWED: "已初审", ClaimState.SECOND_REVIEWED: "已复审",
    ClaimState.REFUSALS_ISSUED: "已拒付告知", ClaimState.SETTLED: "已结算", ClaimState.PAID: "已拨付",
}
STEP_NAMES = {Step.FIRST_REVIEW: "初审", Step.SECOND_REVIEW: "复审", Step.SEND_BACK: "退回初审",
              Step.REFUSE: "拒付", Step.SETTLE: "结算", Step.PAY: "拨付"}
STEP_ACTIONS = {Step.FIRST_REVIEW: "claims.review", Step.SECOND_REVIEW: "claims.confirm",
                Step.SEND_BACK: "claims.confirm", Step.REFUSE: "claims.refuse", Step.SETTLE: "claims.settle",
                Step.PAY: "claims.pay"}

_S = ClaimState
TRANSITIONS: dict[tuple[ClaimState, Step], ClaimState] = {
    (_S.SUBMITTED, Step.FIRST_REVIEW): _S.FIRST_REVIEWED,
    (_S.FIRST_REVIEWED, Step.SECOND_REVIEW): _S.SECOND_REVIEWED,
    (_S.FIRST_REVIEWED, Step.SEND_BACK): _S.SUBMITTED,
    (_S.SECOND_REVIEWED, Step.REFUSE): _S.REFUSALS_ISSUED,
    (_S.REFUSALS_ISSUED, Step.SETTLE): _S.SETTLED,
    (_S.SETTLED, Step.PAY): _S.PAID,
}
DECIDING = frozenset({_S.SUBMITTED})  # lines are decided during 初审 only
EXPLAINING = frozenset({_S.REFUSALS_ISSUED, _S.SETTLED, _S.PAID})  # a refusal the hospital was told of
FINAL = frozenset({_S.SETTLED, _S.PAID})  # the amounts are fixed: later claims may carry its lines on

# 拒付原因 (the Heyuan rules name the papers a claim needs; the others are the usual review findings)
REASONS: dict[str, str] = {
    "R01": "非一站式结算对象或身份属性不符",
    "R02": "超出医保目录或政策范围",
    "R03": "重复结算",
    "R04": "费用明细与病历、医嘱不符",
    "R05": "结算已撤销",
    "R06": "申报材料不齐或不真实（诊断证明、结算单、垫付统计表）",
    "R07": "计算错误",
    "R99": "其它（见说明）",
}


def next_state(state: ClaimState, step: Step) -> ClaimState:
    target = TRANSITIONS.get((state, step))
    if target is None:
        allowed = "、".join(STEP_NAMES[s] for (st, s) in TRANSITIONS if st is state) or "无（已完成）"
        raise conflict(f"申报单状态为「{STATE_NAMES[state]}」，不能{STEP_NAMES[step]}；此时可以：{allowed}",
                       state=state.value)
    return target


def settlement_funds(figures: ChainResult, agency: str = "") -> Funds:
    """What the funds owe the claimant for a settlement: every fund that paid, not the hospital's own reduction;
    for one made at the agency window with basic settled elsewhere (`agency` basic_settled) not basic either: the
    out-of-county hospital was paid it there, it never went through this county's account."""
    return tuple((p.fund_pay_type, p.fund_payamt) for p in figures.payments
                 if p.counts_as_fund and p.fund_payamt and not paid_elsewhere(p, agency))


def paid_elsewhere(payment: FundPayment, agency: str) -> bool:
    """Whether this fund's share was paid outside the county (the basic of a `basic_settled` agency settlement)."""
    return agency == "basic_settled" and payment.setlinfo_field == "hifp_pay"


@dataclass(frozen=True, slots=True)
class Decision:
    accept: bool
    funds: tuple[str, ...] = ()  # refused funds; empty = the whole line
    reason: str = ""
    note: str = ""

    def document(self) -> dict[str, object]:
        return {"decision": "accept" if self.accept else "refuse", "funds": list(self.funds), "reason": self.reason,
                "reason_name": REASONS.get(self.reason, ""), "note": self.note}


def decision_of(body: Mapping[str, object], line: ClaimLine) -> Decision:
    """A reviewer's decision as sent, checked against the line."""
    kind, note = body.get("decision"), body.get("note", "")
    if not isinstance(note, str) or len(note) > 500:
        raise bad_input("note 应为不超过 500 字的说明")
    if kind == "accept":
        return Decision(True, note=note)
    if kind != "refuse":
        raise bad_input("decision 应为 accept 或 refuse")
    if line.kind == "reversal":  # refusing a recovery would leave the hospital what the funds paid back
        raise bad_input("撤销冲减行是收回已拨付的金额，只能审核通过")
    reason = body.get("reason")
    if reason not in REASONS:
        raise bad_input(f"拒付须有原因代码 reason：{'，'.join(f'{k} {v}' for k, v in REASONS.items())}")
    if reason == "R99" and not note.strip():
        raise bad_input("原因 R99 须写说明 note")
    funds = body.get("funds", [])
    own = {code for code, _a in line.funds}
    if not isinstance(funds, list) or not all(isinstance(f, str) for f in funds):
        raise bad_input("funds 应为拒付的基金代码列表（空：整笔拒付）")
    unknown = sorted(set(funds) - own)
    if unknown:
        raise bad_input(f"该行没有这些基金的金额：{unknown}；可拒付：{sorted(own)}")
    return Decision(False, tuple(sorted(set(funds))) if set(funds) != own else (), str(reason), note)


def outcome(line: ClaimLine, decision: Decision | None) -> tuple[Funds, Funds]:
    """(accepted, refused) funds of a line under its decision (undecided: all accepted, as 初审 leaves it)."""
    if decision is None or decision.accept:
        return line.funds, ()
    refused = set(decision.funds) or {code for code, _a in line.funds}
    return (tuple((c, a) for c, a in line.funds if c not in refused),
            tuple((c, a) for c, a in line.funds if c in refused))


def decisions(events: Iterable[ClaimEvent]) -> dict[tuple[int, int], Decision]:
    """The standing decision of each line: the last one made."""
    found: dict[tuple[int, int], Decision] = {}
    for event in events:
        if event.event == "decide":
            d = event.detail
            found[(event.claim_id, event.line_no)] = Decision(
                d["decision"] == "accept", tuple(d.get("funds", ())), str(d.get("reason", "")), str(d.get("note", "")))
    return found


def total(funds: Iterable[tuple[str, Decimal]]) -> Decimal:
    return sum((a for _c, a in funds), Decimal(0))


def by_fund(groups: Iterable[Funds]) -> dict[str, Decimal]:
    summed: dict[str, Decimal] = defaultdict(Decimal)
    for funds in groups:
        for code, amount in funds:
            summed[code] += amount
    return dict(summed)


@dataclass(frozen=True, slots=True)
class Carried:
    """What a new claim carries besides the unclaimed settlements."""

    reversals: tuple[tuple[str, str, Funds], ...]  # (setl_id, origin, −accepted)
    reclaims: tuple[tuple[str, str, Funds], ...]  # (setl_id, origin, refused funds claimed again)


def carried(lines: Sequence[ClaimLine], events: Sequence[ClaimEvent], states: Mapping[int, ClaimState],
            status: Mapping[str, str]) -> Carried:
    """From every earlier line of the hospital: the reversals and the explained refusals a new claim carries.
    `states`: each claim's state; `status`: each settlement's ledger status now (valid | reversed)."""
    standing = decisions(events)
    explained = {(e.claim_id, e.line_no) for e in events if e.event == "explain"}
    of_setl: dict[str, list[ClaimLine]] = defaultdict(list)
    for line in lines:
        of_setl[line.setl_id].append(line)
    reclaimed = {line.origin for line in lines if line.kind == "reclaim"}
    reversals, reclaims = [], []
    for setl_id, held in of_setl.items():
        if any(states[line.claim_id] not in FINAL for line in held) or any(line.kind == "reversal" for line in held):
            continue  # still under review somewhere, or already carried back
        if status.get(setl_id) == "reversed":
            accepted = by_fund(outcome(line, standing.get((line.claim_id, line.line_no)))[0] for line in held)
            back = tuple((code, -amount) for code, amount in accepted.items() if amount)
            if back:
                reversals.append((setl_id, held[-1].ref, back))
            continue
        for line in held:
            refused = outcome(line, standing.get((line.claim_id, line.line_no)))[1]
            key = (line.claim_id, line.line_no)
            if refused and key in explained and line.ref not in reclaimed:
                reclaims.append((setl_id, line.ref, refused))
    return Carried(tuple(reversals), tuple(reclaims))
