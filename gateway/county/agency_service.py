"""The agency window's writes on the store thread: settle an entry (gateway/county/agency.py), reverse it, read it.

Each write is journalled before it runs and idempotent by the client's request id, exactly as a hospital's
2304 is by its msgid (gateway/runtime.py explains the two commits): the attempt row first (no fsync), then
the effects, the stored answer, the audit entry and the journal outcome in one durable commit. A retry under
the same request id gets the first answer byte for byte; the same id on another request is refused (HG3013).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from gateway.canonical.refdata import Person
from gateway.county.agency import MODES, AgencyEntry, fee_lines, settle_entry, totals_of
from gateway.county.agency_port import AgencyRecord
from gateway.county.attributes import attributes_on
from gateway.county.audit import jsonable, record
from gateway.county.claims import paid_elsewhere
from gateway.county.period import Period
from gateway.county.roles import Actor
from gateway.engine.policy import PolicyBook
from gateway.engine.types import ChainResult, StayFacts
from gateway.errors import (
    AlreadySettled,
    AmountMismatch,
    BusinessError,
    InvalidValue,
    NoFees,
    UnknownPerson,
    UnknownSettlement,
)
from gateway.lifecycle import StayState
from gateway.money import ZERO
from gateway.refdata.idcard import mask_certno, mask_name
from gateway.service.deps import age_on, require_insured
from gateway.store.base import Store
from gateway.store.records import SettlementRecord, StayRecord

CALLER = "county"  # the journal's and the stored answers' "hospital" for the county's own calls
AGENCY_MED_TYPE = "21"


@dataclass(frozen=True, slots=True)
class AgencyResult:
    """A window settlement, its reversal (sign −1) or a read of either."""

    setl_id: str
    mdtrt_id: str
    mode: str
    person: Person
    age: int
    setl_time: datetime
    year: int
    figures: ChainResult
    medins_setl_id: str
    sign: int = 1
    reversed_setl_id: str = ""
    status: str = "valid"


def settle(store: Store, policies: PolicyBook, actor: Actor, entry: AgencyEntry, request_id: str,
           at: datetime) -> AgencyResult:
    person = store.person(entry.psn_no)
    if person is None:
        raise UnknownPerson(f"人员编号 {entry.psn_no} 不存在", field="psn_no")
    require_insured(person)
    if entry.enddate < entry.begndate:
        raise InvalidValue("出院日期早于入院日期", field="enddate")
    if entry.enddate > at.date():
        raise InvalidValue("出院日期晚于今天", field="enddate")
    hospital = store.hospital(entry.fixmedins_code)
    level, name, area = entry.hosp_lv, entry.fixmedins_name, entry.admdvs
    if hospital is not None:
        if level is not None and level != hospital.hosp_lv:
            raise InvalidValue(f"医院等级 {level} 与备案的 {hospital.hosp_lv} 级不符", field="hosp_lv")
        level, name, area = hospital.hosp_lv, hospital.fixmedins_name, hospital.admdvs
    elif level is None or not name:
        raise InvalidValue("未备案的医院须给出名称 fixmedins_name 与等级 hosp_lv", field="fixmedins_code")
    if area and area == person.insuplc_admdvs:
        raise BusinessError(f"{name} 在参保地 {area} 县域内：县域内住院在医院窗口一站式结算")
    duplicate = store.agency_duplicate(person.psn_no, entry.fixmedins_code, entry.begndate, entry.enddate)
    if duplicate is not None:
        raise AlreadySettled(f"该次住院已由经办窗口结算（结算ID {duplicate}），如需重新结算请先撤销")
    lines = fee_lines(entry, store.catalogue_items({ln.med_list_codg for ln in entry.lines if ln.med_list_codg}))
    totals = totals_of(lines)
    if totals.medfee_sumamt <= ZERO:
        raise NoFees("费用合计须大于 0", field="lines")
    if entry.medfee_sumamt is not None and entry.medfee_sumamt != totals.medfee_sumamt:
        raise AmountMismatch(f"医疗费总额 {entry.medfee_sumamt} 与明细合计 {totals.medfee_sumamt} 不一致",
                             field="medfee_sumamt")
    assert level is not None
    year = entry.enddate.year  # the discharge year, as for a window settlement discharged before it settles
    facts = StayFacts(insutype=person.insutype, hosp_lv=level, in_county=False,
                      attributes=attributes_on(store, person, entry.begndate), totals=totals, on=entry.enddate)
    figures = settle_entry(policies.for_date(entry.enddate), facts, store.year_to_date(person.psn_no, year), entry)

    mdtrt_id = f"{entry.begndate:%Y%m%d}{store.next_serial('mdtrt_id'):010d}"
    msgid = f"{CALLER}:{request_id}"
    begin, end = datetime.combine(entry.begndate, time.min), datetime.combine(entry.enddate, time.min)
    details = {"channel": "agency", "mode": entry.mode, "fixmedins_name": name, "admdvs": area,
               "operator": actor.name, "invoice_no": entry.invoice_no, "dise_codg": entry.dise_codg,
               "dise_name": entry.dise_name}
    store.insert_stay(StayRecord(
        mdtrt_id=mdtrt_id, fixmedins_code=entry.fixmedins_code, psn_no=person.psn_no, insutype=person.insutype,
        state=StayState.COMPLETED, hosp_lv=level, in_county=False, begntime=begin, endtime=end,
        ipt_no=entry.ipt_no, med_type=AGENCY_MED_TYPE, admission=details,
        discharge={"endtime": end.isoformat(sep=" "), "dise_codg": entry.dise_codg, "dise_name": entry.dise_name},
        created_msgid=msgid))
    store.insert_fee_lines(mdtrt_id, lines)
    setl_id = f"{at:%Y%m%d}{store.next_serial('setl_id'):010d}"
    medins_setl_id = entry.invoice_no or request_id
    store.insert_settlement(SettlementRecord(
        setl_id=setl_id, mdtrt_id=mdtrt_id, psn_no=person.psn_no, fixmedins_code=entry.fixmedins_code, year=year,
        setl_time=at, kind="settlement", status="valid", reverses=None, figures=figures, msgid=msgid,
        medins_setl_id=medins_setl_id))
    store.add_to_accumulators(person.psn_no, year, figures.deltas)
    entered = jsonable(dataclasses.asdict(entry))
    store.agency_insert(AgencyRecord(setl_id=setl_id, mode=entry.mode, psn_no=person.psn_no,
                                     fixmedins_code=entry.fixmedins_code, begndate=entry.begndate,
                                     enddate=entry.enddate, operator=actor.name, request_id=request_id, entry=entered))
    record(store, actor, "agency.settle", f"settlement:{setl_id}", None,
           {"mode": entry.mode, "setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": person.psn_no,
            "fixmedins_code": entry.fixmedins_code, "paid": _paid(figures), "psn_part_amt": figures.psn_part_amt},
           request_id, at)
    return AgencyResult(setl_id=setl_id, mdtrt_id=mdtrt_id, mode=entry.mode, person=person,
                        age=age_on(person.brdy, at.date()), setl_time=at, year=year, figures=figures,
                        medins_setl_id=medins_setl_id)


def reverse(store: Store, actor: Actor, setl_id: str, request_id: str, at: datetime) -> AgencyResult:
    """Undo a window settlement entirely, as 2305 undoes a hospital's: every accumulator loses what it added."""
    agency = store.agency_record(setl_id)
    original = store.settlement(setl_id)
    if agency is None or original is None or original.kind != "settlement":
        raise UnknownSettlement(f"结算ID {setl_id} 不是经办窗口的结算", field="setl_id")
    if original.status != "valid":
        raise BusinessError(f"结算ID {setl_id} 已撤销")
    stay = store.stay(original.mdtrt_id)
    person = store.person(original.psn_no)
    assert stay is not None and person is not None  # a settlement references both
    reversal_id = f"{at:%Y%m%d}{store.next_serial('setl_id'):010d}"
    store.mark_reversed(setl_id)
    store.insert_settlement(dataclasses.replace(original, setl_id=reversal_id, setl_time=at, kind="reversal",
                                                status="valid", reverses=setl_id, msgid=f"{CALLER}:{request_id}"))
    store.add_to_accumulators(original.psn_no, original.year,
                              {key: -amount for key, amount in original.figures.deltas.items()})
    store.update_stay(dataclasses.replace(stay, state=StayState.DISCHARGED))
    record(store, actor, "agency.reverse", f"settlement:{setl_id}",
           {"status": "valid", "paid": _paid(original.figures)},
           {"status": "reversed", "reversal_setl_id": reversal_id}, request_id, at)
    return AgencyResult(setl_id=reversal_id, mdtrt_id=original.mdtrt_id, mode=agency.mode, person=person,
                        age=age_on(person.brdy, original.setl_time.date()), setl_time=at, year=original.year,
                        figures=original.figures, medins_setl_id=original.medins_setl_id, sign=-1,
                        reversed_setl_id=setl_id)


