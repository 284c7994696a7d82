"""The exception to Guangxi's 90% catalogue rule (桂医保发〔2019〕14号: 目录外费用超出10%的部分由医院承担, 特殊
情况报批): a hospital's request for one stay, the county reviewer's decision. The policy says what an approved
stay gets (gateway/data/demo/policy.toml: the 630100 rule's `when.catalogue_exception = false`, so the excess
falls to the backstop); this module only keeps the requests and decisions (audited by the county API)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from gateway.county.roles import Actor, approver_refusal
from gateway.errors import AccessError, BusinessError, InvalidValue, NotFoundError, UnknownStay
from gateway.lifecycle import StayState
from gateway.service.deps import Deps
from gateway.store.arrears_port import CatalogueException

DECISIONS = {"approve": "approved", "refuse": "refused"}
_OPEN = (StayState.REGISTERED, StayState.FEES_UPLOADED, StayState.DISCHARGED)


def approved(deps: Deps, mdtrt_id: str) -> bool:
    found = deps.store.catalogue_exception(mdtrt_id)
    return found is not None and found.status == "approved"


def request(deps: Deps, mdtrt_id: str, reason: str, by: str, at: datetime) -> CatalogueException:
    stay = deps.store.stay(mdtrt_id)
    if stay is None:
        raise UnknownStay(f"就诊ID {mdtrt_id[:40]} 不存在", field="mdtrt_id")
    if stay.state not in _OPEN:
        raise BusinessError("已结算或已撤销的住院不能申请特例（请先撤销结算）", field="mdtrt_id")
    if not reason.strip():
        raise InvalidValue("请写明申请特例的理由", field="reason")
    if deps.store.catalogue_exception(mdtrt_id) is not None:
        raise BusinessError(f"就诊 {mdtrt_id} 已申请过特例", field="mdtrt_id")
    record = CatalogueException(mdtrt_id=mdtrt_id, fixmedins_code=stay.fixmedins_code, reason=reason.strip()[:500],
                                requested_by=by, requested_at=at)
    deps.store.insert_catalogue_exception(record)
    return record


def decide(deps: Deps, mdtrt_id: str, decision: str, actor: Actor,
           at: datetime) -> tuple[CatalogueException, CatalogueException]:
    before = deps.store.catalogue_exception(mdtrt_id)
    if before is None:
        raise NotFoundError(f"就诊 {mdtrt_id[:40]} 没有特例申请", field="mdtrt_id")
    if before.status != "requested":
        raise BusinessError(f"该申请已{'批准' if before.status == 'approved' else '退回'}", field="mdtrt_id")
    why_not = approver_refusal(actor, before.requested_by)
    if why_not:
        raise AccessError(why_not)
    status = DECISIONS[decision]
    deps.store.decide_catalogue_exception(mdtrt_id, status, actor.name, at)
    return before, dataclasses.replace(before, status=status, decided_by=actor.name, decided_at=at)
