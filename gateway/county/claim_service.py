"""Claims over the store (gateway/county/claims.py is the table and the rules): submit, decide, the steps,
explanations, and what a reader sees. Run on the store thread.

Durability: each write is one transaction holding everything it changes — a claim and its lines, a step's event
and the claim's new state, 拨付's account entry — and its audit entry; a crash leaves all of it or none. A step
repeated as it was done answers the claim again (`replayed`) and writes nothing, so a client that lost the answer
simply asks again; a different repeat (another bank reference) is refused, never applied twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.county.account_service import refuse_overdraft
from gateway.county.audit import record
from gateway.county.claim_records import AGENCY_CLAIMANT, AccountEntry, ClaimEvent, ClaimLine, ClaimRecord
from gateway.county.claims import (
    DECIDING,
    EXPLAINING,
    STATE_NAMES,
    STEP_ACTIONS,
    STEP_NAMES,
    TRANSITIONS,
    ClaimState,
    Decision,
    Step,
    by_fund,
    carried,
    decision_of,
    decisions,
    next_state,
    outcome,
    settlement_funds,
    total,
)
from gateway.county.errors import CountyRefusal, bad_input, conflict, not_found
from gateway.county.period import Period
from gateway.county.roles import Actor
from gateway.store.base import Store

ALL = 1_000_000  # every claim of a hospital (a county has a few hundred a year)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def get(store: Store, claim_id: int, hospital: str | None = None) -> ClaimRecord:
    """The claim; a hospital asking for another's is told it does not exist."""
    found = store.claim(claim_id)
    if found is None or (hospital is not None and found.fixmedins_code != hospital):
        raise not_found(f"申报单 {claim_id} 不存在")
    return found


def submit(store: Store, actor: Actor, fixmedins_code: str, period: Period, request_id: str,
           at: datetime) -> dict[str, Any]:
    """The hospital's claim for the period; the same period asked again answers the claim already made."""
    if period.until >= at.date():
        raise conflict(f"申报期间须已结束：{period.label()} 的最后一天不早于今天 {at.date()}")
    with store.transaction():
        if fixmedins_code != AGENCY_CLAIMANT and store.hospital(fixmedins_code) is None:
            raise not_found(f"定点医疗机构 {fixmedins_code} 不存在")
        existing = store.claim_for(fixmedins_code, period.since, period.until)
        if existing is not None:
            return {**document(store, existing), "replayed": True}
        lines = _new_lines(store, fixmedins_code, period.bounds()[1])
        if not lines:
            raise conflict(f"{fixmedins_code} 在 {period.label()} 及以前没有未申报的结算、撤销或可再申报的拒付")
        claim = ClaimRecord(0, fixmedins_code, period.since, period.until, ClaimState.SUBMITTED.value,
                            actor.name, at)
        claim_id = store.claim_insert(claim, lines)
        summary = {"lines": len(lines), "amount": _money(sum((line.amount for line in lines), Decimal(0)))}
        store.claim_event_add(ClaimEvent(claim_id, 0, "submit", actor.name, at, summary))
        record(store, actor, "claims.submit", f"claim:{claim_id}", None,
               {"fixmedins_code": fixmedins_code, "since": period.since, "until": period.until, **summary},
               request_id, at)
        return document(store, get(store, claim_id))


def _new_lines(store: Store, fixmedins_code: str, until: datetime) -> list[ClaimLine]:
    prior = store.claim_lines(fixmedins_code)
    states = {c.claim_id: ClaimState(c.state) for c in store.claims(fixmedins_code, "", ALL)}
    status = {}
    for line in prior:
        settled = store.settlement(line.setl_id)
        assert settled is not None  # a line names a settlement (foreign key)
        status[line.setl_id] = settled.status
    carry = carried(prior, store.claim_events(fixmedins_code), states, status)
    lines: list[ClaimLine] = []

    def add(kind: str, setl_id: str, funds: Any, origin: str = "") -> None:
        settled = store.settlement(setl_id)
        assert settled is not None
        sign, booked = (-1 if kind == "reversal" else 1), settled.setl_time
        if kind == "reversal":  # the line is dated by the reversal that stands (2305)
            booked = next((r.setl_time for r in store.settlements_of_year(settled.psn_no, settled.year)
                           if r.kind == "reversal" and r.reverses == setl_id and r.status == "valid"), booked)
        lines.append(ClaimLine(0, len(lines) + 1, kind, setl_id, settled.psn_no, booked,
                               sign * settled.figures.totals.medfee_sumamt, funds, origin))

    for setl_id in store.unclaimed_settlements(fixmedins_code, until):
        settled = store.settlement(setl_id)
        assert settled is not None
        agency = store.agency_record(setl_id) if fixmedins_code == AGENCY_CLAIMANT else None
        funds = settlement_funds(settled.figures, agency.mode if agency else "")
        if funds:
            add("settlement", setl_id, funds)
    for setl_id, origin, funds in carry.reclaims:
        add("reclaim", setl_id, funds, origin)
    for setl_id, origin, funds in carry.reversals:
        add("reversal", setl_id, funds, origin)
    return lines


