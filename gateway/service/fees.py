"""2301 fee upload and 2302 fee revoke."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from gateway.canonical.answers import Done, FeeLineAnswer, FeeUploadAnswer
from gateway.canonical.calls import CallContext, FeeLine, FeeRevoke, FeeUpload
from gateway.engine.fees import classify_line
from gateway.errors import (
    BusinessError,
    ConflictingFeeLine,
    InvalidValue,
    RefundExceedsOriginal,
    RefundWithoutOriginal,
    UnknownCatalogueItem,
    UnknownFeeLine,
)
from gateway.lifecycle import Event, next_state, with_fees
from gateway.money import ZERO
from gateway.service.deps import Deps, stay_of
from gateway.store.records import StoredFeeLine


def upload(deps: Deps, ctx: CallContext, body: FeeUpload) -> FeeUploadAnswer:
    """Apply one batch atomically. A line re-sent unchanged is acknowledged again, not added twice."""
    stay = stay_of(deps, ctx, body.mdtrt_id, body.psn_no)
    state = next_state(stay.state, Event.UPLOAD)
    store = deps.store
    sns = [line.feedetl_sn for line in body.lines]
    existing = store.fee_lines(stay.mdtrt_id, sns + [ln.init_feedetl_sn for ln in body.lines if ln.init_feedetl_sn])
    catalogue = store.catalogue_items({line.med_list_codg for line in body.lines})
    refunded = _already_refunded(deps, stay.mdtrt_id, body.lines)

    answers: list[FeeLineAnswer] = []
    new_lines: list[StoredFeeLine] = []
    batch: dict[str, StoredFeeLine] = {}
    for line in body.lines:
        fingerprint = _fingerprint(line)
        stored = existing.get(line.feedetl_sn)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise ConflictingFeeLine(f"明细流水号 {line.feedetl_sn} 已上传且内容不同", field="feedetl_sn")
            answers.append(_answer(stored))
            continue
        item = catalogue.get(line.med_list_codg)
        if item is None:
            raise UnknownCatalogueItem(
                f"医保目录编码 {line.med_list_codg}（明细 {line.feedetl_sn}）", field="med_list_codg")
        if line.is_refund:
            original = batch.get(line.init_feedetl_sn) or existing.get(line.init_feedetl_sn)
            _check_refund(line, original, refunded)
        stored = StoredFeeLine(
            feedetl_sn=line.feedetl_sn, init_feedetl_sn=line.init_feedetl_sn, med_list_codg=line.med_list_codg,
            cnt=line.cnt, pric=line.pric,
            amounts=classify_line(line.det_item_fee_sumamt, item.chrgitm_lv, item.selfpay_prop),
            chrgitm_lv=item.chrgitm_lv, med_chrgitm_type=item.med_chrgitm_type, selfpay_prop=item.selfpay_prop,
            fingerprint=fingerprint,
        )
        batch[line.feedetl_sn] = stored
        new_lines.append(stored)
        answers.append(_answer(stored))
    if new_lines:
        store.insert_fee_lines(stay.mdtrt_id, new_lines)
    if state != stay.state:
        store.update_stay(dataclasses.replace(stay, state=state))
    return FeeUploadAnswer(tuple(answers))


def revoke(deps: Deps, ctx: CallContext, body: FeeRevoke) -> Done:
    stay = stay_of(deps, ctx, body.mdtrt_id, body.psn_no)
    state = next_state(stay.state, Event.REVOKE)
    store = deps.store
    if body.revokes_all:
        store.delete_fee_lines(stay.mdtrt_id, None)
    else:
        found = store.fee_lines(stay.mdtrt_id, body.feedetl_sns)
        missing = [sn for sn in body.feedetl_sns if sn not in found]
        if missing:
            raise UnknownFeeLine(f"明细流水号 {', '.join(missing[:5])} 不存在", field="feedetl_sn")
        dependants = store.refunds_of(stay.mdtrt_id, body.feedetl_sns)
        orphaned = sorted(sn for sn, refunds in dependants.items()
                          if any(r.feedetl_sn not in body.feedetl_sns for r in refunds))
        if orphaned:
            raise BusinessError(f"明细 {', '.join(orphaned[:5])} 存在退费明细，请一并撤销", field="feedetl_sn")
        store.delete_fee_lines(stay.mdtrt_id, body.feedetl_sns)
    state = with_fees(state, store.fee_line_count(stay.mdtrt_id) > 0)
    if state != stay.state:
        store.update_stay(dataclasses.replace(stay, state=state))
    return Done(stay.mdtrt_id)


def _already_refunded(deps: Deps, mdtrt_id: str, lines: tuple[FeeLine, ...]) -> dict[str, Decimal]:
    """Per original line: how much of it earlier refunds (stored ones) already gave back (≤ 0)."""
    originals = {line.init_feedetl_sn for line in lines if line.is_refund}
    if not originals:
        return {}
    return {
        sn: sum((r.amounts.det_item_fee_sumamt for r in refunds), ZERO)
        for sn, refunds in deps.store.refunds_of(mdtrt_id, originals).items()
    }


def _check_refund(line: FeeLine, original: StoredFeeLine | None, refunded: dict[str, Decimal]) -> None:
    if not line.init_feedetl_sn:
        raise RefundWithoutOriginal(f"退费明细 {line.feedetl_sn} 未填写原明细流水号", field="init_feedetl_sn")
    if original is None or original.cnt < 0:
        raise RefundWithoutOriginal(
            f"退费明细 {line.feedetl_sn} 的原明细 {line.init_feedetl_sn} 不存在", field="init_feedetl_sn")
    if original.med_list_codg != line.med_list_codg:
        raise InvalidValue(f"退费明细 {line.feedetl_sn} 的目录编码与原明细不同", field="med_list_codg")
    total = refunded.get(line.init_feedetl_sn, ZERO) + line.det_item_fee_sumamt
    if -total > original.amounts.det_item_fee_sumamt:
        raise RefundExceedsOriginal(
            f"原明细 {line.init_feedetl_sn} 金额 {original.amounts.det_item_fee_sumamt}，累计退费 {-total}",
            field="det_item_fee_sumamt")
    refunded[line.init_feedetl_sn] = total


_FEE_LINE_FIELDS = tuple(f.name for f in dataclasses.fields(FeeLine))


def _fingerprint(line: FeeLine) -> str:
    """What makes a re-sent line 'unchanged': every field, in a fixed order (compared, never parsed)."""
    return "\x1f".join(str(getattr(line, name)) for name in _FEE_LINE_FIELDS)


def _answer(stored: StoredFeeLine) -> FeeLineAnswer:
    return FeeLineAnswer(
        feedetl_sn=stored.feedetl_sn, cnt=stored.cnt, pric=stored.pric, amounts=stored.amounts,
        chrgitm_lv=stored.chrgitm_lv, med_chrgitm_type=stored.med_chrgitm_type, selfpay_prop=stored.selfpay_prop,
    )
