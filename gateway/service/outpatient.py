"""The outpatient trades (门诊, 22xx): 2201 挂号, 2202 挂号撤销, 2203 就诊信息上传, 2204/2205 费用明细上传/撤销,
2206 预结算, 2207 结算, 2208 结算撤销.

A visit is a row of the stays table marked `visit: outpatient` in its registration details, so fee lines, the
engine, the ledger, the accumulators, the journal and 2601 are the inpatient ones. What is the visit's own is
its lifecycle (gateway.lifecycle.OUTPATIENT_TRANSITIONS: no discharge, settled at once), its charge batches
(2205 revokes a batch), and the policy's visit kind: `chronic` for a recognised 门诊特殊慢性病 visit
(gateway.service.chronic), else `outpatient`. An inpatient trade naming a visit, or an outpatient trade naming
a stay, is refused (HG3051), so neither table is ever walked with the other's events.
"""

from __future__ import annotations

import dataclasses

from gateway.canonical import calls as c
from gateway.canonical.answers import Done, FeeUploadAnswer, ReversalAnswer, SettlementAnswer, VisitAnswer
from gateway.errors import DuplicateAdmission, InvalidValue, UnknownFeeLine, UnknownSettlement, WrongVisitKind
from gateway.lifecycle import OUTPATIENT_TRANSITIONS, Event, StayState, next_state
from gateway.service import chronic, fees, settlement
from gateway.service.deps import Deps, business_time, hospital_of, person_of, require_insured, stay_of
from gateway.store.records import StayRecord

OUTPATIENT = "outpatient"
DEFAULT_MED_TYPE = "11"  # 普通门诊, until 2203 or 2207 says otherwise (14 门诊慢特病)


def is_outpatient(stay: StayRecord) -> bool:
    return stay.admission.get("visit") == OUTPATIENT


def register(deps: Deps, ctx: c.CallContext, body: c.OutpatientRegister) -> VisitAnswer:
    hospital = hospital_of(deps, ctx)
    person = person_of(deps, body.psn_no)
    require_insured(person)
    if body.insutype and body.insutype != person.insutype:
        raise InvalidValue(f"险种类型 {body.insutype} 与参保险种 {person.insutype} 不符", field="insutype")
    if body.ipt_otp_no:
        open_visit = deps.store.open_stay_by_ipt_no(hospital.fixmedins_code, body.ipt_otp_no)
        if open_visit is not None and open_visit.state in (StayState.REGISTERED, StayState.FEES_UPLOADED):
            raise DuplicateAdmission(f"门诊号 {body.ipt_otp_no} 已有未结算的挂号", field="ipt_otp_no")
    mdtrt_id = f"{body.begntime:%Y%m%d}{deps.store.next_serial('mdtrt_id'):010d}"
    details: dict[str, object] = {
        f.name: getattr(body, f.name) for f in dataclasses.fields(body) if f.name != "begntime"}
    details.update(visit=OUTPATIENT, begntime=body.begntime.isoformat(sep=" "), med_type=DEFAULT_MED_TYPE,
                   diagnoses=[])
    deps.store.insert_stay(StayRecord(
        mdtrt_id=mdtrt_id, fixmedins_code=hospital.fixmedins_code, psn_no=person.psn_no, insutype=person.insutype,
        state=StayState.REGISTERED, hosp_lv=hospital.hosp_lv, in_county=hospital.admdvs == person.insuplc_admdvs,
        begntime=body.begntime, endtime=None, ipt_no=body.ipt_otp_no, med_type=DEFAULT_MED_TYPE, admission=details,
        discharge=None, created_msgid=ctx.msgid,
    ))
    return VisitAnswer(mdtrt_id=mdtrt_id, psn_no=person.psn_no, ipt_otp_no=body.ipt_otp_no)


def cancel(deps: Deps, ctx: c.CallContext, body: c.OutpatientCancel) -> Done:
    visit = visit_of(deps, ctx, body.mdtrt_id, body.psn_no)
    deps.store.update_stay(dataclasses.replace(visit, state=next_state(visit.state, Event.CANCEL,
                                                                       OUTPATIENT_TRANSITIONS)))
    return Done(visit.mdtrt_id)


def visit_info(deps: Deps, ctx: c.CallContext, body: c.VisitInfo) -> Done:
    visit = visit_of(deps, ctx, body.mdtrt_id, body.psn_no)
    next_state(visit.state, Event.CHANGE, OUTPATIENT_TRANSITIONS)
    details = {**visit.admission, "med_type": body.med_type, "main_cond_dscr": body.main_cond_dscr,
               "dise_codg": body.dise_codg, "dise_name": body.dise_name,
               "diagnoses": [dataclasses.asdict(d) for d in body.diagnoses]}
    begntime = body.begntime or visit.begntime
    details["begntime"] = begntime.isoformat(sep=" ")
    deps.store.update_stay(dataclasses.replace(visit, admission=details, med_type=body.med_type, begntime=begntime))
    return Done(visit.mdtrt_id)


