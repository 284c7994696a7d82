"""The special account and 附件4 over the store: a receipt (audited), the statement, the clearing table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.county.account import SOURCES, entry_document, lowest, statement, statement_document
from gateway.county.annex4 import Annex4, annex4
from gateway.county.audit import record
from gateway.county.claim_records import AccountEntry
from gateway.county.errors import CountyRefusal, bad_input
from gateway.county.period import Period
from gateway.county.roles import Actor
from gateway.errors import AccountOverdrawn
from gateway.store.base import Store

MAX_AMOUNT = Decimal(10) ** 12


def receipt_of(body: Mapping[str, object], actor: Actor, at: datetime) -> AccountEntry:
    """A receipt as finance enters it: source, amount (yuan, a string; negative corrects an earlier one),
    received_on, bank reference, note."""
    source = body.get("source")
    if not isinstance(source, str) or source not in SOURCES:  # an array or object is no source (nor hashable)
        raise bad_input(f"source 应为 {'，'.join(f'{k} {v[0]}' for k, v in SOURCES.items())}")
    raw = body.get("amount")
    try:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise InvalidOperation
        amount = Decimal(raw)
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or not 0 < abs(amount) < MAX_AMOUNT:
            raise InvalidOperation
    except InvalidOperation as exc:
        raise bad_input("amount 应为收款金额（元，非零，至多两位小数，写作字符串；负数冲减此前的误记）") from exc
    try:
        on = date.fromisoformat(str(body.get("received_on", "")))
    except ValueError as exc:
        raise bad_input("received_on 应为到账日期 YYYY-MM-DD") from exc
    reference, note = body.get("reference", ""), body.get("note", "")
    if not isinstance(reference, str) or len(reference) > 64:
        raise bad_input("reference 应为不超过 64 字的银行流水号")
    if not isinstance(note, str) or len(note) > 500:
        raise bad_input("note 应为不超过 500 字的说明")
    if amount < 0 and not note.strip():
        raise bad_input("冲减（负数金额）须写说明 note")
    return AccountEntry(on, "receipt", str(source), amount, reference, actor.name, at, note=note)


def receive(store: Store, actor: Actor, entry: AccountEntry, request_id: str, at: datetime, *,
            overdraft: bool = False) -> dict[str, Any]:
    with store.transaction():
        entry_id = store.account_add(entry)
        if entry.amount < 0:
            refuse_overdraft(store, overdraft)
        saved = {**entry_document(entry), "id": entry_id}
        record(store, actor, "account.receive", f"account:{entry_id}", None, saved, request_id, at)
    return {"code": 0, "entry": saved}


def refuse_overdraft(store: Store, overdraft: bool) -> None:
    """Inside the write's transaction, after its entry: refused (and so rolled back) when the account would
    stand below zero at the end of some day, unless the settings allow it."""
    found = lowest(store.account_entries(date.max))
    if overdraft or found is None or found[1] >= 0:
        return
    on, amount = found
    raise CountyRefusal(409, AccountOverdrawn.code, f"{AccountOverdrawn.title}：此笔记账后 {on} 日终余额为 "
                        f"{amount:.2f} 元，低于零；专户不得透支（设置 [account] overdraft = true 才允许）",
                        balance=f"{amount:.2f}", on_date=on.isoformat())


def statement_of(store: Store, period: Period) -> dict[str, Any]:
    return statement_document(statement(store.account_entries(period.until), period.since, period.until))


def annex4_of(store: Store, period: Period) -> Annex4:
    if period.since.year != period.until.year:
        raise bad_input("附件4 的清算期间须在同一年度内")
    first = datetime.combine(date(period.since.year, 1, 1), time.min)
    end = datetime.combine(period.until + timedelta(days=1), time.min)
    return annex4(store.ledger(first, end), store.account_entries(period.until), period.since, period.until)
