"""2601 冲正: undo what a call of this hospital did, named by its msgid (omsgid) and transaction (oinfno).

It is what a HIS sends when it cannot tell whether a money-moving call took effect (a DLL -1, a timeout) and
does not want it (dll/PROTOCOL.md):

- 2304 结算 → the settlement is reversed, exactly as 2305 would reverse it;
- 2305 结算撤销 → the reversal is undone: the settlement is valid again, its accumulators back;
- 2401 入院办理 → the admission is cancelled, exactly as 2404 would cancel it;
- 2207 门诊结算 and 2208 门诊结算撤销 → as 2304 and 2305 (gateway/service/outpatient.py).

Refused, each saying why: a msgid never received from this hospital (HG2007: another hospital's too), another
transaction (HG3015), a msgid whose call failed or never completed (HG3014: nothing happened, nothing to
undo), an effect already undone (HG3016), and an undo that later business would contradict (HG3017, or the
stay's state: HG3002/HG3004). 2601 changes state, so it is itself idempotent by its own msgid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from gateway.canonical.answers import CorrectionAnswer
from gateway.canonical.calls import CORRECTABLE_INFNOS, AdmissionCancel, CallContext, Correction, SettleReverse
from gateway.errors import (
    AlreadyCorrected,
    InvalidValue,
    LaterActivity,
    NotCorrectable,
    NothingToCorrect,
    UnknownSettlement,
    UnknownStay,
)
from gateway.lifecycle import Event, StayState, next_state
from gateway.service import settlement, stays
from gateway.service.deps import Deps, hospital_of, stay_of
from gateway.service.messages import original_of


def correct(deps: Deps, ctx: CallContext, body: Correction) -> CorrectionAnswer:
    hospital_of(deps, ctx)
    if body.oinfno not in CORRECTABLE_INFNOS:
        raise NotCorrectable(f"交易 {body.oinfno} 不可冲正；可冲正的交易：2207 门诊结算、2208 门诊结算撤销、"
                             "2304 结算、2305 结算撤销、2401 入院办理", field="oinfno")
    original = original_of(deps, ctx, body.omsgid, must_exist=True)
    if original.infno and original.infno != body.oinfno:
        raise InvalidValue(f"报文 {body.omsgid} 的交易为 {original.infno}，不是 {body.oinfno}", field="oinfno")
    if original.status == "error":
        failed = original.decided
        reason = f"{failed.err_code} {failed.err_msg}" if failed is not None else ""
        raise NothingToCorrect(f"原交易失败（{reason}），未产生任何变更", field="omsgid")
    if original.status == "unknown":
        raise NothingToCorrect("原交易未完成（网关在提交前中断），未产生任何变更", field="omsgid")
    return UNDO[body.oinfno](deps, ctx, body)


def _undo_settlement(deps: Deps, ctx: CallContext, body: Correction) -> CorrectionAnswer:
    record = deps.store.settlement_by_msgid(ctx.fixmedins_code, body.omsgid, "settlement")
    if record is None:
        raise UnknownSettlement(f"报文 {body.omsgid} 没有结算记录", field="omsgid")
    if record.status == "reversed":
        raise AlreadyCorrected(f"结算 {record.setl_id} 已撤销", field="omsgid")
    _same_person(body, record.psn_no)
    reversal = settlement.reverse(deps, ctx, SettleReverse(record.setl_id, record.mdtrt_id, record.psn_no))
    return CorrectionAnswer(body.omsgid, body.oinfno, record.psn_no, record.mdtrt_id, record.setl_id,
                            reversal.setl_id)


def _undo_reversal(deps: Deps, ctx: CallContext, body: Correction) -> CorrectionAnswer:
    """The settlement the reversal undid is valid again, as it was: same setl_id, same figures. Only while
    nothing has happened since that its figures did not see (a later settlement of the person's year, a
    change of the stay's lines): otherwise the HIS settles again (2304)."""
    store = deps.store
    reversal = store.settlement_by_msgid(ctx.fixmedins_code, body.omsgid, "reversal")
    if reversal is None or reversal.reverses is None:
        raise UnknownSettlement(f"报文 {body.omsgid} 没有结算撤销记录", field="omsgid")
    original = store.settlement(reversal.reverses)
    assert original is not None  # a reversal names the settlement it undid
    if reversal.status == "reversed":
        raise AlreadyCorrected(f"该结算撤销已冲正，结算 {original.setl_id} 已恢复", field="omsgid")
    _same_person(body, original.psn_no)
    stay = stay_of(deps, ctx, original.mdtrt_id, "")
    if store.settlements_after(original.psn_no, original.year, reversal.setl_id):
        raise LaterActivity(f"撤销结算后该人员 {original.year} 年度已有其他结算或撤销，请重新结算（2304）",
                            field="omsgid")
    state = next_state(stay.state, Event.SETTLE)
    _count, totals = store.fee_totals(stay.mdtrt_id)
    if totals != original.figures.totals:
        raise LaterActivity("撤销结算后费用明细已变更，请重新结算（2304）", field="omsgid")
    store.set_settlement_status(reversal.setl_id, "reversed")
    store.set_settlement_status(original.setl_id, "valid")
    store.add_to_accumulators(original.psn_no, original.year, original.figures.deltas)
    store.update_stay(dataclasses.replace(stay, state=state))
    return CorrectionAnswer(body.omsgid, body.oinfno, original.psn_no, original.mdtrt_id, original.setl_id,
                            reversal.setl_id)


def _undo_admission(deps: Deps, ctx: CallContext, body: Correction) -> CorrectionAnswer:
    stay = deps.store.stay_created_by(ctx.fixmedins_code, body.omsgid)
    if stay is None:
        raise UnknownStay(f"报文 {body.omsgid} 没有入院登记", field="omsgid")
    if stay.state == StayState.CANCELLED:
        raise AlreadyCorrected(f"入院登记 {stay.mdtrt_id} 已撤销", field="omsgid")
    _same_person(body, stay.psn_no)
    stays.cancel_admission(deps, ctx, AdmissionCancel(stay.mdtrt_id, stay.psn_no))  # refused once fees exist
    return CorrectionAnswer(body.omsgid, body.oinfno, stay.psn_no, stay.mdtrt_id, "")


def _same_person(body: Correction, psn_no: str) -> None:
    if body.psn_no and body.psn_no != psn_no:
        raise InvalidValue("人员编号与原交易的人员不符", field="psn_no")


UNDO: dict[str, Callable[[Deps, CallContext, Correction], CorrectionAnswer]] = {
    "2207": _undo_settlement,  # the outpatient settlement and its reversal are the same records
    "2208": _undo_reversal,
    "2304": _undo_settlement,
    "2305": _undo_reversal,
    "2401": _undo_admission,
}
assert set(UNDO) == set(CORRECTABLE_INFNOS)
