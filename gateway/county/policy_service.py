"""Policy versions over the store: drafts, checks, comparisons, what-if and publication (audited).

Run on the store thread; `current` is the book the gateway settles with now.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from gateway.county import policies
from gateway.county.audit import record, record_refusal
from gateway.county.errors import CountyRefusal, bad_input, conflict, not_found
from gateway.county.records import PolicyVersion
from gateway.county.roles import Actor, approver_refusal
from gateway.county.whatif import replay
from gateway.engine.policy import Policy, PolicyBook, PolicyFileError
from gateway.store.base import Store


def version_document(version: PolicyVersion, *, source: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": version.version, "status": version.status, "uploaded_by": version.uploaded_by,
        "uploaded_at": version.uploaded_at.isoformat(sep=" ", timespec="seconds"),
        "effective_from": version.effective_from.isoformat() if version.effective_from else None,
        "policy_id": version.policy_id, "published_by": version.published_by,
        "published_at": version.published_at.isoformat(sep=" ", timespec="seconds") if version.published_at else None,
    }
    if source:
        doc["source"] = version.source
    return doc


def list_versions(store: Store, current: PolicyBook) -> dict[str, Any]:
    return {"code": 0, "in_force": [{"policy_id": p.policy_id, "effective_from": p.effective_from.isoformat()}
                                    for p in current.versions],
            "versions": [version_document(v) for v in store.policy_versions()]}


def stored(store: Store, number: int) -> PolicyVersion:
    version = store.policy_version(number)
    if version is None:
        raise not_found(f"政策版本 {number} 不存在")
    return version


def upload_draft(store: Store, actor: Actor, text: str, request_id: str, at: datetime) -> dict[str, Any]:
    if len(text) > policies.MAX_POLICY_TEXT:
        raise bad_input(f"政策文件超过 {policies.MAX_POLICY_TEXT} 字符")
    with store.transaction():
        number = store.policy_insert(PolicyVersion(0, text, "draft", actor.name, at))
        mistakes = policies.check(text, f"draft {number}")
        record(store, actor, "policy.draft", f"policy:{number}", None,
               {"status": "draft", "mistakes": len(mistakes), "chars": len(text)}, request_id, at)
    return {"code": 0, "version": number, "status": "draft", "mistakes": [m.document() for m in mistakes]}


def check_version(store: Store, number: int) -> dict[str, Any]:
    version = stored(store, number)
    mistakes = policies.check(version.source, f"version {number}")
    return {"code": 0, "version": number, "ok": not mistakes, "mistakes": [m.document() for m in mistakes]}


def resolve(store: Store, current: PolicyBook, name: str) -> Policy:
    """A stored version by number, or a version in force by its policy_id (demo-county@2018-01-01)."""
    if name.isdigit() and len(name) < 10:
        version = stored(store, int(name))
        try:
            return policies.parse(version)
        except PolicyFileError as exc:
            raise CountyRefusal(422, "HG1003", f"政策版本 {name} 有错误，请先检查", where=exc.where,
                                problem=exc.problem) from exc
    for policy in current.versions:
        if policy.policy_id == name:
            return policy
    raise not_found(f"没有政策版本 {name}（版本号，或生效中的 policy_id）")


def compare(store: Store, current: PolicyBook, a: str, b: str) -> dict[str, Any]:
    left, right = resolve(store, current, a), resolve(store, current, b)
    changes = policies.compare(left, right)
    return {"code": 0, "a": left.policy_id, "b": right.policy_id, "count": len(changes), "changes": changes}


def what_if(store: Store, current: PolicyBook, name: str, since: date, until: date) -> dict[str, Any]:
    """Replay the settlements made from `since` through `until` under the named version. Writes nothing."""
    if until < since:
        raise bad_input("until 早于 since")
    draft = resolve(store, current, name)
    names = {f.code: f.name for p in current.versions for f in p.funds} | {f.code: f.name for f in draft.funds}
    rows = store.replay_rows(datetime.combine(since, time()), datetime.combine(until + timedelta(days=1), time()))
    result = replay(draft, rows, names, {p.policy_id: p for p in current.versions})
    return {"code": 0, "policy": draft.policy_id, "since": since.isoformat(), "until": until.isoformat(), **result}


def publish(store: Store, current: PolicyBook, actor: Actor, number: int, effective: date | None,
            request_id: str, at: datetime) -> tuple[dict[str, Any], PolicyBook]:
    """Publish a checked draft with its effective date; the gateway settles with the returned book from now on.
    Settlements already made keep their figures and keep naming the version they used."""
    refusal = approver_refusal(actor, stored(store, number).uploaded_by)
    if refusal:
        record_refusal(store, actor, "policy.publish", f"policy:{number}", refusal, request_id, at)
        raise CountyRefusal(403, "HG4004", refusal)
    with store.transaction():
        version = stored(store, number)
        if version.status != "draft":
            raise conflict(f"政策版本 {number} 已发布（{version.policy_id}），发布后不可更改")
        mistakes = policies.check(version.source, f"version {number}")
        if mistakes:
            raise CountyRefusal(422, "HG1003", f"政策版本 {number} 有 {len(mistakes)} 处错误，不能发布",
                                mistakes=[m.document() for m in mistakes])
        policy = policies.parse(version, effective)
        clash = policies.publication_conflict(current, policy)
        if clash:
            raise conflict(clash)
        store.policy_publish(number, policy.effective_from, policy.policy_id, actor.name, at)
        record(store, actor, "policy.publish", f"policy:{number}",
               {"status": "draft", "uploaded_by": version.uploaded_by},
               {"status": "published", "policy_id": policy.policy_id,
                "effective_from": policy.effective_from}, request_id, at)
    book = PolicyBook(tuple(sorted((*current.versions, policy), key=lambda p: p.effective_from)))
    return {"code": 0, "version": number, "policy_id": policy.policy_id,
            "effective_from": policy.effective_from.isoformat()}, book


def check_text(text: str) -> dict[str, Any]:
    mistakes = policies.check(text, str(Path("policy.toml")))
    return {"code": 0, "ok": not mistakes, "mistakes": [m.document() for m in mistakes]}
