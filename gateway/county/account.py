"""The one-stop special account (一站式专户, 统收统付, Hunan 三(二)4): receipts by source, payments (拨付) to
hospitals, a running balance. Pure over the entries; the store keeps them append-only (a mistake is corrected
by an entry of the opposite sign, with a note)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from gateway.county.claim_records import AGENCY_CLAIMANT, AccountEntry

# source -> (name, the 附件4 income column it is in)
SOURCES: dict[str, tuple[str, str]] = {
    "basic_fund": ("基本医保基金", "account_funds"),
    "insurer_critical": ("保险公司·大病保险", "account_funds"),
    "insurer_poverty": ("保险公司·扶贫特惠保", "account_funds"),
    "civil_assistance": ("民政·医疗救助", "account_funds"),
    "civil_other": ("民政·其它补助", "account_funds"),
    "fiscal": ("财政", "account_funds"),
    "prior_interest": ("上年资金利息分割", "prior_interest"),
    "prior_carryover": ("上年结转资金", "prior_carryover"),
}


def signed(entry: AccountEntry) -> Decimal:
    return entry.amount if entry.kind == "receipt" else -entry.amount


def balance(entries: Iterable[AccountEntry], until: date) -> Decimal:
    return sum((signed(e) for e in entries if e.on_date <= until), Decimal(0))


def lowest(entries: Iterable[AccountEntry]) -> tuple[date, Decimal] | None:
    """The lowest end-of-day balance and the first day it is reached (a day's receipts count before its
    payments), or None without entries."""
    by_day: dict[date, Decimal] = {}
    for entry in entries:
        by_day[entry.on_date] = by_day.get(entry.on_date, Decimal(0)) + signed(entry)
    found: tuple[date, Decimal] | None = None
    running = Decimal(0)
    for day in sorted(by_day):
        running += by_day[day]
        if found is None or running < found[1]:
            found = (day, running)
    return found


@dataclass(frozen=True, slots=True)
class Statement:
    since: date
    until: date
    opening: Decimal
    lines: tuple[tuple[AccountEntry, Decimal], ...]  # each entry of the period and the balance after it
    receipts: dict[str, Decimal]  # by source, the period's
    payments: Decimal
    closing: Decimal


def statement(entries: Iterable[AccountEntry], since: date, until: date) -> Statement:
    ordered = sorted(entries, key=lambda e: (e.on_date, e.id))
    opening = sum((signed(e) for e in ordered if e.on_date < since), Decimal(0))
    running, lines = opening, []
    receipts = {source: Decimal(0) for source in SOURCES}
    payments = Decimal(0)
    for entry in (e for e in ordered if since <= e.on_date <= until):
        running += signed(entry)
        lines.append((entry, running))
        if entry.kind == "receipt":
            receipts[entry.source] += entry.amount
        else:
            payments += entry.amount
    return Statement(since, until, opening, tuple(lines), receipts, payments, running)


def entry_document(entry: AccountEntry) -> dict[str, Any]:
    return {"id": entry.id, "on_date": entry.on_date.isoformat(), "kind": entry.kind, "source": entry.source,
            "source_name": SOURCES[entry.source][0] if entry.kind == "receipt" else
            "拨付 经办窗口（付患者）" if entry.source == AGENCY_CLAIMANT else f"拨付 {entry.source}",
            "amount": f"{entry.amount:.2f}", "reference": entry.reference, "claim_id": entry.claim_id,
            "note": entry.note, "by": entry.by, "at": entry.at.isoformat(sep=" ", timespec="seconds")}


def statement_document(found: Statement) -> dict[str, Any]:
    return {"code": 0, "since": found.since.isoformat(), "until": found.until.isoformat(),
            "opening_balance": f"{found.opening:.2f}", "closing_balance": f"{found.closing:.2f}",
            "receipts": {k: {"name": SOURCES[k][0], "amount": f"{v:.2f}"} for k, v in found.receipts.items()},
            "receipts_total": f"{sum(found.receipts.values(), Decimal(0)):.2f}",
            "payments_total": f"{found.payments:.2f}",
            "entries": [{**entry_document(e), "balance": f"{b:.2f}"} for e, b in found.lines]}
