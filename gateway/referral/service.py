"""2501/2502 转院备案, issuing and importing the signed accumulator record, and the year-to-date figures a
settlement works on (its own accumulators plus what partner gateways' latest records say)."""

from __future__ import annotations

import dataclasses
import getpass
import json
import uuid
from datetime import datetime
from decimal import Decimal

from gateway.canonical.answers import ReferralAnswer
from gateway.canonical.calls import CallContext, ReferralCancel, ReferralFiling
from gateway.county import audit
from gateway.county.roles import HOST_ROLE, Actor
from gateway.errors import (
    GatewayError,
    InvalidValue,
    PartnerMismatch,
    ReferralAlreadyCancelled,
    ReferralRecordRejected,
    ReferralRecordReplayed,
    UnknownReferral,
)
from gateway.log import get_logger
from gateway.money import ZERO
from gateway.referral.partners import Partners
from gateway.referral.port import Carried, ImportRow, ReferralRow
from gateway.referral.record import AccumulatorRecord, from_json, signature_ok, signed, to_json
from gateway.service.deps import Deps, business_time, hospital_of, person_of, require_insured
from gateway.store.base import Store

log = get_logger("hisgw.referral")


def file_referral(deps: Deps, ctx: CallContext, body: ReferralFiling) -> ReferralAnswer:
    hospital = hospital_of(deps, ctx)
    person = person_of(deps, body.psn_no)
    require_insured(person)
    if body.insutype and body.insutype != person.insutype:
        raise InvalidValue(f"险种类型 {body.insutype} 与参保险种 {person.insutype} 不符", field="insutype")
    if body.enddate is not None and body.enddate < body.begndate:
        raise InvalidValue("结束日期早于开始日期", field="enddate")
    at = business_time(deps, ctx)
    sn = f"{at:%Y%m%d}{deps.store.next_serial('trt_dcla_detl_sn'):08d}"
    details = {item.name: "" if getattr(body, item.name) is None else str(getattr(body, item.name))
               for item in dataclasses.fields(body)}
    deps.store.referral_insert(ReferralRow(sn, hospital.fixmedins_code, person.psn_no, body.begndate.year, "1",
                                           at.isoformat(sep=" "), ctx.msgid, details))
    return ReferralAnswer(sn, person.psn_no, "1")


def cancel_referral(deps: Deps, ctx: CallContext, body: ReferralCancel) -> ReferralAnswer:
    row = deps.store.referral(body.trt_dcla_detl_sn)
    if row is None or row.fixmedins_code != ctx.fixmedins_code or (body.psn_no and body.psn_no != row.psn_no):
        raise UnknownReferral(f"待遇申报明细流水号 {body.trt_dcla_detl_sn} 不存在", field="trt_dcla_detl_sn")
    if row.status == "0":
        raise ReferralAlreadyCancelled(f"转院备案 {row.trt_dcla_detl_sn} 已撤销", field="trt_dcla_detl_sn")
    deps.store.referral_set_status(row.trt_dcla_detl_sn, "0")
    return ReferralAnswer(row.trt_dcla_detl_sn, row.psn_no, "0")


def own_figures(store: Store, psn_no: str, year: int) -> tuple[Decimal, Decimal, Decimal, Decimal, int]:
    """(累计合规费用, 基本累计补偿, 大病累计补偿, 大病累计合规自付, settlements) of this gateway's own valid
    settlements of the year: a pure sum over ledger rows. Basic is the fund paying into setlinfo hifp_pay;
    critical illness the fund that keeps an annual base (its "<code>:base" accumulator)."""
    cmpl = basic = critical = base = ZERO
    count = 0
    for record in store.settlements_of_year(psn_no, year):
        if record.kind != "settlement" or record.status != "valid":
            continue
        count += 1
        figures = record.figures
        cmpl += figures.totals.inscp_scp_amt
        for payment in figures.payments:
            if payment.setlinfo_field == "hifp_pay":
                basic += payment.fund_payamt
            elif f"{payment.fund_pay_type}:base" in figures.deltas and payment.setlinfo_field == "hifmi_pay":
                critical += payment.fund_payamt
                base += figures.deltas[f"{payment.fund_pay_type}:base"]
    return cmpl, basic, critical, base, count


def issue_record(store: Store, partners: Partners, sn: str, audience: str, now: datetime) -> AccumulatorRecord:
    """The record of referral `sn` for partner `audience`, with the figures as they stand now, signed, under the
    next sequence number for that partner (a write: in the caller's transaction)."""
    partner = partners.get(audience)
    row = store.referral(sn)
    if partner is None or row is None:  # an unknown partner learns nothing, not even that the number exists
        raise UnknownReferral(f"待遇申报明细流水号 {sn} 不存在", field="trt_dcla_detl_sn")
    person = store.person(row.psn_no)
    assert person is not None  # referrals reference persons of this store
    cmpl, basic, critical, base, count = own_figures(store, row.psn_no, row.year)
    details = row.details
    record = AccumulatorRecord(
        issuer=partners.self_id, audience=audience, issued_at=now.isoformat(timespec="microseconds"),
        trt_dcla_detl_sn=sn, refl_stas=row.status, psn_no=row.psn_no, certno=person.certno,
        insutype=person.insutype, year=row.year, reflin_medins_name=details.get("reflin_medins_name", ""),
        dise_codg=details.get("dise_codg", ""), dise_name=details.get("dise_name", ""),
        begndate=details.get("begndate", ""), enddate=details.get("enddate", ""), cum_cmpl_fee=cmpl,
        cum_basic_pay=basic, cum_crit_pay=critical, cum_crit_base=base, setl_cnt=count,
        seq=store.referral_next_seq(audience),
    )
    return signed(record, partner.key)


