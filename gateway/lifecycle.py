"""The stay lifecycle as a transition table (入院 → 费用上传 → 结算/出院, and their reversals).

Regions differ on whether 2402 comes before or after 2304, so both orders are legal paths.
Whether a stay has fee lines is a guard the service checks; REGISTERED/FEES_UPLOADED is then set by
`with_fees()` so the table does not need a twin row for every event.
"""

from __future__ import annotations

from enum import StrEnum

from gateway.errors import AlreadySettled, IllegalTransition, NoFees


class StayState(StrEnum):
    REGISTERED = "registered"  # 已登记
    FEES_UPLOADED = "fees_uploaded"  # 已上传费用
    DISCHARGED = "discharged"  # 已出院未结算
    SETTLED = "settled"  # 已结算未出院
    COMPLETED = "completed"  # 已结算已出院
    CANCELLED = "cancelled"  # 已撤销登记


class Event(StrEnum):
    UPLOAD = "upload"
    REVOKE = "revoke"
    CHANGE = "change"
    CANCEL = "cancel"
    TRIAL = "trial"
    SETTLE = "settle"
    REVERSE = "reverse"
    DISCHARGE = "discharge"
    CANCEL_DISCHARGE = "cancel_discharge"


STATE_NAMES = {
    StayState.REGISTERED: "已登记", StayState.FEES_UPLOADED: "已上传费用", StayState.DISCHARGED: "已出院未结算",
    StayState.SETTLED: "已结算未出院", StayState.COMPLETED: "已结算已出院", StayState.CANCELLED: "已撤销登记",
}
EVENT_NAMES = {
    Event.UPLOAD: "上传费用明细", Event.REVOKE: "撤销费用明细", Event.CHANGE: "变更入院信息", Event.CANCEL: "撤销入院",
    Event.TRIAL: "预结算", Event.SETTLE: "结算", Event.REVERSE: "撤销结算", Event.DISCHARGE: "出院",
    Event.CANCEL_DISCHARGE: "撤销出院",
}

_R, _F, _D = StayState.REGISTERED, StayState.FEES_UPLOADED, StayState.DISCHARGED
_S, _C = StayState.SETTLED, StayState.COMPLETED

TRANSITIONS: dict[tuple[StayState, Event], StayState] = {
    (_R, Event.UPLOAD): _F,
    (_F, Event.UPLOAD): _F,
    (_D, Event.UPLOAD): _D,  # 出院后补录费用, before settlement
    (_R, Event.REVOKE): _R,
    (_F, Event.REVOKE): _F,
    (_D, Event.REVOKE): _D,
    (_R, Event.CHANGE): _R,
    (_F, Event.CHANGE): _F,
    (_D, Event.CHANGE): _D,
    (_R, Event.CANCEL): StayState.CANCELLED,
    (_F, Event.TRIAL): _F,
    (_D, Event.TRIAL): _D,
    (_F, Event.SETTLE): _S,
    (_D, Event.SETTLE): _C,
    (_S, Event.REVERSE): _F,
    (_C, Event.REVERSE): _D,
    (_R, Event.DISCHARGE): _D,
    (_F, Event.DISCHARGE): _D,
    (_S, Event.DISCHARGE): _C,
    (_D, Event.CANCEL_DISCHARGE): _F,
    (_C, Event.CANCEL_DISCHARGE): _S,
}

# An outpatient visit (门诊, the 22xx trades): registered (2201), lines by charge batch (2204/2205), settled at
# once (2207) and reversed (2208). No discharge: the visit ends with its settlement. A subset of the stay's rows,
# so the fee and settlement services that check the stay's table agree with this one.
OUTPATIENT_TRANSITIONS: dict[tuple[StayState, Event], StayState] = {
    (_R, Event.UPLOAD): _F,
    (_F, Event.UPLOAD): _F,
    (_R, Event.REVOKE): _R,
    (_F, Event.REVOKE): _F,
    (_R, Event.CHANGE): _R,  # 2203 就诊信息上传
    (_F, Event.CHANGE): _F,
    (_R, Event.CANCEL): StayState.CANCELLED,
    (_F, Event.TRIAL): _F,
    (_F, Event.SETTLE): _S,
    (_S, Event.REVERSE): _F,
}
assert all(TRANSITIONS.get(step) == target for step, target in OUTPATIENT_TRANSITIONS.items())

_HINTS = {
    (_F, Event.CANCEL): "请先撤销全部费用明细（2302，feedetl_sn=0000）",
}


def next_state(state: StayState, event: Event,
               table: dict[tuple[StayState, Event], StayState] = TRANSITIONS) -> StayState:
    """The state after `event`, or the business error that says why it is not allowed now."""
    target = table.get((state, event))
    if target is not None:
        return target
    if state in (_S, _C) and event in (Event.SETTLE, Event.TRIAL):
        undo = "2208" if table is OUTPATIENT_TRANSITIONS else "2305"
        raise AlreadySettled(f"该就诊已结算，如需重新结算请先撤销结算（{undo}）")
    if state == _R and event in (Event.SETTLE, Event.TRIAL):
        raise NoFees("该就诊没有已上传的费用明细")
    hint = _HINTS.get((state, event), "") if table is TRANSITIONS else ""
    if table is OUTPATIENT_TRANSITIONS and (state, event) == (_F, Event.CANCEL):
        hint = "请先撤销全部费用明细（2205，chrg_bchno=0000）"
    detail = f"就诊状态为「{STATE_NAMES[state]}」，不能{EVENT_NAMES[event]}"
    raise IllegalTransition(f"{detail}；{hint}" if hint else detail)


def with_fees(state: StayState, has_fees: bool) -> StayState:
    """REGISTERED and FEES_UPLOADED differ only by whether fee lines exist."""
    if state in (_R, _F):
        return _F if has_fees else _R
    return state