def _line(store: Store, claim: ClaimRecord, line_no: int) -> ClaimLine:
    for line in store.claim_lines(claim.fixmedins_code, claim.claim_id):
        if line.line_no == line_no:
            return line
    raise not_found(f"申报单 {claim.claim_id} 没有第 {line_no} 行")


def decide(store: Store, actor: Actor, claim_id: int, line_no: int, body: Mapping[str, object], request_id: str,
           at: datetime) -> dict[str, Any]:
    """审核's decision on one line, during 初审; the same decision again changes nothing."""
    with store.transaction():
        claim = get(store, claim_id)
        if ClaimState(claim.state) not in DECIDING:
            raise conflict(f"申报单状态为「{STATE_NAMES[ClaimState(claim.state)]}」，只有初审中可以审核各行")
        line = _line(store, claim, line_no)
        decision = decision_of(body, line)
        standing = decisions(store.claim_events(claim.fixmedins_code, claim_id)).get((claim_id, line_no))
        if standing == decision:
            return {**_line_document(store, claim, line_no), "replayed": True}
        store.claim_event_add(ClaimEvent(claim_id, line_no, "decide", actor.name, at, decision.document()))
        record(store, actor, "claims.review", f"claim:{claim_id}:{line_no}",
               standing.document() if standing else None, decision.document(), request_id, at)
        return _line_document(store, claim, line_no)


def explain(store: Store, actor: Actor, claim_id: int, line_no: int, note: object, request_id: str, at: datetime,
            hospital: str | None = None) -> dict[str, Any]:
    """The hospital's explanation of a refused line: the refused funds go into its next claim."""
    if not isinstance(note, str) or not note.strip() or len(note) > 500:
        raise bad_input("note 应为不超过 500 字的情况说明")
    with store.transaction():
        claim = get(store, claim_id, hospital)
        if ClaimState(claim.state) not in EXPLAINING:
            raise conflict("拒付告知之后才能对拒付行作出说明")
        line = _line(store, claim, line_no)
        events = store.claim_events(claim.fixmedins_code, claim_id)
        if not outcome(line, decisions(events).get((claim_id, line_no)))[1]:
            raise conflict(f"第 {line_no} 行未被拒付，无需说明")
        given = [e for e in events if e.line_no == line_no and e.event == "explain"]
        if given:
            if given[-1].detail.get("note") == note:
                return {**_line_document(store, claim, line_no), "replayed": True}
            raise conflict(f"第 {line_no} 行已于 {given[-1].at:%Y-%m-%d %H:%M} 作出说明")
        store.claim_event_add(ClaimEvent(claim_id, line_no, "explain", actor.name, at, {"note": note}))
        record(store, actor, "claims.explain", f"claim:{claim_id}:{line_no}", None, {"note": note}, request_id, at)
        return _line_document(store, claim, line_no)


def step(store: Store, actor: Actor, claim_id: int, done: Step, body: Mapping[str, object], request_id: str,
         at: datetime, *, overdraft: bool = False) -> dict[str, Any]:
    """A step of the claim; refusals are put on the audit trail by the caller's road (gateway/runtime.py
    Gateway.command), after this write is rolled back."""
    claim = get(store, claim_id)
    state = ClaimState(claim.state)
    events = store.claim_events(claim.fixmedins_code, claim_id)
    steps = [e for e in events if e.line_no == 0]
    if steps and steps[-1].event == done.value and _led_to(done, state):
        if done is Step.PAY and _payment(body) != _payment(steps[-1].detail, parsed=False):
            raise conflict("该申报单已拨付，且拨付信息与此次不同", payment=dict(steps[-1].detail))
        return {**document(store, claim), "replayed": True}
    target = next_state(state, done)
    if done in (Step.SECOND_REVIEW, Step.SEND_BACK):
        first = {e.by for e in events if e.event in ("decide", "first_review")}
        if actor.name in first:
            raise CountyRefusal(403, "HG4004", f"{actor.name} 参与了该申报单的初审，复审须由另一人进行")
    with store.transaction():
        claim = get(store, claim_id)
        if ClaimState(claim.state) is not state:
            raise conflict("申报单刚被他人处理，请刷新后重试")
        detail = _step_detail(store, actor, claim, done, body, at, overdraft)
        store.claim_event_add(ClaimEvent(claim_id, 0, done.value, actor.name, at, detail))
        store.claim_set_state(claim_id, target.value)
        record(store, actor, STEP_ACTIONS[done], f"claim:{claim_id}", {"state": state.value},
               {"state": target.value, **detail}, request_id, at)
        return document(store, get(store, claim_id))


