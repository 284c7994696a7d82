"""Gannan's 先诊疗后付费 (州医改办发〔2018〕9号): the zero-deposit agreement recorded with the admission, the
register of malicious defaulters (恶意拖欠) that ends the privilege at every hospital until paid in full, and
the stays referred out (转院) that are not settled within 3 days (附件1 五).

Pure rules over the store's port; the county API (gateway/adapters/county_gannan.py) audits every write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from gateway.canonical.calls import ZeroDeposit
from gateway.errors import ArrearsRefused, InvalidValue, UnknownArrears, UnknownStay, ZeroDepositRevoked
from gateway.money import ZERO
from gateway.service.deps import Deps
from gateway.store.arrears_port import ArrearsRecord
from gateway.store.records import StayRecord

REFERRAL_DSCG_WAY = "2"  # national 离院方式 2 医嘱转院
REFERRAL_SETTLE_DAYS = 3  # Gannan 附件1 五: a referred patient settles within 3 days


@dataclass(frozen=True, slots=True)
class Privilege:
    """Whether the person may be admitted without a deposit now, and what they owe when not."""

    allowed: bool
    owed: Decimal = ZERO
    since: date | None = None  # the earliest open report
    arrears_ids: tuple[str, ...] = ()


def agreement_document(agreement: ZeroDeposit) -> dict[str, object]:
    return {"signer_name": agreement.signer_name, "signer_rlts": agreement.signer_rlts,
            "sign_date": agreement.sign_date.isoformat(), "emgc_flag": "1" if agreement.emergency else "0"}


def privilege(deps: Deps, psn_no: str) -> Privilege:
    open_ = deps.store.arrears_list(psn_no, open_only=True)
    if not open_:
        return Privilege(True)
    return Privilege(False, sum((a.outstanding for a in open_), ZERO), min(a.reported_on for a in open_),
                     tuple(a.arrears_id for a in open_))


def check_admission(deps: Deps, psn_no: str, agreement: ZeroDeposit | None) -> None:
    """A zero-deposit admission of a person on the register is refused, an emergency one is not."""
    if agreement is None or agreement.emergency:
        return
    status = privilege(deps, psn_no)
    if not status.allowed:
        raise ZeroDepositRevoked(
            f"该人员有恶意拖欠医疗费用记录（{status.since} 起，尚欠 {status.owed} 元），不能先诊疗后付费；"
            "急诊入院请置 emgc_flag=1，或结清欠费后再办理", field="input.zero_deposit")


def report(deps: Deps, mdtrt_id: str, owed: Decimal, reported_on: date, by: str, at: datetime) -> ArrearsRecord:
    stay = deps.store.stay(mdtrt_id)
    if stay is None:
        raise UnknownStay(f"就诊ID {mdtrt_id[:40]} 不存在", field="mdtrt_id")
    if owed <= ZERO or owed != owed.quantize(Decimal("0.01")):
        raise InvalidValue("欠费金额应为大于 0 的金额（元，两位小数）", field="owed_amt")
    if deps.store.arrears_of_stay(mdtrt_id) is not None:
        raise ArrearsRefused(f"就诊 {mdtrt_id} 已登记欠费", field="mdtrt_id")
    record = ArrearsRecord(
        arrears_id=f"QF{at:%Y%m%d}{deps.store.next_serial('arrears_id'):06d}", psn_no=stay.psn_no,
        fixmedins_code=stay.fixmedins_code, mdtrt_id=mdtrt_id, owed=owed, paid=ZERO, reported_on=reported_on,
        recorded_at=at, recorded_by=by)
    deps.store.insert_arrears(record)
    return record


def pay(deps: Deps, arrears_id: str, amount: Decimal, paid_on: date) -> tuple[ArrearsRecord, ArrearsRecord]:
    """Record a repayment; the privilege comes back when every open report of the person is paid in full."""
    before = deps.store.arrears(arrears_id)
    if before is None:
        raise UnknownArrears(f"欠费登记 {arrears_id[:40]} 不存在", field="arrears_id")
    if amount <= ZERO or amount != amount.quantize(Decimal("0.01")):
        raise InvalidValue("还款金额应为大于 0 的金额（元，两位小数）", field="amount")
    if amount > before.outstanding:
        raise ArrearsRefused(f"还款 {amount} 元超过尚欠 {before.outstanding} 元", field="amount")
    paid = before.paid + amount
    cleared = paid_on if paid == before.owed else None
    deps.store.record_arrears_payment(arrears_id, paid, cleared)
    return before, dataclasses.replace(before, paid=paid, cleared_on=cleared)


def overdue_referrals(deps: Deps, now: datetime) -> list[StayRecord]:
    """Stays discharged as 转院 more than 3 days ago and still not settled."""
    return deps.store.discharged_unsettled(REFERRAL_DSCG_WAY, now - timedelta(days=REFERRAL_SETTLE_DAYS))