def upload(deps: Deps, ctx: c.CallContext, body: c.OutpatientFeeUpload) -> FeeUploadAnswer:
    visit = visit_of(deps, ctx, body.mdtrt_id, body.psn_no)
    next_state(visit.state, Event.UPLOAD, OUTPATIENT_TRANSITIONS)
    answer = fees.upload(deps, ctx, body.upload)
    deps.store.add_batch_lines(visit.mdtrt_id, body.chrg_bchno, [line.feedetl_sn for line in body.upload.lines])
    return answer


def revoke(deps: Deps, ctx: c.CallContext, body: c.OutpatientFeeRevoke) -> Done:
    visit = visit_of(deps, ctx, body.mdtrt_id, body.psn_no)
    next_state(visit.state, Event.REVOKE, OUTPATIENT_TRANSITIONS)
    if body.revokes_all:
        fees.revoke(deps, ctx, c.FeeRevoke(visit.mdtrt_id, body.psn_no, (c.ALL_LINES,)))
        deps.store.forget_batch_lines(visit.mdtrt_id, None)
        return Done(visit.mdtrt_id)
    sns = deps.store.batch_lines(visit.mdtrt_id, body.chrg_bchno)
    if not sns:
        raise UnknownFeeLine(f"收费批次号 {body.chrg_bchno[:40]} 没有明细", field="chrg_bchno")
    fees.revoke(deps, ctx, c.FeeRevoke(visit.mdtrt_id, body.psn_no, tuple(sns)))
    deps.store.forget_batch_lines(visit.mdtrt_id, sns)
    return Done(visit.mdtrt_id)


def settle(deps: Deps, ctx: c.CallContext, body: c.OutpatientSettle) -> SettlementAnswer:
    visit = visit_of(deps, ctx, body.mdtrt_id, body.psn_no)
    trial = body.settle.trial
    next_state(visit.state, Event.TRIAL if trial else Event.SETTLE, OUTPATIENT_TRANSITIONS)
    if body.med_type and body.med_type != visit.med_type:
        # 2207 carries med_type: the visit is what the settlement says it is (a trial changes nothing)
        visit = dataclasses.replace(visit, med_type=body.med_type,
                                    admission={**visit.admission, "med_type": body.med_type})
        if not trial:
            deps.store.update_stay(visit)
    kind = chronic.visit_kind(deps, visit, business_time(deps, ctx).date())
    answer = settlement.settle(deps, ctx, body.settle, visit=kind)
    return dataclasses.replace(answer, med_type=visit.med_type)


def reverse(deps: Deps, ctx: c.CallContext, body: c.OutpatientSettleReverse) -> ReversalAnswer:
    mdtrt_id = body.mdtrt_id
    if not mdtrt_id:
        named = deps.store.settlement(body.setl_id)
        if named is None:
            raise UnknownSettlement(f"结算ID {body.setl_id} 不存在", field="setl_id")
        mdtrt_id = named.mdtrt_id
    visit = visit_of(deps, ctx, mdtrt_id, body.psn_no)
    next_state(visit.state, Event.REVERSE, OUTPATIENT_TRANSITIONS)
    return settlement.reverse(deps, ctx, dataclasses.replace(body.reverse, mdtrt_id=mdtrt_id))


def visit_of(deps: Deps, ctx: c.CallContext, mdtrt_id: str, psn_no: str) -> StayRecord:
    visit = stay_of(deps, ctx, mdtrt_id, psn_no)
    if not is_outpatient(visit):
        raise WrongVisitKind(f"就诊ID {mdtrt_id} 为住院登记，请使用住院交易（2301–2305）", field="mdtrt_id")
    return visit


# Inpatient trades that name a stay: refused on an outpatient visit.
_INPATIENT_ON_A_STAY = (c.FeeUpload, c.FeeRevoke, c.Settle, c.SettleReverse, c.Discharge, c.DischargeCancel,
                        c.AdmissionChange, c.AdmissionCancel)


def refuse_crossed(deps: Deps, body: c.Transaction) -> None:
    """An inpatient trade naming an outpatient visit is refused before its handler walks the stay's table."""
    if not isinstance(body, _INPATIENT_ON_A_STAY):
        return
    mdtrt_id = body.mdtrt_id
    if not mdtrt_id and isinstance(body, c.SettleReverse):
        named = deps.store.settlement(body.setl_id)
        mdtrt_id = named.mdtrt_id if named is not None else ""
    stay = deps.store.stay(mdtrt_id) if mdtrt_id else None
    if stay is not None and is_outpatient(stay):
        raise WrongVisitKind(f"就诊ID {mdtrt_id} 为门诊就诊，请使用门诊交易（2203–2208）", field="mdtrt_id")
