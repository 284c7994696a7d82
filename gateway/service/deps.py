"""What every service function needs, and the lookups they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from gateway.canonical.calls import CallContext
from gateway.canonical.refdata import UNINSURED_REASONS, Hospital, Person
from gateway.engine.policy import PolicyBook
from gateway.errors import InvalidValue, PersonUninsured, UnknownHospital, UnknownPerson, UnknownStay
from gateway.store.base import Store
from gateway.store.records import StayRecord


@dataclass(frozen=True, slots=True)
class Deps:
    store: Store
    policies: PolicyBook
    now: Callable[[], datetime]


def business_time(deps: Deps, ctx: CallContext) -> datetime:
    """The HIS's clock (inf_time) when it sent one: the date the hospital books the settlement on."""
    return ctx.inf_time or deps.now()


def hospital_of(deps: Deps, ctx: CallContext) -> Hospital:
    hospital = deps.store.hospital(ctx.fixmedins_code)
    if hospital is None:
        raise UnknownHospital(f"定点医疗机构编号 {ctx.fixmedins_code} 未在本系统备案", field="fixmedins_code")
    return hospital


def person_of(deps: Deps, psn_no: str) -> Person:
    person = deps.store.person(psn_no)
    if person is None:
        raise UnknownPerson(f"人员编号 {psn_no} 不存在", field="psn_no")
    return person


def require_insured(person: Person) -> None:
    if not person.insured:
        reason = person.uninsured_reason or ""
        raise PersonUninsured(f"未参保原因：{reason} {UNINSURED_REASONS.get(reason, '未登记原因')}", field="psn_no")


def stay_of(deps: Deps, ctx: CallContext, mdtrt_id: str, psn_no: str) -> StayRecord:
    """The stay, checked to belong to the calling hospital and to the person the HIS names. Another hospital's
    stay is answered exactly as one that does not exist: a hospital cannot tell the ids of others from none."""
    stay = deps.store.stay(mdtrt_id)
    if stay is None or stay.fixmedins_code != ctx.fixmedins_code:
        raise UnknownStay(f"就诊ID {mdtrt_id} 不存在", field="mdtrt_id")
    if psn_no and psn_no != stay.psn_no:
        raise InvalidValue(f"人员编号与就诊ID {mdtrt_id} 的登记人员不符", field="psn_no")
    return stay


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