def _led_to(done: Step, state: ClaimState) -> bool:
    """Whether `state` is where `done` leads (the claim's last step was this one: a repeat)."""
    return any(event is done and target is state for (_source, event), target in TRANSITIONS.items())


def _payment(detail: Mapping[str, object], *, parsed: bool = True) -> tuple[str, str, str]:
    """A payment as (date, amount to the fen, reference): a repeat written 16536.250 is the same payment."""
    if parsed:
        try:
            paid_on, amount, reference = _pay_fields(detail)
        except CountyRefusal:
            return "", "", ""
        return paid_on.isoformat(), _money(amount), reference
    return str(detail.get("paid_on", "")), str(detail.get("amount", "")), str(detail.get("reference", ""))


def _note(body: Mapping[str, object]) -> str:
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > 500:
        raise bad_input("note 应为不超过 500 字的说明")
    return note


def _step_detail(store: Store, actor: Actor, claim: ClaimRecord, done: Step, body: Mapping[str, object],
                 at: datetime, overdraft: bool) -> dict[str, Any]:
    detail: dict[str, Any] = {"note": _note(body)}
    figures = totals(store, claim)
    if done is Step.FIRST_REVIEW:
        standing = decisions(store.claim_events(claim.fixmedins_code, claim.claim_id))
        undecided = [line.line_no for line in store.claim_lines(claim.fixmedins_code, claim.claim_id)
                     if (claim.claim_id, line.line_no) not in standing]
        if undecided and body.get("accept_rest") is not True:
            raise conflict(f"还有 {len(undecided)} 行未审核（第 {undecided[:20]} 行）；逐行审核，或以 "
                           "accept_rest=true 将其余各行全部审核通过", undecided=undecided)
        for line_no in undecided:
            store.claim_event_add(ClaimEvent(claim.claim_id, line_no, "decide", actor.name, at,
                                             Decision(True, note="初审其余各行通过").document()))
        detail["accepted_rest"] = len(undecided)
        figures = totals(store, claim)
    if done is Step.REFUSE:
        detail["refused_lines"] = figures["refused_lines"]
    if done in (Step.FIRST_REVIEW, Step.SECOND_REVIEW, Step.REFUSE, Step.SETTLE):
        detail.update(accepted=figures["accepted"], refused=figures["refused"])
    if done is Step.PAY:
        paid_on, amount, reference = _pay_fields(body)
        settled = Decimal(figures["accepted"])
        if amount != settled:
            raise conflict(f"拨付金额 {amount:.2f} 与结算金额 {settled:.2f} 不符")
        note = f"申报单 {claim.claim_id} {claim.since}～{claim.until}"
        if claim.fixmedins_code == AGENCY_CLAIMANT:  # one entry for the claim; its payees are in the claim
            note = f"经办窗口{note}：付患者 {len(payees(store, claim))} 人"
        entry = AccountEntry(paid_on, "payment", claim.fixmedins_code, amount, reference, actor.name, at,
                             claim.claim_id, note)
        detail.update(paid_on=paid_on.isoformat(), amount=_money(amount), reference=reference,
                      account_entry=store.account_add(entry))
        refuse_overdraft(store, overdraft)
    return detail


def _pay_fields(body: Mapping[str, object]) -> tuple[date, Decimal, str]:
    try:
        paid_on = date.fromisoformat(str(body.get("paid_on", "")))
    except ValueError as exc:
        raise bad_input("paid_on 应为拨付日期 YYYY-MM-DD") from exc
    raw = body.get("amount")
    try:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise InvalidOperation
        amount = Decimal(raw)
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or abs(amount) >= 10**12:
            raise InvalidOperation
    except InvalidOperation as exc:
        raise bad_input("amount 应为拨付金额（元，至多两位小数，写作字符串）") from exc
    reference = body.get("reference")
    if not isinstance(reference, str) or not 1 <= len(reference.strip()) <= 64:
        raise bad_input("reference 应为银行流水号（1 至 64 字）")
    return paid_on, amount, reference.strip()