def import_record(store: Store, partners: Partners, data: bytes, now: datetime,
                  *, pushed_by: str | None = None) -> tuple[str, AccumulatorRecord]:
    """Verify and keep a partner's record: (imported | replaced | dropped | stale, record). Raises HG3050 (HG3091
    for a replay), or HG4091 when the partner that pushed it (authenticated by its request) is not its issuer. A
    change is audited (`referral.import`, in the caller's transaction) by the host account or the pushing partner."""
    outcome, record = _import_record(store, partners, data, now, pushed_by)
    if outcome != "stale":
        actor = Actor(actor_of(pushed_by), HOST_ROLE)
        audit.record(store, actor, "referral.import", f"{record.issuer}/{record.trt_dcla_detl_sn}", None, {
            "outcome": outcome, "issuer": record.issuer, "year": record.year, "issued_at": record.issued_at,
            "cum_cmpl_fee": record.cum_cmpl_fee, "cum_basic_pay": record.cum_basic_pay,
            "cum_crit_pay": record.cum_crit_pay, "cum_crit_base": record.cum_crit_base}, uuid.uuid4().hex, now)
    return outcome, record


def actor_of(pushed_by: str | None) -> str:
    """Who took a record in: the authenticated partner that pushed it, or the host account that ran the command."""
    return f"partner:{pushed_by}" if pushed_by is not None else getpass.getuser()


def record_refusal(store: Store, data: bytes, exc: GatewayError, now: datetime, actor: str,
                   request_id: str = "") -> None:
    """A record refused, on the audit trail in its own commit (the import's transaction was rolled back), by
    `actor`: actor_of(the authenticated pusher), or "anonymous" for a push whose request failed authentication."""
    try:
        doc = json.loads(data.decode("utf-8"))
        subject = f"{str(doc.get('issuer', ''))[:40]}/{str(doc.get('trt_dcla_detl_sn', ''))[:40]}"
    except (UnicodeDecodeError, ValueError, AttributeError):
        subject = "unreadable"
    log.warning("referral.refused", code=exc.code, subject=subject, by=actor)
    audit.record_refusal(store, Actor(actor, HOST_ROLE), "referral.import", subject,
                         exc.message, request_id or uuid.uuid4().hex, now)


def _import_record(store: Store, partners: Partners, data: bytes, now: datetime,
                   pushed_by: str | None) -> tuple[str, AccumulatorRecord]:
    record = from_json(data)
    if pushed_by is not None and pushed_by != record.issuer:
        raise PartnerMismatch(f"合作网关 {pushed_by} 推送了 {record.issuer} 签发的记录", field="issuer")
    partner = partners.get(record.issuer)
    if partner is None:
        raise ReferralRecordRejected(f"签发方 {record.issuer} 不是本网关配置的合作网关", field="issuer")
    if not signature_ok(record, partner.key):
        raise ReferralRecordRejected("签名不符", field="sign")
    if record.audience != partners.self_id:
        raise ReferralRecordRejected(f"记录签发给 {record.audience}，不是本网关", field="audience")
    person = store.person_by_certno(record.certno) if record.certno else None
    if person is None:
        raise ReferralRecordRejected("本网关没有该参保人", field="certno")
    seen = store.referral_seen_seq(record.issuer, person.psn_no, record.year)
    if seen is not None and record.seq < seen:
        raise ReferralRecordReplayed(f"序号 {record.seq} 早于已接收的 {seen}（重放的旧记录）", field="seq")
    if seen == record.seq:  # the same record again
        return "stale", record
    store.referral_seen_put(record.issuer, person.psn_no, record.year, record.seq)
    held = store.referral_import_of(record.issuer, person.psn_no, record.year)
    if record.refl_stas == "0":
        if held is not None and held.trt_dcla_detl_sn == record.trt_dcla_detl_sn:
            store.referral_import_drop(record.issuer, person.psn_no, record.year)
            return "dropped", record
        return "stale", record
    store.referral_import_put(ImportRow(record.issuer, person.psn_no, record.year, record.trt_dcla_detl_sn,
                                        record.issued_at, to_json(record).decode("utf-8")), now.isoformat(sep=" "))
    return ("replaced" if held is not None else "imported"), record


def imported_records(store: Store, psn_no: str, year: int) -> list[AccumulatorRecord]:
    return [from_json(row.record.encode("utf-8")) for row in store.referral_imports(psn_no, year)]


def carried_in(store: Store, psn_no: str, year: int) -> Carried | None:
    """The sum of every partner's latest record for the person's year; None when there is none."""
    records = imported_records(store, psn_no, year)
    if not records:
        return None
    return Carried(tuple(r.issuer for r in records), sum((r.cum_cmpl_fee for r in records), ZERO),
                   sum((r.cum_basic_pay for r in records), ZERO), sum((r.cum_crit_pay for r in records), ZERO),
                   sum((r.cum_crit_base for r in records), ZERO))
