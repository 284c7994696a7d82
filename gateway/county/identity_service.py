"""Identity lists over the store: upload (the diff, nothing changed yet), review (apply all or some, refuse),
attribute history, the monthly coverage comparison. Run on the store thread; every write audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from gateway.county import coverage
from gateway.county.audit import record, record_refusal
from gateway.county.errors import CountyRefusal, bad_input, conflict, not_found
from gateway.county.identities import (
    APPLICABLE,
    INVALID,
    SOURCES,
    DiffRow,
    counts,
    diff,
    digest,
    list_rows,
    source_codes,
)
from gateway.county.listfile import ListRow
from gateway.county.records import AttributePeriod, IdentityImport, ListMember
from gateway.county.review import EVENT_ACTIONS, ReviewEvent, ReviewState, next_state
from gateway.county.roles import Actor, approver_refusal
from gateway.store.base import Store

BEGINNING = date(1900, 1, 1)  # an attribute the registry held before any list spoke for its type


def derive(store: Store, source: str, rows: Sequence[ListRow]) -> list[DiffRow]:
    catalogue = store.identity_attributes()
    certnos = {r.certno.strip().upper() for r in rows if r.certno}
    return diff(source, rows, catalogue, store.persons_by_certno(certnos),
                store.persons_holding_any(source_codes(source, catalogue)))


def upload(store: Store, actor: Actor, source: str, filename: str, as_of: date, rows: Sequence[ListRow],
           request_id: str, at: datetime) -> dict[str, Any]:
    with store.transaction():
        found = derive(store, source, rows)
        tally = counts(found)
        import_id = store.import_insert(IdentityImport(
            import_id=0, source=source, filename=filename, as_of=as_of, state=ReviewState.PENDING.value,
            uploaded_by=actor.name, uploaded_at=at, counts=tally, digest=digest(found),
            rows=tuple(r.document() for r in found)))
        record(store, actor, "identities.upload", f"import:{import_id}", None,
               {"state": ReviewState.PENDING.value, "source": source, "filename": filename, "as_of": as_of,
                "rows": len(rows), "counts": tally}, request_id, at)
    return {"code": 0, "import_id": import_id, "state": ReviewState.PENDING.value, "counts": tally}


def import_document(record_: IdentityImport, *, kind: str = "", offset: int = 0, limit: int = 0) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "import_id": record_.import_id, "source": record_.source, "office": SOURCES[record_.source][0],
        "filename": record_.filename, "as_of": record_.as_of.isoformat(), "state": record_.state,
        "uploaded_by": record_.uploaded_by, "uploaded_at": record_.uploaded_at.isoformat(sep=" ", timespec="seconds"),
        "decided_by": record_.decided_by,
        "decided_at": record_.decided_at.isoformat(sep=" ", timespec="seconds") if record_.decided_at else None,
        "note": record_.note, "counts": dict(record_.counts),
    }
    if limit:
        rows = [r for r in record_.rows if not kind or r["kind"] == kind]
        doc["matching"] = len(rows)
        doc["rows"] = rows[offset:offset + limit]
    return doc


def get(store: Store, import_id: int) -> IdentityImport:
    found = store.import_get(import_id)
    if found is None:
        raise not_found(f"名单导入 {import_id} 不存在")
    return found


def decide(store: Store, actor: Actor, import_id: int, event: ReviewEvent, chosen: Sequence[int] | None,
           note: str, request_id: str, at: datetime) -> dict[str, Any]:
    """Apply (all the applicable rows, or the chosen ones) or refuse a pending list; never by its uploader."""
    refusal = approver_refusal(actor, get(store, import_id).uploaded_by)
    if refusal:
        record_refusal(store, actor, EVENT_ACTIONS[event], f"import:{import_id}", refusal, request_id, at)
        raise CountyRefusal(403, "HG4004", refusal)
    with store.transaction():
        pending = get(store, import_id)
        state = next_state(ReviewState(pending.state), event)
        changes: list[dict[str, Any]] = []
        if event is ReviewEvent.APPLY:
            stored = [DiffRow.from_document(r) for r in pending.rows]
            now = derive(store, pending.source, list_rows(stored))
            if digest(now) != pending.digest:
                raise conflict("参保登记在上传后已有变化，此差异已过期；请重新上传名单", counts=counts(now))
            rows = _chosen(stored, chosen)
            for row in rows:
                _apply_row(store, pending, row)
                changes.append({"psn_no": row.psn_no, "kind": row.kind, "before": list(row.before),
                                "after": list(row.after)})
            store.replace_list_members(pending.source, [
                ListMember(pending.source, r.certno, r.name, r.after if r.after else r.before, import_id,
                           pending.as_of)
                for r in stored if r.line is not None and (r.kind != INVALID or r.psn_no)])
        store.import_decide(import_id, state.value, actor.name, at, note)
        record(store, actor, EVENT_ACTIONS[event], f"import:{import_id}",
               {"state": pending.state, "uploaded_by": pending.uploaded_by},
               {"state": state.value, "note": note, "applied": len(changes), "changes": changes}, request_id, at)
    return {"code": 0, "import_id": import_id, "state": state.value, "applied": len(changes)}


def _chosen(rows: list[DiffRow], chosen: Sequence[int] | None) -> list[DiffRow]:
    if chosen is None:
        return [r for r in rows if r.kind in APPLICABLE]
    wanted = set(chosen)
    unknown = wanted - {r.id for r in rows}
    if unknown:
        raise bad_input(f"差异中没有这些行：{sorted(unknown)[:20]}")
    not_applicable = [r.id for r in rows if r.id in wanted and r.kind not in APPLICABLE]
    if not_applicable:
        raise bad_input(f"只能应用新增、变更、移除的行；这些行不能应用：{not_applicable[:20]}")
    return [r for r in rows if r.id in wanted]


def _apply_row(store: Store, pending: IdentityImport, row: DiffRow) -> None:
    """The person's history for this source from the list's date on, and the registry's current attributes."""
    person = store.person(row.psn_no)
    assert person is not None  # the diff was re-derived against this registry a moment ago
    source, on = pending.source, pending.as_of
    periods = [p for p in store.identity_periods(row.psn_no) if p.source == source]
    if not periods:  # the first list for these types: what the registry held stands until this list's date
        for code in row.before:
            store.add_period(AttributePeriod(row.psn_no, source, code, BEGINNING, None))
        periods = [p for p in store.identity_periods(row.psn_no) if p.source == source]
    open_now = {p.code: p for p in periods if p.valid_to is None}
    for code, period in open_now.items():
        if code not in row.after:
            store.close_period(period.id, max(on, period.valid_from))
    for code in row.after:
        if code not in open_now:
            store.add_period(AttributePeriod(row.psn_no, source, code, on, None, pending.import_id))
    keep = [c for c in person.identities if c not in row.before]
    store.set_person_identities(row.psn_no, sorted({*keep, *row.after}))


def history(store: Store, psn_no: str) -> dict[str, Any]:
    person = store.person(psn_no)
    if person is None:
        raise not_found(f"人员编号 {psn_no} 不存在")
    return {"code": 0, "psn_no": psn_no, "identities": list(person.identities), "periods": [
        {"source": p.source, "code": p.code, "valid_from": p.valid_from.isoformat(),
         "valid_to": p.valid_to.isoformat() if p.valid_to else None, "import_id": p.import_id}
        for p in store.identity_periods(psn_no)]}


def monthly_coverage(store: Store, month: date) -> dict[str, Any]:
    end = coverage.month_end(month)
    members = store.list_members(end)
    persons = store.persons_by_certno({m.certno for m in members})
    return coverage.compare(members, persons, month)