def show(store: Store, setl_id: str) -> AgencyResult:
    agency = store.agency_record(setl_id)
    settlement = store.settlement(setl_id)
    if agency is None or settlement is None:
        raise UnknownSettlement(f"结算ID {setl_id} 不是经办窗口的结算", field="setl_id")
    person = store.person(settlement.psn_no)
    assert person is not None
    return AgencyResult(setl_id=setl_id, mdtrt_id=settlement.mdtrt_id, mode=agency.mode, person=person,
                        age=age_on(person.brdy, settlement.setl_time.date()), setl_time=settlement.setl_time,
                        year=settlement.year, figures=settlement.figures, medins_setl_id=settlement.medins_setl_id,
                        status=settlement.status)


MAX_PAGE = 500
STATUSES = ("valid", "reversed")


def listing(store: Store, period: Period, status: str, limit: int, offset: int) -> dict[str, Any]:
    """The window settlements booked in the period, a page of them: what each fund paid, which of it went
    through the county's account (`paid_here`: what the agency window claims and pays the patient) and which
    the out-of-county hospital paid (`paid_elsewhere`: basic, for basic_settled), and the claim holding it.
    Names and ID numbers are masked for every role: the clear text is only in the console's audited view."""
    if status and status not in STATUSES:
        raise InvalidValue(f"status 应为 {' 或 '.join(STATUSES)}", field="status")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidValue(f"limit 应在 1 到 {MAX_PAGE} 之间，offset 不小于 0", field="limit")
    if period.until.year > 9998:
        raise InvalidValue("until 超出范围", field="until")
    since, until = period.bounds()
    total, found = store.agency_listing(since, until, status, limit, offset)
    rows = []
    for listed in found:
        settlement = store.settlement(listed.record.setl_id)
        person = store.person(listed.record.psn_no)
        assert settlement is not None and person is not None  # an agency record names both
        figures, mode = settlement.figures, listed.record.mode
        here = {p.fund_pay_type: f"{p.fund_payamt:.2f}" for p in figures.payments
                if p.counts_as_fund and p.fund_payamt and not paid_elsewhere(p, mode)}
        there = {p.fund_pay_type: f"{p.fund_payamt:.2f}" for p in figures.payments
                 if p.fund_payamt and paid_elsewhere(p, mode)}
        rows.append({"setl_id": listed.record.setl_id, "mode": mode, "mode_name": MODES[mode],
                     "psn_no": listed.record.psn_no, "psn_name": mask_name(person.psn_name),
                     "certno": mask_certno(person.certno), "fixmedins_code": listed.record.fixmedins_code,
                     "begndate": listed.record.begndate.isoformat(), "enddate": listed.record.enddate.isoformat(),
                     "setl_time": listed.setl_time.isoformat(sep=" ", timespec="seconds"), "status": listed.status,
                     "medfee_sumamt": f"{figures.totals.medfee_sumamt:.2f}", "paid_here": here,
                     "paid_here_total": f"{sum((Decimal(v) for v in here.values()), Decimal(0)):.2f}",
                     "paid_elsewhere": there, "psn_part_amt": f"{figures.psn_part_amt:.2f}",
                     "operator": listed.record.operator, "claim_id": listed.claim_id})
    return {"code": 0, "since": period.since.isoformat(), "until": period.until.isoformat(), "status": status,
            "total": total, "limit": limit, "offset": offset, "settlements": rows}


def _paid(figures: ChainResult) -> dict[str, Decimal]:
    return {p.fund_pay_type: p.fund_payamt for p in figures.payments if p.fund_payamt}


__all__ = ["MODES", "AgencyResult", "reverse", "settle", "show"]
