"""2401 admission, 2403 change, 2404 cancel, 2402 discharge, 2405 cancel discharge."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from gateway.canonical.answers import AdmissionAnswer, Done
from gateway.canonical.calls import (
    Admission,
    AdmissionCancel,
    AdmissionChange,
    CallContext,
    Discharge,
    DischargeCancel,
)
from gateway.errors import DuplicateAdmission, InvalidValue
from gateway.lifecycle import Event, StayState, next_state, with_fees
from gateway.service import deposit, late
from gateway.service.deps import Deps, hospital_of, person_of, require_insured, stay_of
from gateway.store.records import StayRecord


def admit(deps: Deps, ctx: CallContext, body: Admission) -> AdmissionAnswer:
    hospital = hospital_of(deps, ctx)
    person = person_of(deps, body.psn_no)
    require_insured(person)
    deposit.check_admission(deps, person.psn_no, body.zero_deposit)
    if body.insutype and body.insutype != person.insutype:
        raise InvalidValue(f"险种类型 {body.insutype} 与参保险种 {person.insutype} 不符", field="insutype")
    if body.ipt_no and deps.store.open_stay_by_ipt_no(hospital.fixmedins_code, body.ipt_no):
        raise DuplicateAdmission(f"住院号 {body.ipt_no} 已有未结束的住院登记", field="ipt_no")
    mdtrt_id = f"{body.begntime:%Y%m%d}{deps.store.next_serial('mdtrt_id'):010d}"
    stay = StayRecord(
        mdtrt_id=mdtrt_id, fixmedins_code=hospital.fixmedins_code, psn_no=person.psn_no,
        insutype=person.insutype, state=StayState.REGISTERED, hosp_lv=hospital.hosp_lv,
        in_county=hospital.admdvs == person.insuplc_admdvs, begntime=body.begntime, endtime=None,
        ipt_no=body.ipt_no, med_type=body.med_type, admission=_details(body), discharge=None,
        created_msgid=ctx.msgid,
    )
    deps.store.insert_stay(stay)
    return AdmissionAnswer(mdtrt_id=mdtrt_id, psn_no=person.psn_no, ipt_otp_no=body.ipt_no,
                           warn_msg=late.record_if_late(deps, ctx, stay))


def change_admission(deps: Deps, ctx: CallContext, body: AdmissionChange) -> Done:
    stay = stay_of(deps, ctx, body.mdtrt_id, body.psn_no)
    next_state(stay.state, Event.CHANGE)
    changes = dict(body.changes)
    details = {**stay.admission, **changes}
    if body.diagnoses is not None:
        details["diagnoses"] = [dataclasses.asdict(d) for d in body.diagnoses]
    begntime = datetime.fromisoformat(changes["begntime"]) if "begntime" in changes else stay.begntime
    deps.store.update_stay(dataclasses.replace(
        stay, admission=details, begntime=begntime,
        ipt_no=str(details.get("ipt_no", stay.ipt_no)), med_type=str(details.get("med_type", stay.med_type)),
    ))
    return Done(stay.mdtrt_id)


def cancel_admission(deps: Deps, ctx: CallContext, body: AdmissionCancel) -> Done:
    stay = stay_of(deps, ctx, body.mdtrt_id, body.psn_no)
    deps.store.update_stay(dataclasses.replace(stay, state=next_state(stay.state, Event.CANCEL)))
    return Done(stay.mdtrt_id)


def discharge(deps: Deps, ctx: CallContext, body: Discharge) -> Done:
    stay = stay_of(deps, ctx, body.mdtrt_id, body.psn_no)
    state = next_state(stay.state, Event.DISCHARGE)
    if body.endtime < stay.begntime:
        raise InvalidValue("出院时间早于入院时间", field="endtime")
    details: dict[str, object] = {
        f.name: getattr(body, f.name) for f in dataclasses.fields(body) if f.name not in ("diagnoses", "endtime")
    }
    details["endtime"] = body.endtime.isoformat(sep=" ")
    details["diagnoses"] = [dataclasses.asdict(d) for d in body.diagnoses]
    deps.store.update_stay(dataclasses.replace(stay, state=state, endtime=body.endtime, discharge=details))
    return Done(stay.mdtrt_id)


def cancel_discharge(deps: Deps, ctx: CallContext, body: DischargeCancel) -> Done:
    stay = stay_of(deps, ctx, body.mdtrt_id, body.psn_no)
    state = with_fees(next_state(stay.state, Event.CANCEL_DISCHARGE), deps.store.fee_line_count(stay.mdtrt_id) > 0)
    deps.store.update_stay(dataclasses.replace(stay, state=state, endtime=None, discharge=None))
    return Done(stay.mdtrt_id)


def _details(body: Admission) -> dict[str, object]:
    details: dict[str, object] = {}
    for field in dataclasses.fields(body):
        value = getattr(body, field.name)
        if isinstance(value, datetime):
            details[field.name] = value.isoformat(sep=" ")
        elif field.name == "diagnoses":
            details[field.name] = [dataclasses.asdict(d) for d in value]
        elif field.name == "zero_deposit":
            if value is not None:  # the 先诊疗后付费 agreement, kept with the admission (Gannan)
                details[field.name] = deposit.agreement_document(value)
        else:
            details[field.name] = value
    return details
