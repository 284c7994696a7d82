"""2303 trial settlement, 2304 settlement, 2305 reversal, 5203 settlement query."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from gateway.canonical.answers import ReversalAnswer, SettlementAnswer
from gateway.canonical.calls import CallContext, Settle, SettlementQuery, SettleReverse
from gateway.county.attributes import attributes_on
from gateway.engine.chain import settle as run_chain
from gateway.engine.types import StayFacts
from gateway.errors import AmountMismatch, InvalidValue, NoFees, UnknownSettlement
from gateway.lifecycle import Event, next_state
from gateway.money import ZERO
from gateway.referral.merge import with_imports
from gateway.referral.service import carried_in
from gateway.service import catalogue_exception
from gateway.service.deps import Deps, age_on, business_time, person_of, stay_of
from gateway.store.records import SettlementRecord, StayRecord


def settle(deps: Deps, ctx: CallContext, body: Settle, *, visit: str = "inpatient") -> SettlementAnswer:
    """Run the one-stop chain on the stay's uploaded lines; a trial writes nothing. `visit` is the policy's visit
    kind (an outpatient visit's is worked out by gateway.service.outpatient)."""
    stay = stay_of(deps, ctx, body.mdtrt_id, body.psn_no)
    state = next_state(stay.state, Event.TRIAL if body.trial else Event.SETTLE)
    count, totals = deps.store.fee_totals(stay.mdtrt_id)
    if not count:
        raise NoFees("该就诊没有已上传的费用明细", field="mdtrt_id")
    if totals.medfee_sumamt <= ZERO:
        raise NoFees("费用明细合计为 0", field="mdtrt_id")
    if body.medfee_sumamt is not None and body.medfee_sumamt != totals.medfee_sumamt:
        raise AmountMismatch(
            f"医疗费总额 {body.medfee_sumamt} 与已上传明细合计 {totals.medfee_sumamt} 不一致", field="medfee_sumamt")
    if body.insutype and body.insutype != stay.insutype:
        raise InvalidValue(f"险种类型 {body.insutype} 与登记险种 {stay.insutype} 不符", field="insutype")

    person = person_of(deps, stay.psn_no)
    at = business_time(deps, ctx)
    year = _accounting_year(stay, at)
    facts = StayFacts(
        insutype=stay.insutype, hosp_lv=stay.hosp_lv, in_county=stay.in_county,
        attributes=attributes_on(deps.store, person, stay.begntime.date()), totals=totals,
        on=stay.endtime.date() if stay.endtime else at.date(),
        visit=visit, catalogue_exception=catalogue_exception.approved(deps, stay.mdtrt_id),
    )
    policy = deps.policies.for_date(facts.on)
    carried = carried_in(deps.store, person.psn_no, year)  # partner gateways' records (cross-county referral)
    ytd = with_imports(policy, facts, carried, deps.store.year_to_date(person.psn_no, year))
    figures = run_chain(policy, facts, ytd)
    setl_id = ""
    medins_setl_id = body.medins_setl_id or ctx.msgid  # 医药机构结算ID: what the HIS sent, else its message id
    if not body.trial:
        setl_id = _new_setl_id(deps, at)
        deps.store.insert_settlement(SettlementRecord(
            setl_id=setl_id, mdtrt_id=stay.mdtrt_id, psn_no=person.psn_no, fixmedins_code=stay.fixmedins_code,
            year=year, setl_time=at, kind="settlement", status="valid", reverses=None, figures=figures,
            msgid=ctx.msgid, medins_setl_id=medins_setl_id,
        ))
        deps.store.add_to_accumulators(person.psn_no, year, figures.deltas)
        if carried is not None:
            deps.store.referral_carried_put(setl_id, carried)  # the sheet shows what was carried in
        deps.store.update_stay(dataclasses.replace(stay, state=state))
    return SettlementAnswer(
        setl_id=setl_id, mdtrt_id=stay.mdtrt_id, person=person, age=age_on(person.brdy, at.date()), setl_time=at,
        med_type=stay.med_type, figures=figures, year=year, medins_setl_id=medins_setl_id,
    )


def reverse(deps: Deps, ctx: CallContext, body: SettleReverse) -> ReversalAnswer:
    """Undo a settlement entirely: every accumulator returns to what it was without it."""
    mdtrt_id = body.mdtrt_id
    if not mdtrt_id:
        named = deps.store.settlement(body.setl_id)
        if named is None or named.fixmedins_code != ctx.fixmedins_code:  # another's: as if there were none
            raise UnknownSettlement(f"结算ID {body.setl_id} 不存在", field="setl_id")
        mdtrt_id = named.mdtrt_id
    stay = stay_of(deps, ctx, mdtrt_id, body.psn_no)
    state = next_state(stay.state, Event.REVERSE)
    original = deps.store.valid_settlement_of(stay.mdtrt_id)
    if original is None or original.setl_id != body.setl_id:
        raise UnknownSettlement(f"结算ID {body.setl_id} 不是该就诊的有效结算", field="setl_id")
    at = business_time(deps, ctx)
    setl_id = _new_setl_id(deps, at)
    deps.store.mark_reversed(original.setl_id)
    deps.store.insert_settlement(dataclasses.replace(
        original, setl_id=setl_id, setl_time=at, kind="reversal", status="valid", reverses=original.setl_id,
        msgid=ctx.msgid,
    ))
    deps.store.add_to_accumulators(original.psn_no, original.year,
                                   {key: -amount for key, amount in original.figures.deltas.items()})
    deps.store.update_stay(dataclasses.replace(stay, state=state))
    person = person_of(deps, original.psn_no)
    return ReversalAnswer(
        setl_id=setl_id, reversed_setl_id=original.setl_id, mdtrt_id=stay.mdtrt_id, person=person, setl_time=at,
        figures=original.figures, age=age_on(person.brdy, original.setl_time.date()), med_type=stay.med_type,
        medins_setl_id=original.medins_setl_id,
    )


def query(deps: Deps, ctx: CallContext, body: SettlementQuery) -> SettlementAnswer | ReversalAnswer:
    """A settlement, or a reversal record (2305, 2208, 2601 answer its own id) as its reversal answered it."""
    record = deps.store.settlement(body.setl_id)
    if record is None or record.fixmedins_code != ctx.fixmedins_code:
        raise UnknownSettlement(f"结算ID {body.setl_id} 不存在", field="setl_id")
    if body.mdtrt_id and body.mdtrt_id != record.mdtrt_id:
        raise InvalidValue("就诊ID与结算ID不符", field="mdtrt_id")
    if body.psn_no and body.psn_no != record.psn_no:
        raise InvalidValue("人员编号与结算ID不符", field="psn_no")
    stay = deps.store.stay(record.mdtrt_id)
    assert stay is not None  # settlements reference stays (foreign key)
    person = person_of(deps, record.psn_no)
    if record.kind == "reversal":
        original = deps.store.settlement(record.reverses or "")
        assert original is not None  # a reversal names the settlement it undid
        return ReversalAnswer(
            setl_id=record.setl_id, reversed_setl_id=original.setl_id, mdtrt_id=record.mdtrt_id, person=person,
            setl_time=record.setl_time, figures=record.figures, age=age_on(person.brdy, original.setl_time.date()),
            med_type=stay.med_type, medins_setl_id=record.medins_setl_id,
        )
    return SettlementAnswer(
        setl_id=record.setl_id, mdtrt_id=record.mdtrt_id, person=person,
        age=age_on(person.brdy, record.setl_time.date()), setl_time=record.setl_time, med_type=stay.med_type,
        figures=record.figures, year=record.year, medins_setl_id=record.medins_setl_id,
    )


def _accounting_year(stay: StayRecord, at: datetime) -> int:
    """Calendar year of the discharge (2402 endtime); a stay settled before its discharge: settlement date."""
    return stay.endtime.year if stay.endtime else at.year


def _new_setl_id(deps: Deps, at: datetime) -> str:
    return f"{at:%Y%m%d}{deps.store.next_serial('setl_id'):010d}"