def totals(store: Store, claim: ClaimRecord) -> dict[str, Any]:
    lines = store.claim_lines(claim.fixmedins_code, claim.claim_id)
    standing = decisions(store.claim_events(claim.fixmedins_code, claim.claim_id))
    results = [outcome(line, standing.get((claim.claim_id, line.line_no))) for line in lines]
    claimed, accepted = by_fund(line.funds for line in lines), by_fund(r[0] for r in results)
    refused = by_fund(r[1] for r in results)
    return {
        "lines": len(lines), "claimed": _money(sum(claimed.values(), Decimal(0))),
        "accepted": _money(sum(accepted.values(), Decimal(0))), "refused": _money(sum(refused.values(), Decimal(0))),
        "refused_lines": sum(1 for r in results if r[1]),
        "by_fund": {code: {"claimed": _money(amount), "accepted": _money(accepted.get(code, Decimal(0))),
                           "refused": _money(refused.get(code, Decimal(0)))} for code, amount in claimed.items()},
    }


def payees(store: Store, claim: ClaimRecord) -> dict[str, Decimal]:
    """An agency-window claim's payees: what each patient is paid (accepted, net of carried reversals), by psn_no
    in the order the lines name them; the agency pays the patient, not a hospital."""
    standing = decisions(store.claim_events(claim.fixmedins_code, claim.claim_id))
    found: dict[str, Decimal] = {}
    for line in store.claim_lines(claim.fixmedins_code, claim.claim_id):
        accepted = outcome(line, standing.get((claim.claim_id, line.line_no)))[0]
        found[line.psn_no] = found.get(line.psn_no, Decimal(0)) + total(accepted)
    return found


def _line_document(store: Store, claim: ClaimRecord, line_no: int) -> dict[str, Any]:
    """One line as a reviewer sees it after deciding it (not the whole claim: a claim can have thousands)."""
    events = store.claim_events(claim.fixmedins_code, claim.claim_id)
    return {"code": 0, "claim_id": claim.claim_id, "state": claim.state,
            "line": _line_doc(store, _line(store, claim, line_no), events)}


def _line_doc(store: Store, line: ClaimLine, events: Sequence[ClaimEvent],
              standing: Mapping[tuple[int, int], Decision] | None = None) -> dict[str, Any]:
    decision = (decisions(events) if standing is None else standing).get((line.claim_id, line.line_no))
    accepted, refused = outcome(line, decision)
    settled = store.settlement(line.setl_id)
    explained = [e.detail.get("note") for e in events if e.event == "explain" and e.line_no == line.line_no]
    return {
        "line_no": line.line_no, "kind": line.kind, "setl_id": line.setl_id, "psn_no": line.psn_no,
        "setl_time": line.setl_time.isoformat(sep=" "), "medfee_sumamt": _money(line.medfee_sumamt),
        "funds": {code: _money(amount) for code, amount in line.funds}, "amount": _money(line.amount),
        "origin": line.origin, "settlement_status": settled.status if settled else "",
        "decision": decision.document() if decision else None,
        "accepted": _money(total(accepted)), "refused": _money(total(refused)),
        "explanation": explained[-1] if explained else None}


def document(store: Store, claim: ClaimRecord, *, lines: bool = True) -> dict[str, Any]:
    state = ClaimState(claim.state)
    events = store.claim_events(claim.fixmedins_code, claim.claim_id)
    doc: dict[str, Any] = {
        "code": 0, "claim_id": claim.claim_id, "fixmedins_code": claim.fixmedins_code,
        "since": claim.since.isoformat(), "until": claim.until.isoformat(), "state": state.value,
        "state_name": STATE_NAMES[state], "submitted_by": claim.submitted_by,
        "submitted_at": claim.submitted_at.isoformat(sep=" ", timespec="seconds"),
        "next": [s.value for (source, s) in TRANSITIONS if source is state],
        "totals": totals(store, claim),
        "steps": [{"step": e.event, "name": STEP_NAMES.get(Step(e.event), "申报") if e.event != "submit" else "申报",
                   "by": e.by, "at": e.at.isoformat(sep=" ", timespec="seconds"), "detail": e.detail}
                  for e in events if e.line_no == 0],
    }
    if claim.fixmedins_code == AGENCY_CLAIMANT:
        doc["payees"] = [{"psn_no": psn_no, "amount": _money(amount)}
                         for psn_no, amount in payees(store, claim).items()]
    if lines:
        standing = decisions(events)
        line_events = [e for e in events if e.event == "explain"]
        doc["lines"] = [_line_doc(store, line, line_events, standing)
                        for line in store.claim_lines(claim.fixmedins_code, claim.claim_id)]
    return doc


def listing(store: Store, fixmedins_code: str, state: str, limit: int) -> dict[str, Any]:
    if state and state not in {s.value for s in ClaimState}:
        raise bad_input(f"state 应为 {', '.join(s.value for s in ClaimState)}")
    found = store.claims(fixmedins_code, state, limit)
    return {"code": 0, "claims": [document(store, c, lines=False) for c in found]}
