"""The one audit recorder: every write by the county goes through `record`, in the write's own transaction.

The trail is append-only (the store refuses UPDATE and DELETE on it); an entry says who (operator and role),
when, what (action and subject), the state before and after, and the request id the client can quote.
"""

from __future__ import annotations

import getpass
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.county.errors import CountyRefusal
from gateway.county.port import CountyLedger
from gateway.county.records import AuditEntry, AuditQuery
from gateway.county.roles import ACTIONS, HOST_ROLE, Actor

if TYPE_CHECKING:
    from gateway.store.base import Store

MAX_LIMIT = 1000
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")


def record(store: CountyLedger, actor: Actor, action: str, subject: str, before: Any, after: Any,
           request_id: str, at: datetime) -> int:
    if action not in ACTIONS:
        raise ValueError(f"unknown audited action {action!r}")
    return store.audit_append(AuditEntry(at=at, operator=actor.name, role=actor.role, action=action,
                                         subject=subject, before=jsonable(before), after=jsonable(after),
                                         request_id=request_id))


def record_refusal(store: Store, actor: Actor, action: str, subject: str, reason: str, request_id: str,
                   at: datetime) -> None:
    """An attempted write that was refused (role, or a proposer approving their own change): its own commit,
    since the write it attempted is rolled back."""
    with store.transaction():
        record(store, actor, action, subject, None, {"refused": reason}, request_id, at)


def record_host_command(store: Store, action: str, subject: str, after: Any, operator: str,
                        at: datetime | None = None) -> int:
    """A command run on the gateway's host (`hisgw export`, `hisgw backup`): recorded in its own commit, by the
    host account that ran it (or the name it gave)."""
    actor = Actor(operator or getpass.getuser(), HOST_ROLE)
    with store.transaction():
        return record(store, actor, action, subject, None, after, uuid.uuid4().hex, at or datetime.now())


def jsonable(value: Any) -> Any:
    """Decimals and dates as strings, tuples as lists: what the trail keeps is plain JSON."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def parse_audit_query(params: Mapping[str, str]) -> AuditQuery:
    known = {"operator", "action", "subject", "request_id", "since", "until", "limit"}
    unknown = set(params) - known
    if unknown:
        raise CountyRefusal(400, "HG1003", f"未知的查询参数 {sorted(unknown)}；可用 {sorted(known)}")
    for name in ("since", "until"):
        value = params.get(name, "")
        if value and not _STAMP.match(value):
            raise CountyRefusal(400, "HG1003", f"{name} 应为 YYYY-MM-DD[ HH:MM[:SS]]")
    until = params.get("until", "")
    if until and len(until) == 10:  # a bare date means through that day
        until = f"{until} 99"
    raw_limit = params.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise CountyRefusal(400, "HG1003", f"limit 应为 1 到 {MAX_LIMIT} 的整数")
    return AuditQuery(operator=params.get("operator", ""), action=params.get("action", ""),
                      subject=params.get("subject", ""), request_id=params.get("request_id", ""),
                      since=params.get("since", ""), until=until, limit=int(raw_limit))


def entry_document(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at.isoformat(sep=" ", timespec="milliseconds"), "operator": entry.operator,
            "role": entry.role, "action": entry.action, "subject": entry.subject, "before": entry.before,
            "after": entry.after, "request_id": entry.request_id}
